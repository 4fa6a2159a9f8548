"""The member directory's search on 100,000 generated profiles in PostgreSQL: load time,
index size, page timings through `directory_search` and the plan PostgreSQL picks.

`run()` recreates the scratch database `coworking_bench_directory`, migrates it, then runs
this module as a separate process (`python -m bench.bench_directory`) so that Django is set
up against that database whatever else the benchmark runner has loaded.
"""

import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.quick import sized
from bench.scratch import copy_rows, scratch_run

ROOT = Path(__file__).resolve().parent.parent
TITLE = "Member directory search (100,000 profiles)"
DATABASE_URL = os.environ.get(
    "BENCH_DIRECTORY_DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/coworking_bench_directory",
)
PROFILES = sized(100_000, 2_000)
CHUNK = 10_000
RUNS = sized(20, 2)
SEED = 20250101

FIRST_NAMES = (  # noqa: SIM905 (word lists read better as prose)
    "Lucía María Sofía Martina Valentina Camila Paula Julia Daniela Carmen Ana Laura Isabel "
    "Ximena Renata Fernanda Gabriela Andrea Natalia Elena Inés Noelia Beatriz Rocío Marta "
    "Hugo Mateo Martín Lucas Leo Daniel Alejandro Pablo Manuel Álvaro Adrián David Mario "
    "Diego Javier José Sebastián Santiago Matías Nicolás Tomás Joaquín Emiliano Andrés "
    "Iñaki Jordi Xavier Óscar Raúl Rubén Gonzalo Ignacio Agustín Facundo Bruno"
).split()
LAST_NAMES = (  # noqa: SIM905 (word lists read better as prose)
    "García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín Jiménez "
    "Ruiz Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres "
    "Domínguez Vázquez Ramos Gil Ramírez Serrano Blanco Molina Morales Suárez Ortega Delgado "
    "Castro Ortiz Rubio Marín Sanz Núñez Iglesias Medina Garrido Cortés Castillo Santos "
    "Lozano Guerrero Cano Prieto Méndez Cruz Calvo Gallego Vidal León Márquez Herrera Peña "
    "Flores Cabrera Campos Vega Fuentes Carrasco Diez Caballero Reyes Nieto Aguilar Pascual "
    "Quispe Mamani Huamán Rojas Vargas Mendoza Chávez Espinoza Silva Villalobos Zuloaga "
    "Echeverría Aguirre Urrutia Goikoetxea Etxeberria Oyarzábal"
).split()
ROLES = [
    "Diseñadora UX",
    "Diseñador gráfico",
    "Desarrollador backend",
    "Desarrolladora frontend",
    "Ingeniera de datos",
    "Data scientist",
    "Product manager",
    "Ilustradora",
    "Traductora técnica",
    "Consultor SEO",
    "Fotógrafo",
    "Community manager",
    "Profesora de inglés",
    "Copywriter",
    "Editora de vídeo",
    "Arquitecta de software",
    "DevOps engineer",
    "Contable freelance",
    "Abogada laboralista",
    "Coach de carrera",
    "Periodista",
    "Investigadora UX",
    "Animador 3D",
    "Marketing digital",
]
QUALIFIERS = [
    "freelance",
    "en remoto",
    "para startups",
    "para ONGs",
    "y docente",
    "senior",
    "junior",
    "independiente",
    "en una agencia pequeña",
    "para clientes europeos",
]
INTERESTS = (  # noqa: SIM905 (word lists read better as prose)
    "Python, Django, JavaScript, React, Diseño UX, Ilustración, Fotografía, Café, Running, "
    "Yoga, Escalada, Ciclismo, Cocina, Jardinería, Lectura, Escritura, Podcasts, Cine, "
    "Música, Guitarra, Piano, Ajedrez, Videojuegos, Viajes, Idiomas, Inglés, Francés, "
    "Portugués, Emprendimiento, Marketing, SEO, Finanzas personales, Inversión, Startups, "
    "Producto, Datos, Machine learning, Inteligencia artificial, Rust, Go, TypeScript, Vue, "
    "Figma, Accesibilidad, Open source, Linux, Seguridad, Cloud, Kubernetes, Docker, SQL, "
    "PostgreSQL, Diseño gráfico, Tipografía, Animación, Vídeo, Edición, Traducción, "
    "Periodismo, Educación, Mentoría, Liderazgo, Productividad, Minimalismo, Meditación, "
    "Nutrición, Montaña, Surf, Natación, Fútbol, Baloncesto, Tenis, Pádel, Boxeo, Danza, "
    "Teatro, Poesía, Historia, Filosofía, Ciencia, Astronomía, Biología, Sostenibilidad, "
    "Veganismo, Mascotas, Perros, Gatos, Voluntariado, Crianza, Arquitectura, Urbanismo, "
    "Cerámica, Carpintería, Costura, Punto, Bordado, Acuarela, Caligrafía, Apicultura"
).split(", ")
VOCABULARY = (  # noqa: SIM905 (word lists read better as prose)
    "trabajo desde casa con clientes de toda Latinoamérica y España me encanta aprender "
    "cosas nuevas colaborar en proyectos con impacto social busco gente con quien tomar un "
    "café virtual hablar de diseño tecnología datos producto escribir código limpio "
    "enseñar compartir lo que sé llevo años como autónomo antes trabajé en una consultora "
    "grande ahora vivo cerca del mar y salgo a correr cada mañana remote work helps me "
    "focus on meaningful projects I enjoy mentoring juniors and learning from others "
    "dispuesto a ayudar con portfolios entrevistas y primeros clientes"
).split()
PLACES = [
    ("Madrid", "ES", "Europe/Madrid"),
    ("Barcelona", "ES", "Europe/Madrid"),
    ("Valencia", "ES", "Europe/Madrid"),
    ("Sevilla", "ES", "Europe/Madrid"),
    ("Bilbao", "ES", "Europe/Madrid"),
    ("Las Palmas", "ES", "Atlantic/Canary"),
    ("Lisboa", "PT", "Europe/Lisbon"),
    ("Ciudad de México", "MX", "America/Mexico_City"),
    ("Guadalajara", "MX", "America/Mexico_City"),
    ("Bogotá", "CO", "America/Bogota"),
    ("Medellín", "CO", "America/Bogota"),
    ("Lima", "PE", "America/Lima"),
    ("Quito", "EC", "America/Guayaquil"),
    ("Santiago", "CL", "America/Santiago"),
    ("Buenos Aires", "AR", "America/Argentina/Buenos_Aires"),
    ("Córdoba", "AR", "America/Argentina/Cordoba"),
    ("Montevideo", "UY", "America/Montevideo"),
    ("Asunción", "PY", "America/Asuncion"),
    ("La Paz", "BO", "America/La_Paz"),
    ("Caracas", "VE", "America/Caracas"),
    ("San José", "CR", "America/Costa_Rica"),
    ("Ciudad de Panamá", "PA", "America/Panama"),
    ("Santo Domingo", "DO", "America/Santo_Domingo"),
    ("São Paulo", "BR", "America/Sao_Paulo"),
]
LANGUAGE_CODES = ["es", "en", "pt", "ca", "eu", "gl", "fr", "it", "de", "qu", "gn"]


def run() -> str:
    return scratch_run(module="bench.bench_directory", database_url=DATABASE_URL, env={})


# --- The worker process: Django set up against the scratch database ----------------------


def _populate(rng: random.Random) -> dict[str, float]:
    """Generate and COPY the members in chunks; seconds spent generating and loading."""
    from django.core.management.color import no_style
    from django.db import connection
    from django.utils.text import slugify
    from django_countries import countries

    from members.models import Interest, Language, Profile, User
    from members.search import normalise

    interests = [
        Interest(pk=number + 1, label_es=name, slug=slugify(name))
        for number, name in enumerate(INTERESTS)
    ]
    Interest.objects.bulk_create(interests)
    # Popularity falls off like real tags do: a few everybody has, a long tail.
    weights = [1 / (rank + 1) for rank in range(len(interests))]
    language_ids = set(Language.objects.values_list("code", flat=True))
    country_names = {code: str(countries.name(code)) for _city, code, _zone in PLACES}
    now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    interest_through = Profile.interests.through
    language_through = Profile.languages.through
    through_ids = {"interests": 0, "languages": 0}
    generated = loaded = 0.0

    for chunk_start in range(1, PROFILES + 1, CHUNK):
        started = time.perf_counter()
        users: list[Any] = []
        profiles: list[Any] = []
        profile_interests: list[Any] = []
        profile_languages: list[Any] = []
        for pk in range(chunk_start, min(chunk_start + CHUNK, PROFILES + 1)):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            city, country, zone = rng.choice(PLACES)
            joined = now - timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
            display_name = f"{first} {last}"
            users.append(
                User(
                    pk=pk,
                    email=f"member{pk}@bench.invalid",
                    password="!",
                    display_name=display_name,
                    time_zone=zone,
                    date_joined=joined,
                    is_active=rng.random() > 0.01,
                )
            )
            chosen = {interest.pk: interest for interest in rng.choices(interests, weights, k=5)}
            headline = f"{rng.choice(ROLES)} {rng.choice(QUALIFIERS)}"
            bio = " ".join(rng.choices(VOCABULARY, k=rng.randrange(15, 60))).capitalize() + "."
            # The same parts, in the same order, as members.services.profile_search_text.
            search_text = normalise(
                " ".join(
                    [
                        display_name,
                        headline,
                        bio,
                        city,
                        country_names[country],
                        *(interest.label_es for interest in chosen.values()),
                    ]
                )
            )
            profiles.append(
                Profile(
                    pk=pk,
                    user_id=pk,
                    headline=headline,
                    bio=bio,
                    city=city,
                    country=country,
                    open_to_collaborate=rng.random() < 0.4,
                    open_to_mentor=rng.random() < 0.2,
                    open_to_be_mentored=rng.random() < 0.2,
                    open_to_clients=rng.random() < 0.3,
                    open_to_chat=rng.random() < 0.8,
                    visible_in_directory=rng.random() > 0.05,
                    onboarded_at=joined + timedelta(minutes=10) if rng.random() > 0.03 else None,
                    search_text=search_text,
                )
            )
            for interest_id in chosen:
                through_ids["interests"] += 1
                profile_interests.append(
                    interest_through(
                        pk=through_ids["interests"], profile_id=pk, interest_id=interest_id
                    )
                )
            spoken = {"es"} | {code for code in rng.sample(LANGUAGE_CODES, 2) if rng.random() < 0.6}
            for code in sorted(spoken & language_ids):
                through_ids["languages"] += 1
                profile_languages.append(
                    language_through(pk=through_ids["languages"], profile_id=pk, language_id=code)
                )
        generated += time.perf_counter() - started

        started = time.perf_counter()
        copy_rows(User, users)
        copy_rows(Profile, profiles)
        copy_rows(interest_through, profile_interests)
        copy_rows(language_through, profile_languages)
        loaded += time.perf_counter() - started

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(
            no_style(), [User, Profile, Interest, interest_through, language_through]
        ):
            cursor.execute(sql)
    loaded += time.perf_counter() - started

    # What members.services.profile_refresh_search_text stores, for every row at once (the
    # backfill of migration 0003); then rewrite the table so the benchmark does not read the
    # 100,000 dead rows the UPDATE leaves behind.
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE members_profile "
            "SET search_vector = to_tsvector('simple'::regconfig, COALESCE(search_text, ''))"
        )
        cursor.execute("VACUUM (FULL, ANALYZE) members_profile")
        cursor.execute("ANALYZE")
    vectors = time.perf_counter() - started
    return {"generated": generated, "loaded": loaded, "vectors": vectors}


def _timings_ms(action: Callable[[], Any]) -> tuple[float, float]:
    """p50 and p95 in milliseconds of `RUNS` calls after a warm-up call."""
    action()  # warm the cache of PostgreSQL and Python alike
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    percentiles = statistics.quantiles(timings, n=20, method="inclusive")
    return statistics.median(timings), percentiles[18]


def _worker() -> str:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coworking.settings")
    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from members.models import Block, Interest, User
    from members.selectors import (
        DirectoryFilters,
        DirectoryPage,
        DirectoryResults,
        directory_interest_choices,
        directory_page,
        directory_search,
    )

    timings = _populate(random.Random(SEED))
    load_before = ", ".join(f"{load:.2f}" for load in os.getloadavg())
    viewer = User.objects.create(email="viewer@bench.invalid", display_name="Viewer")
    Block.objects.bulk_create(
        [Block(blocker=viewer, blocked_id=pk) for pk in (11, 222, min(3333, PROFILES))]
        + [Block(blocker_id=pk, blocked=viewer) for pk in (44, 555)]
    )
    python = Interest.objects.get(slug="python")
    at = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
    cases = [
        ("browse, newest first", DirectoryFilters()),
        ("`lucia`", DirectoryFilters(query="lucia")),
        ("`Lucía diseño`", DirectoryFilters(query="Lucía diseño")),
        ("`python django`", DirectoryFilters(query="python django")),
        ("`zuloaga apicultura` (rare)", DirectoryFilters(query="zuloaga apicultura")),
        ("`d` (one-letter prefix)", DirectoryFilters(query="d")),
        ("`de` (the most common word)", DirectoryFilters(query="de")),
        ("`dis`, sorted by name", DirectoryFilters(query="dis", sort="name")),
        (
            "filters only: MX, mentors, UTC−6..−5, English",
            DirectoryFilters(
                country="MX",
                open_to="mentor",
                utc_offset_from=-6,
                utc_offset_to=-5,
                language="en",
            ),
        ),
        (
            "`cafe` + interest Python + UTC−6..+1",
            DirectoryFilters(query="cafe", interest=python, utc_offset_from=-6, utc_offset_to=1),
        ),
    ]

    def page(filters: DirectoryFilters, after: str = "") -> tuple[DirectoryResults, DirectoryPage]:
        # What the view does for a page: the search (with its capped count), then the page.
        results = directory_search(viewer=viewer, filters=filters, at=at)
        return results, directory_page(results=results, after=after)

    def row(label: str, filters: DirectoryFilters, after: str = "") -> str:
        results, shown = page(filters, after)
        exact = results.profiles.count()
        counted = f"more than {results.count_limit:,}" if results.count_is_capped else "exact"
        p50, p95 = _timings_ms(lambda: page(filters, after))
        return (
            f"| {label} | {exact:,} | {counted} | {len(shown)} | {results.sort} | "
            f"{p50:.1f} | {p95:.1f} |"
        )

    rows = [row(label, filters) for label, filters in cases]
    browse = DirectoryFilters()
    second = page(browse)[1].next_cursor or ""
    rows.append(row("browse, newest first, page 2", browse, after=second))
    by_name = DirectoryFilters(query="dis", sort="name")
    rows.append(row("`dis`, sorted by name, page 2", by_name, page(by_name)[1].next_cursor or ""))

    def interest_choices() -> list[tuple[str, str]]:
        cache.clear()
        return directory_interest_choices()

    choices_ms, _choices_p95 = _timings_ms(interest_choices)

    def plans(filters: DirectoryFilters, after: str = "") -> list[str]:
        """EXPLAIN ANALYZE of the queries the view runs for this page: the blocks, the
        count, the page (interests and languages by id are left out)."""
        with CaptureQueriesContext(connection) as queries:
            page(filters, after)
        shown = []
        with connection.cursor() as cursor:
            for query in queries.captured_queries[1:3]:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
                shown += ["```", "\n".join(line for (line,) in cursor.fetchall()), "```\n"]
        return shown

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_relation_size('profile_search_vector')), "
            "pg_size_pretty(pg_relation_size('profile_directory_newest')), "
            "pg_size_pretty(pg_relation_size('user_directory_name')), "
            "pg_size_pretty(pg_table_size('members_profile')), "
            "pg_size_pretty(sum(pg_column_size(search_vector))), version() "
            "FROM members_profile"
        )
        index_size, newest_size, name_size, table_size, vectors_size, version = cursor.fetchone()

    return "\n".join(
        [
            f"{PROFILES:,} generated profiles (seed {SEED}; about 95% listed, 5 interests drawn "
            "from a long-tailed list of 100, a 15–60-word bio), loaded with COPY in "
            f"{timings['loaded']:.1f} s after {timings['generated']:.1f} s of generating; "
            f"filling `search_vector` with one UPDATE (and `VACUUM FULL`) took "
            f"{timings['vectors']:.1f} s. `members_profile` is {table_size}, of which the "
            f"stored vectors take {vectors_size}; the GIN index `profile_search_vector` "
            f"{index_size}, the keyset indexes `profile_directory_newest` {newest_size} and "
            f"`user_directory_name` {name_size}. {version.split(',')[0]}. Load average before "
            f"the timings: {load_before}.\n",
            "Each row is a page as the view builds it (`directory_search`, which counts up to "
            "1,001 matches, then `directory_page`: 25 profiles from where the cursor points, "
            f"their interests and languages), p50 and p95 of {RUNS} runs after a warm-up; the "
            "viewer has 5 blocks. A query asks for the best match first; it is ranked when "
            "it matches at most 1,000 profiles, else listed newest first (column *order*). "
            "*Matches* is the exact count, counted apart; *counted* is what the page knows.\n",
            "| search | matches | counted | shown | order | p50 ms | p95 ms |",
            "|---|---|---|---|---|---|---|",
            *rows,
            f"\nThe popular-interest list for the filter (cached 10 minutes) takes "
            f"{choices_ms:.1f} ms to compute.\n",
            "Plans of the count and the page of `d` (90% of the profiles match: newest first):\n",
            *plans(DirectoryFilters(query="d")),
            "Plans of the second page of browsing (keyset: after the 24th newest):\n",
            *plans(browse, second),
            "Plans of `dis`, sorted by name:\n",
            *plans(by_name),
            "Plans of `cafe` + interest Python + UTC−6..+1:\n",
            *plans(cases[-1][1]),
            "Plans of `Lucía diseño` (685 matches: ranked):\n",
            *plans(DirectoryFilters(query="Lucía diseño")),
        ]
    )


if __name__ == "__main__":
    print(_worker())

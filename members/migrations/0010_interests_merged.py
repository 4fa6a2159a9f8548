"""Free-text interests become curated tags (docs/interests.md): the variants of one interest
merge into a single approved tag with a Spanish and an English label, and every member keeps
all their interests (once each).

Two names are variants when they are equal once case, accents and spacing are set aside
("Fotografía", "fotografia ", "FOTOGRAFÍA"), or when EQUIVALENTS says they name the same
thing in Spanish and English ("fotografía", "photography"). A name in no pair keeps its
best spelling in both languages; staff translate it later in the admin where needed.

The migration keeps its own copies of the normalisation and the search text: it must do
today what it does, whatever the app's code becomes.
"""

import unicodedata

from django.db import migrations
from django.db.models import Count, F
from django.utils.text import slugify
from django_countries import countries

# (Spanish, English, other ways members write it). The first two are the tag's labels.
EQUIVALENTS = [
    ("Fotografía", "Photography", "foto", "photo"),
    ("Diseño", "Design"),
    ("Diseño gráfico", "Graphic design"),
    ("Diseño UX", "UX design", "experiencia de usuario", "user experience"),
    ("Programación", "Programming", "programar", "coding"),
    ("Desarrollo web", "Web development", "web dev"),
    ("Marketing", "Marketing"),
    ("Marketing digital", "Digital marketing"),
    ("Música", "Music"),
    ("Idiomas", "Languages", "aprender idiomas", "language learning"),
    ("Escritura", "Writing", "escribir"),
    ("Emprendimiento", "Entrepreneurship", "emprender"),
    ("Lectura", "Reading", "leer"),
    ("Libros", "Books"),
    ("Viajes", "Travel", "viajar", "travelling", "traveling"),
    ("Cocina", "Cooking", "cocinar"),
    ("Deporte", "Sports", "deportes", "sport"),
    ("Correr", "Running"),
    ("Ciclismo", "Cycling", "bici", "bicicleta"),
    ("Senderismo", "Hiking"),
    ("Cine", "Film", "películas", "movies", "cinema"),
    ("Arte", "Art"),
    ("Ilustración", "Illustration"),
    ("Educación", "Education"),
    ("Enseñanza", "Teaching", "enseñar"),
    ("Café", "Coffee"),
    ("Trabajo remoto", "Remote work", "teletrabajo", "remote working"),
    ("Productividad", "Productivity"),
    ("Finanzas", "Finance"),
    ("Inteligencia artificial", "Artificial intelligence", "ia", "ai"),
    ("Ciencia de datos", "Data science"),
    ("Videojuegos", "Video games", "gaming", "videogames"),
    ("Jardinería", "Gardening"),
    ("Meditación", "Meditation"),
    ("Naturaleza", "Nature"),
    ("Traducción", "Translation"),
    ("Liderazgo", "Leadership"),
    ("Ventas", "Sales"),
    ("Redes sociales", "Social media"),
    ("Sostenibilidad", "Sustainability"),
    ("Salud mental", "Mental health"),
    ("Bienestar", "Wellbeing", "well-being", "wellness"),
    ("Código abierto", "Open source", "open-source"),
    ("Accesibilidad", "Accessibility"),
    ("Comunicación", "Communication"),
    ("Periodismo", "Journalism"),
    ("Animación", "Animation"),
    ("Podcasts", "Podcasts", "podcast"),
    ("Ajedrez", "Chess"),
    ("Baile", "Dance", "bailar"),
    ("Teatro", "Theatre", "theater"),
    ("Mentoría", "Mentoring", "mentorship"),
    ("Gestión de proyectos", "Project management"),
    ("Recursos humanos", "Human resources", "rrhh"),
    ("Psicología", "Psychology"),
    ("Nutrición", "Nutrition"),
    ("Voluntariado", "Volunteering"),
    ("Cerámica", "Pottery", "ceramics"),
    ("Economía", "Economics"),
    ("Ciberseguridad", "Cybersecurity"),
]


def key(text):
    """Case, accents and spacing aside: "Fotografía " and "fotografia" are one key."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


EQUIVALENT_OF = {key(name): index for index, names in enumerate(EQUIVALENTS) for name in names}


def best_spelling(spellings):
    """Of the ways a name was written ({spelling: members}), the one with accents (rarely
    typed by mistake), then with capitals, then the most used; capitalised if all lower."""

    def score(spelling):
        marks = sum(unicodedata.combining(c) for c in unicodedata.normalize("NFD", spelling))
        return (marks > 0, spelling != spelling.lower(), spellings[spelling], spelling)

    best = max(spellings, key=score)
    return best[:1].upper() + best[1:] if best == best.lower() else best


def search_text(profile):
    """members.services.profile_search_text as it is at this migration."""
    user = profile.user
    parts = [
        user.display_name,
        user.first_name,
        user.last_name,
        profile.headline,
        profile.bio,
        profile.city,
        countries.name(str(profile.country)) if profile.country else "",
        *(
            label
            for interest in profile.interests.all()
            for label in (interest.label_es, interest.label_en)
            if label
        ),
    ]
    decomposed = unicodedata.normalize("NFKD", " ".join(p for p in parts if p).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def forwards(apps, schema_editor):
    Interest = apps.get_model("members", "Interest")
    Profile = apps.get_model("members", "Profile")
    through = Profile.interests.through
    members = dict(
        through.objects.values_list("interest_id").annotate(n=Count("pk")).values_list(
            "interest_id", "n"
        )
    )

    groups = {}
    for interest in Interest.objects.order_by("pk"):
        name_key = key(interest.name) or f"#{interest.pk}"
        group = ("pair", EQUIVALENT_OF[name_key]) if name_key in EQUIVALENT_OF else ("name", name_key)
        groups.setdefault(group, []).append(interest)

    keepers = []
    for (kind, which), rows in groups.items():
        rows.sort(key=lambda row: (-members.get(row.pk, 0), row.pk))
        keeper, others = rows[0], rows[1:]
        if kind == "pair":
            label_es, label_en = EQUIVALENTS[which][:2]
        else:
            spellings = {}
            for row in rows:
                spelling = " ".join(row.name.split())
                spellings[spelling] = spellings.get(spelling, 0) + members.get(row.pk, 0)
            label_es, label_en = best_spelling(spellings), ""
        if others:
            other_ids = [row.pk for row in others]
            holders = set(
                through.objects.filter(interest_id__in=other_ids).values_list(
                    "profile_id", flat=True
                )
            )
            holders -= set(
                through.objects.filter(interest_id=keeper.pk).values_list("profile_id", flat=True)
            )
            through.objects.bulk_create(
                [through(profile_id=profile_id, interest_id=keeper.pk) for profile_id in holders]
            )
            Interest.objects.filter(pk__in=other_ids).delete()
        keeper.label_es = label_es[:50]
        keeper.label_en = "" if key(label_en) == key(label_es) else label_en[:50]
        keeper.status = "approved"
        keepers.append(keeper)

    # Slugs from the Spanish label, unique; set aside first so that no keeper's new slug
    # clashes with another's old one on the way.
    for keeper in keepers:
        keeper.slug = f"migrating-{keeper.pk}"
    Interest.objects.bulk_update(keepers, ["label_es", "label_en", "status", "slug"])
    taken = set()
    for keeper in sorted(keepers, key=lambda row: row.pk):
        base = slugify(keeper.label_es)[:50] or "interest"
        slug, number = base, 2
        while slug in taken:
            slug, number = f"{base}-{number}", number + 1
        taken.add(slug)
        keeper.slug = slug
    Interest.objects.bulk_update(keepers, ["slug"])

    # The directory searches both labels of every tag a member has.
    profiles = Profile.objects.select_related("user").prefetch_related("interests")
    batch = []
    for profile in profiles.iterator(chunk_size=500):
        profile.search_text = search_text(profile)
        batch.append(profile)
        if len(batch) == 500:
            Profile.objects.bulk_update(batch, ["search_text"])
            batch = []
    Profile.objects.bulk_update(batch, ["search_text"])
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "UPDATE members_profile "
            "SET search_vector = to_tsvector('simple'::regconfig, COALESCE(search_text, ''))"
        )


def backwards(apps, schema_editor):
    # Merged tags cannot be split again: going back names each tag by its Spanish label.
    apps.get_model("members", "Interest").objects.update(name=F("label_es"))


class Migration(migrations.Migration):
    dependencies = [("members", "0009_interest_labels")]

    operations = [migrations.RunPython(forwards, backwards)]

"""A believable demo community for `manage.py seed_demo`. Deterministic and idempotent."""

import random
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.text import slugify

from members.models import Interest, Profile, User

STAFF_EMAIL = "staff@example.com"
STAFF_PASSWORD = "staff-demo-2026"
MEMBER_EMAIL = "member@example.com"
MEMBER_PASSWORD = "member-demo-2026"
MEMBER_COUNT = 60

# (city, ISO country, IANA zone): the founding community runs from UTC-6 to UTC+1.
PLACES = [
    ("Madrid", "ES", "Europe/Madrid"),
    ("Barcelona", "ES", "Europe/Madrid"),
    ("Valencia", "ES", "Europe/Madrid"),
    ("Sevilla", "ES", "Europe/Madrid"),
    ("Bilbao", "ES", "Europe/Madrid"),
    ("Las Palmas", "ES", "Atlantic/Canary"),
    ("Ciudad de México", "MX", "America/Mexico_City"),
    ("Guadalajara", "MX", "America/Mexico_City"),
    ("Bogotá", "CO", "America/Bogota"),
    ("Medellín", "CO", "America/Bogota"),
    ("Lima", "PE", "America/Lima"),
    ("Santiago", "CL", "America/Santiago"),
    ("Buenos Aires", "AR", "America/Argentina/Buenos_Aires"),
    ("Córdoba", "AR", "America/Argentina/Cordoba"),
    ("Montevideo", "UY", "America/Montevideo"),
    ("Quito", "EC", "America/Guayaquil"),
    ("San José", "CR", "America/Costa_Rica"),
    ("Guatemala", "GT", "America/Guatemala"),
    ("Santo Domingo", "DO", "America/Santo_Domingo"),
    ("Asunción", "PY", "America/Asuncion"),
]

FIRST_NAMES = [
    "Lucía",
    "Mateo",
    "Sofía",
    "Hugo",
    "Valentina",
    "Martín",
    "Camila",
    "Pablo",
    "Isabella",
    "Diego",
    "Martina",
    "Javier",
    "Daniela",
    "Alejandro",
    "Paula",
    "Santiago",
    "Carmen",
    "Andrés",
    "Elena",
    "Tomás",
    "Gabriela",
    "Nicolás",
    "Lorena",
    "Sebastián",
    "Ana",
    "Emilio",
    "Renata",
    "Joaquín",
    "Julia",
    "Rodrigo",
]
LAST_NAMES = [
    "García",
    "Fernández",
    "López",
    "Martínez",
    "Rodríguez",
    "Gómez",
    "Díaz",
    "Pérez",
    "Sánchez",
    "Romero",
    "Torres",
    "Flores",
    "Rivera",
    "Vargas",
    "Castro",
    "Ortiz",
    "Morales",
    "Herrera",
    "Medina",
    "Rojas",
    "Navarro",
    "Silva",
    "Mendoza",
    "Vega",
]
HEADLINES = [
    "Freelance UX designer",
    "Backend developer (Python and Django)",
    "Product manager",
    "Content strategist and copywriter",
    "Illustrator for children's books",
    "Data analyst",
    "Translator (English, Spanish, Portuguese)",
    "Marketing consultant",
    "Mobile developer",
    "Accountant for freelancers",
    "Video editor",
    "SEO specialist",
    "DevOps engineer",
    "Accessibility consultant",
    "Photographer",
    "Community manager",
    "Frontend developer",
    "Business coach",
    "Podcast producer",
    "Teacher of Spanish online",
]
INTERESTS = [
    "Python",
    "Django",
    "UX design",
    "Product management",
    "Marketing",
    "Copywriting",
    "Illustration",
    "Data science",
    "Photography",
    "Translation",
    "Freelancing",
    "Remote work",
    "Running",
    "Coffee",
    "Yoga",
    "Music",
    "Startups",
    "Sustainability",
    "Teaching",
    "Video editing",
    "SEO",
    "Mobile apps",
    "DevOps",
    "Accessibility",
    "Cooking",
    "Cycling",
    "Reading",
    "Podcasting",
]


@dataclass(frozen=True)
class SeedReport:
    created: int
    existing: int


def _interests() -> list[Interest]:
    return [
        Interest.objects.get_or_create(slug=slugify(name), defaults={"name": name})[0]
        for name in INTERESTS
    ]


def _verified(user: User) -> None:
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


@transaction.atomic
def demo_seed() -> SeedReport:
    rng = random.Random(2026)
    interests = _interests()
    created = existing = 0

    staff, was_created = User.objects.get_or_create(
        email=STAFF_EMAIL,
        defaults={
            "display_name": "Marta (staff)",
            "is_staff": True,
            "is_superuser": True,
            "time_zone": "Europe/Madrid",
            "language": "es",
            "password": make_password(STAFF_PASSWORD),
        },
    )
    _verified(staff)
    created, existing = (created + 1, existing) if was_created else (created, existing + 1)

    # Hashing once keeps seeding fast; every demo member shares the printed password.
    member_password = make_password(MEMBER_PASSWORD)
    for index in range(MEMBER_COUNT):
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        last = LAST_NAMES[(index * 7) % len(LAST_NAMES)]
        city, country, zone = PLACES[index % len(PLACES)]
        email = (
            MEMBER_EMAIL if index == 0 else f"{slugify(first)}.{slugify(last)}{index}@example.com"
        )
        user, was_created = User.objects.get_or_create(
            email=email,
            defaults={
                "first_name": first,
                "last_name": last,
                "display_name": f"{first} {last}",
                "time_zone": zone,
                "language": "en" if index % 6 == 0 else "es",
                "password": member_password,
            },
        )
        _verified(user)
        if not was_created:
            existing += 1
            continue
        created += 1
        profile = Profile.objects.create(
            user=user,
            headline=HEADLINES[index % len(HEADLINES)],
            city=city,
            country=country,
        )
        profile.interests.set(rng.sample(interests, k=rng.randint(3, 6)))
    return SeedReport(created=created, existing=existing)

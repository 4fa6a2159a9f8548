"""A believable demo community for `manage.py seed_demo`. Deterministic and idempotent."""

import random
import uuid
from dataclasses import dataclass
from datetime import time, timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from members import services
from members.models import Acquaintance, Interest, Language, Profile, User
from rooms.models import Message, Room
from rooms.services import message_post, room_create, room_enter

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


BIOS = [
    "I left an agency job three years ago and now work with small studios across the Atlantic. "
    "I love a good coffee break and talking about typography.",
    "Remote since before it was cool. I help teams ship their first product and I am always "
    "happy to review someone's portfolio.",
    "Freelancer, parent of two and amateur baker. Looking for people to share the quiet hours "
    "of the afternoon with.",
    "Self-taught, now mentoring juniors. Ask me about testing, automation or the best tacos in "
    "town.",
    "I moved from the city to a village with good fibre. Coworking online keeps me sane and "
    "connected.",
]
# Usual working hours in the member's own zone: a mix of early birds and late starters.
HOURS = [
    (time(8, 0), time(16, 0)),
    (time(9, 0), time(17, 0)),
    (time(10, 0), time(18, 30)),
    (time(7, 30), time(15, 0)),
    (time(11, 0), time(19, 0)),
]
OPEN_TO = [
    "open_to_collaborate",
    "open_to_mentor",
    "open_to_be_mentored",
    "open_to_clients",
    "open_to_chat",
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
    if was_created:
        services.profile_update(
            profile=Profile(
                user=staff,
                headline="Community manager",
                city="Madrid",
                country="ES",
                bio="I look after the community. Say hi in the cafeteria!",
            ),
            languages=Language.objects.filter(code__in=["es", "en"]),
            interest_names=["Remote work", "Teaching", "Coffee"],
            complete_onboarding=True,
        )
    created, existing = (created + 1, existing) if was_created else (created, existing + 1)

    # Hashing once keeps seeding fast; every demo member shares the printed password.
    member_password = make_password(MEMBER_PASSWORD)
    members: list[User] = []
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
        members.append(_profile(rng, user, index, city, country, interests))

    _acquaintances(rng, members)
    if created:
        _coffee_pairs(rng, members)
        _rooms(staff, members)
    return SeedReport(created=created, existing=existing)


CAFETERIA_CHAT = [
    "¡Buenos días desde Madrid! ☕",
    "Good morning! Anyone up for a focus hour at 10?",
    "Buenas desde Bogotá, aquí todavía es de noche 🌙",
    "Acabo de publicar el post sobre accesibilidad: https://example.com/blog/a11y",
    "¿Alguien ha probado el nuevo editor? Me está gustando.",
    "Hoy toca pelearse con la factura trimestral…",
]


def _rooms(staff: User, members: list[User]) -> None:
    """A lived-in cafeteria and a few meeting rooms, so the rooms pages have something to
    show on a first `make run`."""
    if not members:
        return
    cafeteria = Room.objects.get(kind=Room.Kind.CAFETERIA)
    now = timezone.now()
    for index, text in enumerate(CAFETERIA_CHAT):
        author = members[(index * 5) % len(members)]
        room_enter(room=cafeteria, user=author)
        message, _created = message_post(
            room=cafeteria, author=author, text=text, client_id=uuid.uuid4()
        )
        # Spread over the last hour, oldest first, as if people had been chatting.
        Message.objects.filter(pk=message.pk).update(
            created_at=now - timedelta(minutes=5 * (len(CAFETERIA_CHAT) - index))
        )
    room_create(
        creator=staff,
        name="Focus hour",
        description="Cameras off, heads down: 50 minutes of work, 10 of chat.",
        permanent=True,
    )
    room_create(
        creator=members[1],
        name="Feedback de portfolios",
        description="Trae tu portfolio y te damos ideas.",
    )


def _profile(
    rng: random.Random,
    user: User,
    index: int,
    city: str,
    country: str,
    interests: list[Interest],
) -> User:
    start, end = HOURS[index % len(HOURS)]
    profile = Profile(
        user=user,
        headline=HEADLINES[index % len(HEADLINES)],
        bio=BIOS[index % len(BIOS)],
        city=city,
        country=country,
        working_hours_start=start,
        working_hours_end=end,
        working_days=[0, 1, 2, 3, 4] if index % 5 else [0, 1, 2, 3],
        website=f"https://example.com/{slugify(user.display_name)}" if index % 3 == 0 else "",
        visible_in_directory=index % 15 != 7,
        **{flag: rng.random() < 0.4 for flag in OPEN_TO},
    )
    spoken = ["es"] + (["en"] if index % 2 == 0 else []) + (["pt"] if index % 7 == 0 else [])
    services.profile_update(
        profile=profile,
        interest_names=[interest.name for interest in rng.sample(interests, k=rng.randint(3, 6))],
        languages=Language.objects.filter(code__in=spoken),
        complete_onboarding=True,
    )
    return user


def _acquaintances(rng: random.Random, members: list[User]) -> None:
    """A few past coffee pairs, so that "People I've met" is not empty for the demo member."""
    if len(members) < 2:
        return
    now = timezone.now()
    demo_member, others = members[0], members[1:]
    for weeks_ago, other in zip((2, 4, 6), rng.sample(others, k=min(3, len(others))), strict=False):
        services.acquaintance_record(
            members=[demo_member, other],
            how=Acquaintance.How.PAIR,
            context="Coffee pairs",
            at=now - timedelta(weeks=weeks_ago),
        )
    for _ in range(40):
        first, second = rng.sample(others, k=2)
        services.acquaintance_record(
            members=[first, second],
            how=Acquaintance.How.PAIR,
            context="Coffee pairs",
            at=now - timedelta(days=rng.randint(7, 120)),
        )


def _coffee_pairs(rng: random.Random, members: list[User]) -> None:
    """Most members take part; three past rounds show history, answers and statistics."""
    from matching import services as matching
    from matching.apps import COMMUNITY_SLUG
    from matching.models import Answer, GroupMember, Programme

    programme = Programme.objects.get(slug=COMMUNITY_SLUG)
    for index, user in enumerate(members):
        matching.participation_get_or_create(programme=programme, user=user)
        if index % 10 == 9:
            matching.community_opt_in_set(user=user, opted_in=False)
    now = timezone.now()
    latest = programme.latest_slot(now) or now
    answers = [Answer.MET, Answer.MET, Answer.SCHEDULED, Answer.NOT_YET, ""]
    for rounds_ago in (3, 2, 1):
        scheduled_for = latest - timedelta(days=programme.cadence_days * rounds_ago)
        round_, _ = matching.round_create(
            programme=programme, scheduled_for=scheduled_for, notify=False
        )
        seats = GroupMember.objects.filter(round=round_)
        seats.update(
            intro_sent_at=scheduled_for,
            follow_up_sent_at=scheduled_for + timedelta(days=programme.follow_up_after_days),
        )
        for seat in seats:
            answer = rng.choice(answers)
            if answer:
                matching.answer_record(seat=seat, answer=answer)

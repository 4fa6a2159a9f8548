"""A believable demo community for `manage.py seed_demo`. Deterministic and idempotent."""

import random
import uuid
from dataclasses import dataclass
from datetime import time, timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from members import services
from members.models import Acquaintance, Interest, Language, Profile, User
from newsletter.models import Issue, Subscriber
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
        _notifications(members)
        _staff_dashboard(rng, members)
    _newsletter(staff)
    return SeedReport(created=created, existing=existing)


def _notifications(members: list[User]) -> None:
    """A few notices behind the demo member's bell, one of them already read."""
    from notifications.models import Kind
    from notifications.services import notifications_mark_read, notify

    me, partner, other = members[0], members[1], members[2]
    notify(
        user=me,
        kind=Kind.PAIR_CREATED,
        key="demo:pair",
        text=_("Your coffee pair this round: %(names)s. Agree on a time together."),
        params={"names": partner.name},
        url=reverse("matching:mine"),
    )
    notify(
        user=me,
        kind=Kind.MENTION,
        key="demo:mention",
        text=_("%(author)s mentioned you in “%(room)s”: %(excerpt)s"),
        params={"author": other.name, "room": "Cafetería", "excerpt": "¿Te apuntas al taller?"},
        url=reverse("rooms:room", args=["cafeteria"]),
    )
    earlier = notify(
        user=me,
        kind=Kind.PAIR_FOLLOW_UP,
        key="demo:follow-up",
        text=_("Did you meet your coffee pair? Tell us in one click."),
        url=reverse("matching:mine"),
        now=timezone.now() - timedelta(days=15),
    )
    notifications_mark_read(user=me, ids=[earlier.notification.pk])


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
    for _round in range(40):
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


NEWSLETTER_READERS = ["lector.uno@example.org", "reader.two@example.org", "lectora3@example.org"]


def _newsletter(staff: User) -> None:
    """A few confirmed readers and one issue in the archive (get_or_create: runs again
    without adding anything)."""
    now = timezone.now()
    for index, email in enumerate([MEMBER_EMAIL, *NEWSLETTER_READERS]):
        Subscriber.objects.get_or_create(
            email=email,
            defaults={
                "language": "en" if index % 2 else "es",
                "status": Subscriber.Status.CONFIRMED,
                "consent_source": (
                    Subscriber.Source.MEMBER if index == 0 else Subscriber.Source.SITE_FORM
                ),
                "user": User.objects.filter(email=email).first(),
                "requested_at": now,
                "confirmed_at": now,
                "confirmation_nonce": "",
            },
        )
    Issue.objects.get_or_create(
        subject="Bienvenida a la newsletter de la comunidad",
        defaults={
            "body_markdown": (
                "¡Hola!\n\nCada mes te contamos lo que pasa en la comunidad:\n\n"
                "- **Sesiones de formación** los miércoles a las 18:00 (Madrid).\n"
                "- Nuevas salas temáticas para trabajar en compañía.\n"
                "- Los cafés por parejas de cada semana.\n\n"
                "Nos vemos en la cafetería ☕"
            ),
            "status": Issue.Status.SENT,
            "created_by": staff,
            "send_started_at": now,
            "sent_at": now,
        },
    )


def _staff_dashboard(rng: random.Random, members: list[User]) -> None:
    """Some history for /staff/: sign-ups over four months, recent visits, eight weeks of
    room use, two past events and two open reports."""
    from events.models import Event, Rsvp
    from moderation.models import Report
    from rooms.models import HourlyUsage

    if len(members) < 10:
        return
    now = timezone.now()
    for index, user in enumerate(members):
        joined = now - timedelta(days=rng.randrange(1, 120), hours=rng.randrange(24))
        seen = now - timedelta(hours=rng.randrange(1, 24 * 40)) if index % 4 else None
        User.objects.filter(pk=user.pk).update(date_joined=joined, last_seen_at=seen)
    hour_now = now.replace(minute=0, second=0, microsecond=0)
    usage = []
    for room in Room.objects.filter(kind__in=[Room.Kind.CAFETERIA, Room.Kind.PERMANENT]):
        busy = 6 if room.kind == Room.Kind.CAFETERIA else 3
        for hours_ago in range(1, 8 * 7 * 24):
            hour = hour_now - timedelta(hours=hours_ago)
            weekday_daytime = hour.weekday() < 5 and 7 <= hour.hour <= 17
            if weekday_daytime or rng.random() < 0.1:
                people = rng.randrange(1, busy + 1) if weekday_daytime else 1
                seconds = people * rng.randrange(600, 3600)
                usage.append(HourlyUsage(room=room, hour=hour, seconds=seconds))
    HourlyUsage.objects.bulk_create(usage, ignore_conflicts=True)
    focus = Room.objects.filter(kind=Room.Kind.PERMANENT).first()
    for days_ago, title in ((12, "Taller: facturar desde el extranjero"), (5, "Demo day")):
        day = now - timedelta(days=days_ago)
        starts = day.replace(hour=17, minute=0, second=0, microsecond=0)
        event = Event.objects.create(
            kind="meetup",
            title=title,
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            room=focus,
            wrapped_up_at=starts + timedelta(hours=1),
            attendance_count=rng.randrange(6, 12),
        )
        Rsvp.objects.bulk_create(
            [Rsvp(event=event, user=user, status=Rsvp.Status.GOING) for user in members[2:17]]
        )
    message = Message.objects.filter(room__kind=Room.Kind.CAFETERIA, author=members[5]).first()
    Report.objects.create(
        reporter=members[3],
        reported=members[5],
        reason=Report.Reason.SPAM,
        details="Keeps posting the same link to a paid course.",
        subject=f"room message {message.pk}" if message else "",
        message=message,
    )
    Report.objects.create(
        reporter=members[7],
        reported=members[9],
        reason=Report.Reason.FAKE,
        details="The photo is of a well-known actor.",
    )

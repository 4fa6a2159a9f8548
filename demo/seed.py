"""A believable demo community for `manage.py seed_demo`. Deterministic and idempotent."""

import random
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.text import slugify

from demo.activity import (
    coffee_pairs_make,
    newsletter_make,
    notifications_make,
    rooms_make,
    staff_dashboard_make,
)
from demo.data import (
    FIRST_NAMES,
    LAST_NAMES,
    MEMBER_COUNT,
    MEMBER_EMAIL,
    MEMBER_PASSWORD,
    PLACES,
    STAFF_EMAIL,
    STAFF_PASSWORD,
)
from demo.people import acquaintances_make, interests_ensure, profile_make, verified_ensure
from members import services
from members.models import Language, Profile, User


@dataclass(frozen=True)
class SeedReport:
    created: int
    existing: int


@transaction.atomic
def demo_seed() -> SeedReport:
    rng = random.Random(2026)
    interests = interests_ensure()
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
    verified_ensure(staff)
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
        verified_ensure(user)
        if not was_created:
            existing += 1
            continue
        created += 1
        members.append(profile_make(rng, user, index, city, country, interests))

    acquaintances_make(rng, members)
    if created:
        coffee_pairs_make(rng, members)
        rooms_make(staff, members)
        notifications_make(members)
        staff_dashboard_make(rng, members)
    newsletter_make(staff)
    return SeedReport(created=created, existing=existing)

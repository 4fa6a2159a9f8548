"""The demo's members: accounts, profiles and who has met whom."""

import random
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.utils import timezone
from django.utils.text import slugify

from demo.data import BIOS, HEADLINES, HOURS, INTERESTS, OPEN_TO
from members import services
from members.models import Acquaintance, Interest, Language, Profile, User


def interests_ensure() -> list[Interest]:
    return [
        Interest.objects.get_or_create(slug=slugify(name), defaults={"name": name})[0]
        for name in INTERESTS
    ]


def verified_ensure(user: User) -> None:
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


def profile_make(
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


def acquaintances_make(rng: random.Random, members: list[User]) -> None:
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

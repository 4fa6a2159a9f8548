"""The demo's people: accounts, profiles, who has met whom, and when each was last seen."""

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.db.models import QuerySet
from django.utils.text import slugify

from demo.data import (
    BIOS,
    DEMO_DOMAIN,
    ENGLISH_EVERY,
    ENGLISH_MEMBERS,
    FIRST_NAMES,
    HEADLINES,
    HOURS,
    INTERESTS,
    INTERESTS_EN,
    LAST_NAMES,
    LOCAL_LANGUAGES,
    MEMBER,
    MEMBER_COUNT,
    MEMBER_EMAIL,
    MEMBER_INTERESTS,
    MEMBER_KEY,
    MEMBER_PASSWORD,
    OPEN_TO,
    PLACES,
    STAFF,
    STAFF_EMAIL,
    STAFF_INTERESTS,
    STAFF_KEY,
    STAFF_PASSWORD,
    Person,
)
from members import services
from members.models import Acquaintance, Language, Profile, User


def demo_users() -> QuerySet[User]:
    """Every demo account (and nobody else's): they live on the demo's own domain."""
    return User.objects.filter(email__iendswith=f"@{DEMO_DOMAIN}")


def demo_persons() -> list[Person]:
    """The members, the printed member login first; every `ENGLISH_EVERY`th speaks English."""
    persons = [MEMBER]
    english = iter(ENGLISH_MEMBERS)
    spanish = 0
    for index in range(1, MEMBER_COUNT):
        english_speaker = next(english, None) if index % ENGLISH_EVERY == 0 else None
        if english_speaker:
            persons.append(english_speaker)
            continue
        city, country, zone = PLACES[spanish % len(PLACES)]
        persons.append(
            Person(
                FIRST_NAMES[spanish % len(FIRST_NAMES)],
                # A different stride, so that the same first name meets another surname.
                LAST_NAMES[(spanish * 7) % len(LAST_NAMES)],
                city,
                country,
                zone,
                HEADLINES[spanish % len(HEADLINES)],
                BIOS[spanish % len(BIOS)],
            )
        )
        spanish += 1
    return persons


def person_key(person: Person) -> str:
    """How chat lines and events name a member: their city, "/en" for English speakers."""
    return f"{person.city}/en" if person.language == "en" else person.city


@dataclass
class People:
    staff: User
    # The printed member login first, then the others in `demo_persons` order.
    members: list[User]
    # Accounts this run made (the rest were there already).
    created: list[User] = field(default_factory=list)
    keys: dict[str, User] = field(default_factory=dict)

    @property
    def member(self) -> User:
        return self.members[0]

    def who(self, key: str) -> User:
        """The member a chat line or event means (see `demo.data.STAFF_KEY`)."""
        return self.keys[key]


def interests_set(*, profile: Profile, names: Sequence[str]) -> None:
    """The one place the demo gives a profile its skills and interests."""
    pairs = [(name, INTERESTS_EN.get(name, "")) for name in names]
    profile.interests.set(services.interests_from_names(names=pairs))
    services.profile_refresh_search_text(profile=profile)


def verified_ensure(user: User) -> None:
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


def _account(person: Person, *, email: str, password: str, **fields: bool) -> tuple[User, bool]:
    user, created = User.objects.get_or_create(
        email=email,
        defaults={
            "first_name": person.first_name,
            "last_name": person.last_name,
            "display_name": f"{person.first_name} {person.last_name}",
            "time_zone": person.time_zone,
            "language": person.language,
            "password": password,
            **fields,
        },
    )
    verified_ensure(user)
    return user, created


def _spoken(person: Person, index: int) -> list[str]:
    if person.language == "en":
        return ["en", "es"] + (["pt"] if person.country == "PT" else [])
    local = LOCAL_LANGUAGES.get(person.city)
    return (
        ["es"]
        + (["en"] if index % 2 == 0 else [])
        + ([local] if local else [])
        + (["pt"] if index % 9 == 4 else [])
    )


def profile_make(
    rng: random.Random, *, user: User, person: Person, index: int, interests: Sequence[str]
) -> None:
    start, end = HOURS[index % len(HOURS)]
    profile = Profile(
        user=user,
        headline=person.headline,
        bio=person.bio,
        city=person.city,
        country=person.country,
        working_hours_start=start,
        working_hours_end=end,
        working_days=[0, 1, 2, 3, 4] if index % 5 else [0, 1, 2, 3],
        website=f"https://example.com/{slugify(user.display_name)}" if index % 3 == 0 else "",
        visible_in_directory=index % 15 != 7,
        **{flag: rng.random() < 0.4 for flag in OPEN_TO},
    )
    services.profile_update(
        profile=profile,
        languages=Language.objects.filter(code__in=_spoken(person, index)),
        complete_onboarding=True,
    )
    interests_set(profile=profile, names=interests)


def people_ensure(rng: random.Random, *, now: datetime) -> People:
    """The staff account and the members, created once; an account that exists is left as
    it is (someone may have changed it while trying the demo)."""
    staff, staff_created = _account(
        STAFF,
        email=STAFF_EMAIL,
        password=make_password(STAFF_PASSWORD),
        is_staff=True,
        is_superuser=True,
    )
    people = People(staff=staff, members=[], keys={STAFF_KEY: staff})
    if staff_created:
        profile_make(rng, user=staff, person=STAFF, index=1, interests=STAFF_INTERESTS)
        User.objects.filter(pk=staff.pk).update(date_joined=now - timedelta(days=400))
        people.created.append(staff)
    # Hashing once keeps seeding fast; every demo member shares the printed password.
    password = make_password(MEMBER_PASSWORD)
    for index, person in enumerate(demo_persons()):
        email = (
            MEMBER_EMAIL
            if index == 0
            else f"{slugify(person.first_name)}.{slugify(person.last_name)}@{DEMO_DOMAIN}"
        )
        user, created = _account(person, email=email, password=password)
        people.members.append(user)
        people.keys.setdefault(MEMBER_KEY if index == 0 else person_key(person), user)
        if not created:
            continue
        people.created.append(user)
        interests = MEMBER_INTERESTS if index == 0 else rng.sample(INTERESTS, k=rng.randint(3, 6))
        profile_make(rng, user=user, person=person, index=index, interests=interests)
        joined = now - timedelta(days=rng.randrange(1, 120), hours=rng.randrange(24))
        User.objects.filter(pk=user.pk).update(date_joined=joined)
    return people


def last_seen_refresh(*, people: People, now: datetime) -> None:
    """Most members used the site lately, relative to this run (the staff dashboard's
    active members); the two printed logins a moment ago."""
    rng = random.Random(MEMBER_COUNT)
    for index, user in enumerate(people.members):
        seen = now - timedelta(hours=rng.randrange(1, 24 * 40)) if index % 4 else None
        User.objects.filter(pk=user.pk).update(last_seen_at=seen)
    User.objects.filter(pk__in=[people.staff.pk, people.member.pk]).update(last_seen_at=now)


def acquaintances_make(rng: random.Random, *, members: list[User], now: datetime) -> None:
    """A few past coffee pairs, so that "People I've met" is not empty for the member."""
    if len(members) < 2:
        return
    demo_member, others = members[0], members[1:]
    for weeks_ago, other in zip((2, 4, 6), rng.sample(others, k=min(3, len(others))), strict=False):
        services.acquaintance_record(
            members=[demo_member, other],
            how=Acquaintance.How.PAIR,
            context="Coffee pairs",
            at=now - timedelta(weeks=weeks_ago),
        )
    for _pair in range(40):
        first, second = rng.sample(others, k=2)
        services.acquaintance_record(
            members=[first, second],
            how=Acquaintance.How.PAIR,
            context="Coffee pairs",
            at=now - timedelta(days=rng.randrange(7, 120)),
        )

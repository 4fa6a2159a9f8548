"""factory_boy factories, one section per app."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import factory
from allauth.account.models import EmailAddress
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django.utils.text import slugify

from matching.models import Group, GroupMember, Programme, Round
from members.models import Acquaintance, Block, Interest, Language, Profile, User
from members.services import interests_from_names, profile_update
from moderation.models import Report
from rooms.models import Message, Room, message_seq_next

PASSWORD = "a-Strong-test-password-42"


class UserFactory(factory.django.DjangoModelFactory[User]):
    """A member whose email is verified, so they can log in."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"member{n}@example.com")
    display_name = factory.Faker("name", locale="es_ES")
    time_zone = "Europe/Madrid"
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class InterestFactory(factory.django.DjangoModelFactory[Interest]):
    """An approved tag; pass `label_en` where English writes it differently."""

    class Meta:
        model = Interest
        django_get_or_create = ["slug"]

    label_es = factory.Sequence(lambda n: f"Interest {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.label_es))


class SuggestedInterestFactory(InterestFactory):
    """A member's suggestion waiting for staff."""

    status = Interest.Status.SUGGESTED
    suggested_by = factory.SubFactory(UserFactory)


class ProfileFactory(factory.django.DjangoModelFactory[Profile]):
    class Meta:
        model = Profile

    user = factory.SubFactory(UserFactory)
    headline = "Freelance designer"
    city = "Madrid"
    country = "ES"


def onboarded_member(
    name: str,
    *,
    interests: Iterable[str] = (),
    languages: Iterable[str] = ("es",),
    headline: str = "Freelance designer",
    **fields: Any,
) -> User:
    """A member called `name` with a verified email who finished onboarding, so others can
    find, pair with, block and report them. `fields` go to the user (email, language, ...)."""
    profile = ProfileFactory.create(
        user=UserFactory.create(display_name=name, **fields), headline=headline
    )
    profile_update(
        profile=profile,
        languages=Language.objects.filter(code__in=list(languages)),
        interests=interests_from_names(names=list(interests)),
        complete_onboarding=True,
    )
    return profile.user


def client_for(user: User) -> Client:
    """A test client logged in as `user` that asks for English, the source language, so
    assertions read the text as written."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


class BlockFactory(factory.django.DjangoModelFactory[Block]):
    class Meta:
        model = Block

    blocker = factory.SubFactory(UserFactory)
    blocked = factory.SubFactory(UserFactory)


class ReportFactory(factory.django.DjangoModelFactory[Report]):
    class Meta:
        model = Report

    reporter = factory.SubFactory(UserFactory)
    reported = factory.SubFactory(UserFactory)
    reason = Report.Reason.SPAM
    details = "Sends the same advert to everyone."


class AcquaintanceFactory(factory.django.DjangoModelFactory[Acquaintance]):
    class Meta:
        model = Acquaintance

    owner = factory.SubFactory(UserFactory)
    other = factory.SubFactory(UserFactory)
    how = Acquaintance.How.PAIR
    first_met_at = factory.LazyFunction(timezone.now)
    last_met_at = factory.LazyFunction(timezone.now)


# matching ---------------------------------------------------------------------------------


def _days_ago(days: int) -> datetime:
    return timezone.now().replace(second=0, microsecond=0) - timedelta(days=days)


class ProgrammeFactory(factory.django.DjangoModelFactory[Programme]):
    class Meta:
        model = Programme
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Programme {n}")
    slug = factory.Sequence(lambda n: f"programme-{n}")


class RoundFactory(factory.django.DjangoModelFactory[Round]):
    """A round of the community programme (created by migrate) unless told otherwise."""

    class Meta:
        model = Round

    programme = factory.LazyFunction(
        lambda: ProgrammeFactory.create(slug="community", name="Coffee pairs")
    )
    # Yesterday, a second later for each new round: the last one made is the latest.
    scheduled_for = factory.Sequence(lambda n: _days_ago(1) + timedelta(seconds=n))


class GroupFactory(factory.django.DjangoModelFactory[Group]):
    class Meta:
        model = Group

    round = factory.SubFactory(RoundFactory)
    score = 1.5
    breakdown = factory.LazyFunction(lambda: {"overlap": 1.0, "interests": 0.5})


class GroupMemberFactory(factory.django.DjangoModelFactory[GroupMember]):
    class Meta:
        model = GroupMember

    group = factory.SubFactory(GroupFactory)
    round = factory.SelfAttribute("group.round")
    user = factory.SubFactory(UserFactory)


# rooms ------------------------------------------------------------------------------------


class RoomFactory(factory.django.DjangoModelFactory[Room]):
    """A public member-made meeting room."""

    class Meta:
        model = Room

    kind = "member"
    name = factory.Sequence(lambda n: f"Room {n}")
    slug = factory.Sequence(lambda n: f"room-{n}")
    created_by = factory.SubFactory(UserFactory)


class MessageFactory(factory.django.DjangoModelFactory[Message]):
    class Meta:
        model = Message

    room = factory.SubFactory(RoomFactory)
    author = factory.SubFactory(UserFactory)
    text = factory.Sequence(lambda n: f"Message {n}")

    @classmethod
    def _create(cls, model_class: type[Message], *args: Any, **kwargs: Any) -> Message:
        with transaction.atomic():
            kwargs.setdefault("seq", message_seq_next(room_id=kwargs["room"].pk))
            return super()._create(model_class, *args, **kwargs)


# events -----------------------------------------------------------------------------------
# Models named by label, so this section only appends to the file.


def _tomorrow_at_six_pm_utc() -> datetime:
    tomorrow = timezone.now() + timedelta(days=1)
    return tomorrow.replace(hour=18, minute=0, second=0, microsecond=0)


class EventSeriesFactory(factory.django.DjangoModelFactory):  # type: ignore[type-arg]
    """Every Wednesday at 18:00 in Madrid."""

    class Meta:
        model = "events.EventSeries"

    kind = "training"
    title = factory.Sequence(lambda n: f"Weekly session {n}")
    host = factory.SubFactory(UserFactory, is_staff=True)
    created_by = factory.SelfAttribute("host")
    weekdays = factory.LazyFunction(lambda: [2])
    local_start = factory.LazyFunction(
        lambda: timezone.now().replace(hour=18, minute=0, second=0, microsecond=0).time()
    )
    duration = timedelta(hours=1)
    time_zone = "Europe/Madrid"
    starts_on = factory.LazyFunction(timezone.localdate)
    until = factory.LazyAttribute(lambda o: o.starts_on + timedelta(weeks=12))


class EventFactory(factory.django.DjangoModelFactory):  # type: ignore[type-arg]
    """A meetup tomorrow at 18:00 UTC for an hour, organised from Madrid."""

    class Meta:
        model = "events.Event"

    kind = "meetup"
    title = factory.Sequence(lambda n: f"Event {n}")
    description = "Bring your questions."
    host = factory.SubFactory(UserFactory)
    created_by = factory.SelfAttribute("host")
    starts_at = factory.LazyFunction(_tomorrow_at_six_pm_utc)
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=1))
    time_zone = "Europe/Madrid"


def event_details(event: Any) -> dict[str, Any]:
    """An event's details as `events.services.event_update` takes them, the way the edit
    form sends them: as they are, with no capacity and no new room."""
    return {
        "title": event.title,
        "description": event.description,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "time_zone": event.time_zone,
        "capacity": None,
        "room": None,
    }


class RsvpFactory(factory.django.DjangoModelFactory):  # type: ignore[type-arg]
    class Meta:
        model = "events.Rsvp"

    event = factory.SubFactory(EventFactory)
    user = factory.SubFactory(UserFactory)
    status = "going"


# Newsletter ------------------------------------------------------------------------------


class SubscriberFactory(factory.django.DjangoModelFactory):  # type: ignore[type-arg]
    """A confirmed subscriber who came through the site form."""

    class Meta:
        model = "newsletter.Subscriber"

    email = factory.Sequence(lambda n: f"reader{n}@example.org")
    language = "es"
    status = "confirmed"
    consent_source = "site_form"
    requested_at = factory.LazyFunction(timezone.now)
    confirmed_at = factory.LazyFunction(timezone.now)
    confirmation_nonce = ""


class IssueFactory(factory.django.DjangoModelFactory):  # type: ignore[type-arg]
    class Meta:
        model = "newsletter.Issue"

    subject = factory.Sequence(lambda n: f"Newsletter number {n}")
    body_markdown = "Hello **everyone**.\n\n- New rooms\n- [Events](https://example.com/events)\n"


def granted(user: User, *rights: str) -> User:
    """`user`, made staff holding these of the admin's permissions ("app.codename") and no
    others (a superuser has them all): a fresh copy, as permissions are cached per instance."""
    from django.contrib.auth.models import Permission

    user.is_staff = True
    user.save(update_fields=["is_staff"])
    for right in rights:
        app_label, codename = right.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return User.objects.get(pk=user.pk)


def moderator(user: User) -> User:
    """`user`, with what the moderation queue asks of a staff account: reading and handling
    reports, and suspending."""
    return granted(
        user, "moderation.view_report", "moderation.change_report", "members.change_user"
    )

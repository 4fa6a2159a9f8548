"""The demo community (`manage.py seed_demo`, run by `make run`): alive around the day it is
seeded, the same world however often it runs, and nobody else's rows touched."""

import uuid
from collections import Counter
from datetime import datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.db.models import Model
from django.test import Client
from django.utils import timezone

from conversations.models import Conversation
from conversations.models import Message as PrivateMessage
from conversations.selectors import conversations_of
from demo import data as demo
from demo.seed import demo_seed
from events.models import Event, Rsvp
from events.rsvps import rsvp_set
from events.services import event_cancel, event_create
from matching.models import GroupMember, Meeting, Round
from matching.services import community_opt_in_set, participations_to_auto_pause
from members.models import Acquaintance, Profile, User
from members.services import member_suspend
from moderation.models import Report
from newsletter.models import Issue, Subscriber
from notifications.models import Kind, Notification
from rooms.models import HourlyUsage, Message, Room, Visit
from rooms.services import cafeteria_get, message_post, room_create, room_member_mute

DEMO_USERS = {"email__iendswith": f"@{demo.DEMO_DOMAIN}"}
UPCOMING = [idea for idea in demo.EVENTS if idea.day >= 0]
PAST = [idea for idea in demo.EVENTS if idea.day < 0]


def _now() -> datetime:
    return timezone.now().replace(microsecond=0)


def _midday() -> datetime:
    """Today at midday in the community's zone: "later the same day" holds whenever the test
    runs (from 23:00 a run twenty minutes later was the next day, with a new day's chat)."""
    return timezone.localtime(_now()).replace(hour=12, minute=0, second=0)


def _demo_events() -> Any:
    return Event.objects.filter(created_by__email__iendswith=f"@{demo.DEMO_DOMAIN}")


def _counts() -> dict[str, int]:
    models: list[type[Model]] = [
        User,
        Profile,
        EmailAddress,
        Acquaintance,
        Event,
        Rsvp,
        Room,
        Message,
        Visit,
        Round,
        GroupMember,
        Notification,
        Report,
        Conversation,
        PrivateMessage,
        Subscriber,
        Issue,
    ]
    return {model.__name__: model._default_manager.count() for model in models}


@pytest.mark.django_db
def test_a_fresh_demo_is_alive_around_now(django_capture_on_commit_callbacks: Any) -> None:
    now = _now()
    with django_capture_on_commit_callbacks(execute=True):
        report = demo_seed(now=now)

    people = User.objects.filter(**DEMO_USERS)
    assert people.count() == demo.MEMBER_COUNT + 1
    assert people.filter(is_staff=True).get().email == demo.STAFF_EMAIL
    assert Profile.objects.filter(user__in=people, onboarded_at__isnull=False).count() == (
        demo.MEMBER_COUNT + 1
    )
    assert all(profile.languages.exists() for profile in Profile.objects.all())
    assert all(profile.interests.count() >= 3 for profile in Profile.objects.all())
    assert EmailAddress.objects.filter(verified=True).count() == demo.MEMBER_COUNT + 1
    zones = Counter(people.values_list("time_zone", flat=True))
    assert len(zones) >= 10
    assert {"Europe/Madrid", "America/Mexico_City", "America/Bogota"} <= set(zones)

    # Spanish first, with some English-speaking members.
    languages = Counter(people.values_list("language", flat=True))
    assert languages["es"] >= 0.8 * people.count()
    assert languages["en"] >= 5
    member = User.objects.get(email=demo.MEMBER_EMAIL)
    assert member.language == "es"
    assert member.acquaintances.count() >= 3

    # Events in the next days (some today or tomorrow), past ones with attendance.
    upcoming = _demo_events().filter(starts_at__gt=now, starts_at__lte=now + timedelta(days=7))
    assert upcoming.count() >= 4
    assert upcoming.filter(starts_at__lte=now + timedelta(hours=2)).exists()
    assert upcoming.filter(kind=Event.Kind.MEETUP).count() >= 2
    assert _demo_events().filter(kind=Event.Kind.TALK, starts_at__gt=now).exists()
    assert [event.title for event in report.upcoming] == [
        event.title for event in _demo_events().filter(ends_at__gt=now).order_by("starts_at")
    ]
    assert Rsvp.objects.filter(
        user=member, status=Rsvp.Status.GOING, event__starts_at__gt=now
    ).exists()
    past = _demo_events().filter(ends_at__lte=now)
    assert past.count() == len(PAST)
    assert all(event.attendance_count for event in past)
    assert all(event.rsvps.filter(status=Rsvp.Status.GOING).count() > 5 for event in past)

    # A coffee round of the last two weeks, with pairs, and answers to earlier ones.
    latest = Round.objects.latest()
    assert now - timedelta(days=14) < latest.scheduled_for <= now
    assert latest.groups.count() >= 20
    assert GroupMember.objects.filter(user=member, round=latest).exists()
    assert GroupMember.objects.exclude(answer="").count() >= 40
    assert Round.objects.count() == 3

    # Talk in the cafeteria during the last hour and a half; those who talked were there.
    cafeteria = cafeteria_get()
    recent = cafeteria.messages.filter(created_at__gte=now - timedelta(minutes=90))
    assert recent.count() == len(demo.CAFETERIA_CHAT)
    assert max(message.created_at for message in recent) >= now - timedelta(minutes=10)
    talkers = set(recent.values_list("author_id", flat=True))
    stays = Visit.objects.filter(room=cafeteria, started_at__gte=now - timedelta(hours=2))
    assert set(stays.values_list("user_id", flat=True)) == talkers
    assert all(stay.ended_at <= now for stay in stays)
    assert HourlyUsage.objects.filter(room=cafeteria, hour__gte=now - timedelta(days=1)).exists()

    # The member login's bell: their latest pair unread, a mention from the cafeteria.
    unread = Notification.objects.filter(user=member, read_at__isnull=True)
    pair = unread.get(kind=Kind.PAIR_CREATED, key__startswith="pair:")
    partner = GroupMember.objects.filter(group__members__user=member, round=latest).exclude(
        user=member
    )[0]
    assert partner.user.name in pair.text
    # ... who proposed a time for their coffee: one click accepts it.
    proposed = unread.get(kind=Kind.PAIR_CREATED, key__startswith="meeting:")
    assert partner.user.name in proposed.text
    assert Meeting.objects.get(group=partner.group).proposed_by == partner.user
    assert unread.filter(kind=Kind.MENTION).exists()
    assert Notification.objects.filter(user=member, read_at__isnull=False).exists()

    # Their messages: a coffee partner, a colleague waiting for an answer, a small group.
    entries = conversations_of(user=member).entries
    assert len(entries) == 3 and sum(entry.unread for entry in entries) == 2
    assert any(entry.name == "Club de lectura remoto" for entry in entries)


@pytest.mark.django_db
def test_seeding_again_duplicates_nothing() -> None:
    now = _midday()
    demo_seed(now=now)
    before = _counts()

    demo_seed(now=now)
    demo_seed(now=now + timedelta(minutes=20))

    assert _counts() == before
    assert _demo_events().count() == len(demo.EVENTS)
    assert Room.objects.filter(kind=Room.Kind.PERMANENT).count() == 2


@pytest.mark.django_db
def test_seeding_weeks_later_moves_the_world_forward() -> None:
    then = _midday()
    demo_seed(now=then)
    events_then = {event.pk: event.starts_at for event in _demo_events()}
    people_then = User.objects.count()

    demo_seed(now=then + timedelta(days=15))
    now = then + timedelta(days=30)
    demo_seed(now=now)

    # The same people and events, at their places seen from the new day.
    assert User.objects.count() == people_then
    events = _demo_events()
    assert {event.pk for event in events} == set(events_then)
    upcoming = events.filter(starts_at__gt=now)
    assert upcoming.count() == len(UPCOMING)
    assert all(event.starts_at < now + timedelta(days=8) for event in upcoming)
    assert all(event.starts_at > events_then[event.pk] for event in events)
    assert not events.filter(cancelled_at__isnull=False).exists()
    assert all(event.wrapped_up_at is None for event in upcoming)
    past = events.filter(ends_at__lte=now)
    assert all(now - timedelta(days=13) < event.starts_at for event in past)
    for event in upcoming.filter(kind=Event.Kind.MEETUP):
        assert event.room is not None and event.room.is_open
        assert event.room.opens_at < event.starts_at

    # A new round of the last two weeks, the member login paired in it and told of it.
    latest = Round.objects.latest()
    assert now - timedelta(days=14) < latest.scheduled_for <= now
    member = User.objects.get(email=demo.MEMBER_EMAIL)
    seat = GroupMember.objects.get(user=member, round=latest)
    unread = Notification.objects.filter(user=member, read_at__isnull=True)
    assert list(
        unread.filter(kind=Kind.PAIR_CREATED, key__startswith="pair:").values_list("key", flat=True)
    ) == [f"pair:{seat.pk}"]
    slots = list(Round.objects.values_list("scheduled_for", flat=True))
    assert len(slots) == len(set(slots))
    # Made-up members answer often enough never to be paused for ignoring their pairs.
    assert GroupMember.objects.filter(round=Round.objects.all()[1], answer="").exists()
    assert participations_to_auto_pause() == []

    # Today's talk in the cafeteria, once; earlier days' stays as history.
    cafeteria = cafeteria_get()
    recent = cafeteria.messages.filter(created_at__gte=now - timedelta(minutes=90))
    assert recent.count() == len(demo.CAFETERIA_CHAT)
    assert cafeteria.messages.count() == 3 * len(demo.CAFETERIA_CHAT)
    assert User.objects.get(email=demo.STAFF_EMAIL).last_seen_at == now

    # And again the same day: nothing more.
    counts = _counts()
    demo_seed(now=now + timedelta(hours=1))
    assert _counts() == counts


@pytest.mark.django_db
def test_what_was_done_while_trying_the_demo_stays_and_breaks_nothing() -> None:
    then = _now()
    demo_seed(now=then)
    staff = User.objects.get(email=demo.STAFF_EMAIL)
    member = User.objects.get(email=demo.MEMBER_EMAIL)
    cafeteria = cafeteria_get()
    link_poster = cafeteria.messages.get(text__contains="formularios accesibles").author
    loud = cafeteria.messages.get(text__contains="factura trimestral").author
    assert link_poster is not None and loud is not None
    member_suspend(user=link_poster, by=staff)
    room_member_mute(room=cafeteria, member=loud, by=staff, until=then + timedelta(days=60))
    meetup = _demo_events().filter(kind=Event.Kind.MEETUP).earliest("starts_at")
    rsvp_set(event=meetup, user=member, status=Rsvp.Status.NOT_GOING, now=then)
    training = _demo_events().get(kind=Event.Kind.TRAINING, starts_at__gt=then)
    event_cancel(event=training, by=staff, now=then)

    now = then + timedelta(days=30)
    demo_seed(now=now)

    assert Rsvp.objects.get(event=meetup, user=member).status == Rsvp.Status.NOT_GOING
    training.refresh_from_db()
    assert not training.is_cancelled and training.starts_at > now
    link_poster.refresh_from_db()
    assert not link_poster.is_active
    said_today = cafeteria.messages.filter(created_at__gte=now - timedelta(minutes=90))
    assert said_today.count() == len(demo.CAFETERIA_CHAT) - 2
    assert not said_today.filter(author__in=[link_poster, loud]).exists()


@pytest.mark.django_db
def test_it_leaves_everyone_else_alone(alice: User, bob: User, staff: User) -> None:
    then = _now()
    # Alice takes part in coffee pairs: the demo must not pair her with made-up people.
    community_opt_in_set(user=alice, opted_in=True)
    cafeteria = cafeteria_get()
    message, _created = message_post(
        room=cafeteria, author=alice, text="¡Hola a todos!", client_id=uuid.uuid4()
    )
    room = room_create(creator=staff, name=demo.TRAINING_ROOM[0], permanent=True)
    # Same title as a demo event, but staff's own.
    event = event_create(
        by=staff,
        kind=Event.Kind.TALK,
        title=demo.EVENTS[-1].title,
        starts_at=then + timedelta(days=40),
        ends_at=then + timedelta(days=40, hours=1),
        time_zone="Europe/Madrid",
        room=room,
    )
    hour = then.replace(minute=0, second=0) - timedelta(hours=3)
    usage = HourlyUsage.objects.create(room=cafeteria, hour=hour, seconds=42)
    theirs: list[Model] = [alice, bob, staff, message, room, event, usage]
    before = [type(row)._default_manager.filter(pk=row.pk).values().get() for row in theirs]

    demo_seed(now=then)
    report = demo_seed(now=then + timedelta(days=30))

    assert [type(row)._default_manager.filter(pk=row.pk).values().get() for row in theirs] == before
    assert not GroupMember.objects.filter(user=alice).exists()
    assert not Round.objects.exists()
    assert report.pairs.note
    assert list(Rsvp.objects.filter(event=event).values_list("user", flat=True)) == [staff.pk]
    assert not Notification.objects.filter(user__in=[alice, bob, staff]).exists()
    assert not Rsvp.objects.filter(user__in=[alice, bob]).exists()
    assert User.objects.exclude(**DEMO_USERS).count() == 3


@pytest.mark.django_db
def test_the_console_says_where_to_go_and_how_to_log_in(client: Client, settings: Any) -> None:
    settings.SITE_URL = "http://127.0.0.1:8123"
    out = StringIO()

    call_command("seed_demo", stdout=out)

    printed = out.getvalue()
    assert "http://127.0.0.1:8123/" in printed
    last_lines = "\n".join(printed.strip().splitlines()[-3:])
    for email, password in [
        (demo.STAFF_EMAIL, demo.STAFF_PASSWORD),
        (demo.MEMBER_EMAIL, demo.MEMBER_PASSWORD),
    ]:
        assert email in last_lines and password in last_lines
        response = client.post("/accounts/login/", {"login": email, "password": password})
        assert response.status_code == 302, email
        assert response["Location"] == "/"  # onboarded already, so no welcome page
        client.logout()
    assert "live" in printed  # presence is live: the console says how to see someone there

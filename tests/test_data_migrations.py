"""The migrations that change existing rows, run on rows written before them: one trip back
to before both and forward again (every app after them is undone and redone, the slowest
step of the suite's migration tests, so the two share it)."""

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from events.models import Event, Rsvp
from members.models import Interest, Profile
from rooms.models import Message, Room
from tests.factories import UserFactory

BEFORE = [
    ("members", "0008_report_moved_to_moderation"),
    ("rooms", "0009_message_reply_to"),
    # Where going back to rooms 0009 leaves events (its 0006 needs rooms 0013).
    ("events", "0005_host_seats"),
]


def _migrate(target: list[tuple[str, str]]) -> Any:
    """The database migrated (back or forward) to `target`; the models as they were then."""
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def _interests_before(old: Any) -> None:
    """Tags spelt several ways (case, accents, a trailing space, either language)."""
    OldUser, OldProfile, OldInterest = (
        old.get_model("members", name) for name in ("User", "Profile", "Interest")
    )
    tags = {
        name: OldInterest.objects.create(name=name, slug=slug)
        for name, slug in [
            ("fotografía", "fotografia"),
            ("Photography", "photography"),
            ("fotografia ", "fotografia-2"),
            ("tipografia", "tipografia"),
            ("Tipografía", "tipografia-2"),
            ("Kayak", "kayak"),
        ]
    }
    holders = {
        "ana": ["fotografía", "tipografia"],
        "ben": ["Photography", "Tipografía", "Kayak"],
        "carla": ["fotografia ", "Photography"],  # two variants: one tag afterwards
    }
    for name, interests in holders.items():
        user = OldUser.objects.create(email=f"{name}@example.com", display_name=name.title())
        profile = OldProfile.objects.create(user=user, headline="Freelance")
        profile.interests.set([tags[interest] for interest in interests])


def _interests_after() -> None:
    """members 0010 merged the variants, keeping every member's tags."""
    assert Interest.objects.count() == 3
    photo = Interest.objects.get(slug="fotografia")
    assert (photo.label_es, photo.label_en, photo.status) == (
        "Fotografía",
        "Photography",
        "approved",
    )
    type_ = Interest.objects.get(slug="tipografia")
    assert (type_.label_es, type_.label_en) == ("Tipografía", "")  # in no pair: one spelling
    assert Interest.objects.get(slug="kayak").label_es == "Kayak"
    by_member = {
        profile.user.display_name: sorted(interest.slug for interest in profile.interests.all())
        for profile in Profile.objects.select_related("user")
    }
    assert by_member == {
        "Ana": ["fotografia", "tipografia"],
        "Ben": ["fotografia", "kayak", "tipografia"],
        "Carla": ["fotografia"],
    }
    # The directory finds them by either label from now on.
    carla = Profile.objects.get(user__display_name="Carla")
    assert "fotografia photography" in carla.search_text
    photography_query = SearchQuery("photography", config="simple")
    assert Profile.objects.filter(search_vector=photography_query).count() == 3


def _series_before(old: Any) -> list[int]:
    """A Madrid series (Wednesdays, 18:00) with two occurrences made: the second was moved to
    19:00, and the old `series_extend` made its day again at 18:00 (the defect events 0008
    ends). Returns their ids in the order made."""
    series = old.get_model("events", "EventSeries").objects.create(
        title="Tertulia",
        weekdays=[2],
        local_start=time(18),
        starts_on=date(2027, 3, 3),
        until=date(2027, 6, 30),
    )
    made = []
    for starts_at in ("2027-03-03 17:00Z", "2027-03-10 18:00Z", "2027-03-10 17:00Z"):
        at = datetime.fromisoformat(starts_at)
        event = old.get_model("events", "Event").objects.create(
            kind="training",
            title="Tertulia",
            series=series,
            starts_at=at,
            ends_at=at + timedelta(hours=1),
        )
        made.append(event.pk)
    return made


@pytest.mark.django_db(transaction=True)
def test_interests_merge_and_messages_are_numbered_keeping_what_was_there() -> None:
    """members 0010 merges a tag's case, accent and language variants; rooms 0010 numbers
    each room's messages in id order, and, as the old web processes keep serving while it
    runs and store messages with no number, 0011 numbers those after the room's last one;
    events 0008 gives each series occurrence its day."""
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    old = _migrate(BEFORE)
    _interests_before(old)
    old_room, old_message = old.get_model("rooms", "Room"), old.get_model("rooms", "Message")
    rooms = [old_room.objects.create(slug=f"sala-{n}", name=f"Sala {n}") for n in range(2)]
    written: dict[int, list[int]] = {room.pk: [] for room in rooms}
    for n in range(7):
        place = rooms[n % 3 == 0]
        written[place.pk].append(old_message.objects.create(room=place, text=f"m{n}").pk)

    during = _migrate([("rooms", "0010_message_seq")]).get_model("rooms", "Message")
    late = [during.objects.create(room_id=rooms[0].pk, text=f"late {n}").pk for n in (1, 2)]
    assert during.objects.filter(pk__in=late, seq=None).count() == 2
    occurrences = _series_before(old)

    MigrationExecutor(connection).migrate(latest)

    # events 0008: each occurrence stands for its day in Madrid; of the two on one day, the
    # first made keeps it.
    days = dict(Event.objects.filter(pk__in=occurrences).values_list("pk", "series_day"))
    assert [days[pk] for pk in occurrences] == [date(2027, 3, 3), date(2027, 3, 10), None]

    _interests_after()
    for place in Room.objects.filter(slug__startswith="sala-"):
        numbered = Message.objects.filter(room=place).order_by("seq").values_list("pk", "seq")
        expected = written[place.pk] + (late if place.pk == rooms[0].pk else [])
        assert list(numbered) == [(pk, n) for n, pk in enumerate(expected, start=1)]


@pytest.mark.django_db(transaction=True)
def test_seats_invited_before_the_calendar_was_recorded_are_withdrawn_when_given_up() -> None:
    """events 0010 records as held the seats to come whose member may have had the event's
    invitation already: a promotion's email, or a change's while going."""
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    old = _migrate([("events", "0009_rsvp_going_since")])
    # Members as they are now (their app is not taken back); events as before 0010.
    OldEvent, OldRsvp = old.get_model("events", "Event"), old.get_model("events", "Rsvp")
    now = timezone.now()
    ahead = OldEvent.objects.create(
        kind="meetup",
        title="Ahead",
        starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=3, hours=1),
        sequence=2,
    )
    over = OldEvent.objects.create(
        kind="meetup", title="Over", starts_at=now - timedelta(days=3), ends_at=now, sequence=1
    )
    rows: dict[str, tuple[Any, str, dict[str, Any]]] = {
        "promoted": (ahead, "going", {"promotion_emailed_at": now}),
        "told": (ahead, "going", {"announced_sequence": 2}),
        "unchanged": (ahead, "going", {}),
        "maybe": (ahead, "maybe", {"announced_sequence": 2}),
        "past": (over, "going", {"announced_sequence": 1}),
    }
    for name, (event, status, fields) in rows.items():
        user = UserFactory.create(display_name=name)
        OldRsvp.objects.create(event=event, user_id=user.pk, status=status, **fields)

    MigrationExecutor(connection).migrate(latest)

    recorded = {
        rsvp.user.display_name: (rsvp.calendar_sequence, rsvp.calendar_held)
        for rsvp in Rsvp.objects.select_related("user")
    }
    assert recorded == {
        "promoted": (2, True),
        "told": (2, True),
        "unchanged": (None, False),
        "maybe": (None, False),
        "past": (None, False),
    }

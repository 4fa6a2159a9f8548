"""Wrapping an event up when it ends: its attendance is counted and its room invited to the
cafeteria, once, even when a count fails or two ticks run at once."""

import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from events import attendance
from events.models import Event
from events.tasks import events_wrap_up_tick
from rooms import broadcast
from rooms.presence import presence_add
from tests.factories import EventFactory, RoomFactory, UserFactory


@pytest.fixture
def invitations(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[int, str]]]:
    """The rooms invited to the cafeteria (the broadcast, recorded instead of sent)."""
    sent: list[tuple[int, str]] = []

    async def event_ended(*, room_id: int, title: str) -> None:
        sent.append((room_id, title))

    monkeypatch.setattr(broadcast, "event_ended", event_ended)
    yield sent


def just_ended(title: str = "Open talk") -> Event:
    """An event that ended a minute ago, with one member still in its room."""
    now = timezone.now()
    place = RoomFactory.create()
    event = EventFactory.create(
        room=place,
        title=title,
        starts_at=now - timedelta(hours=1),
        ends_at=now - timedelta(minutes=1),
    )
    presence_add(
        room=place, user=UserFactory.create(), channel_name=f"c{place.pk}", now=event.starts_at
    )
    return event


@pytest.mark.django_db
def test_a_failed_count_leaves_the_event_for_the_next_tick(
    monkeypatch: pytest.MonkeyPatch,
    invitations: list[tuple[int, str]],
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    event = just_ended()
    count = attendance.event_attendee_ids
    failures = [RuntimeError("the database went away")]

    def flaky(*, event: Event) -> set[int]:
        if failures:
            raise failures.pop()
        return count(event=event)

    monkeypatch.setattr(attendance, "event_attendee_ids", flaky)

    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        assert events_wrap_up_tick() == 0
    event.refresh_from_db()
    assert (event.wrapped_up_at, event.attendance_count) == (None, None)
    assert invitations == []
    assert f"event {event.pk}" in caplog.text

    with django_capture_on_commit_callbacks(execute=True):
        assert events_wrap_up_tick() == 1
        assert events_wrap_up_tick() == 0
    event.refresh_from_db()
    assert event.wrapped_up_at is not None and event.attendance_count == 1
    assert invitations == [(event.room_id, "Open talk")]


@pytest.mark.django_db
def test_one_event_failing_does_not_hold_the_others_up(
    monkeypatch: pytest.MonkeyPatch,
    invitations: list[tuple[int, str]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    broken, fine = just_ended("Broken"), just_ended("Fine")
    count = attendance.event_attendee_ids

    def broken_for_one(*, event: Event) -> set[int]:
        if event.pk == broken.pk:
            raise RuntimeError("bad row")
        return count(event=event)

    monkeypatch.setattr(attendance, "event_attendee_ids", broken_for_one)

    with django_capture_on_commit_callbacks(execute=True):
        assert events_wrap_up_tick() == 1

    assert invitations == [(fine.room_id, "Fine")]
    assert Event.objects.get(pk=broken.pk).wrapped_up_at is None


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_wrap_an_event_up_once(
    monkeypatch: pytest.MonkeyPatch, invitations: list[tuple[int, str]]
) -> None:
    event = just_ended()
    count = attendance.event_attendee_ids
    counting, second_done = threading.Event(), threading.Event()
    counted: list[int] = []

    def slow(*, event: Event) -> set[int]:
        counted.append(event.pk)
        counting.set()
        # Hold the first tick in the middle of its count until the second one has run.
        second_done.wait(timeout=10)
        return count(event=event)

    monkeypatch.setattr(attendance, "event_attendee_ids", slow)
    results: dict[str, int] = {}
    errors: list[BaseException] = []

    def tick(name: str) -> None:
        try:
            results[name] = events_wrap_up_tick()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=tick, args=("first",))
    first.start()
    assert counting.wait(timeout=10)
    second = threading.Thread(target=tick, args=("second",))
    second.start()
    second.join(timeout=10)
    second_done.set()
    first.join(timeout=10)

    assert errors == []
    assert results == {"first": 1, "second": 0}
    assert counted == [event.pk]
    assert invitations == [(event.room_id, "Open talk")]
    event.refresh_from_db()
    assert event.attendance_count == 1

"""Event reminders a day and 15 minutes before, and announcements of changes and
cancellations: delivered to a real SMTP server, once."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from icalendar import Calendar

from events import services, tasks
from events.models import Rsvp
from members.models import User
from notifications.models import Channel, Kind, Notification, Preference
from tests.conftest import SmtpSink
from tests.factories import EventFactory, RsvpFactory, UserFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 27, 17, 0, tzinfo=UTC)  # Friday 18:00 in Madrid


def going(event: object, **fields: object) -> Rsvp:
    user = UserFactory.create(**fields)
    return RsvpFactory.create(event=event, user=user, status=Rsvp.Status.GOING)


def tick_at(moment: datetime) -> int:
    """What beat does every minute (eager tasks: the sends happen inside)."""
    with time_machine.travel(moment, tick=False):
        return tasks.reminders_tick()


def test_each_reminder_reaches_the_member_once_in_their_language_and_zone(
    smtp: SmtpSink,
) -> None:
    event = EventFactory.create(
        title="Taller de accesibilidad",
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        time_zone="Europe/Madrid",
    )
    ana: User = going(
        event, email="ana@example.com", language="en", time_zone="America/Mexico_City"
    ).user

    assert tick_at(START - timedelta(hours=25)) == 0
    assert tick_at(START - timedelta(hours=23, minutes=59)) == 1
    assert tick_at(START - timedelta(hours=23, minutes=58)) == 0  # already sent
    day = smtp.wait_for(ana.email)
    assert str(day["Subject"]).startswith("Reminder: Taller de accesibilidad")
    body = day.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    # 17:00 UTC in Mexico City, and the organiser's time.
    assert "Starts: March 27, 2026, 11 a.m. (America/Mexico_City)" in body
    assert "Organiser's time: March 27, 2026, 6 p.m. (Europe/Madrid)" in body

    assert tick_at(START - timedelta(minutes=14)) == 1
    tasks.reminder_send(Rsvp.objects.get(user=ana).pk, "soon")  # a redelivered task
    assert tick_at(START - timedelta(minutes=13)) == 0
    assert [str(m["Subject"]) for m in smtp.messages][1] == "Starting soon: Taller de accesibilidad"
    assert len(smtp.messages) == 2


def test_reminders_respect_preferences_answers_and_cancellations(smtp: SmtpSink) -> None:
    event = EventFactory.create(starts_at=START, ends_at=START + timedelta(hours=1))
    quiet = going(event, email="quiet@example.com")
    Preference.objects.create(user=quiet.user, kind=Kind.EVENT_REMINDER, channel=Channel.IN_APP)
    maybe = RsvpFactory.create(event=event, status=Rsvp.Status.MAYBE)
    cancelled = EventFactory.create(
        starts_at=START, ends_at=START + timedelta(hours=1), cancelled_at=START - timedelta(days=2)
    )
    going(cancelled, email="gone@example.com")
    changed_mind = going(event, email="changed@example.com")

    with time_machine.travel(START - timedelta(minutes=10), tick=False):
        due = tasks.reminders_due(now=START - timedelta(minutes=10))
        Rsvp.objects.filter(pk=changed_mind.pk).update(status=Rsvp.Status.NOT_GOING)
        for rsvp_id, kind in due:
            tasks.reminder_send(rsvp_id, kind)

    assert {rsvp_id for rsvp_id, _kind in due} == {quiet.pk, changed_mind.pk}
    assert maybe.pk not in {rsvp_id for rsvp_id, _kind in due}
    assert smtp.messages == []
    quiet.refresh_from_db()
    assert quiet.reminded_soon_at is not None  # decided once, not tried again
    # The quiet member is reminded on the site only, once.
    assert list(Notification.objects.values_list("user_id", "kind", "in_app")) == [
        (quiet.user_id, "event_reminder", True)
    ]


def test_a_late_going_gets_no_day_before_reminder_only_the_soon_one(smtp: SmtpSink) -> None:
    event = EventFactory.create(starts_at=START, ends_at=START + timedelta(hours=1))
    late = going(event, email="late@example.com", language="en")

    assert tick_at(START - timedelta(minutes=90)) == 1  # the day reminder is due, and skipped
    assert smtp.messages == []
    assert tick_at(START - timedelta(minutes=5)) == 1
    assert str(smtp.wait_for("late@example.com")["Subject"]).startswith("Starting soon")
    late.refresh_from_db()
    assert late.reminded_day_at is not None and late.reminded_soon_at is not None


def test_a_change_of_time_reaches_every_attendee_once_with_the_updated_calendar(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    host = UserFactory.create(is_staff=True)
    event = EventFactory.create(
        host=host, created_by=host, starts_at=START, ends_at=START + timedelta(hours=1), capacity=1
    )
    ana = going(event, email="ana@example.com", language="en")
    maybe = RsvpFactory.create(
        event=event, status=Rsvp.Status.MAYBE, user=UserFactory.create(email="maybe@example.com")
    )
    RsvpFactory.create(
        event=event, status=Rsvp.Status.NOT_GOING, user=UserFactory.create(email="no@example.com")
    )

    with time_machine.travel(START - timedelta(days=3), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            services.event_update(
                event=event,
                by=host,
                title=event.title,
                description="Now with slides",
                starts_at=START + timedelta(hours=1),
                ends_at=START + timedelta(hours=2),
                time_zone=event.time_zone,
                capacity=1,
                room=None,
            )
        tasks.event_change_send(ana.pk)  # a redelivered task: nothing more

    to_ana = smtp.wait_for("ana@example.com")
    smtp.wait_for("maybe@example.com")
    assert len(smtp.messages) == 2
    assert str(to_ana["Subject"]) == f"Changed: {event.title}"
    calendar = next(part for part in to_ana.iter_attachments())
    parsed = Calendar.from_ical(calendar.get_content())
    vevent = next(iter(parsed.walk("VEVENT")))
    assert vevent.decoded("SEQUENCE") == 1
    assert vevent.decoded("DTSTART") == START + timedelta(hours=1)
    maybe.refresh_from_db()
    assert maybe.announced_sequence == 1

    # A reworded description alone is not news.
    smtp.messages.clear()
    with (
        time_machine.travel(START - timedelta(days=2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.event_update(
            event=event,
            by=host,
            title=event.title,
            description="Slides and snacks",
            starts_at=START + timedelta(hours=1),
            ends_at=START + timedelta(hours=2),
            time_zone=event.time_zone,
            capacity=1,
            room=None,
        )
    assert smtp.messages == []


def test_a_cancellation_reaches_the_attendees_with_a_cancelling_calendar(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    host = UserFactory.create(is_staff=True)
    event = EventFactory.create(
        host=host, created_by=host, starts_at=START, ends_at=START + timedelta(hours=1)
    )
    going(event, email="ana@example.com", language="es")

    with django_capture_on_commit_callbacks(execute=True):
        assert services.event_cancel(event=event, by=host)
        assert not services.event_cancel(event=event, by=host)

    message = smtp.wait_for("ana@example.com")
    assert len(smtp.messages) == 1
    assert str(message["Subject"]).startswith("Cancelad")
    calendar = Calendar.from_ical(next(message.iter_attachments()).get_content())
    assert str(next(iter(calendar.walk("VEVENT")))["STATUS"]) == "CANCELLED"


def test_the_daily_tick_keeps_eight_weeks_of_a_running_series_on_the_calendar() -> None:
    from events.series import series_extend_all
    from tests.factories import EventSeriesFactory

    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # a Tuesday
    running = EventSeriesFactory.create(
        weekdays=[2], local_start=time(18, 0), starts_on=date(2026, 11, 1), until=date(2027, 6, 30)
    )
    EventSeriesFactory.create(
        weekdays=[2], local_start=time(18, 0), starts_on=date(2026, 1, 1), until=date(2026, 3, 1)
    )

    assert series_extend_all(now=now) == 8  # Wednesdays from 25 November, eight weeks on
    assert series_extend_all(now=now) == 0
    assert running.events.count() == 8

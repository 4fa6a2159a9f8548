"""Event reminders a day and 10 minutes before, announcements of changes and cancellations,
and the calendar entry following a seat given up or taken again: delivered to a real SMTP
server, once."""

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from icalendar import Calendar

from events import services, tasks
from events.models import Event, Rsvp
from members.models import User
from notifications.models import Channel, Kind, Notification, Preference
from rooms.models import Presence
from rooms.services import room_can_enter
from tests.conftest import SmtpSink
from tests.factories import EventFactory, RoomFactory, RsvpFactory, UserFactory, event_details

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 27, 17, 0, tzinfo=UTC)  # Friday 18:00 in Madrid


def going(event: object, **fields: object) -> Rsvp:
    user = UserFactory.create(**fields)
    return RsvpFactory.create(event=event, user=user, status=Rsvp.Status.GOING)


def tick_at(moment: datetime) -> int:
    """What beat does every minute (eager tasks: the sends happen inside)."""
    with time_machine.travel(moment, tick=False):
        return tasks.reminders_tick()


def update(event: Event, *, by: User, **changes: Any) -> Event:
    """`services.event_update` as the edit form sends it: the event's details as they are,
    no capacity and no new room, less `changes`."""
    return services.event_update(event=event, by=by, **{**event_details(event), **changes})


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
    assert "Starts: 27 March 2026, 11:00 (Mexico City)" in body
    assert "Organiser's time: 27 March 2026, 18:00 (Madrid)" in body
    # The event's page, where the answer changes, is a click away.
    assert f"See the event or change your answer: {settings.SITE_URL}/events/{event.pk}/" in body
    html = day.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert f'href="{settings.SITE_URL}/events/{event.pk}/"' in html

    assert tick_at(START - timedelta(minutes=9)) == 1
    tasks.reminder_send(Rsvp.objects.get(user=ana).pk, "soon")  # a redelivered task
    assert tick_at(START - timedelta(minutes=8)) == 0
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


def test_an_answer_on_the_day_gets_no_day_reminder_and_a_moved_event_reminds_again(
    smtp: SmtpSink,
) -> None:
    host = UserFactory.create(is_staff=True)
    event = EventFactory.create(
        host=host, created_by=host, starts_at=START, ends_at=START + timedelta(hours=1)
    )
    early = going(event, email="early@example.com", language="en")
    assert tick_at(START - timedelta(hours=24)) == 1
    day = smtp.wait_for("early@example.com")
    assert str(day["Subject"]).startswith("Reminder:")
    notice = Notification.objects.get(user=early.user)
    assert notice.text.startswith("Reminder: “") and "Tomorrow" not in notice.text
    smtp.messages.clear()

    # The same morning: "going" 10 hours before, no day-before reminder.
    late = going(event, email="late@example.com", language="en")
    assert tick_at(START - timedelta(hours=10)) == 1  # due, and left out
    assert smtp.messages == []
    late.refresh_from_db()
    assert late.reminded_day_at is not None

    # Moved two days later: both hear of the new time, a day before it.
    with time_machine.travel(START - timedelta(hours=9), tick=False):
        update(
            event,
            by=host,
            starts_at=START + timedelta(days=2),
            ends_at=START + timedelta(days=2, hours=1),
        )
    smtp.messages.clear()
    assert tick_at(START + timedelta(days=1)) == 2
    assert {m["To"] for m in smtp.messages} == {"early@example.com", "late@example.com"}
    assert Notification.objects.filter(user=early.user, kind=Kind.EVENT_REMINDER).count() == 2


def test_an_event_moved_on_its_eve_is_told_by_its_change_not_by_a_second_day_reminder(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    """Reminded a day before, then moved half an hour later two hours on: the change's notice
    gives the new time, and only the starting-soon reminder follows."""
    host = UserFactory.create(is_staff=True)
    event = EventFactory.create(
        host=host, created_by=host, starts_at=START, ends_at=START + timedelta(hours=1)
    )
    going(event, email="reminded@example.com", language="en")
    assert tick_at(START - timedelta(hours=24)) == 1
    smtp.wait_for("reminded@example.com")
    # Going since the week before, the day reminder not sent yet when the event moves.
    not_yet = going(event, email="notyet@example.com", language="en")
    Rsvp.objects.filter(pk=not_yet.pk).update(going_since=START - timedelta(days=7))
    smtp.messages.clear()

    with (
        time_machine.travel(START - timedelta(hours=22), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        update(
            event,
            by=host,
            starts_at=START + timedelta(minutes=30),
            ends_at=START + timedelta(hours=1, minutes=30),
        )
    smtp.wait_for("reminded@example.com")
    smtp.wait_for("notyet@example.com")
    assert {str(m["Subject"]).split(":")[0] for m in smtp.messages} == {"Changed"}
    smtp.messages.clear()

    for minutes in range(0, 60 * 22, 60):
        tick_at(START - timedelta(hours=22) + timedelta(minutes=minutes + 1))
    assert smtp.messages == []
    tick_at(START + timedelta(minutes=21))
    smtp.wait_for("reminded@example.com")
    smtp.wait_for("notyet@example.com")
    assert {str(m["Subject"]).split(":")[0] for m in smtp.messages} == {"Starting soon"}


def test_going_said_after_the_day_reminder_s_time_gets_only_the_starting_soon_one(
    smtp: SmtpSink,
) -> None:
    event = EventFactory.create(starts_at=START, ends_at=START + timedelta(hours=1))
    early = UserFactory.create(email="early@example.com", language="en")
    late = UserFactory.create(email="late@example.com", language="en")
    client = Client()
    for member, moment in (
        (early, START - timedelta(hours=25)),
        (late, START - timedelta(hours=23)),
    ):
        client.force_login(member)
        with time_machine.travel(moment, tick=False):
            client.post(f"/events/{event.pk}/rsvp/", {"status": "going"})

    # The next tick: the late answer's reminder is due and left out, the early one's is sent.
    assert tick_at(START - timedelta(hours=22, minutes=59)) == 2
    smtp.wait_for("early@example.com")
    assert [m["To"] for m in smtp.messages] == ["early@example.com"]
    assert Rsvp.objects.get(user=late).reminded_day_at is not None

    assert tick_at(START - timedelta(minutes=9)) == 2
    smtp.wait_for("late@example.com")
    assert sorted(str(m["Subject"]).split(":")[0] for m in smtp.messages) == [
        "Reminder",
        "Starting soon",
        "Starting soon",
    ]


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
            update(
                event,
                by=host,
                description="Now with slides",
                starts_at=START + timedelta(hours=1),
                ends_at=START + timedelta(hours=2),
                capacity=1,
            )
        tasks.event_change_send(ana.pk)  # a redelivered task: nothing more

    to_ana = smtp.wait_for("ana@example.com")
    smtp.wait_for("maybe@example.com")
    assert len(smtp.messages) == 2
    assert str(to_ana["Subject"]) == f"Changed: {event.title}"
    calendar = next(part for part in to_ana.iter_attachments())
    # An invitation's update, which mail programs apply to the entry of the same UID.
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == "REQUEST"
    # Said once: a second charset parameter is a header some mail programs refuse.
    assert dict(calendar.raw_items())["Content-Type"].lower().count("charset") == 1
    parsed = Calendar.from_ical(calendar.get_content())
    assert str(parsed["METHOD"]) == "REQUEST"
    vevent = next(iter(parsed.walk("VEVENT")))
    assert vevent.decoded("SEQUENCE") == 1
    assert vevent.decoded("DTSTART") == START + timedelta(hours=1)
    assert str(vevent["UID"]) == str(event.uid)
    assert str(vevent["ATTENDEE"]) == "mailto:ana@example.com"
    # "Maybe" has no calendar entry to update: the email only.
    to_maybe = next(m for m in smtp.messages if m["To"] == "maybe@example.com")
    assert list(to_maybe.iter_attachments()) == []
    assert "calendar file" not in to_maybe.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    maybe.refresh_from_db()
    assert maybe.announced_sequence == 1

    # A reworded description alone is not news.
    smtp.messages.clear()
    with (
        time_machine.travel(START - timedelta(days=2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        update(
            event,
            by=host,
            description="Slides and snacks",
            starts_at=START + timedelta(hours=1),
            ends_at=START + timedelta(hours=2),
            capacity=1,
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
    maybe = UserFactory.create(email="quizas@example.com", language="en")
    RsvpFactory.create(event=event, user=maybe, status=Rsvp.Status.MAYBE)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.event_cancel(event=event, by=host)
        assert not services.event_cancel(event=event, by=host)

    # "Maybe" is told too, with no calendar file: their calendar never had the event.
    told = smtp.wait_for("quizas@example.com")
    assert list(told.iter_attachments()) == []
    plain = told.get_body(("plain",))
    assert plain is not None and "removes it from your calendar" not in plain.get_content()
    message = smtp.wait_for("ana@example.com")
    assert len(smtp.messages) == 2
    assert str(message["Subject"]).startswith("Cancelad")
    attached = next(message.iter_attachments())
    assert attached.get_param("method") == "CANCEL"
    calendar = Calendar.from_ical(attached.get_content())
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(next(iter(calendar.walk("VEVENT")))["STATUS"]) == "CANCELLED"


def answer(member: User, event: Event, status: str, capture: Any, *, sent: bool = True) -> None:
    """`member` answers on the event's page three days before it; what the answer queues
    runs after the commit (`capture`: django_capture_on_commit_callbacks), unless `sent` is
    False (a task lost on the way)."""
    client = Client()
    client.force_login(member)
    with time_machine.travel(START - timedelta(days=3), tick=False), capture(execute=sent):
        response = client.post(f"/events/{event.pk}/rsvp/", {"status": status})
    assert response.status_code == 302


def calendar_in(message: Any) -> tuple[str, Any]:
    """The METHOD of the email's calendar file, and its one VEVENT."""
    attached = next(part for part in message.iter_attachments())
    calendar = Calendar.from_ical(attached.get_content())
    assert attached.get_param("method") == str(calendar["METHOD"])
    (vevent,) = calendar.walk("VEVENT")
    return str(calendar["METHOD"]), vevent


def test_a_seat_given_up_leaves_the_calendar_and_a_seat_taken_again_comes_back(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    event = EventFactory.create(starts_at=START, ends_at=START + timedelta(hours=1), capacity=1)
    ana = UserFactory.create(email="ana@example.com", language="en")
    bruno = UserFactory.create(email="bruno@example.com", language="en")
    answer(ana, event, "going", django_capture_on_commit_callbacks)
    answer(bruno, event, "going", django_capture_on_commit_callbacks)  # the waiting list
    answer(ana, event, "not_going", django_capture_on_commit_callbacks)

    # Bruno has the seat and its invitation; Ana never had one, so nothing is withdrawn.
    method, invited = calendar_in(smtp.wait_for("bruno@example.com"))
    assert method == "REQUEST"
    assert [message["To"] for message in smtp.messages] == ["bruno@example.com"]

    smtp.messages.clear()
    answer(bruno, event, "not_going", django_capture_on_commit_callbacks)
    withdrawal = smtp.wait_for("bruno@example.com")
    assert str(withdrawal["Subject"]) == f"No longer going: {event.title}"
    method, withdrawn = calendar_in(withdrawal)
    assert method == "CANCEL" and str(withdrawn["STATUS"]) == "CANCELLED"
    assert str(withdrawn["UID"]) == str(invited["UID"]) == str(event.uid)
    assert withdrawn.decoded("SEQUENCE") > invited.decoded("SEQUENCE")
    tasks.rsvp_calendar_sync(Rsvp.objects.get(user=bruno).pk)  # a redelivered task
    assert len(smtp.messages) == 1

    smtp.messages.clear()
    answer(bruno, event, "going", django_capture_on_commit_callbacks)
    back = smtp.wait_for("bruno@example.com")
    assert str(back["Subject"]) == f"You are going: {event.title}"
    method, again = calendar_in(back)
    assert method == "REQUEST" and str(again["STATUS"]) == "CONFIRMED"
    assert str(again["UID"]) == str(event.uid)
    assert again.decoded("SEQUENCE") > withdrawn.decoded("SEQUENCE")
    assert len(smtp.messages) == 1


def test_maybe_takes_the_event_out_of_the_calendar_that_changes_no_longer_update(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    host = UserFactory.create(is_staff=True)
    event = EventFactory.create(
        host=host, created_by=host, starts_at=START, ends_at=START + timedelta(hours=1)
    )
    ana = UserFactory.create(email="ana@example.com", language="en")
    answer(ana, event, "going", django_capture_on_commit_callbacks)
    with (
        time_machine.travel(START - timedelta(days=3), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        update(
            event, by=host, starts_at=START + timedelta(hours=1), ends_at=START + timedelta(hours=2)
        )
    method, invited = calendar_in(smtp.wait_for("ana@example.com"))
    assert method == "REQUEST"

    smtp.messages.clear()
    answer(ana, event, "maybe", django_capture_on_commit_callbacks)
    method, withdrawn = calendar_in(smtp.wait_for("ana@example.com"))
    assert method == "CANCEL" and str(withdrawn["UID"]) == str(event.uid)
    assert withdrawn.decoded("SEQUENCE") > invited.decoded("SEQUENCE")

    # The next move reaches her as a "maybe": the news, and no entry to update.
    smtp.messages.clear()
    event.refresh_from_db()
    with (
        time_machine.travel(START - timedelta(days=2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        update(
            event, by=host, starts_at=START + timedelta(hours=2), ends_at=START + timedelta(hours=3)
        )
    moved = smtp.wait_for("ana@example.com")
    assert str(moved["Subject"]) == f"Changed: {event.title}"
    assert list(moved.iter_attachments()) == []


def test_a_calendar_whose_withdrawal_was_lost_loses_the_event_when_it_is_cancelled(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    event = EventFactory.create(starts_at=START, ends_at=START + timedelta(hours=1), capacity=1)
    ana = UserFactory.create(email="ana@example.com", language="en")
    bruno = UserFactory.create(email="bruno@example.com", language="en")
    answer(ana, event, "going", django_capture_on_commit_callbacks)
    answer(bruno, event, "going", django_capture_on_commit_callbacks)
    answer(ana, event, "not_going", django_capture_on_commit_callbacks)
    _method, invited = calendar_in(smtp.wait_for("bruno@example.com"))
    smtp.messages.clear()
    answer(bruno, event, "not_going", django_capture_on_commit_callbacks, sent=False)
    assert smtp.messages == []

    with django_capture_on_commit_callbacks(execute=True):
        assert services.event_cancel(event=event, by=event.host)

    message = smtp.wait_for("bruno@example.com")
    assert str(message["Subject"]) == f"Cancelled: {event.title}"
    method, withdrawn = calendar_in(message)
    assert method == "CANCEL" and str(withdrawn["UID"]) == str(event.uid)
    assert withdrawn.decoded("SEQUENCE") > invited.decoded("SEQUENCE")
    assert [m["To"] for m in smtp.messages] == ["bruno@example.com"]  # Ana had nothing


def test_a_cancellation_names_the_zone_of_the_time_it_gives(
    django_capture_on_commit_callbacks: Any,
) -> None:
    host = UserFactory.create(is_staff=True)
    event = EventFactory.create(
        title="Taller",
        host=host,
        created_by=host,
        starts_at=START,
        ends_at=START + timedelta(hours=1),
    )
    going(event, email="ana@example.com", language="en", time_zone="America/Mexico_City")

    with django_capture_on_commit_callbacks(execute=True):
        services.event_cancel(event=event, by=host)

    (message,) = mail.outbox
    assert isinstance(message, EmailMultiAlternatives)
    # 17:00 UTC in Mexico City, named as the other event emails name it.
    assert "Taller, planned for 27 March 2026, 11:00 (Mexico City), is cancelled." in message.body
    html = str(message.alternatives[0][0])
    assert "planned for 27 March 2026, 11:00 (Mexico City), is cancelled." in html


def changes_told_to(user: User) -> list[str]:
    return list(
        Notification.objects.filter(user=user, kind=Kind.EVENT_CHANGED).values_list(
            "text", flat=True
        )
    )


def edit_form(event: Event, **changes: str) -> dict[str, str]:
    """The event's edit form as sent, with `changes` (wall-clock times in Madrid)."""
    madrid = event.starts_at.astimezone(zoneinfo.ZoneInfo("Europe/Madrid"))
    ends = event.ends_at.astimezone(madrid.tzinfo)
    return {
        "title": event.title,
        "description": event.description,
        "starts_at": madrid.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": ends.strftime("%Y-%m-%dT%H:%M"),
        "time_zone": "Europe/Madrid",
        "capacity": "",
        **changes,
    }


def test_whoever_changes_or_cancels_an_event_is_not_told_of_it_but_the_others_are(
    client: Client,
    smtp: SmtpSink,
    alice: User,
    bob: User,
    staff: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with time_machine.travel(START - timedelta(days=3), tick=False):
        client.force_login(alice)
        client.post(
            "/events/new/meetup/",
            {
                "title": "Coffee",
                "when": "custom",
                "starts_at": "2026-03-27T18:00",
                "duration": "60",
            },
        )
        event = Event.objects.get()
        RsvpFactory.create(event=event, user=bob, status=Rsvp.Status.GOING)
        RsvpFactory.create(event=event, user=staff, status=Rsvp.Status.MAYBE)

        # The host moves it: Bob and staff hear of it, the host does not.
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/events/{event.pk}/edit/",
                edit_form(event, starts_at="2026-03-27T19:00", ends_at="2026-03-27T20:00"),
            )
        assert response.status_code == 302
        smtp.wait_for(bob.email)
        smtp.wait_for(staff.email)
        assert len(smtp.messages) == 2
        assert changes_told_to(alice) == []
        assert len(changes_told_to(bob)) == 1 and "cambió: ahora es el" in changes_told_to(bob)[0]

        # Staff move it again: now the host hears of it, staff do not.
        smtp.messages.clear()
        event.refresh_from_db()
        client.force_login(staff)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                f"/events/{event.pk}/edit/",
                edit_form(event, starts_at="2026-03-27T20:00", ends_at="2026-03-27T21:00"),
            )
        smtp.wait_for(alice.email)
        smtp.wait_for(bob.email)
        assert len(smtp.messages) == 2
        assert len(changes_told_to(alice)) == 1 and len(changes_told_to(staff)) == 1

        # The host cancels it: the others are told, the host is not.
        smtp.messages.clear()
        client.force_login(alice)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/events/{event.pk}/cancel/")
        smtp.wait_for(bob.email)
        smtp.wait_for(staff.email)
        assert len(smtp.messages) == 2
        assert len(changes_told_to(alice)) == 1


def test_a_new_title_alone_is_not_announced(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    host = UserFactory.create(is_staff=True)
    event = EventFactory.create(
        host=host, created_by=host, starts_at=START, ends_at=START + timedelta(hours=1)
    )
    ana = going(event, email="ana@example.com", language="en")

    with (
        time_machine.travel(START - timedelta(days=3), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        event = update(event, by=host, title="A better name")

    assert event.sequence == 1  # calendars still pick the new name up
    assert smtp.messages == [] and changes_told_to(ana.user) == []


def test_a_new_room_alone_is_announced_as_a_move_not_a_new_time(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    host = UserFactory.create(is_staff=True)
    event = EventFactory.create(
        title="Talk",
        host=host,
        created_by=host,
        starts_at=START,
        ends_at=START + timedelta(hours=1),
    )
    ana = going(event, email="ana@example.com", language="en")

    with (
        time_machine.travel(START - timedelta(days=3), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        update(event, by=host, room=RoomFactory.create())

    smtp.wait_for("ana@example.com")
    (text,) = changes_told_to(ana.user)
    assert "moved to another room" in text and "it is now on" not in text


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


def test_the_starting_soon_reminder_comes_when_the_event_s_room_lets_people_in(
    smtp: SmtpSink,
) -> None:
    staff = UserFactory.create(is_staff=True)
    event = services.event_create_with_room(
        by=staff,
        kind="training",
        title="Formularios accesibles",
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        time_zone="Europe/Madrid",
        now=START - timedelta(days=2),
    )
    member = going(event, email="ana@example.com", language="en").user
    assert event.room is not None

    moment = START - timedelta(minutes=11)
    tick_at(moment)  # the day-before one, left out this late
    while Rsvp.objects.get(user=member).reminded_soon_at is None:  # each minute, as beat
        moment += timedelta(minutes=1)
        tick_at(moment)

    assert room_can_enter(room=event.room, user=member, now=moment)
    notice = Notification.objects.get(user=member, kind=Kind.EVENT_REMINDER)
    assert notice.text.startswith("Starting soon:") and "The room is open." in notice.text


def test_no_starting_soon_reminder_for_who_just_said_going_or_is_in_the_room_already(
    smtp: SmtpSink,
) -> None:
    room = RoomFactory.create()
    event = EventFactory.create(starts_at=START, ends_at=START + timedelta(hours=1), room=room)
    told = going(event, email="told@example.com", language="en")
    Rsvp.objects.filter(pk=told.pk).update(going_since=START - timedelta(days=2))
    just_now = going(event, email="justnow@example.com", language="en")
    Rsvp.objects.filter(pk=just_now.pk).update(going_since=START - timedelta(minutes=5))
    here = going(event, email="here@example.com", language="en")
    Rsvp.objects.filter(pk=here.pk).update(going_since=START - timedelta(days=2))
    Presence.objects.create(
        room=room, user=here.user, channel_name="c-here", heartbeat_at=START - timedelta(minutes=4)
    )

    assert tick_at(START - timedelta(minutes=4)) == 6  # each one's day and soon reminders
    smtp.wait_for("told@example.com")
    assert [m["To"] for m in smtp.messages] == ["told@example.com"]
    assert not Rsvp.objects.filter(event=event, reminded_soon_at__isnull=True).exists()

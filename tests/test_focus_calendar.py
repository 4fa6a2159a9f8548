"""Focus seats' calendar invitations (docs/focus.md, "Calendar, reminders and power hours"),
delivered to a real SMTP server: the invitation when a member books, its withdrawal when
they give the seat back, an update for each seat when staff move a block in the admin, and a
withdrawal when staff cancel it; one stable UID per seat, SEQUENCE rising, each message
once, in the member's language and zone."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from celery.exceptions import Retry
from django.conf import settings
from django.core import mail
from icalendar import Calendar

from focus import ics, tasks
from focus.models import FocusBlock, Seat
from focus.services import BlockCancelled, block_cancel, block_drop_in, seat_book, seat_cancel
from members.models import User
from tests.conftest import SmtpSink
from tests.factories import UserFactory, client_for
from tests.test_focus_admin_guard import change_form

pytestmark = pytest.mark.django_db

NINE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Monday, 10:00 in Madrid, 03:00 in Mexico City
BEFORE = NINE - timedelta(days=2)


def member(email: str, *, language: str = "en", time_zone: str = "Europe/Madrid") -> User:
    return UserFactory.create(
        email=email,
        display_name=email.split("@")[0].title(),
        language=language,
        time_zone=time_zone,
    )


def calendar_of(message: Any) -> Calendar:
    part = next(
        part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"
    )
    assert part.get_filename() == "focus.ics"
    assert part.get_param("method") in ("REQUEST", "CANCEL")
    return Calendar.from_ical(part.get_content())


def event_of(message: Any) -> Any:
    return next(iter(calendar_of(message).walk("VEVENT")))


def sent_to(smtp: SmtpSink, email: str) -> list[Any]:
    return [message for message in smtp.messages if email in str(message["To"])]


def subject_of(message: Any) -> str:
    # A long subject in UTF-8 comes folded; read it as one line.
    return " ".join(str(message["Subject"]).split())


def text_of(message: Any) -> str:
    return str(message.get_body(preferencelist=("plain",)).get_content())


def test_booking_sends_an_invitation_in_the_member_s_language_and_zone(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    block = FocusBlock.objects.create(starts_at=NINE, minutes=50)
    ana = member("ana@example.com", language="es", time_zone="America/Mexico_City")

    with (
        time_machine.travel(BEFORE, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        seat = seat_book(block=block, user=ana, now=BEFORE)

    message = smtp.wait_for("ana@example.com")
    assert len(smtp.messages) == 1
    # Spanish, and the time in Mexico City ("Ciudad de México"): 09:00 UTC is 03:00 there.
    assert subject_of(message).startswith("Tu plaza: Sesión de concentración")
    body = text_of(message)
    assert "Tu plaza en Sesión de concentración está reservada" in body
    assert "3:00" in body and "3:50" in body and "Ciudad de México" in body
    assert "Te lo recordaremos 5 minutos antes de empezar." in body
    session = f"{settings.SITE_URL}/focus/{block.pk}/"
    assert session in body
    html = str(message.get_body(preferencelist=("html",)).get_content())  # type: ignore[union-attr]
    assert "7 de diciembre de 2026 a las 03:00, hasta las 03:50 (50 minutos" in html
    assert f'<a href="{session}"' in html

    calendar = calendar_of(message)
    assert str(calendar["METHOD"]) == "REQUEST"
    vevent = next(iter(calendar.walk("VEVENT")))
    assert str(vevent["UID"]) == ics.seat_uid(seat) == f"focus-seat-{seat.pk}@127.0.0.1"
    assert vevent.decoded("SEQUENCE") == 0
    assert vevent.decoded("DTSTART").astimezone(UTC) == NINE
    assert vevent.decoded("DTEND").astimezone(UTC) == NINE + timedelta(minutes=50)
    # Written in the member's zone, which the file defines.
    assert str(vevent["DTSTART"].params["TZID"]) == "America/Mexico_City"
    assert {str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")} == {"America/Mexico_City"}
    assert str(vevent["SUMMARY"]) == "Sesión de concentración"
    assert session in str(vevent["DESCRIPTION"]) and str(vevent["URL"]) == session
    assert str(vevent["ATTENDEE"]) == "mailto:ana@example.com"
    seat.refresh_from_db()
    assert seat.calendar_sequence == 1  # the next message's SEQUENCE


def test_giving_the_seat_back_cancels_the_same_entry_with_a_higher_sequence_once(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    block = FocusBlock.objects.create(starts_at=NINE, minutes=25, title="Deep work hour")
    bea = member("bea@example.com")

    with time_machine.travel(BEFORE, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            seat = seat_book(block=block, user=bea, now=BEFORE)
        with django_capture_on_commit_callbacks(execute=True):
            seat_cancel(seat=seat, now=BEFORE + timedelta(hours=1))
        # Redelivered tasks (acks late) find their numbers taken: nothing more.
        tasks.seat_calendar_send(seat.pk, 0)
        tasks.seat_calendar_send(seat.pk, 1)

    invitation, cancellation = sent_to(smtp, "bea@example.com")
    assert len(smtp.messages) == 2
    assert subject_of(invitation) == "Your seat: Deep work hour, 7 December 2026, 10:00"
    assert subject_of(cancellation) == "Cancelled: Deep work hour, 7 December 2026, 10:00"
    assert "You gave back your seat in Deep work hour" in text_of(cancellation)

    first, second = event_of(invitation), event_of(cancellation)
    assert str(calendar_of(cancellation)["METHOD"]) == "CANCEL"
    assert str(first["UID"]) == str(second["UID"]) == ics.seat_uid(seat)
    assert second.decoded("SEQUENCE") > first.decoded("SEQUENCE")
    assert str(second["STATUS"]) == "CANCELLED"
    assert second.decoded("DTSTART").astimezone(UTC) == NINE


def test_dropping_in_sends_the_invitation_too(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    block = FocusBlock.objects.create(starts_at=NINE)
    cai = member("cai@example.com")

    moment = NINE - timedelta(minutes=8)
    with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
        seat = block_drop_in(user=cai, now=moment)

    assert seat.block == block and seat.dropped_in
    invitation = smtp.wait_for("cai@example.com")
    vevent = event_of(invitation)
    assert str(vevent["UID"]) == ics.seat_uid(seat)
    assert vevent.decoded("DTSTART").astimezone(UTC) == NINE
    # Dropping in 3 minutes before the start: no reminder is coming, and none is promised.
    late = FocusBlock.objects.create(starts_at=NINE + timedelta(hours=2))
    moment = late.starts_at - timedelta(minutes=3)
    with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
        block_drop_in(user=member("eli@example.com"), now=moment)
    assert "remind" not in text_of(smtp.wait_for("eli@example.com"))


def test_a_seat_given_back_before_its_invitation_went_out_gets_nothing(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    block = FocusBlock.objects.create(starts_at=NINE)
    dani = member("dani@example.com")

    with time_machine.travel(BEFORE, tick=False):
        with django_capture_on_commit_callbacks(execute=False) as booked:
            seat = seat_book(block=block, user=dani, now=BEFORE)
        with django_capture_on_commit_callbacks(execute=False) as given_back:
            seat_cancel(seat=seat, now=BEFORE)
        # The worker was slow: both tasks run after the seat was given back.
        for callback in [*booked, *given_back]:
            callback()

    assert smtp.messages == []
    seat.refresh_from_db()
    assert seat.calendar_sequence == 0


def test_staff_moving_a_block_in_the_admin_update_each_booked_calendar(
    smtp: SmtpSink, staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    block = FocusBlock.objects.create(starts_at=NINE, minutes=50, title="Power hour")
    eva = member("eva@example.com", language="es")
    fer = member("fer@example.com")
    gone = member("gone@example.com")
    with time_machine.travel(BEFORE, tick=False), django_capture_on_commit_callbacks(execute=True):
        seats = {user.email: seat_book(block=block, user=user, now=BEFORE) for user in (eva, fer)}
        seat_cancel(seat=seat_book(block=block, user=gone, now=BEFORE), now=BEFORE)
    smtp.messages.clear()

    admin = client_for(staff)
    url = f"/admin/focus/focusblock/{block.pk}/change/"
    moved = NINE + timedelta(hours=1)
    with time_machine.travel(BEFORE, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = admin.post(url, change_form(block, starts_at=moved, minutes=75))
        assert response.status_code == 302, (
            response.context["adminform"].form.errors,
            [formset.formset.errors for formset in response.context["inline_admin_formsets"]],
        )
        # Saving again with nothing changed is no news.
        block.refresh_from_db()
        admin.post(url, change_form(block, starts_at=moved, minutes=75))

    assert block.starts_at == moved and block.minutes == 75
    assert sorted(str(message["To"]) for message in smtp.messages) == [eva.email, fer.email]
    to_eva, to_fer = smtp.wait_for("eva@example.com"), smtp.wait_for("fer@example.com")
    assert subject_of(to_eva).startswith("Cambios en Power hour: ahora el 7 de diciembre")
    assert subject_of(to_fer) == "Changed: Power hour, now 7 December 2026, 11:00"
    for message, email in ((to_eva, eva.email), (to_fer, fer.email)):
        assert str(calendar_of(message)["METHOD"]) == "REQUEST"
        vevent = event_of(message)
        assert str(vevent["UID"]) == ics.seat_uid(seats[email])
        assert vevent.decoded("SEQUENCE") == 1
        assert vevent.decoded("DTSTART").astimezone(UTC) == moved
        assert vevent.decoded("DTEND").astimezone(UTC) == moved + timedelta(minutes=75)
    assert sent_to(smtp, "gone@example.com") == []


def test_staff_cancelling_blocks_withdraw_every_booked_calendar_entry_once(
    smtp: SmtpSink, staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    block = FocusBlock.objects.create(starts_at=NINE, title="Friday sprint")
    other = FocusBlock.objects.create(starts_at=NINE + timedelta(hours=2))
    hana = member("hana@example.com", language="es")
    ivan = member("ivan@example.com")
    with time_machine.travel(BEFORE, tick=False), django_capture_on_commit_callbacks(execute=True):
        seats = [seat_book(block=block, user=user, now=BEFORE) for user in (hana, ivan)]
        seat_book(block=other, user=ivan, now=BEFORE)
    smtp.messages.clear()

    with time_machine.travel(BEFORE, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = client_for(staff).post(
            "/admin/focus/focusblock/",
            {"action": "cancel_blocks", "_selected_action": [block.pk], "confirm": "yes"},
            follow=True,
        )
        assert "1 block cancelled: its members are told." in response.content.decode()
        assert not block_cancel(block=block)  # already cancelled: nothing more

    block.refresh_from_db()
    assert block.cancelled_at is not None
    assert len(smtp.messages) == 2
    to_hana = smtp.wait_for("hana@example.com")
    assert subject_of(to_hana).startswith("Cancelada: Friday sprint")
    assert "está cancelada" in text_of(to_hana)
    to_ivan = smtp.wait_for("ivan@example.com")
    assert "Friday sprint is cancelled" in text_of(to_ivan)
    for message, seat in zip((to_hana, to_ivan), seats, strict=True):
        assert str(calendar_of(message)["METHOD"]) == "CANCEL"
        vevent = event_of(message)
        assert str(vevent["UID"]) == ics.seat_uid(seat)
        assert vevent.decoded("SEQUENCE") == 1
        assert str(vevent["STATUS"]) == "CANCELLED"
    # The seats stay as they were; nobody can book the block any more.
    assert Seat.objects.filter(block=block, cancelled_at__isnull=True).count() == 2
    with pytest.raises(BlockCancelled):
        seat_book(block=block, user=member("late@example.com"), now=BEFORE)


def test_a_failed_send_gives_its_number_back_and_the_retry_sends_once(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    block = FocusBlock.objects.create(starts_at=NINE)
    jon = member("jon@example.com")
    real = tasks.emails.calendar_email
    calls: list[int] = []

    def flaky(seat: Seat, **kwargs: Any) -> Any:
        calls.append(seat.pk)
        if len(calls) == 1:
            raise OSError("the mail server is down")
        return real(seat, **kwargs)

    monkeypatch.setattr(tasks.emails, "calendar_email", flaky)
    with time_machine.travel(BEFORE, tick=False):
        with (
            pytest.raises((Retry, OSError)),  # Celery retries it later
            django_capture_on_commit_callbacks(execute=True),
        ):
            seat = seat_book(block=block, user=jon, now=BEFORE)
        seat = Seat.objects.get(user=jon)
        assert seat.calendar_sequence == 0  # given back
        assert mail.outbox == []
        tasks.seat_calendar_send(seat.pk, 0)  # the retry
        tasks.seat_calendar_send(seat.pk, 0)  # and a duplicate of it

    assert len(calls) == 2
    assert [message.to for message in mail.outbox] == [["jon@example.com"]]
    seat.refresh_from_db()
    assert seat.calendar_sequence == 1

"""The reminder 5 minutes before a focus block (docs/focus.md, "Calendar, reminders and
power hours"): once per seat however often the tick runs, in the member's language and
zone, by the channel they chose, with one button to the session page; still sent after the
worker was down if the block started only minutes ago."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings

from focus import tasks
from focus.models import FocusBlock, Seat
from members.models import User
from notifications.models import Channel, Kind, Notification, Preference, PushSubscription
from notifications.services import CONFIGURABLE, channels_for, preferences_set
from tests.conftest import SmtpSink, free_port
from tests.factories import UserFactory
from tests.push_service import Device, PushService

pytestmark = pytest.mark.django_db

NINE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # 10:00 in Madrid, 03:00 in Mexico City


def member(email: str, *, emailed: bool = True, **fields: Any) -> User:
    """A member who, unless `emailed` is False, asked for the reminder by email too (by
    default it comes on the site and to their devices only)."""
    user = UserFactory.create(email=email, display_name=email.split("@")[0].title(), **fields)
    if emailed:
        Preference.objects.create(user=user, kind=Kind.FOCUS_REMINDER, channel=Channel.BOTH)
    return user


def seat_in(block: FocusBlock, user: User, **fields: Any) -> Seat:
    fields.setdefault("booked_at", block.starts_at - timedelta(days=1))
    # Its invitation is another test's business: the seat is made directly.
    return Seat.objects.create(block=block, user=user, **fields)


def tick_at(moment: datetime) -> int:
    """What beat does every minute (eager tasks: the reminders are sent inside)."""
    with time_machine.travel(moment, tick=False):
        return tasks.focus_reminders_tick()


def test_the_reminder_reaches_the_member_once_in_their_language_with_a_join_button(
    smtp: SmtpSink,
) -> None:
    block = FocusBlock.objects.create(starts_at=NINE, minutes=50, title="Escritura")
    ana = member("ana@example.com", language="es", time_zone="America/Mexico_City")
    seat = seat_in(block, ana)

    assert tick_at(NINE - timedelta(minutes=6)) == 0
    assert tick_at(NINE - timedelta(minutes=5)) == 1
    assert tick_at(NINE - timedelta(minutes=4)) == 0  # reminded already
    with time_machine.travel(NINE - timedelta(minutes=4), tick=False):
        tasks.focus_reminder_send(seat.pk)  # a redelivered task
    assert tick_at(NINE - timedelta(minutes=3)) == 0

    message = smtp.wait_for("ana@example.com")
    assert len(smtp.messages) == 1
    assert str(message["Subject"]) == "Empieza pronto: Escritura a las 03:00"
    text = str(message.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
    assert "Ciudad de México" in text
    join = f"{settings.SITE_URL}/focus/{block.pk}/"
    assert f"Entra en la sesión: {join}" in text
    html = str(message.get_body(preferencelist=("html",)).get_content())  # type: ignore[union-attr]
    assert f'<a href="{join}"' in html and "Entra en la sesión</a>" in html
    assert "<strong>Escritura</strong> empieza a las 03:00: ten listo tu objetivo" in html

    notice = Notification.objects.get(user=ana)
    assert notice.kind == Kind.FOCUS_REMINDER
    assert notice.url == f"/focus/{block.pk}/"
    assert "Escritura" in notice.text and "03:00" in notice.text


def test_a_reminder_due_while_the_worker_was_down_still_goes_out_minutes_after_the_start(
    smtp: SmtpSink,
) -> None:
    block = FocusBlock.objects.create(starts_at=NINE)
    late = FocusBlock.objects.create(starts_at=NINE - timedelta(minutes=30), minutes=75)
    bea = member("bea@example.com")
    seat_in(block, bea)
    seat_in(late, member("old@example.com"))

    # The worker is back at 09:03: the block began 3 minutes ago (still reminded); the other
    # began 33 minutes ago (too late to be of use).
    assert tick_at(NINE + timedelta(minutes=3)) == 1
    assert tick_at(NINE + timedelta(minutes=4)) == 0
    assert [str(message["To"]) for message in smtp.messages] == ["bea@example.com"]
    assert tick_at(NINE + timedelta(minutes=6)) == 0


def test_reminders_follow_preferences_and_skip_seats_given_back_and_blocks_cancelled(
    smtp: SmtpSink,
) -> None:
    block = FocusBlock.objects.create(starts_at=NINE)
    quiet = member("quiet@example.com", language="en", emailed=False)  # the default
    seat_in(block, quiet)
    seat_in(block, member("gave-back@example.com"), cancelled_at=NINE - timedelta(hours=1))
    seat_in(block, member("just-booked@example.com"), booked_at=NINE - timedelta(minutes=3))
    seat_in(block, member("already-here@example.com"), arrived_at=NINE - timedelta(minutes=6))
    cancelled = FocusBlock.objects.create(
        starts_at=NINE, cancelled_at=NINE - timedelta(days=1), title="Gone"
    )
    seat_in(cancelled, member("cancelled@example.com"))
    email_only = member("email-only@example.com", emailed=False)
    Preference.objects.create(user=email_only, kind=Kind.FOCUS_REMINDER, channel=Channel.EMAIL)
    seat_in(block, email_only)

    assert tick_at(NINE - timedelta(minutes=5)) == 2
    assert tick_at(NINE - timedelta(minutes=4)) == 0

    assert [str(message["To"]) for message in smtp.messages] == ["email-only@example.com"]
    notices = Notification.objects.filter(kind=Kind.FOCUS_REMINDER)
    assert sorted(notices.values_list("user__email", "in_app")) == [
        ("email-only@example.com", False),
        ("quiet@example.com", True),
    ]
    assert "Focus session" in notices.get(user=quiet).text


def test_a_seat_given_back_between_the_tick_and_its_task_is_not_reminded(smtp: SmtpSink) -> None:
    block = FocusBlock.objects.create(starts_at=NINE)
    seat = seat_in(block, member("cai@example.com"))
    moment = NINE - timedelta(minutes=5)

    with time_machine.travel(moment, tick=False):
        due = tasks.focus_reminders_due(now=moment)
        Seat.objects.filter(pk=seat.pk).update(cancelled_at=moment)
        for seat_id in due:
            tasks.focus_reminder_send(seat_id)

    assert due == [seat.pk]
    assert smtp.messages == []
    assert not Notification.objects.exists()


def test_members_choose_the_focus_reminder_s_channel() -> None:
    user = member("dani@example.com", emailed=False)
    assert Kind.FOCUS_REMINDER in CONFIGURABLE
    # A matter of minutes, daily for some: on the site and the devices unless asked.
    assert channels_for(user=user)[Kind.FOCUS_REMINDER] == Channel.IN_APP
    preferences_set(user=user, channels={Kind.FOCUS_REMINDER: Channel.DIGEST}, email_digest=True)
    assert channels_for(user=user)[Kind.FOCUS_REMINDER] == Channel.DIGEST


# Committed as a worker commits: each notice's push goes out at once, as in production.
@pytest.mark.django_db(transaction=True)
def test_while_the_mail_server_is_down_the_device_buzzes_once_and_the_email_follows(
    smtp: SmtpSink, push_service: PushService, settings: Any
) -> None:
    block = FocusBlock.objects.create(starts_at=NINE, minutes=50)
    ana = member("ana@example.com", language="en")
    seat = seat_in(block, ana)
    device = Device()
    PushSubscription.objects.create(
        user=ana,
        endpoint=push_service.endpoint("phone"),
        p256dh=device.p256dh,
        auth=device.auth_b64,
    )

    with time_machine.travel(NINE - timedelta(minutes=5), tick=False):
        settings.EMAIL_PORT = free_port()  # nobody listens there: the mail server is down
        # Eager tasks run their retries at once: each fails the same way.
        with pytest.raises(OSError):
            tasks.focus_reminder_send(seat.pk)
        settings.EMAIL_PORT = smtp.port
        tasks.focus_reminder_send(seat.pk)  # a later retry, the server back

    smtp.wait_for("ana@example.com")
    assert len(smtp.messages) == 1
    assert Notification.objects.filter(user=ana).count() == 1
    assert len(push_service.to("phone")) == 1

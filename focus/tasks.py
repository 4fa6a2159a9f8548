"""Focus sessions' periodic work. Every tick is idempotent (a conditional UPDATE or a
unique constraint claims each piece of work), so two beats or a redelivery do no harm."""

from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from django.db import transaction
from django.db.models import CharField, Exists, F, OuterRef, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core.emails import EMAIL_RETRY, send_once
from focus import emails, ics, series, standing
from focus.models import REMINDER_LEAD, Seat
from notifications.models import Kind, Notification
from notifications.services import notify

# No-shows (focus/standing.py) ---------------------------------------------------------------


@shared_task(ignore_result=True)
def blocks_wrap_up_tick() -> int:
    """Beat runs this every minute: the blocks that just ended count their no-shows, each
    block once (its `wrapped_at` is claimed by a conditional UPDATE)."""
    return standing.blocks_wrap_up(now=timezone.now())


@shared_task(ignore_result=True, **EMAIL_RETRY)
def no_show_tell(seat_id: int, restricted_until: str | None = None) -> None:
    """Tell a member they were missed, once (and that they may only drop in for a week, when
    this no-show brought it)."""
    until = datetime.fromisoformat(restricted_until) if restricted_until else None
    standing.no_show_tell(seat_id=seat_id, restricted_until=until)


# Calendar invitations (focus/ics.py, focus/emails.py) ----------------------------------------
#
# A seat's calendar messages are numbered by `Seat.calendar_sequence`: the number of the next
# one to send, which is also its SEQUENCE (0 for the invitation; each update or the
# cancellation after it one more). Whoever changes what a member's calendar shows (booking,
# giving the seat back, staff moving or cancelling the block) reads the seat's number in the
# same transaction as the change, after its write, and queues `seat_calendar_send(seat, n)`
# when it commits. The task claims number n (n -> n + 1) with the seat's and the block's rows
# locked, so what it describes is what the rows say at the claim: a repeated or redelivered
# task finds n taken and sends nothing; two changes queued before the first one ran send one
# email with the latest state; a failed send gives n back and is retried
# (`core.emails.send_once`).


def seats_calendar_queue(seats: QuerySet[Seat]) -> int:
    """Queue, for after the current transaction commits, the calendar message of each of
    `seats` (REQUEST or CANCEL, as their state will then say). Call it after the change is
    written, in its transaction. Returns how many were queued."""
    pairs = [list(pair) for pair in seats.values_list("pk", "calendar_sequence")]
    if len(pairs) == 1:
        transaction.on_commit(lambda: seat_calendar_send.delay(*pairs[0]))
    elif pairs:
        transaction.on_commit(lambda: seats_calendar_send.delay(pairs))
    return len(pairs)


@shared_task(ignore_result=True)
def seats_calendar_send(pairs: list[list[int]]) -> None:
    """One `seat_calendar_send` per (seat id, number): a block's change reaches each seat."""
    for seat_id, sequence in pairs:
        seat_calendar_send.delay(seat_id, sequence)


@shared_task(ignore_result=True, **EMAIL_RETRY)
def seat_calendar_send(seat_id: int, sequence: int) -> None:
    """Send the seat's calendar message number `sequence`, as things stand at the claim:
    METHOD:REQUEST while the seat and its block stand (the invitation for number 0, an update
    after it), METHOD:CANCEL once either is cancelled. Nothing for a seat whose block has
    ended, whose member left, or that is withdrawn before anything was sent."""
    claimed: dict[str, Any] = {}

    def claim() -> int:
        seat = (
            Seat.objects.select_for_update(no_key=True, of=("self", "block"))
            .select_related("block", "user")
            .filter(pk=seat_id, calendar_sequence=sequence)
            .first()
        )
        if seat is None:  # sent already, or overtaken by a later message
            return 0
        withdrawn = seat.cancelled_at is not None or seat.block.cancelled_at is not None
        if withdrawn and sequence == 0:  # never invited: nothing to take back
            return 0
        if seat.block.ends_at <= timezone.now() or not seat.user.is_active:
            return 0
        claimed["seat"] = seat
        claimed["method"] = ics.CANCEL if withdrawn else ics.REQUEST
        return Seat.objects.filter(pk=seat.pk).update(calendar_sequence=sequence + 1)

    send_once(
        claim=claim,
        send=lambda: emails.calendar_email(
            claimed["seat"], method=claimed["method"], sequence=sequence
        ).send(),
        give_back=lambda: Seat.objects.filter(pk=seat_id, calendar_sequence=sequence + 1).update(
            calendar_sequence=sequence
        ),
    )


# The reminder 5 minutes before -------------------------------------------------------------
#
# Beat runs `focus_reminders_tick` every minute; it finds the seats due (no reminder notice,
# key `focus-reminder:<seat>`, yet) and queues one task each. The task records the notice
# once (`notify` finds it on any later run, and pushes only a new one), then claims the email
# on the seat (`Seat.reminder_emailed_at`), so a tick that runs twice, a task delivered
# twice or the retry after a failed email reminds once and buzzes once. Staff moving the
# block withdraw the notice and clear the claim (`focus.services.block_update`): the seat is
# due again, 5 minutes before its new time.

# A reminder due while the worker was down still goes out this long after the start (the
# check-in lasts 3 minutes: there is still time to join); later it is dropped.
REMINDER_LATE = timedelta(minutes=5)
REMINDER_TEXT = _("Your focus session “%(title)s” starts soon (%(when)s). Join with one click.")


def reminder_key(seat_id: int) -> str:
    """The key of the seat's reminder notice: `notify` records it once, and a seat with one
    is not due (`focus_reminders_due`). Moving the block withdraws it
    (`focus.services.block_update`)."""
    return f"focus-reminder:{seat_id}"


def focus_reminders_due(*, now: datetime) -> list[int]:
    """The seats to remind now: booked (not given back), in a block that stands and starts
    within `REMINDER_LEAD` (or started less than `REMINDER_LATE` ago), not reminded yet, whose
    member has not arrived already or booked after the reminder's time (they just chose it)."""
    reminded = Notification.objects.filter(
        user=OuterRef("user"),
        key=Concat(Value("focus-reminder:"), Cast(OuterRef("pk"), CharField())),
    )
    return list(
        Seat.objects.filter(
            cancelled_at__isnull=True,
            arrived_at__isnull=True,
            block__cancelled_at__isnull=True,
            block__starts_at__lte=now + REMINDER_LEAD,
            block__starts_at__gt=now - REMINDER_LATE,
            booked_at__lt=F("block__starts_at") - REMINDER_LEAD,
            user__is_active=True,
        )
        .filter(~Exists(reminded))
        .values_list("pk", flat=True)
    )


@shared_task(ignore_result=True)
def focus_reminders_tick() -> int:
    due = focus_reminders_due(now=timezone.now())
    for seat_id in due:
        focus_reminder_send.delay(seat_id)
    return len(due)


@shared_task(ignore_result=True, **EMAIL_RETRY)
def focus_reminder_send(seat_id: int) -> None:
    """Remind the member once, in their language and zone: on the site and by email as
    their preferences say (`notifications.notify`, kind FOCUS_REMINDER), the email's button
    going to the session page. Nothing for a seat given back, a block cancelled or started
    too long ago. A failed email is retried; the notice stays, and is not pushed again."""
    now = timezone.now()
    seat = (
        Seat.objects.select_related("block", "user")
        .filter(
            pk=seat_id,
            cancelled_at__isnull=True,
            block__cancelled_at__isnull=True,
            block__starts_at__gt=now - REMINDER_LATE,
        )
        .first()
    )
    if seat is None or not seat.user.is_active:
        return
    block = seat.block
    with translation.override(seat.user.language):
        title = ics.block_summary(block)
    delivery = notify(
        user=seat.user,
        kind=Kind.FOCUS_REMINDER,
        key=reminder_key(seat_id),
        text=REMINDER_TEXT,
        params={"title": title, "when": block.starts_at},
        url=reverse("focus:session", args=[block.pk]),
        now=now,
        urgent=True,
    )
    if not delivery.email:
        return
    send_once(
        claim=lambda: Seat.objects.filter(
            pk=seat_id, cancelled_at__isnull=True, reminder_emailed_at__isnull=True
        ).update(reminder_emailed_at=now),
        send=lambda: emails.reminder_email(seat).send(),
        give_back=lambda: Seat.objects.filter(pk=seat_id, reminder_emailed_at=now).update(
            reminder_emailed_at=None
        ),
    )


# Power hours (focus/series.py) ---------------------------------------------------------------


@shared_task(ignore_result=True)
def focus_series_extend_tick() -> int:
    """Beat runs this daily: every running power-hour series has its next four weeks of
    blocks (idempotent: the (series, starts_at) constraint)."""
    return series.series_extend(now=timezone.now())

"""Booking seats in focus blocks (docs/focus.md): a seat per member per block, never past
the block's capacity however many book at once (the block's row is locked while its
seats are counted), dropping in to a block about to start, and goals."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from focus import broadcast
from focus.models import GOAL_MAX_LENGTH, FocusBlock, FocusError, Seat
from focus.ritual import CHECK_IN, LENGTHS_MINUTES
from focus.standing import booking_ahead_check, seat_cancel_record
from members.models import User
from notifications.services import notices_withdraw
from rooms.broadcast import on_commit

# A member may drop in to a block starting within this long (or already running).
DROP_IN_WITHIN = timedelta(minutes=10)


class BlockFull(FocusError):
    code = "full"
    default_message = _("This block is full. Try the next one.")


class AlreadyBooked(FocusError):
    code = "already_booked"
    default_message = _("You already have a seat in this block.")


class BlockOver(FocusError):
    code = "over"
    default_message = _("This block has ended.")


class BlockCancelled(FocusError):
    code = "cancelled"
    default_message = _("This block was cancelled.")


class NoBlockSoon(FocusError):
    code = "no_block_soon"
    default_message = _("No block with a free seat starts in the next 10 minutes.")


class SeatElsewhere(FocusError):
    code = "seat_elsewhere"
    default_message = _("You already have a seat in a block at that time.")


class GoalTooLong(FocusError):
    code = "goal_too_long"
    default_message = _("Keep your goal to 280 characters: one clear thing to do.")


class CapacityBelowSeats(FocusError):
    code = "capacity_below_seats"
    default_message = _("More members already hold a seat in this block than that capacity allows.")


@transaction.atomic
def seat_book(
    *, block: FocusBlock, user: User, dropped_in: bool = False, now: datetime | None = None
) -> Seat:
    """A seat for `user` in `block`. Refused when the block is over, cancelled or full, or
    when they already have one. Seats are counted under the block's row lock, so fifty
    members booking the last seats at once get exactly as many seats as are left."""
    now = now or timezone.now()
    if not dropped_in:
        booking_ahead_check(user=user, now=now)
    block = FocusBlock.objects.select_for_update(no_key=True).get(pk=block.pk)
    if block.cancelled_at is not None:
        raise BlockCancelled
    if block.ends_at <= now:
        raise BlockOver
    active = block.seats.filter(cancelled_at__isnull=True)
    if active.filter(user=user).exists():
        raise AlreadyBooked
    if active.count() >= block.capacity:
        raise BlockFull
    if _has_seat_overlapping(block=block, user=user):
        # One cannot sit at two tables: the other would count as missed.
        raise SeatElsewhere
    seat = Seat.objects.create(block=block, user=user, booked_at=now, dropped_in=dropped_in)
    # The calendar invitation, sent once this commits (focus/tasks.py).
    _calendar_queue(Seat.objects.filter(pk=seat.pk))
    return seat


@transaction.atomic
def seat_cancel(*, seat: Seat, now: datetime | None = None) -> Seat:
    """Give the seat back (free until 15 minutes before the start: docs/focus.md)."""
    now = now or timezone.now()
    if seat.block.ends_at <= now:
        raise BlockOver
    seat_cancel_record(seat=seat, now=now)
    seat.refresh_from_db()
    if seat.cancelled_at is not None and seat.block.room is not None:
        # Out of the block's room too: its open pages are sent away (rooms.signals).
        seat.block.room.invitees.remove(seat.user_id)
    if seat.cancelled_at == now and seat.table is not None:
        # Given back by this call while seated: the table's open pages take them off.
        on_commit(
            broadcast.mate_left, block_id=seat.block_id, table=seat.table, user_id=seat.user_id
        )
    # Its calendar entry is withdrawn (METHOD:CANCEL) once this commits, if this call gave
    # the seat back (focus/tasks.py).
    _calendar_queue(Seat.objects.filter(pk=seat.pk, cancelled_at=now))
    return seat


def seats_release(*, user: User, now: datetime | None = None) -> int:
    """A member suspended by staff: their seats in blocks not over yet go back to others,
    never as no-shows (it was not their choice), the tables told once it commits. Returns
    how many were given back."""
    now = now or timezone.now()
    seats = Seat.objects.filter(
        user=user,
        cancelled_at__isnull=True,
        block__starts_at__gt=now - timedelta(minutes=max(LENGTHS_MINUTES)),
    ).select_related("block__room")
    released = 0
    for seat in seats:
        if seat.block.ends_at <= now:
            continue
        if not Seat.objects.filter(pk=seat.pk, cancelled_at__isnull=True).update(cancelled_at=now):
            continue  # given back meanwhile
        released += 1
        if seat.block.room is not None:
            seat.block.room.invitees.remove(user.pk)
        if seat.table is not None:
            on_commit(
                broadcast.mate_left, block_id=seat.block_id, table=seat.table, user_id=user.pk
            )
    return released


def _has_seat_overlapping(*, block: FocusBlock, user: User) -> bool:
    """Whether the member holds a seat in another block whose time overlaps `block`'s."""
    others = Seat.objects.filter(
        user=user,
        cancelled_at__isnull=True,
        block__cancelled_at__isnull=True,
        block__starts_at__lt=block.ends_at,
        block__starts_at__gt=block.starts_at - timedelta(minutes=max(LENGTHS_MINUTES)),
    ).exclude(block=block)
    return any(seat.block.ends_at > block.starts_at for seat in others.select_related("block"))


def drop_in_open(*, block: FocusBlock, now: datetime) -> bool:
    """Whether one may drop in to `block` at `now`: from 10 minutes before its start to the
    end of its check-in, never later (a seat in the last minutes of a block is worth
    nothing, and its check-out is no time to arrive)."""
    return block.starts_at - DROP_IN_WITHIN <= now <= block.starts_at + CHECK_IN


def block_drop_in(*, user: User, now: datetime | None = None) -> Seat:
    """The member's own seat in a block running or starting within 10 minutes, if they have
    one (a seat booked for 10:30 is theirs at 10:25, even if the 10:00 block has room);
    else a new seat in the first block open for dropping in (`drop_in_open`) with room."""
    now = now or timezone.now()
    soon = [
        block
        for block in FocusBlock.objects.filter(
            cancelled_at__isnull=True,
            starts_at__lte=now + DROP_IN_WITHIN,
            starts_at__gt=now - timedelta(minutes=max(LENGTHS_MINUTES)),
        ).order_by("starts_at", "id")
        if block.ends_at > now
    ]
    mine = (
        Seat.objects.filter(block__in=soon, user=user, cancelled_at__isnull=True)
        .order_by("block__starts_at")
        .first()
    )
    if mine is not None:
        return mine
    for block in soon:
        if not drop_in_open(block=block, now=now):
            continue
        try:
            return seat_book(block=block, user=user, dropped_in=True, now=now)
        except (BlockFull, SeatElsewhere):
            continue
    raise NoBlockSoon


def seat_goal_set(*, seat: Seat, goal: str) -> Seat:
    """The member's goal for the block, as plain text (shown escaped): one line, trimmed."""
    goal = " ".join(goal.split())
    if len(goal) > GOAL_MAX_LENGTH:
        raise GoalTooLong
    seat.goal = goal
    seat.save(update_fields=["goal"])
    return seat


@transaction.atomic
def block_cancel(*, block: FocusBlock, now: datetime | None = None) -> bool:
    """Staff cancel the block: nobody can book it any more, and every member with a seat in
    it has its calendar entry withdrawn (METHOD:CANCEL, once this commits). Their seats stay
    as they were (not given back, so no no-show counts for them). Returns whether this call
    cancelled it (False for a block already cancelled)."""
    now = now or timezone.now()
    cancelled = FocusBlock.objects.filter(pk=block.pk, cancelled_at__isnull=True).update(
        cancelled_at=now
    )
    block.refresh_from_db(fields=["cancelled_at"])
    if cancelled:
        _calendar_queue(block.seats.filter(cancelled_at__isnull=True))
        if block.room is not None:
            block.room.invitees.clear()  # its open pages are sent away (rooms.signals)
    return bool(cancelled)


# How long after a block's cancellation its withdrawals may still be going out: each is an
# email task, tried again for up to about a day (core.emails.EMAIL_RETRY), reading its seat.
WITHDRAWALS_FOR = timedelta(days=2)


def block_attended(*, block: FocusBlock) -> bool:
    """Whether a member came to the block (a seat with an arrival, kept or given back since):
    it is part of their focus history (sessions, hours, goals done, streaks: focus.stats;
    the dashboard's figures), which its seats would take with them if it were deleted."""
    return block.seats.filter(arrived_at__isnull=False).exists()


def block_deletable(*, block: FocusBlock, now: datetime | None = None) -> bool:
    """Whether deleting the block (the admin) leaves nobody's plans or history behind:
    nobody came to it (`block_attended`), and it has ended, nobody holds a seat, or it was
    cancelled long enough ago for every withdrawal from the calendars to have gone. Deleted
    before, its seats would go with it: members' calendars would not hear, and the sessions
    they attended would vanish from their figures."""
    now = now or timezone.now()
    if block_attended(block=block):
        return False
    if block.ends_at <= now or not block.seats.filter(cancelled_at__isnull=True).exists():
        return True
    return block.cancelled_at is not None and block.cancelled_at <= now - WITHDRAWALS_FOR


def block_capacity_check(*, block: FocusBlock, capacity: int) -> None:
    """Refuse (`CapacityBelowSeats`) a capacity for `block` below the seats held in it, which
    would show "5 of 2 seats taken". The seats are counted under the block's row lock, which
    booking takes too (`seat_book`): call it in the transaction that then saves the capacity
    (the admin's), so that no seat is booked between the count and the save."""
    locked = FocusBlock.objects.select_for_update(no_key=True).get(pk=block.pk)
    held = locked.seats.filter(cancelled_at__isnull=True).count()
    if capacity < held:
        raise CapacityBelowSeats(
            ngettext(
                "%(count)d member already holds a seat in this block: the capacity cannot "
                "be lower than that.",
                "%(count)d members already hold a seat in this block: the capacity cannot "
                "be lower than that.",
                held,
            )
            % {"count": held}
        )


# What members' calendars show of a block: changing one sends them an update.
CALENDAR_FIELDS = ("starts_at", "minutes", "title")


@transaction.atomic
def block_update(*, block: FocusBlock) -> FocusBlock:
    """Save staff's changes to `block` (the admin's form), and see to what they change for
    the members with a seat, compared with the stored row (locked meanwhile): a new time,
    length or title reaches their calendars (an update, its SEQUENCE one higher, sent once
    this commits: focus/tasks.py); a new time is reminded of anew, 5 minutes before it."""
    stored = FocusBlock.objects.select_for_update(no_key=True).get(pk=block.pk)
    block.save()
    if block.starts_at != stored.starts_at:
        _reminders_reset(block=block)
    if any(getattr(block, name) != getattr(stored, name) for name in CALENDAR_FIELDS):
        _calendar_queue(block.seats.filter(cancelled_at__isnull=True))
    return block


def _reminders_reset(*, block: FocusBlock) -> None:
    """The block moved: a reminder sent for the old time is as if never sent, so that the
    member is reminded 5 minutes before the new one (`focus.tasks.focus_reminders_due` finds
    seats with no reminder notice). The old notice told the old time: it is withdrawn, not
    left beside the new one. The email's claim on the seat is cleared too."""
    from focus.tasks import reminder_key

    seats = block.seats.all()
    notices_withdraw(keys=[reminder_key(pk) for pk in seats.values_list("pk", flat=True)])
    seats.update(reminder_emailed_at=None)


def _calendar_queue(seats: QuerySet[Seat]) -> None:
    """Queue the calendar messages of `seats` for after the commit (focus.tasks, which
    imports modules that import these services: imported here)."""
    from focus.tasks import seats_calendar_queue

    seats_calendar_queue(seats)

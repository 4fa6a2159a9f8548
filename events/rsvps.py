"""Answers to events (RSVPs) and the waiting list. Every change to an event's answers holds
the event's row lock, so the answers to one event are taken one at a time.

The host is an attendee like any other: a "going" answer that takes a seat, counts against
the capacity and among those going (`host_seat_take`). So every count, list, reminder and
calendar feed includes them without a special case; only their answer cannot change."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from events.access import user_is_member
from events.errors import EventCancelled, EventOver, HostIsGoing, InvalidAnswer, NotAllowed
from events.models import Event, Rsvp
from events.tasks import rsvp_calendar_sync, rsvp_promoted_notify
from members.models import User
from members.selectors import account_open

ANSWERS = (Rsvp.Status.GOING, Rsvp.Status.MAYBE, Rsvp.Status.NOT_GOING)


@dataclass(frozen=True)
class RsvpChange:
    rsvp: Rsvp
    # Wait-listed members who got a seat because of this change, first in the queue first.
    promoted: list[Rsvp] = field(default_factory=list)


def rsvp_set(*, event: Event, user: User, status: str, now: datetime | None = None) -> RsvpChange:
    """Answer an event for `user`: going, maybe or not going. Going to a full event puts the
    member at the end of the waiting list (asking again keeps their place). A seat given up
    goes to the first wait-listed member, who is emailed after commit; a calendar the event
    was sent to follows the answer, after commit too (`events.tasks.rsvp_calendar_sync`).

    Locks the event row for the whole change, so answers to one event are taken one at a
    time: two members asking for the last seat at once get one seat and one waiting place.
    Only an active member may answer; to give a seat up on someone's behalf, see
    `rsvp_release`. The host is going: their answer cannot change (they cancel the event
    instead).
    """
    if status not in ANSWERS:
        raise InvalidAnswer
    if not user_is_member(user):
        raise NotAllowed
    now = now or timezone.now()
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        if locked.is_cancelled:
            raise EventCancelled
        if locked.has_ended(now=now):
            raise EventOver
        if user.pk == locked.host_id and status != Rsvp.Status.GOING:
            raise HostIsGoing
        # Its row too: its calendar record (events.tasks) is read as the claims leave it.
        rsvp = Rsvp.objects.select_for_update().filter(event=locked, user=user).first()
        if rsvp is None:
            # A new answer knows the event as it is: earlier changes are not news to it.
            rsvp = Rsvp(event=locked, user=user, announced_sequence=locked.sequence)
        return _rsvp_answer(event=locked, rsvp=rsvp, status=status, now=now)


def rsvp_release(*, rsvp: Rsvp, now: datetime | None = None) -> RsvpChange:
    """Give up a member's answer to an upcoming event on their behalf, as if they had answered
    "not going": a seat they held goes to the first wait-listed member, and a waiting-list
    place is left. Unlike `rsvp_set`, it works whoever the member is now (a deactivated or
    deleted account too) and never raises for the event's state.

    Locking: takes the event's row lock (`SELECT ... FOR UPDATE`), as `rsvp_set` does, and
    reads the answer again under it, so it is safe against concurrent answers and
    promotions. It may run inside the caller's transaction; the lock is then held until
    that transaction ends.

    Side effects: each promoted member's notice (`events.tasks.rsvp_promoted_notify`), and
    the withdrawal of the event from the member's calendar if one was sent there
    (`events.tasks.rsvp_calendar_sync`), are queued on commit, never before; nothing is
    sent if the transaction rolls back.

    Does nothing, and promotes nobody, when the answer is already "not going" or gone, or
    the event is cancelled or over (past answers stay as they were, for the records).
    Returns the answer as it now is and the members promoted.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = Event.objects.select_for_update().filter(pk=rsvp.event_id).first()
        current = (
            Rsvp.objects.select_for_update().filter(pk=rsvp.pk).first()
            if locked is not None
            else None
        )
        if locked is None or current is None:
            return RsvpChange(rsvp=rsvp)
        if (
            current.status == Rsvp.Status.NOT_GOING
            or locked.is_cancelled
            or locked.has_ended(now=now)
        ):
            return RsvpChange(rsvp=current)
        return _rsvp_answer(event=locked, rsvp=current, status=Rsvp.Status.NOT_GOING, now=now)


def _rsvp_answer(*, event: Event, rsvp: Rsvp, status: str, now: datetime) -> RsvpChange:
    """Record `status` as `rsvp`'s answer (new or saved). The caller holds the row lock of
    `event`, the answer's event as read under that lock."""
    previous = rsvp.status if rsvp.pk is not None else None
    if status == Rsvp.Status.GOING:
        if previous in (Rsvp.Status.GOING, Rsvp.Status.WAITLISTED):
            return RsvpChange(rsvp=rsvp)
        going = event.rsvps.filter(status=Rsvp.Status.GOING).count()
        if event.capacity is None or going < event.capacity or rsvp.user_id == event.host_id:
            rsvp.status, rsvp.position, rsvp.going_since = Rsvp.Status.GOING, None, now
        else:
            last = event.rsvps.filter(status=Rsvp.Status.WAITLISTED).aggregate(
                last=Max("position")
            )["last"]
            rsvp.status, rsvp.position = Rsvp.Status.WAITLISTED, (last or 0) + 1
    else:
        rsvp.status, rsvp.position, rsvp.going_since = status, None, None
    rsvp.save()
    was_going, going = previous == Rsvp.Status.GOING, rsvp.status == Rsvp.Status.GOING
    if was_going != going and rsvp.calendar_sequence is not None:
        # A calendar we sent the event to follows the seat: withdrawn when it is given up,
        # put back when it is taken again (the task decides, as things then stand).
        rsvp_calendar_sync.delay_on_commit(rsvp.pk)
    promoted = []
    if was_going and not going:
        promoted = waitlist_promote(event=event, now=now)
    return RsvpChange(rsvp=rsvp, promoted=promoted)


def host_seat_take(*, event: Event) -> Rsvp | None:
    """Seat `event`'s host: a "going" answer, made when the event is made (and when staff
    change its host). The host gets their seat even when the event is full, since it cannot
    go on without them. None when the event has no host.

    Locking: takes the event's row lock, as every change to its answers does; it may run
    inside the caller's transaction (`event_create`)."""
    if event.host_id is None:
        return None
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        if locked.host_id is None:
            return None
        rsvp, created = Rsvp.objects.get_or_create(
            event=locked,
            user_id=locked.host_id,
            defaults={
                "status": Rsvp.Status.GOING,
                "announced_sequence": locked.sequence,
                "going_since": timezone.now(),
            },
        )
        if not created and rsvp.status != Rsvp.Status.GOING:
            rsvp.status, rsvp.position, rsvp.going_since = Rsvp.Status.GOING, None, timezone.now()
            rsvp.save(update_fields=["status", "position", "going_since", "updated_at"])
    return rsvp


def waitlist_promote(*, event: Event, now: datetime) -> list[Rsvp]:
    """Seat wait-listed members, first in the queue first, while there are free seats. The
    caller holds the event's row lock. Each promoted member is emailed after commit."""
    # Not a suspended or deleted account: the seat would go to someone who cannot come.
    queue = event.rsvps.filter(account_open("user"), status=Rsvp.Status.WAITLISTED).order_by(
        "position", "id"
    )
    if event.capacity is None:
        waiting = list(queue)
    else:
        free = event.capacity - event.rsvps.filter(status=Rsvp.Status.GOING).count()
        waiting = list(queue[: max(free, 0)])
    for rsvp in waiting:
        rsvp.status, rsvp.position, rsvp.promoted_at = Rsvp.Status.GOING, None, now
        rsvp.going_since, rsvp.promotion_emailed_at = now, None
        rsvp.save(
            update_fields=[
                "status",
                "position",
                "promoted_at",
                "going_since",
                "promotion_emailed_at",
                "updated_at",
            ]
        )
        rsvp_promoted_notify.delay_on_commit(rsvp.pk)
    return waiting

"""After an event: who attended it (the members who were in its room while it ran), counted
once when the event is wrapped up."""

from datetime import datetime

from django.db import transaction

from events.models import Event, Rsvp
from rooms import broadcast
from rooms.models import Presence, Visit


def event_attendee_ids(*, event: Event) -> set[int]:
    """The members who were in the event's room while it ran (from when the room opened),
    counting those still there. In the cafeteria, where people sit all day anyway, only
    those who had said they were going or might go count."""
    if event.room_id is None:
        return set()
    opened = event.doors_open_at
    attended = set(
        Visit.objects.filter(
            room_id=event.room_id, started_at__lt=event.ends_at, ended_at__gt=opened
        ).values_list("user_id", flat=True)
    )
    attended |= set(
        Presence.objects.filter(room_id=event.room_id, connected_at__lt=event.ends_at).values_list(
            "user_id", flat=True
        )
    )
    if event.room is not None and event.room.is_cafeteria:
        attended &= set(
            event.rsvps.filter(status__in=[Rsvp.Status.GOING, Rsvp.Status.MAYBE]).values_list(
                "user_id", flat=True
            )
        )
    return attended


def event_attendance_count(*, event: Event) -> int:
    """Count and keep the event's attendance (see `event_attendee_ids`)."""
    count = len(event_attendee_ids(event=event))
    Event.objects.filter(pk=event.pk).update(attendance_count=count)
    event.attendance_count = count
    return count


def event_wrap_up(*, event_id: int, now: datetime) -> bool:
    """Wrap up an event that ended: count and keep its attendance, mark it wrapped up, and
    invite the people still in its room to carry on in the cafeteria. False when there was
    nothing to do: already wrapped up, cancelled, without a room, or being wrapped up by
    another run right now.

    Locking: one transaction holds the event's row lock (`SELECT ... FOR UPDATE SKIP LOCKED`)
    from the check to the mark, so a second run at once skips the event instead of waiting
    for it, and one that comes later finds it wrapped up. If counting fails, everything rolls
    back and the event stays for the next run.

    Side effects: the invitation (`rooms.broadcast.event_ended`) goes out on commit.
    """
    with transaction.atomic():
        event = (
            Event.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("room")
            .filter(pk=event_id, wrapped_up_at__isnull=True, cancelled_at__isnull=True)
            .first()
        )
        if event is None or event.room_id is None:
            return False
        event_attendance_count(event=event)
        Event.objects.filter(pk=event.pk).update(wrapped_up_at=now)
        broadcast.on_commit(broadcast.event_ended, room_id=event.room_id, title=event.title)
    return True

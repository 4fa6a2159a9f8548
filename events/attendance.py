"""Who attended an event: the members who were in its room while it ran."""

from events.models import EVENT_ROOM_OPENS_BEFORE, Event, Rsvp
from rooms.models import Presence, Visit


def event_attendee_ids(*, event: Event) -> set[int]:
    """The members who were in the event's room while it ran (from when the room opened),
    counting those still there. In the cafeteria, where people sit all day anyway, only
    those who had said they were going or might go count."""
    if event.room_id is None:
        return set()
    opened = event.starts_at - EVENT_ROOM_OPENS_BEFORE
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

"""Events on the stage (docs/stage.md): a training session or talk held in a room gives
that room a stage, hosted by the event's host (besides staff)."""

from django.db.models import QuerySet
from django.utils import timezone

from events.models import EVENT_ROOM_OPENS_BEFORE, Event, EventKind
from members.models import User
from rooms.models import Room
from stage.services import HOST_RULES, ROOM_RULES

STAGE_KINDS = (EventKind.TRAINING, EventKind.TALK)


def _stage_events(room: Room) -> QuerySet[Event]:
    return Event.objects.filter(room=room, kind__in=STAGE_KINDS, cancelled_at__isnull=True)


def room_holds_a_stage_event(room: Room) -> bool:
    return _stage_events(room).exists()


def hosts_a_stage_event(room: Room, user: User) -> bool:
    """The host of a training session or talk in the room, from when its room opens until
    it ends: last month's host holds no rights in the room today."""
    now = timezone.now()
    return (
        _stage_events(room)
        .filter(host=user, starts_at__lte=now + EVENT_ROOM_OPENS_BEFORE, ends_at__gt=now)
        .exists()
    )


def register() -> None:
    ROOM_RULES.append(room_holds_a_stage_event)
    HOST_RULES.append(hosts_a_stage_event)

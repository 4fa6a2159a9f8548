"""Events on the stage (docs/stage.md): a training session or talk held in a room gives
that room a stage, hosted by the event's host (besides staff)."""

from django.db.models import QuerySet

from events.models import Event, EventKind
from members.models import User
from rooms.models import Room
from stage.services import HOST_RULES, ROOM_RULES

STAGE_KINDS = (EventKind.TRAINING, EventKind.TALK)


def _stage_events(room: Room) -> QuerySet[Event]:
    return Event.objects.filter(room=room, kind__in=STAGE_KINDS, cancelled_at__isnull=True)


def room_holds_a_stage_event(room: Room) -> bool:
    return _stage_events(room).exists()


def hosts_a_stage_event(room: Room, user: User) -> bool:
    return _stage_events(room).filter(host=user).exists()


def register() -> None:
    ROOM_RULES.append(room_holds_a_stage_event)
    HOST_RULES.append(hosts_a_stage_event)

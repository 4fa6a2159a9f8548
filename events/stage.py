"""Events on the stage (docs/stage.md): a training session or talk held in a room gives
that room a stage, hosted by the event's host (besides staff)."""

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from events.models import EVENT_ROOM_OPENS_BEFORE, Event, EventKind
from members.models import User
from rooms.models import Room
from stage.models import Stage
from stage.services import HOST_RULES, ROOM_RULES, stage_close

STAGE_KINDS = (EventKind.TRAINING, EventKind.TALK)
# How long a talk may run over its end: its host keeps the stage's rights until then, and
# a stage still live after it is ended for them (`stages_overrun_end`).
STAGE_OVERRUN = timedelta(minutes=30)


def _stage_events_all() -> QuerySet[Event]:
    return Event.objects.filter(kind__in=STAGE_KINDS, cancelled_at__isnull=True)


def _stage_events(room: Room) -> QuerySet[Event]:
    return _stage_events_all().filter(room=room)


def room_holds_a_stage_event(room: Room) -> bool:
    return _stage_events(room).exists()


def _on(now: datetime) -> Q:
    """Stage events whose host holds the stage at `now`: from when the room opens until the
    overrun after the end."""
    return Q(starts_at__lte=now + EVENT_ROOM_OPENS_BEFORE, ends_at__gt=now - STAGE_OVERRUN)


def hosts_a_stage_event(room: Room, user: User) -> bool:
    """The host of a training session or talk in the room, from when its room opens until
    its end and overrun: last month's host holds no rights in the room today."""
    return _stage_events(room).filter(_on(timezone.now()), host=user).exists()


def stages_overrun_end(*, now: datetime) -> int:
    """End the stages still live after the overrun of a talk held while they were (beat,
    every minute, through events_wrap_up_tick), unless another talk in the room has its
    turn: nobody but staff may end them by then, and the next talk would find the last
    one's speakers on stage. A stage staff started after the room's talks stays theirs."""
    ran_over = _stage_events_all().filter(
        room=OuterRef("room"),
        ends_at__lte=now - STAGE_OVERRUN,
        ends_at__gt=OuterRef("started_at"),
    )
    on = _stage_events_all().filter(_on(now))
    stages = (
        Stage.objects.filter(Exists(ran_over), state=Stage.State.LIVE)
        .exclude(room__in=on.values("room"))
        .values_list("pk", flat=True)
    )
    return sum(stage_close(stage_id=pk) for pk in stages)


def register() -> None:
    ROOM_RULES.append(room_holds_a_stage_event)
    HOST_RULES.append(hosts_a_stage_event)

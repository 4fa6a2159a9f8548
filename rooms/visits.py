"""Stays in rooms, recorded when a member's last connection to a room goes (a clean
disconnect in `presence_remove`, a dead process in `presence_prune`). Nothing is written
while members sit in a room, so a thousand people in the cafeteria cost no extra writes."""

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from rooms.models import HourlyUsage, Presence, Visit

HOUR = timedelta(hours=1)


def _hours(started_at: datetime, ended_at: datetime) -> list[tuple[datetime, int]]:
    """The UTC hours a stay covers, each with the seconds spent in it."""
    hour = started_at.replace(minute=0, second=0, microsecond=0)
    spans = []
    while hour < ended_at:
        seconds = int((min(hour + HOUR, ended_at) - max(hour, started_at)).total_seconds())
        if seconds > 0:
            spans.append((hour, seconds))
        hour += HOUR
    return spans


def _usage_add(*, room_id: int, hour: datetime, seconds: int) -> None:
    added = HourlyUsage.objects.filter(room_id=room_id, hour=hour).update(
        seconds=F("seconds") + seconds
    )
    if added:
        return
    try:
        with transaction.atomic():
            HourlyUsage.objects.create(room_id=room_id, hour=hour, seconds=seconds)
    except IntegrityError:
        # Another stay ending in the same hour created the row first.
        HourlyUsage.objects.filter(room_id=room_id, hour=hour).update(
            seconds=F("seconds") + seconds
        )


@transaction.atomic
def visit_record(
    *, room_id: int, user_id: int, started_at: datetime, ended_at: datetime
) -> Visit | None:
    """Record a stay and add it to the room's hourly use. None when this stay was already
    recorded (two tabs closing at once both find they were the last)."""
    ended_at = max(ended_at, started_at)
    try:
        with transaction.atomic():
            visit = Visit.objects.create(
                room_id=room_id, user_id=user_id, started_at=started_at, ended_at=ended_at
            )
    except IntegrityError:
        return None
    for hour, seconds in _hours(started_at, ended_at):
        _usage_add(room_id=room_id, hour=hour, seconds=seconds)
    return visit


def visits_close(*, gone: list[tuple[int, int, datetime, datetime]]) -> int:
    """`gone`: (room_id, user_id, connected_at, last seen) of deleted presence rows. Records
    a visit for each member left with no connection to that room. Returns how many."""
    stays: dict[tuple[int, int], tuple[datetime, datetime]] = {}
    for room_id, user_id, started, ended in gone:
        first, last = stays.get((room_id, user_id), (started, ended))
        stays[(room_id, user_id)] = (min(first, started), max(last, ended))
    if not stays:
        return 0
    still_here = Q()
    for room_id, user_id in stays:
        still_here |= Q(room_id=room_id, user_id=user_id)
    staying = set(Presence.objects.filter(still_here).values_list("room_id", "user_id"))
    visits = [
        Visit(room_id=room_id, user_id=user_id, started_at=started, ended_at=max(ended, started))
        for (room_id, user_id), (started, ended) in stays.items()
        if (room_id, user_id) not in staying
    ]
    # All at once: a web process that died with 2,500 sockets left as many stays, and one
    # insert and a few updates each took the prune 10 of its 15 seconds.
    try:
        with transaction.atomic():
            Visit.objects.bulk_create(visits)
            usage: dict[tuple[int, datetime], int] = defaultdict(int)
            for visit in visits:
                for hour, seconds in _hours(visit.started_at, visit.ended_at):
                    usage[(visit.room_id, hour)] += seconds
            for (room_id, hour), seconds in usage.items():
                _usage_add(room_id=room_id, hour=hour, seconds=seconds)
    except IntegrityError:
        # Some were recorded already (two prunes at once, or a tab closing): one by one,
        # each once.
        return sum(
            visit_record(
                room_id=visit.room_id,
                user_id=visit.user_id,
                started_at=visit.started_at,
                ended_at=visit.ended_at,
            )
            is not None
            for visit in visits
        )
    return len(visits)

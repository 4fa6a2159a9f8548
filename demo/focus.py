"""The demo's focus sessions: a weekly power hour (a `FocusSeries` whose next four weeks of
blocks are made on every run, as the daily tick does) and, when no block is near, a few
blocks around now with some demo members seated, so that the blocks page has something to
book and to drop in to. Seats are made directly: made-up members get no invitations."""

import random
from datetime import datetime, time, timedelta

from demo.people import People
from focus.models import FocusBlock, FocusSeries, Seat
from focus.series import series_extend

POWER_HOUR = "Power hour de los miércoles"
# Blocks near now (hours from the next half hour), when there are none.
NEAR_BLOCKS = [(0, 50, "Bloque de concentración"), (2, 25, ""), (24, 75, "Escritura profunda")]
NEAR = timedelta(hours=3)


def power_hour_ensure(*, people: People, now: datetime) -> FocusSeries:
    """Wednesdays at 10:00 Madrid time, 50 minutes; its coming blocks made."""
    series, _made = FocusSeries.objects.get_or_create(
        title=POWER_HOUR,
        created_by=people.staff,
        defaults={
            "weekday": FocusSeries.Weekday.WEDNESDAY,
            "local_time": time(10, 0),
            "time_zone": "Europe/Madrid",
            "minutes": 50,
            "capacity": 40,
            "starts_on": (now - timedelta(days=7)).date(),
        },
    )
    series_extend(now=now, series=series)
    return series


def _next_half_hour(now: datetime) -> datetime:
    start = now.replace(minute=0, second=0, microsecond=0)
    while start <= now:
        start += timedelta(minutes=30)
    return start


def focus_refresh(*, people: People, now: datetime) -> list[FocusBlock]:
    """The power hour and, when none is near, blocks around now. Returns the blocks made
    near now."""
    power_hour_ensure(people=people, now=now)
    return blocks_near_now(people=people, now=now)


def blocks_near_now(*, people: People, now: datetime) -> list[FocusBlock]:
    """A few blocks from the next half hour on, unless some block already starts (or runs)
    within `NEAR`: a demo seeded again an hour later keeps the blocks it made. Some demo
    members (never the member login, who books for themselves) hold seats in them."""
    near = FocusBlock.objects.filter(
        cancelled_at__isnull=True, starts_at__gt=now - timedelta(hours=1), starts_at__lt=now + NEAR
    )
    if near.exists():
        return []
    first = _next_half_hour(now)
    # Its own generator, so the rest of the demo draws what it always drew.
    rng = random.Random(first.timestamp())
    made = []
    for hours, minutes, title in NEAR_BLOCKS:
        block, created = FocusBlock.objects.get_or_create(
            starts_at=first + timedelta(hours=hours),
            created_by=people.staff,
            series=None,
            defaults={"minutes": minutes, "title": title, "created_at": now},
        )
        if created:
            sitters = rng.sample(people.members[1:], k=min(len(people.members) - 1, 5))
            Seat.objects.bulk_create(
                Seat(block=block, user=user, booked_at=now - timedelta(hours=rng.randint(1, 20)))
                for user in sitters
            )
        made.append(block)
    return made

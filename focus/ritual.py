"""The ritual of a focus block, timed from its stored start (docs/focus.md): one clock for
everyone, the same after a reconnect or a server restart, because every phase is computed
from the block's `starts_at` and length, never counted by a process.

A block of 25, 50 or 75 minutes holds the whole ritual: 3 minutes of check-in (each says
and writes their goal), the work, and 3 minutes of check-out (done, partly, not), so that a
50-minute block ends on the hour or half hour it was booked to end at. No Django imports.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise

LENGTHS_MINUTES = (25, 50, 75)
CHECK_IN = timedelta(minutes=3)
CHECK_OUT = timedelta(minutes=3)


class Phase(StrEnum):
    BEFORE = "before"
    CHECK_IN = "check_in"
    WORK = "work"
    CHECK_OUT = "check_out"
    OVER = "over"


@dataclass(frozen=True)
class Moment:
    """Where a block is at one instant: its phase and when that phase ends (None: over)."""

    phase: Phase
    ends_at: datetime | None

    def seconds_left(self, now: datetime) -> int | None:
        if self.ends_at is None:
            return None
        return max(0, int((self.ends_at - now).total_seconds()))


def phase_bounds(starts_at: datetime, minutes: int) -> list[tuple[Phase, datetime]]:
    """The moments each phase starts, in order, the block's end last (as OVER)."""
    if minutes not in LENGTHS_MINUTES:
        raise ValueError(f"a focus block lasts 25, 50 or 75 minutes, not {minutes}")
    ends_at = starts_at + timedelta(minutes=minutes)
    return [
        (Phase.CHECK_IN, starts_at),
        (Phase.WORK, starts_at + CHECK_IN),
        (Phase.CHECK_OUT, ends_at - CHECK_OUT),
        (Phase.OVER, ends_at),
    ]


def moment_at(starts_at: datetime, minutes: int, now: datetime) -> Moment:
    """The block's phase at `now` and when it ends."""
    bounds = phase_bounds(starts_at, minutes)
    if now < starts_at:
        return Moment(Phase.BEFORE, starts_at)
    for (phase, begins), (_next, ends) in pairwise(bounds):
        if begins <= now < ends:
            return Moment(phase, ends)
    return Moment(Phase.OVER, None)


def on_the_half_hour(moment: datetime) -> bool:
    """Blocks start on the hour or the half hour (in UTC, which every zone of the community,
    UTC-6 to UTC+1, shares to the half hour)."""
    return moment.minute in (0, 30) and moment.second == 0 and moment.microsecond == 0

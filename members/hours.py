"""Working hours across time zones. Pure functions: no Django imports."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime


def working_span(*, start: time, end: time, zone: str, on: date) -> Span:
    """The working day `start`–`end` in `zone` on the date `on`, as aware datetimes."""
    tz = ZoneInfo(zone)
    begins = datetime.combine(on, start, tzinfo=tz)
    ends = datetime.combine(on, end, tzinfo=tz)
    if ends <= begins:
        ends += timedelta(days=1)
    return Span(begins, ends)


def in_zone(span: Span, zone: str) -> Span:
    tz = ZoneInfo(zone)
    return Span(span.start.astimezone(tz), span.end.astimezone(tz))


def overlap(first: Span, second: Span) -> Span | None:
    start, end = max(first.start, second.start), min(first.end, second.end)
    return Span(start, end) if start < end else None

"""Power hours: the blocks of weekly series (`FocusSeries`), made ahead of time.

Each block starts at the series' wall-clock time in the series' zone on its weekday, so a
10:00 Madrid power hour is at 09:00 UTC in winter and 08:00 UTC in summer. The blocks of the
next `SERIES_HORIZON` are made by a daily beat tick and as soon as staff save a series in
the admin; the unique constraint (series, starts_at) makes a second run, or two at once,
create nothing twice.

Editing a series (its time, weekday, zone, length, seats, title or days) changes its future
blocks that nobody holds a seat in: those no longer wanted go, those still wanted take the
new length, seats and title, and the missing ones are made. Blocks with seats booked, and
blocks already running, stay as they were, so nobody's plan moves under them: staff who
want those moved edit or cancel them one by one (cancelling tells their members).
"""

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from focus.models import FocusBlock, FocusSeries, Seat
from focus.ritual import on_the_half_hour

# How far ahead series are filled: the daily tick and the admin's save.
SERIES_HORIZON = timedelta(weeks=4)


# Validation (the admin's form) ------------------------------------------------------------


def validate_series_time(value: time) -> None:
    if value.minute not in (0, 30) or value.second or value.microsecond:
        raise ValidationError(_("Power hours start on the hour or the half hour."))


def validate_series_zone(value: str) -> None:
    """A known IANA zone whose offsets are whole half hours, so that the blocks start on
    the half hour in UTC too (docs/focus.md: blocks are aligned in UTC)."""
    try:
        zone = zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("“%(value)s” is not a known time zone."), params={"value": value}
        ) from None
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value})
    # Both of this year's offsets (winter and summer) are whole half hours.
    year = datetime.now(UTC).year
    for month in (1, 7):
        offset = datetime(year, month, 1, 12, tzinfo=zone).utcoffset() or timedelta(0)
        if offset % timedelta(minutes=30):
            raise ValidationError(
                _(
                    "Blocks start on the hour or the half hour in UTC, and “%(value)s” is not "
                    "a whole number of half hours away from it."
                ),
                params={"value": value},
            )


def validate_series_days(*, starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": _("The last day cannot be before the first.")})


# Occurrences -------------------------------------------------------------------------------


def occurrence_starts_at(series: FocusSeries, day: date) -> datetime:
    """When the series' block on `day` starts, in UTC: its local time on that day in its
    zone. A time the clocks skip (02:30 on the spring change) is read with the offset before
    the change, and so falls an hour later on the clock."""
    local = datetime.combine(day, series.local_time, tzinfo=zoneinfo.ZoneInfo(series.time_zone))
    return local.astimezone(UTC)


def occurrences(series: FocusSeries, *, now: datetime) -> list[datetime]:
    """The starts (UTC) of the series' blocks after `now` and within `SERIES_HORIZON`, inside
    its first and last day."""
    zone = zoneinfo.ZoneInfo(series.time_zone)
    horizon = now + SERIES_HORIZON
    day = max(now.astimezone(zone).date(), series.starts_on)
    last = horizon.astimezone(zone).date()
    if series.ends_on is not None:
        last = min(last, series.ends_on)
    day += timedelta(days=(series.weekday - day.weekday()) % 7)
    starts = []
    while day <= last:
        starts_at = occurrence_starts_at(series, day)
        if now < starts_at <= horizon and on_the_half_hour(starts_at):
            starts.append(starts_at)
        day += timedelta(weeks=1)
    return starts


def running_series(*, now: datetime) -> QuerySet[FocusSeries]:
    return FocusSeries.objects.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=now.date()))


def series_extend(*, now: datetime, series: FocusSeries | None = None) -> int:
    """Make the missing blocks of the next four weeks of `series` (of every running series
    when None). Blocks already made, cancelled ones included, are left alone: a block staff
    cancelled stays cancelled. Idempotent through the (series, starts_at) constraint (ON
    CONFLICT DO NOTHING): two runs at once make each block once. Returns how many blocks
    this run made."""
    made = 0
    for each in [series] if series is not None else running_series(now=now):
        wanted = occurrences(each, now=now)
        if not wanted:
            continue
        existing = set(
            FocusBlock.objects.filter(series=each, starts_at__in=wanted).values_list(
                "starts_at", flat=True
            )
        )
        missing = [starts_at for starts_at in wanted if starts_at not in existing]
        if not missing:
            continue
        before = FocusBlock.objects.filter(series=each, starts_at__in=missing).count()
        FocusBlock.objects.bulk_create(
            [
                FocusBlock(
                    title=each.title,
                    starts_at=starts_at,
                    minutes=each.minutes,
                    capacity=each.capacity,
                    created_by_id=each.created_by_id,
                    series=each,
                    created_at=now,
                )
                for starts_at in missing
            ],
            ignore_conflicts=True,
        )
        after = FocusBlock.objects.filter(series=each, starts_at__in=missing).count()
        made += after - before
    return made


def _unheld(blocks: QuerySet[FocusBlock]) -> QuerySet[FocusBlock]:
    """Blocks nobody holds a seat in (seats given back do not count)."""
    return blocks.filter(
        ~Exists(Seat.objects.filter(block=OuterRef("pk"), cancelled_at__isnull=True))
    )


@transaction.atomic
def series_apply(*, series: FocusSeries, now: datetime) -> int:
    """After staff edited `series`: its future blocks with no seat follow the new settings
    (those no longer wanted are deleted, the others take the new length, seats and title),
    booked and cancelled blocks are left as they are, and the missing blocks are made.
    Locks the series row, so two saves at once apply one after the other, and its coming
    blocks, so a booking made meanwhile is seen. Returns how many blocks were made."""
    FocusSeries.objects.select_for_update().filter(pk=series.pk).first()
    wanted = set(occurrences(series, now=now))
    # Locked first: a booking being made holds its block's row (focus.services.seat_book),
    # and only a statement begun after it commits sees its seat. Without this, the change
    # below waited for the booking and then changed, or deleted, a block just booked.
    upcoming = FocusBlock.objects.select_for_update().filter(
        series=series, starts_at__gt=now, cancelled_at__isnull=True, tables_at__isnull=True
    )
    free = _unheld(FocusBlock.objects.filter(pk__in=list(upcoming.values_list("pk", flat=True))))
    free.exclude(starts_at__in=wanted).delete()
    free.filter(starts_at__in=wanted).update(
        title=series.title, minutes=series.minutes, capacity=series.capacity
    )
    return series_extend(now=now, series=series)

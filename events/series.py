"""The occurrences of weekly series: ordinary events, made ahead of time."""

import zoneinfo
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from events.models import Event, EventKind, EventSeries, Rsvp

# How far ahead series are filled (the admin action and the daily beat tick).
SERIES_HORIZON = timedelta(weeks=8)


def series_extend(*, series: EventSeries, until: date, now: datetime | None = None) -> list[Event]:
    """Create the series' missing occurrences from today up to `until` (and no later than the
    series' last day): one per day of the series (`Event.series_day`). Days already made,
    even if their occurrence was moved or cancelled since, and days already started are
    left alone, so running it again creates nothing. Locks the series row, so two runs at
    once cannot both create the same occurrence. The series' host, unless suspended, is
    going to each new one. Returns the new events."""
    now = now or timezone.now()
    zone = zoneinfo.ZoneInfo(series.time_zone)
    with transaction.atomic():
        locked = (
            EventSeries.objects.select_for_update(of=("self",))
            .select_related("host")
            .get(pk=series.pk)
        )
        wanted = {
            day: locked.occurrence_starts_at(day)
            for day in locked.occurrence_days(first=now.astimezone(zone).date(), last=until)
        }
        # A meetup is its host's: none is made while staff have their account suspended (the
        # suspension cancelled those already made), and the series goes on once it is lifted.
        if locked.kind == EventKind.MEETUP and locked.host and not locked.host.account_is_open:
            return []
        # A day already made stays as it is: moved to another hour or day, or cancelled.
        made = set(locked.events.filter(series_day__in=wanted).values_list("series_day", flat=True))
        created = Event.objects.bulk_create(
            Event(
                kind=locked.kind,
                title=locked.title,
                description=locked.description,
                host=locked.host,
                created_by=locked.created_by,
                starts_at=starts_at,
                ends_at=starts_at + locked.duration,
                time_zone=locked.time_zone,
                capacity=locked.capacity,
                room=locked.room,
                series=locked,
                series_day=day,
            )
            for day, starts_at in wanted.items()
            if starts_at > now and day not in made
        )
        # The host is going to each occurrence, in one of its seats (as `event_create` does;
        # the events are new, so nobody else can be answering them yet).
        # Not a suspended host: their seat would be lost to the waiting list.
        host = locked.host
        if host is not None and host.is_active:
            Rsvp.objects.bulk_create(
                Rsvp(event=event, user=host, status=Rsvp.Status.GOING, going_since=now)
                for event in created
            )
        return created


def series_extend_all(*, now: datetime | None = None) -> int:
    """Fill every running series up to `SERIES_HORIZON` ahead. Idempotent, like
    `series_extend`. Returns how many events it created."""
    now = now or timezone.now()
    created = 0
    for series in EventSeries.objects.filter(until__gte=now.date()):
        until = now.astimezone(zoneinfo.ZoneInfo(series.time_zone)).date() + SERIES_HORIZON
        created += len(series_extend(series=series, until=until, now=now))
    return created

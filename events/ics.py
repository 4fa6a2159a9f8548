"""Calendar files (RFC 5545) for events: one event, or a feed of several."""

import zoneinfo
from collections.abc import Iterable
from datetime import datetime

import icalendar
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from events.models import Event

PRODID = f"-//{settings.SITE_NAME}//Events//EN"


def _event_url(*, event: Event, site_url: str) -> str:
    # Where to go when it starts: the event's room, or the site for events without one.
    if event.room is not None:
        return f"{site_url}{reverse('rooms:room', args=[event.room.slug])}"
    return f"{site_url}/"


def _vevent(*, event: Event, site_url: str, stamp: datetime) -> icalendar.Event:
    zone = zoneinfo.ZoneInfo(event.time_zone)
    url = _event_url(event=event, site_url=site_url)
    vevent = icalendar.Event()
    vevent.add("uid", str(event.uid))
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", event.starts_at.astimezone(zone))
    vevent.add("dtend", event.ends_at.astimezone(zone))
    vevent.add("summary", event.title)
    if event.description:
        vevent.add("description", event.description)
    vevent.add("url", url)
    if event.room is not None:
        vevent.add("location", f"{event.room.title} ({url})")
    vevent.add("sequence", event.sequence)
    vevent.add("status", "CANCELLED" if event.is_cancelled else "CONFIRMED")
    vevent.add("last-modified", event.updated_at)
    return vevent


def _calendar(*, events: Iterable[Event], site_url: str, name: str | None) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if name:
        calendar.add("x-wr-calname", name)
    stamp = timezone.now()
    for event in events:
        calendar.add_component(_vevent(event=event, site_url=site_url, stamp=stamp))
    # One VTIMEZONE per zone the events use, so each DTSTART's TZID is defined in the file.
    calendar.add_missing_timezones()
    return calendar.to_ical()


def event_ics(*, event: Event, site_url: str) -> bytes:
    """A VCALENDAR with the one event, its times in the organiser's zone."""
    return _calendar(events=[event], site_url=site_url, name=None)


def calendar_ics(*, events: Iterable[Event], site_url: str, name: str) -> bytes:
    """A VCALENDAR feed of `events` (select their rooms with them: one query)."""
    return _calendar(events=events, site_url=site_url, name=name)

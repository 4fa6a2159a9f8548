"""Calendar files for events: one event, or a feed of several (core.ics writes them)."""

from collections.abc import Iterable
from dataclasses import replace
from email.utils import parseaddr

from django.conf import settings
from django.urls import reverse

from core.ics import Entry, calendar_bytes
from events.models import Event

REQUEST = "REQUEST"
CANCEL = "CANCEL"


def _event_url(*, event: Event, site_url: str) -> str:
    # Where to go when it starts: the event's room, or the site for events without one.
    if event.room is not None:
        return f"{site_url}{reverse('rooms:room', args=[event.room.slug])}"
    return f"{site_url}/"


def event_entry(*, event: Event, site_url: str) -> Entry:
    url = _event_url(event=event, site_url=site_url)
    return Entry(
        uid=str(event.uid),
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        time_zone=event.time_zone,
        summary=event.title,
        description=event.description,
        url=url,
        location=f"{event.room.title} ({url})" if event.room is not None else "",
        sequence=event.sequence,
        cancelled=event.is_cancelled,
        updated_at=event.updated_at,
    )


def event_invitation(
    *, event: Event, attendee: tuple[str, str], method: str, sequence: int
) -> bytes:
    """The event as an invitation to one member (METHOD:REQUEST: they are going, or its new
    details) or its withdrawal (METHOD:CANCEL), which mail programs apply to the calendar
    entry of the same UID, as they do the coffee meetings' and focus blocks'. `sequence` is
    the member's own (`Rsvp.calendar_sequence_next`), which may run ahead of the event's."""
    entry = replace(
        event_entry(event=event, site_url=settings.SITE_URL),
        sequence=sequence,
        cancelled=method == CANCEL or event.is_cancelled,
        organizer=parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
        attendees=[attendee],
    )
    return calendar_bytes([entry], method=method)


def event_ics(*, event: Event, site_url: str) -> bytes:
    """A VCALENDAR with the one event, its times in the organiser's zone."""
    return calendar_bytes([event_entry(event=event, site_url=site_url)])


def calendar_ics(
    *, events: Iterable[Event], site_url: str, name: str, more: Iterable[Entry] = ()
) -> bytes:
    """A VCALENDAR feed of `events` (select their rooms with them: one query), and `more`
    entries of other kinds (a member's coffee meetings)."""
    entries = [event_entry(event=event, site_url=site_url) for event in events]
    return calendar_bytes([*entries, *more], name=name)

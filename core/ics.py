"""Calendar files (RFC 5545, and RFC 5546's METHOD for invitations) for whatever the site
schedules: events, coffee meetings. Each app describes its entries as `Entry`s."""

import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import icalendar
from django.conf import settings
from django.utils import timezone

PRODID = f"-//{settings.SITE_NAME}//Calendar//EN"


@dataclass(frozen=True)
class Entry:
    """One VEVENT. `time_zone` is the zone its times are written in (the organiser's)."""

    uid: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    summary: str
    url: str
    sequence: int
    updated_at: datetime
    cancelled: bool = False
    description: str = ""
    location: str = ""
    # Invitations (METHOD:REQUEST/CANCEL) name who organises and who is invited: emails.
    organizer: str = ""
    attendees: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (name, email)


def _written(moment: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """`moment` as the file writes it: in the entry's zone, unless it falls in the second
    pass of the hour a clock turns back (fold 1), which a TZID time cannot name (calendars
    take the first, an hour early, RFC 5545 3.3.5): that one in UTC."""
    local = moment.astimezone(zone)
    return moment.astimezone(UTC) if local.fold else local


def _vevent(entry: Entry, *, stamp: datetime) -> icalendar.Event:
    zone = zoneinfo.ZoneInfo(entry.time_zone)
    vevent = icalendar.Event()
    vevent.add("uid", entry.uid)
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", _written(entry.starts_at, zone))
    vevent.add("dtend", _written(entry.ends_at, zone))
    vevent.add("summary", entry.summary)
    if entry.description:
        vevent.add("description", entry.description)
    vevent.add("url", entry.url)
    if entry.location:
        vevent.add("location", entry.location)
    vevent.add("sequence", entry.sequence)
    vevent.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
    vevent.add("last-modified", entry.updated_at)
    if entry.organizer:
        organizer = icalendar.vCalAddress(f"mailto:{entry.organizer}")
        organizer.params["cn"] = icalendar.vText(settings.SITE_NAME)
        vevent.add("organizer", organizer)
    for name, email in entry.attendees:
        attendee = icalendar.vCalAddress(f"mailto:{email}")
        attendee.params["cn"] = icalendar.vText(name)
        attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = icalendar.vText("ACCEPTED")
        vevent.add("attendee", attendee, encode=False)
    return vevent


def calendar_bytes(entries: Iterable[Entry], *, name: str = "", method: str = "") -> bytes:
    """A VCALENDAR of `entries`; `method` "REQUEST" or "CANCEL" makes it an invitation
    (or its withdrawal) that mail programs offer to add to, or take from, a calendar."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    stamp = timezone.now()
    entries = list(entries)
    for entry in entries:
        calendar.add_component(_vevent(entry, stamp=stamp))
    # One VTIMEZONE per zone the entries use, so each DTSTART's TZID is defined in the file,
    # with its rules for the years the entries fall in (icalendar's default stops at 2038,
    # and a calendar reading the file's own rules would put a later event an hour off).
    if entries:
        calendar.add_missing_timezones(
            first_date=date(min(entry.starts_at for entry in entries).year - 1, 1, 1),
            last_date=date(max(entry.ends_at for entry in entries).year + 2, 1, 1),
        )
    else:
        # A calendar holds one component at least (RFC 5545 3.6): an empty feed, the
        # community's zone, which strict importers accept where they refuse nothing.
        this_year = timezone.now().year
        calendar.add_component(
            icalendar.Timezone.from_tzid(
                settings.TIME_ZONE,
                first_date=date(this_year - 1, 1, 1),
                last_date=date(this_year + 2, 1, 1),
            )
        )
    return calendar.to_ical()

"""Calendar invitations for focus seats (core.ics writes them): one VEVENT per seat, with a
UID that stays the same for the seat's whole life, so that the member's calendar program
replaces its entry with each update (a higher SEQUENCE) and removes it with METHOD:CANCEL."""

from datetime import datetime
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext

from core.ics import Entry, calendar_bytes
from focus.models import FocusBlock, Seat

REQUEST = "REQUEST"
CANCEL = "CANCEL"


def seat_uid(seat: Seat) -> str:
    """The seat's calendar UID, e.g. `focus-seat-42@cowork.example.com`: the seat's, not the
    block's, so that each member's invitation is theirs alone (giving a seat back cancels
    one calendar entry, a rebooked seat is a new one)."""
    return f"focus-seat-{seat.pk}@{urlsplit(settings.SITE_URL).hostname}"


def session_url(block: FocusBlock) -> str:
    """The block's session page, absolute (where the invitation and the reminder lead)."""
    return f"{settings.SITE_URL}{reverse('focus:session', args=[block.pk])}"


def block_summary(block: FocusBlock) -> str:
    """What calendars show: the block's title, or "Focus session" (in the active language)."""
    return block.title or gettext("Focus session")


def seat_entry(seat: Seat, *, sequence: int, method: str, stamp: datetime) -> Entry:
    """The seat's VEVENT as of now; texts in the active language (callers set the member's),
    times in the member's zone (the file carries the zone, so any program places it right)."""
    block, user = seat.block, seat.user
    url = session_url(block)
    description = gettext(
        "Focused work together: say your goal at the start, work side by side, check out at "
        "the end. Join: %(url)s"
    ) % {"url": url}
    return Entry(
        uid=seat_uid(seat),
        starts_at=block.starts_at,
        ends_at=block.ends_at,
        time_zone=user.time_zone,
        summary=block_summary(block),
        description=description,
        url=url,
        location=url,
        sequence=sequence,
        updated_at=stamp,
        cancelled=method == CANCEL,
        organizer=parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
        attendees=[(user.name, user.email)],
    )


def seat_ics(seat: Seat, *, sequence: int, method: str, stamp: datetime) -> bytes:
    """A METHOD:REQUEST (invitation or update) or METHOD:CANCEL calendar for the seat."""
    if method not in (REQUEST, CANCEL):
        raise ValueError(f"No calendar method {method!r}.")
    entry = seat_entry(seat, sequence=sequence, method=method, stamp=stamp)
    return calendar_bytes([entry], method=method)

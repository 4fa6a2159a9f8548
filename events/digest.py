"""The weekly digest's "coming up this week" section (notifications.digest's registry)."""

from datetime import datetime, timedelta

from events.models import Event
from events.selectors import events_upcoming
from members.models import User
from notifications.digest import LIST_LIMIT, digest_section_register

EVENTS_AHEAD = timedelta(days=7)


def events_coming_up(user: User, now: datetime) -> list[Event]:
    return list(events_upcoming(now=now).filter(starts_at__lt=now + EVENTS_AHEAD)[:LIST_LIMIT])


def register() -> None:
    digest_section_register(
        key="events", order=20, collect=events_coming_up, template="events/email/digest_section"
    )

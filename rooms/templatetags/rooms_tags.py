from datetime import datetime

from django import template

from rooms.models import Presence

register = template.Library()


@register.filter
def presence_label(status: str) -> str:
    """The translated label of a presence status as `presence_snapshot` gives it."""
    try:
        return str(Presence.Status(status).label)
    except ValueError:
        return status


@register.filter
def iso_datetime(value: str) -> datetime | None:
    """An ISO 8601 string (as the socket protocol carries times) as an aware datetime, so the
    page can format it like any other: `{{ member.since|iso_datetime|time:"H:i" }}`."""
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None

"""The "In focus until 11:50" badge (members.status): pages ask `busy_until` once for the
members they list and pass the answer as `busy`; each member's badge reads it from there."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("members/_focus_badge.html")
def busy_badge(
    busy: Mapping[int, datetime] | None, member_id: int, name: str = ""
) -> dict[str, Any]:
    """The badge of one member, or nothing when they are not busy. `name` says whose it is,
    where several people share one line (a group conversation)."""
    return {"until": (busy or {}).get(member_id), "name": name}

from collections.abc import Iterable
from typing import Any

from django import template

from matching import selectors
from matching.models import GroupMember
from members.models import User

register = template.Library()


@register.simple_tag
def current_seat(user: Any) -> GroupMember | None:
    """The member's seat in the latest community round (for the dashboard card)."""
    return selectors.current_seat(user)


@register.filter
def partners(seat: GroupMember) -> list[User]:
    return selectors.partners_of(seat)


@register.filter
def names(users: Iterable[User]) -> str:
    """`{{ partners|names }}`: "Ana", "Ana and Ben", "Ana, Ben and Carla"."""
    return selectors.names_of(users)

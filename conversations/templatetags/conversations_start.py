"""Whether a "Send a message" button would work, for the pages of lower apps (the member
directory, a profile) that show one: they ask here rather than guess the rules."""

from collections.abc import Iterable
from typing import Any

from django import template

from conversations.selectors import conversation_openers
from members.models import Profile

register = template.Library()


@register.simple_tag(takes_context=True)
def conversation_openers_among(context: dict[str, Any], profiles: Iterable[Profile]) -> set[int]:
    """The ids of the members of `profiles` the page's member may write to (a fixed number
    of queries for the whole page)."""
    return conversation_openers(
        starter=context["request"].user, others=[profile.user for profile in profiles]
    )


@register.simple_tag(takes_context=True)
def may_write_to(context: dict[str, Any], profile: Profile) -> bool:
    return profile.user_id in conversation_openers_among(context, [profile])

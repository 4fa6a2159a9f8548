"""The blocks page's word on the member's standing (focus/standing.py), without the page's
view having to fetch it: `{% focus_standing as standing %}`."""

from typing import Any

from django import template
from django.utils import timezone

from focus.standing import standing_for

register = template.Library()


@register.simple_tag(takes_context=True)
def focus_standing(context: template.Context) -> dict[str, Any] | None:
    """Until when the member may only drop in, their no-shows that count, and whether they
    share their figures; None for a visitor."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return standing_for(user=user, now=timezone.now())

from typing import Any

from django import template

from core.navigation import ResolvedNavItem, navigation_for

register = template.Library()


@register.simple_tag(takes_context=True)
def main_navigation(context: dict[str, Any]) -> list[ResolvedNavItem]:
    request = context["request"]
    user = request.user
    return navigation_for(
        request.path, authenticated=user.is_authenticated, staff=bool(user.is_staff)
    )

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from conversations.selectors import unread_total


def conversations(request: HttpRequest) -> dict[str, Any]:
    """`unread_messages` for the header's "Messages" link, counted only by pages that show it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_messages": SimpleLazyObject(lambda: unread_total(user=user))}

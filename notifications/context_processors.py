from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from notifications.push import PUSH_BOUND_SESSION_KEY, vapid
from notifications.selectors import unread_count


def notifications(request: HttpRequest) -> dict[str, Any]:
    """`unread_notifications` for the header, counted only by pages that show it, and
    `push_rebind`: until this session's page has said which push subscription the browser
    holds (notifications.push.subscription_rebind), where to say it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # A request without a session (a template rendered with a bare request) has no browser.
    session = getattr(request, "session", None)
    bound = session is None or session.get(PUSH_BOUND_SESSION_KEY) or vapid() is None
    return {
        "unread_notifications": SimpleLazyObject(lambda: unread_count(user=user)),
        "push_rebind": "" if bound else reverse("notifications:push_rebind"),
    }

from collections.abc import Callable
from datetime import timedelta

from allauth.account.adapter import get_adapter
from allauth.usersessions.models import UserSession
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from members.signals import session_key_changed

# "Where you are signed in" (allauth's sessions page) shows when each session was last
# used; minutes are all it needs, and allauth's own middleware writes the row on every page.
USER_SESSION_RESOLUTION = timedelta(minutes=5)
# What this session last wrote to its row: [when (Unix seconds), session key, address, browser].
_LAST_NOTED = "_usersession_noted"


class UserSessionActivityMiddleware:
    """allauth's activity tracking (USERSESSIONS_TRACK_ACTIVITY), written at most once per
    USER_SESSION_RESOLUTION per session, and at once when the session's key, address or
    browser changes (allauth then sends `session_client_changed`, as it would)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if request.user.is_authenticated and session.session_key:
            now = int(timezone.now().timestamp())
            agent_length = UserSession._meta.get_field("user_agent").max_length
            seen = [
                session.session_key,
                get_adapter().get_client_ip(request),
                request.META.get("HTTP_USER_AGENT", "")[:agent_length],
            ]
            noted = session.get(_LAST_NOTED)
            if noted and noted[1] != session.session_key:
                session_key_changed.send(
                    sender=type(self),
                    user=request.user,
                    old_key=noted[1],
                    new_key=session.session_key,
                )
            if (
                not noted
                or noted[1:] != seen
                or now - noted[0] >= USER_SESSION_RESOLUTION.total_seconds()
            ):
                UserSession.objects.create_from_request(request)
                # Saved with the session after the response (one write per period).
                session[_LAST_NOTED] = [now, *seen]
        return self.get_response(request)

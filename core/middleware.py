import zoneinfo
from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.utils import timezone


class MemberTimeZoneMiddleware:
    """Show every time in the signed-in member's own zone; visitors get the community's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = getattr(request.user, "time_zone", None)
        # For this request only: the thread serves others next (and runs tests after).
        with timezone.override(zoneinfo.ZoneInfo(zone) if zone else None):
            return self.get_response(request)


# Finer than this tells nobody anything, and costs a write per page.
LAST_SEEN_RESOLUTION = timedelta(hours=1)


class LastSeenMiddleware:
    """Note when a signed-in member last used the site: at most one UPDATE an hour each."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            now = timezone.now()
            seen = getattr(user, "last_seen_at", None)
            if seen is None or now - seen >= LAST_SEEN_RESOLUTION:
                # Conditional: parallel requests of one member write once.
                get_user_model()._default_manager.filter(pk=user.pk).exclude(
                    last_seen_at__gt=now - LAST_SEEN_RESOLUTION
                ).update(last_seen_at=now)
                user.last_seen_at = now  # type: ignore[union-attr]
        return self.get_response(request)

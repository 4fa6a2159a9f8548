import zoneinfo
from collections.abc import Callable
from datetime import timedelta

from allauth.socialaccount.models import SocialApp
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.gzip import GZipMiddleware
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.deprecation import MiddlewareMixin
from django.views.defaults import page_not_found


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, except that a request whose cookie names a session that no longer exists
    leaves the browser's cookie alone, unless the request emptied the session itself (a
    logout's flush, which marks it modified).

    Django deletes such a cookie. But a sign-in replaces the session's key (`cycle_key`)
    while the same browser may have another request in flight with the old key: the service
    worker's update check, which browsers send on navigations, or another tab. Answered
    just after the sign-in's response, that request's deletion removed the new cookie, and
    the member landed on the login page right after "Successfully signed in" (seen on a
    confirmation of a new account). A stale cookie now costs a lookup that finds nothing,
    until the browser signs in again or the cookie expires with the session it named."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = getattr(request, "session", None)
        if (
            session is not None
            and settings.SESSION_COOKIE_NAME in request.COOKIES
            and session.accessed
            and not session.modified
            and session.is_empty()
        ):
            patch_vary_headers(response, ("Cookie",))
            return response
        return super().process_response(request, response)  # type: ignore[no-any-return]


# What is worth compressing: pages, the translations script, JSON, calendars. Images are
# compressed already, and static files come compressed from WhiteNoise.
COMPRESSIBLE = ("text/", "application/json", "application/javascript")


class TextGZipMiddleware(GZipMiddleware):
    """Django's gzip, for pages and other text answered whole. A member's page is five to
    fifteen times smaller compressed (a conversation of 50 messages: 106 kB, 7 kB), which on
    a slow mobile connection is most of its wait. Django's compression pads each answer by
    a random length, so that a page's size does not give away what it holds (BREACH): the
    reason it is done here rather than by the proxy. Files served as streams (photos,
    attachments, static files) are left as they are."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if response.streaming or not response.get("Content-Type", "").startswith(COMPRESSIBLE):
            return response
        return super().process_response(request, response)  # type: ignore[no-any-return]


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


class NotHereMiddleware(MiddlewareMixin):
    """Pages this site does not have, which would otherwise fail (a 500) rather than be
    missing (a 404):
    - a path with a NUL character: no address of the site has one, and a view that looked
      its part up in PostgreSQL failed (allauth's `/accounts/oidc/<provider>/login/`);
    - a sign-in provider whose credentials are not set (settings: SOCIALACCOUNT_PROVIDERS),
      whose addresses allauth installs with the provider's app, and whose views fail on the
      missing credentials (SocialApp.DoesNotExist).
    And a form's address opened as a page (a reload after its errors, a bookmark): Django
    answers 405 with an empty page; here it says so, with the way back."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        if "\x00" in request.path:
            return page_not_found(request, Http404())
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, SocialApp.DoesNotExist):
            return page_not_found(request, Http404())
        return None

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.status_code == 405 and request.method == "GET" and not response.content:
            page = render(request, "405.html", status=405)
            page["Allow"] = response["Allow"]
            return page
        return response

"""Who a socket's member is and the language they read: the handshake's cookies and
headers, read once.

In place of Channels' `AuthMiddlewareStack` (cookies, session, user: three middlewares,
each keeping a copy of the scope for as long as the socket lives). That stack also wraps
every message the socket sends, to save a session that changed and set its cookie (which
only an HTTP response can carry); sockets never change the session, and that check cost
every frame of a broadcast two lookups through a lazy object: with 1,000 sockets in a room,
a tenth of the web process's time. Here one middleware does the three steps, with one copy
of the scope, and leaves the socket's sends alone.

A socket lives for hours, so the scope keeps only what it needs later: the member, the
session's key (to notice the session ending) and the language, not the session object (with
the session engine's cache client) or the parsed cookies.
"""

import contextvars
from importlib import import_module
from types import SimpleNamespace
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from django.http.cookie import parse_cookie
from django.utils import translation


def _session_and_user(key: str | None) -> tuple[str | None, AbstractBaseUser | AnonymousUser]:
    session = import_module(settings.SESSION_ENGINE).SessionStore(key)
    # Django's own rules, the session's auth hash included.
    user = auth.get_user(SimpleNamespace(session=session))  # type: ignore[arg-type]
    return session.session_key, user


@database_sync_to_async
def _read(key: str | None) -> tuple[str | None, AbstractBaseUser | AnonymousUser]:
    # In a context of its own: a cache the session engine opens is kept per context, and
    # the socket's own context would hold it for as long as the socket lives.
    return contextvars.copy_context().run(_session_and_user, key)


def _language(cookies: dict[str, str], accept_language: str | None) -> str:
    """The language the member's pages are in (LocaleMiddleware's rules: the language
    cookie, then the browser's Accept-Language, then the site default)."""
    request = HttpRequest()
    request.COOKIES = cookies
    if accept_language is not None:
        request.META["HTTP_ACCEPT_LANGUAGE"] = accept_language
    return translation.get_language_from_request(request)


class SocketAuthMiddleware:
    """Puts `user` (the session's member, or AnonymousUser), `session_key` (None without a
    session) and `language` in the scope."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        cookies: dict[str, str] = {}
        accept_language = None
        for name, value in scope.get("headers", ()):
            if name == b"cookie" and not cookies:
                cookies = parse_cookie(value.decode("latin1"))
            elif name == b"accept-language":
                accept_language = value.decode("latin1")
        session_key, user = await _read(cookies.get(settings.SESSION_COOKIE_NAME))
        language = _language(cookies, accept_language)
        scope = dict(scope, user=user, session_key=session_key, language=language)
        return await self.inner(scope, receive, send)

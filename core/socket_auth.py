"""Who a socket's member is: the session cookie, read once at the handshake.

Channels' `AuthMiddlewareStack` also wraps every message the socket sends, to save a session
that changed and set its cookie (which only an HTTP response can carry). Sockets never
change the session, and that check cost every frame of a broadcast two lookups through a
lazy object: with 1,000 sockets in a room, a tenth of the web process's time.
"""

from importlib import import_module
from typing import Any

from channels.auth import AuthMiddleware
from channels.sessions import CookieMiddleware
from django.conf import settings


class SessionReadMiddleware:
    """Puts the session named by the cookie in `scope["session"]` (loaded when first read,
    by AuthMiddleware in the database thread), and leaves the socket's sends alone."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        store = import_module(settings.SESSION_ENGINE).SessionStore
        session = store(scope["cookies"].get(settings.SESSION_COOKIE_NAME))
        return await self.inner(dict(scope, session=session), receive, send)


def SocketAuthStack(inner: Any) -> Any:
    return CookieMiddleware(SessionReadMiddleware(AuthMiddleware(inner)))

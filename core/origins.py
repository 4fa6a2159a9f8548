"""Which pages may open a WebSocket to this site: the same origin only, compared the way
browsers define one (scheme, host and port), not the host alone, so a page served over plain
HTTP or from another port of the same host cannot ride a member's session cookie."""

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

Origin = tuple[str, str, int]

DEFAULT_PORTS = {"http": 80, "https": 443}
# The page's scheme for each socket scheme.
PAGE_SCHEMES = {"ws": "http", "wss": "https"}


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) of an origin or URL, None if it is not an http(s) one."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or DEFAULT_PORTS[parts.scheme]


def trusted_origins() -> set[Origin]:
    """The site's own address, and any origin an operator trusts for CSRF."""
    found = (origin_of(url) for url in [settings.SITE_URL, *settings.CSRF_TRUSTED_ORIGINS])
    return {origin for origin in found if origin is not None}


def _own_origin(scope: dict[str, Any]) -> Origin | None:
    """The origin of the page that would have been served at the socket's own address (its
    Host header, the scheme it came in with), if that host is an allowed one."""
    host = _header(scope, b"host")
    if host is None:
        return None
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    page_scheme = PAGE_SCHEMES.get(scope.get("scheme", "ws"), "http")
    return origin_of(f"{page_scheme}://{host}")


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            try:
                return str(value.decode("latin-1"))
            except UnicodeDecodeError:
                return None
    return None


def origin_allowed(scope: dict[str, Any], extra: Iterable[Origin] = ()) -> bool:
    origin_header = _header(scope, b"origin")
    origin = origin_of(origin_header) if origin_header else None
    if origin is None:
        return False
    allowed = trusted_origins() | set(extra)
    own = _own_origin(scope)
    if own is not None:
        allowed.add(own)
    return origin in allowed


class SameOriginValidator:
    """ASGI middleware: a WebSocket handshake from any other origin (or none) is refused
    before the application sees it (browsers get HTTP 403)."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)

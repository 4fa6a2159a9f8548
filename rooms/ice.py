"""The ICE servers a member's browser may use in a call, from the settings.

TURN credentials follow the time-limited scheme coturn checks with `use-auth-secret`
("TURN REST API"): the username is `<unix expiry>:<member id>` and the password is the
base64 HMAC-SHA1 of that username under the secret coturn shares with the site. coturn
recomputes it, so nothing is stored, and a leaked credential dies with its expiry.
"""

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone


def turn_credentials(
    *, user_id: int, secret: str, ttl_seconds: int, now: datetime | None = None
) -> tuple[str, str]:
    """`(username, credential)` valid for `ttl_seconds` from `now`."""
    expiry = int((now or timezone.now()).timestamp()) + ttl_seconds
    username = f"{expiry}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def ice_refresh_seconds() -> int:
    """How often a page in a call or on a stage asks for new credentials: at half their
    life, so that a connection it makes an hour in still gets through TURN."""
    return max(30, int(settings.TURN_CREDENTIAL_TTL.total_seconds()) // 2)


def ice_servers(*, user_id: int, now: datetime | None = None) -> list[dict[str, Any]]:
    """`RTCIceServer` objects for `RTCPeerConnection({iceServers})`. TURN only with a secret:
    a TURN server without credentials would only make browsers wait for it."""
    servers: list[dict[str, Any]] = []
    if settings.STUN_URLS:
        servers.append({"urls": list(settings.STUN_URLS)})
    if settings.TURN_URLS and settings.TURN_SECRET:
        username, credential = turn_credentials(
            user_id=user_id,
            secret=settings.TURN_SECRET,
            ttl_seconds=int(settings.TURN_CREDENTIAL_TTL.total_seconds()),
            now=now,
        )
        servers.append(
            {"urls": list(settings.TURN_URLS), "username": username, "credential": credential}
        )
    return servers

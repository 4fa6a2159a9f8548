"""The member socket every feature builds on (docs/websocket-protocol.md).

The origin is checked in coworking/asgi.py before any of this runs. Here: who the member is,
the language they hear, frames in (size, JSON, type, throttles) and errors out, the goodbyes
with their close codes, and handing the connection to its process's sweep (rooms.liveness).
"""

import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from members.models import User
from rooms import broadcast, liveness
from rooms.models import Room, RoomError
from rooms.sockets.frames import FrameError, decode, error_frame

PROTOCOL_VERSION = 1

# Chat and moderation frames per connection within the window (the default budget).
RATE_LIMIT = 10
RATE_WINDOW = 10.0

CLOSE_NOT_LOGGED_IN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_UNKNOWN_ROOM = 4404
CLOSE_FULL = 4409
# After acceptance, the server closes with these (after a `bye` frame saying why); a client
# must not reconnect on its own.
CLOSE_LOGGED_OUT = 4000
CLOSE_REMOVED = 4001
CLOSE_ROOM_CLOSED = 4002
CLOSE_ACCOUNT_CLOSED = 4003

BYE = {
    CLOSE_LOGGED_OUT: ("logged_out", _("You logged out. Log in again to come back.")),
    CLOSE_REMOVED: ("removed", _("A moderator removed you from this room.")),
    CLOSE_ROOM_CLOSED: ("closed", _("This room is closed.")),
    CLOSE_ACCOUNT_CLOSED: ("account", _("This account is closed.")),
}
BYE_CODES = {reason: code for code, (reason, _message) in BYE.items()}

Handler = Callable[[Any, dict[str, Any]], Awaitable[None]]


def _language(scope: dict[str, Any]) -> str:
    """The language the member's pages are in (LocaleMiddleware's rules: the language
    cookie, then the browser's Accept-Language, then the site default)."""
    request = HttpRequest()
    request.COOKIES = dict(scope.get("cookies") or {})
    for name, value in scope.get("headers") or ():
        if name == b"accept-language":
            request.META["HTTP_ACCEPT_LANGUAGE"] = value.decode("latin-1")
    return translation.get_language_from_request(request)


class MemberSocket(AsyncJsonWebsocketConsumer):
    """A logged-in member's socket, speaking the member's language, that can be closed from
    elsewhere: logout, account closed (group `user_<id>`), access revoked (rooms.liveness).

    A subclass maps frame types to handlers in `HANDLERS`; a handler refuses a frame by
    raising FrameError or RoomError, which ends as an error frame, never a closed socket.
    """

    HANDLERS: ClassVar[dict[str, Handler]] = {}

    language: str | None = None
    user: User
    # The room this socket is in, once the room let it in (`joined`); None for the lobby.
    room: Room | None = None
    joined = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.throttles: defaultdict[str, deque[float]] = defaultdict(deque)
        self.joined_groups: list[str] = []

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        # Error and goodbye messages are translated, like the page around the socket.
        if self.language is None:
            self.language = _language(self.scope)
        # Unlike Channels' own dispatch, no `aclose_old_connections()` hop to the database
        # thread before every event: a chat message to a 1,000-socket room would queue 1,000
        # hops there. Every database helper closes old connections itself.
        with translation.override(self.language):
            await handler(message)

    async def authenticate(self) -> User | None:
        """The session's member, or None after closing with 4401 (before accept)."""
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return None
        self.user = user
        return user

    def session_key(self) -> str | None:
        session = self.scope.get("session")
        return session.session_key if session is not None else None

    async def join_group(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.joined_groups.append(group)

    async def leave_groups(self) -> None:
        for group in self.joined_groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined_groups = []

    def watch(self) -> None:
        """Hand this connection to its process's sweep, which keeps its presence row fresh
        and rechecks its session and access; `unwatch` before the row goes."""
        assert self.room is not None
        liveness.watch(
            self.channel_name,
            liveness.Watched(
                room_id=self.room.pk, user_id=self.user.pk, session_key=self.session_key() or ""
            ),
        )

    def unwatch(self) -> None:
        liveness.forget(self.channel_name)

    # Frames in ----------------------------------------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if not self.joined:
            return
        try:
            content = decode(text_data)
        except FrameError as exc:
            await self.send_error(exc.code)
            return
        handler = self.HANDLERS.get(content["type"])
        if handler is None:
            await self.send_error("unknown_type")
            return
        try:
            await handler(self, content)
        except FrameError as exc:
            await self.send_error(exc.code)
        except RoomError as exc:
            await self.send_json(error_frame(exc.code, str(exc)))

    async def send_error(self, code: str) -> None:
        await self.send_json(error_frame(code))

    def rate_limit(self, bucket: str = "frames", limit: int | None = None) -> None:
        """Refuse (FrameError `rate_limited`) a frame past `limit` (default RATE_LIMIT) of
        its bucket on this connection within RATE_WINDOW seconds; a refused frame does not
        count."""
        times = self.throttles[bucket]
        now = time.monotonic()
        while times and times[0] <= now - RATE_WINDOW:
            times.popleft()
        if len(times) >= (RATE_LIMIT if limit is None else limit):
            raise FrameError("rate_limited")
        times.append(now)

    async def on_ping(self, content: dict[str, Any]) -> None:
        # No database: liveness, sessions and access are checked for all of this process's
        # sockets at once by rooms.liveness.
        await self.send_json({"type": "pong"})

    # Goodbyes -----------------------------------------------------------------------------

    async def say_bye(self, code: int) -> None:
        reason, message = BYE[code]
        await self.send_json({"type": "bye", "reason": reason, "message": str(message)})
        await self.close(code=code)

    async def session_ended(self, event: dict[str, Any]) -> None:
        key = self.session_key()
        if key and broadcast.session_digest(key) == event["session"]:
            await self.say_bye(CLOSE_LOGGED_OUT)

    async def account_closed(self, event: dict[str, Any]) -> None:
        await self.say_bye(CLOSE_ACCOUNT_CLOSED)

    async def access_revoked(self, event: dict[str, Any]) -> None:
        """From rooms.liveness: the session ended, the account closed, the member was
        removed or the room closed, and no broadcast said so."""
        await self.say_bye(BYE_CODES[event["reason"]])

    async def presence_restored(self, event: dict[str, Any]) -> None:
        """From rooms.liveness: this connection's presence row had been pruned (the process
        stalled) and is back. Nothing to do unless a feature kept state in the row."""

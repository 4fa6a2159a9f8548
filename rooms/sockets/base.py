"""The member socket every feature builds on (docs/websocket-protocol.md).

The origin is checked in coworking/asgi.py before any of this runs. Here: who the member is,
the language they hear, frames in (size, JSON, type, throttles) and errors out, the goodbyes
with their close codes, and handing the connection to its process's sweep (rooms.liveness).
"""

import asyncio
import contextlib
import logging
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from members.models import User
from rooms import broadcast, fanout, liveness
from rooms.models import Room, RoomError
from rooms.services import connection_access
from rooms.sockets import limits
from rooms.sockets.frames import FrameError, decode, error_frame

logger = logging.getLogger(__name__)

PROTOCOL_VERSION = 1

# Pings per connection in each RATE_WINDOW (fixed windows, as the members' budgets are, not
# sliding ones); every other kind of frame has a budget per member across all of their
# sockets (rooms.sockets.limits).
PING_LIMIT = 10
RATE_WINDOW = 10.0
# Refused frames a connection is told about within RATE_WINDOW; past that, a refused frame
# gets no error frame. No client of ours comes close; a flooder's refusals then cost the
# server no write, and it reads answers nobody needs no more.
REFUSALS_ANSWERED = 50
# Frames of any kind, read from one member's sockets in this process: PACE_PER_SECOND on
# average, PACE_BURST at once. Past that a socket's next frame waits. uvicorn reads a
# socket's next frame only once the consumer has taken the last one, so a flooder waits in
# its own TCP buffers and the process goes on serving everyone else. No client of ours comes
# close: calls, the busiest, have a budget of 30 frames a second, and a call starting among
# six people sends its offers, answers and candidates in a burst of a hundred or so.
PACE_PER_SECOND = 200.0
PACE_BURST = 400.0
# {user_id: (tokens, when counted)}: a token bucket per member, which may go into debt.
_paces: dict[int, tuple[float, float]] = {}
# One frame at a time per member in this process, across their sockets: the database work a
# flooder's ten sockets ask for when their budgets open (a page of history, a message)
# queues behind itself, not in front of everyone else's messages on the database thread.
# Calls (which come in bursts when a call starts, and relay rather than store) and pings
# do not take turns.
_turns: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
UNSPACED_TYPES = frozenset({"ping"})
# A member who ran a budget dry (limits.BUDGETS) in this window or the last one is flooding:
# their frames of that kind then leave at least SPACING_SECONDS apart, during their turn,
# so that a budget that opens again lets its frames through over a few seconds rather than
# all at once in front of everyone else's. Nobody else is slowed down.
SPACING_SECONDS = 0.25
# {user_id: time.monotonic() when their last spaced frame went}
_spaced: dict[int, float] = {}

CLOSE_NOT_LOGGED_IN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_UNKNOWN_ROOM = 4404
CLOSE_FULL = 4409
CLOSE_TOO_MANY_SOCKETS = 4429
# A handler failed unexpectedly while the connection was being set up (WebSocket's own
# "internal error").
CLOSE_SERVER_ERROR = 1011
# After acceptance, the server closes with these (after a `bye` frame saying why); a client
# must not reconnect on its own.
CLOSE_LOGGED_OUT = 4000
CLOSE_REMOVED = 4001
CLOSE_ROOM_CLOSED = 4002
CLOSE_ACCOUNT_CLOSED = 4003
CLOSE_PASSWORD_CHANGED = 4004
CLOSE_NO_ACCESS = 4005
CLOSE_FILLED_UP = 4006

BYE = {
    CLOSE_LOGGED_OUT: ("logged_out", _("You logged out. Log in again to come back.")),
    CLOSE_REMOVED: ("removed", _("A moderator removed you from this room.")),
    CLOSE_ROOM_CLOSED: ("closed", _("This room is closed.")),
    CLOSE_ACCOUNT_CLOSED: ("account", _("This account is closed.")),
    CLOSE_PASSWORD_CHANGED: (
        "password",
        _("Your password changed. Reload the page to come back (elsewhere, log in again)."),
    ),
    CLOSE_NO_ACCESS: ("no_access", _("You no longer have access to this room.")),
    CLOSE_FILLED_UP: (
        "full",
        _("The room filled up while your connection was away. Reload the page to try again."),
    ),
}
BYE_CODES = {reason: code for code, (reason, _message) in BYE.items()}
# Said before closing with CLOSE_TOO_MANY_SOCKETS. Unlike the codes above, the page tries
# again later by itself: the member may close other tabs meanwhile.
TOO_MANY_SOCKETS = _(
    "Too many of your tabs and devices are connected at once. Close some: this page "
    "connects again by itself."
)

Handler = Callable[[Any, dict[str, Any]], Awaitable[None]]

# Blocks are rare: a member without any shares this one empty set.
NOBODY: frozenset[int] = frozenset()

# Group events whose handlers pass on a frame made elsewhere and say nothing of their own:
# no language to switch to (the switch was a tenth of a 1,000-socket broadcast's time).
PASSED_ON = frozenset(
    {"chat.message", "chat.edited", "chat.deleted", "chat.reactions", "presence.update"}
)


def as_now(user: User) -> User:
    """The member as the database has them now (call in the database thread): a privileged
    frame is judged on today's staff rights, never on those the socket opened with."""
    return User.objects.get(pk=user.pk)


def _counted(counter: tuple[int, int]) -> tuple[int, int]:
    """A (window, count) counter with one more counted; the count starts again at each
    RATE_WINDOW."""
    window = int(time.monotonic() // RATE_WINDOW)
    return window, (counter[1] + 1 if counter[0] == window else 1)


class MemberSocket(AsyncJsonWebsocketConsumer):
    """A logged-in member's socket, speaking the member's language, that can be closed from
    elsewhere: logout, account closed (group `user_<id>`), access revoked (rooms.liveness).

    A subclass maps frame types to handlers in `HANDLERS`; a handler refuses a frame by
    raising FrameError or RoomError, which ends as an error frame, never a closed socket.
    """

    HANDLERS: ClassVar[dict[str, Handler]] = {}
    # No channel of its own from Channels (no such layer): what is meant for this socket
    # comes through its process's inbox (rooms.fanout), and `channel_name` is its address
    # there. `layer` is the channel layer it hears its groups on.
    channel_layer_alias = None  # type: ignore[assignment]
    layer: Any

    user: User
    claimed = False
    # Whom this member must not see (blocks either way), refreshed by `access_check`.
    blocked: frozenset[int] | set[int] = NOBODY
    # The room this socket is in, once the room let it in (`joined`); None for the lobby.
    room: Room | None = None
    joined = False
    # (RATE_WINDOW's number, how many in it) of refused frames and of pings: two integers,
    # where a deque of times cost each socket most of a kilobyte.
    refusals = (0, 0)
    pings = (0, 0)
    # Events of the groups relayed by rooms.fanout that wait for this socket's turn (its
    # connection being set up, or an event before them that had to wait); None when idle.
    fanout_backlog: deque[dict[str, Any]] | None = None
    connecting = True
    # The connection is going (its `websocket.disconnect` came): relayed events stop.
    fanout_gone = False
    # This side closed the connection: frames after that are dropped, not refused.
    closing = False
    # The ASGI server's own send, beneath Channels' (`send_text`).
    socket_send: Callable[[dict[str, Any]], Awaitable[None]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.joined_groups: list[str] = []
        self.fanout_groups: list[str] = []
        self.handling = asyncio.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Sending to a client that has gone is no failure: the ASGI server raises an OSError
        (uvicorn's ClientDisconnected), and the connection's `websocket.disconnect` is on its
        way to clean up. Dropped here, below every kind of send, so that a flood cut off, or a
        broadcast reaching a member who just left, does not log a traceback per frame."""

        async def send_while_there(message: Any) -> None:
            if self.closing and message["type"] == "websocket.send":
                return  # after our close, the server refuses frames (RuntimeError)
            with contextlib.suppress(OSError):
                await send(message)

        self.scope = scope
        self.channel_layer = None
        self.base_send = send_while_there
        self.socket_send = send
        self.layer = get_channel_layer()
        # Held, like a crowd's events, until the connection is set up (`websocket_connect`).
        self.channel_name = await fanout.register(self.layer, self)
        # What Channels' own `__call__` does for a consumer without a channel, but reading
        # the next message in this task: Channels reads it in a task of its own, through
        # `asyncio.wait`, which kept a task, a future and their callbacks per idle socket.
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass
        finally:
            fanout.unregister(self)

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        # Unlike Channels' own dispatch, no `aclose_old_connections()` hop to the database
        # thread before every event: a chat message to a 1,000-socket room would queue 1,000
        # hops there. Every database helper closes old connections itself.
        try:
            if message["type"] in PASSED_ON:
                await handler(message)
                return
            # Channels handles a socket's own messages one at a time; the crowd events that
            # may change what it does (access checks, goodbyes) take the same turn, so that,
            # say, a call being joined and a removal never interleave.
            async with self.handling:
                if self.fanout_gone and not message["type"].startswith("websocket."):
                    return  # an event that waited for the turn its goodbye took
                # Error and goodbye messages are translated, like the page around the socket.
                # Switched only when it differs: a language switched in the socket's task
                # leaves the task's context holding storage for it (asgiref's Local) for
                # the socket's life, and most members read the site's default.
                language = self.scope.get("language") or settings.LANGUAGE_CODE
                switch = (
                    contextlib.nullcontext()
                    if language == translation.get_language()
                    else translation.override(language)
                )
                with switch:
                    await handler(message)
        except StopConsumer:
            raise
        except Exception:
            await self._failed(message["type"])

    async def _failed(self, kind: str) -> None:
        """A handler raised what no rule of the protocol expects (a bug, the database gone):
        log it and keep the member's presence honest. Frames refused by the rules never come
        here (`receive` answers them)."""
        logger.exception("Socket %s failed handling %s", self.channel_name, kind)
        if kind == "websocket.connect":
            # Undo whatever the connection had set up (presence, groups) and refuse it.
            try:
                await self.disconnect(CLOSE_SERVER_ERROR)
            finally:
                await self.close(code=CLOSE_SERVER_ERROR)
        elif kind == "websocket.disconnect":
            raise StopConsumer
        # A broadcast this socket could not pass on is lost to it alone; the socket stays.

    async def authenticate(self) -> User | None:
        """The session's member, holding one of their `limits.MAX_SOCKETS` places, or None
        after closing: 4401 not logged in (before accept), 4429 too many sockets (after a
        `bye` saying so)."""
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return None
        self.user = user
        if not await limits.socket_claim(user_id=user.pk, channel_name=self.channel_name):
            # Accepted only to say why: a refused handshake looks to the page like a network
            # failure, and it would say it is reconnecting, forever.
            await self.accept()
            message = str(TOO_MANY_SOCKETS)
            await self.send_json({"type": "bye", "reason": "too_many_sockets", "message": message})
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return None
        self.claimed = True
        return user

    async def release(self) -> None:
        """Give back the socket's place (on disconnect)."""
        if self.claimed:
            self.claimed = False
            await limits.socket_release(user_id=self.user.pk, channel_name=self.channel_name)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        self.closing = True
        await super().close(code=code, reason=reason)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        self.fanout_gone = True
        self.fanout_backlog = None
        await super().websocket_disconnect(message)

    async def send_text(self, text: str) -> None:
        """Write a ready-made frame: the shortest way to the socket, for broadcasts."""
        if self.closing:
            return
        # A `try` costs nothing when nothing is raised; `suppress` is a context manager.
        try:  # noqa: SIM105
            await self.socket_send({"type": "websocket.send", "text": text})
        except OSError:
            pass  # gone: as in `send_while_there`

    def session_key(self) -> str | None:
        return self.scope.get("session_key")

    async def join_group(self, group: str, *, crowd: bool = False) -> None:
        """Hear `group`'s events. `crowd` for the groups of a crowd (a room, the lobby,
        a stage): their events reach the process once and its sockets in one loop
        (rooms.fanout); held, while the connection is being set up, until it is."""
        if crowd:
            self.fanout_groups.append(group)
            await fanout.join(self.layer, group, self, hold=self.connecting)
        else:
            await fanout.hear(self.layer, group, self)
            self.joined_groups.append(group)

    async def leave_group(self, group: str) -> None:
        """Stop hearing one group joined with `join_group` (not a crowd's)."""
        if group in self.joined_groups:
            self.joined_groups.remove(group)
            await fanout.stop_hearing(self.layer, group, self)

    async def leave_groups(self) -> None:
        """Leave every group, each whatever became of the others: one that failed (Redis
        away for a moment) must not keep this socket in the rest."""
        leaving = [(fanout.stop_hearing, group) for group in self.joined_groups]
        leaving += [(fanout.leave, group) for group in self.fanout_groups]
        self.joined_groups, self.fanout_groups = [], []
        for leave, group in leaving:
            try:
                await leave(self.layer, group, self)
            except Exception:
                logger.exception("Socket %s could not leave %s", self.channel_name, group)

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        await super().websocket_connect(message)
        self.connecting = False
        if self.fanout_backlog is not None:
            fanout.resume(self)

    def watch(self) -> None:
        """Hand this connection to its process's sweep, which keeps its presence row (if in
        a room) and its socket place fresh and rechecks its session and access; `unwatch`
        before the row goes."""
        liveness.watch(
            self.channel_name,
            liveness.Watched(
                room_id=self.room.pk if self.room is not None else None,
                user_id=self.user.pk,
                session_key=self.session_key() or "",
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
        await self.pace()
        try:
            content = decode(text_data)
        except FrameError as exc:
            await self.refuse(exc.code)
            return
        handler = self.HANDLERS.get(content["type"])
        if handler is None:
            await self.refuse("unknown_type")
            return
        try:
            if content["type"] in UNSPACED_TYPES or content["type"].startswith("call."):
                await handler(self, content)
            else:
                async with self.turn():
                    await handler(self, content)
        except FrameError as exc:
            await self.refuse(exc.code, about=content)
        except RoomError as exc:
            await self.refuse(exc.code, str(exc), about=content)
        except Exception:
            logger.exception("Socket %s failed on a %r frame", self.channel_name, content["type"])
            await self.send_json(error_frame("server_error", about=content))

    def turn(self) -> asyncio.Lock:
        """The member's turn in this process (`_turns`)."""
        turn = _turns.get(self.user.pk)
        if turn is None:
            turn = _turns[self.user.pk] = asyncio.Lock()
        return turn

    async def pace(self) -> None:
        """Wait, if need be, until the member is within PACE_PER_SECOND again."""
        now = time.monotonic()
        tokens, counted = _paces.get(self.user.pk, (PACE_BURST, now))
        tokens = min(PACE_BURST, tokens + (now - counted) * PACE_PER_SECOND) - 1
        if len(_paces) > 10_000:  # forget the members whose bucket is full again
            for user_id, (left, at) in list(_paces.items()):
                if left + (now - at) * PACE_PER_SECOND >= PACE_BURST:
                    del _paces[user_id]
        _paces[self.user.pk] = (tokens, now)
        if tokens < 0:
            await asyncio.sleep(-tokens / PACE_PER_SECOND)

    async def refuse(
        self, code: str, message: str | None = None, *, about: dict[str, Any] | None = None
    ) -> None:
        """Answer a refused frame with an error frame, up to REFUSALS_ANSWERED of them per
        RATE_WINDOW on this connection."""
        self.refusals = _counted(self.refusals)
        if self.refusals[1] <= REFUSALS_ANSWERED:
            await self.send_json(error_frame(code, message, about=about))

    async def send_error(self, code: str) -> None:
        await self.send_json(error_frame(code))

    async def spend(self, kind: str) -> None:
        """Count this frame against the member's budget for `kind` (limits.BUDGETS), shared
        by all of their sockets; FrameError `rate_limited` once it is spent. A member who
        ran it dry lately waits for their spacing (SPACING_SECONDS)."""
        if not await limits.frame_allowed(user_id=self.user.pk, kind=kind):
            raise FrameError("rate_limited")
        if limits.ran_dry_lately(user_id=self.user.pk, kind=kind):
            now = time.monotonic()
            due = max(now, _spaced.get(self.user.pk, 0.0) + SPACING_SECONDS)
            if len(_spaced) > 10_000:
                for user_id, at in list(_spaced.items()):
                    if at < now - SPACING_SECONDS:
                        del _spaced[user_id]
            _spaced[self.user.pk] = due
            if due > now:
                await asyncio.sleep(due - now)

    async def on_ping(self, content: dict[str, Any]) -> None:
        # No database, no shared budget: liveness, sessions and access are checked for all
        # of this process's sockets at once by rooms.liveness.
        pings = _counted(self.pings)
        if pings[1] > PING_LIMIT:
            raise FrameError("rate_limited")  # not counted
        self.pings = pings
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

    async def password_changed(self, event: dict[str, Any]) -> None:
        """Sessions opened with the old password are over, on every device; the one that
        changed it has a new key, so its sockets too start again from a reload."""
        await self.say_bye(CLOSE_PASSWORD_CHANGED)

    async def access_revoked(self, event: dict[str, Any]) -> None:
        """From rooms.liveness: the session ended, the account closed, the member was
        removed or the room closed, and no broadcast said so."""
        await self.say_bye(BYE_CODES[event["reason"]])

    async def access_check(self, event: dict[str, Any]) -> None:
        """Something this socket's access depends on changed (rooms.signals): the account
        (staff rights, password, closed), a block, a private room's invitation list. Look
        again, and go, or carry on as the member is now."""
        if not self.joined_groups:
            return  # not set up yet, or already gone
        access = await database_sync_to_async(connection_access)(
            user_id=self.user.pk,
            session_key=self.session_key() or "",
            room_id=self.room.pk if self.room is not None else None,
        )
        if access.revoked is not None:
            await self.say_bye(BYE_CODES[access.revoked])
            return
        assert access.user is not None
        self.user = access.user
        self.blocked = frozenset(access.blocked) or NOBODY

    async def presence_restored(self, event: dict[str, Any]) -> None:
        """From rooms.liveness: this connection's presence row had been pruned (the process
        stalled) and is back. Nothing to do unless a feature kept state in the row."""

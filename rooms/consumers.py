"""The room socket, protocol v1 (docs/websocket-protocol.md)."""

import asyncio
import time
import uuid
from collections import deque
from datetime import timedelta
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from members.models import User
from members.services import blocked_user_ids
from rooms import broadcast, calls, liveness, presence
from rooms.ice import ice_servers
from rooms.models import CAFETERIA_SLUG, Message, Presence, Room, RoomError, RoomParticipation
from rooms.selectors import history
from rooms.services import (
    message_delete,
    message_edit,
    message_post,
    room_can_enter,
    room_enter,
    room_member_mute,
    room_member_remove,
)

PROTOCOL_VERSION = 1
# The consumer's limit, answered with an error frame: room for a call's SDP with audio,
# video and a shared screen. The server's own limit (uvicorn's --ws-max-size, 64 KiB, in the
# Dockerfile's command) closes the connection of anyone sending more.
MAX_FRAME_BYTES = 32 * 1024
PAGE_SIZE = 50
# Chat and moderation frames per connection within the window.
RATE_LIMIT = 10
RATE_WINDOW = 10.0
# Call frames per connection within the window: setting up a call with five peers takes a
# few dozen (offers, answers, ICE candidates); this only stops floods.
CALL_RATE_LIMIT = 300
# Signalling payloads (characters). A browser's SDP for audio, video and a screen is a few
# thousand; an ICE candidate line is under 200.
SDP_MAX_LENGTH = 16_000
CANDIDATE_MAX_LENGTH = 1_000
ICE_FIELD_MAX_LENGTH = 256
MUTE_MAX_MINUTES = 24 * 60
# Lobby pages hear at most one "something changed" per this many seconds.
LOBBY_INTERVAL = 2.0

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

ERRORS = {
    "invalid_frame": _("This frame is not valid."),
    "frame_too_large": _("This frame is too large."),
    "invalid_json": _("This frame is not valid JSON."),
    "unknown_type": _("This frame type is unknown."),
    "invalid_fields": _("This frame has missing or wrong fields."),
    "rate_limited": _("Too many messages: wait a few seconds."),
    "not_found": _("This message does not exist."),
    "no_member": _("This member does not exist."),
    "sdp_too_large": _("This call description is too large."),
}


class FrameError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# Database helpers: each one small, each one calling services ------------------------------


@database_sync_to_async
def _enter(
    slug: str, user: User, channel_name: str
) -> tuple[int, None] | tuple[None, dict[str, Any]]:
    """Everything a connection needs from the database before it is accepted, in one trip
    to the database thread (a thousand members arriving make a thousand of these): the
    room, the access rules, the entry and this connection's presence, and `hello`.
    Returns (close code, None) to refuse, or (None, what the consumer needs)."""
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        return CLOSE_UNKNOWN_ROOM, None
    if not room_can_enter(room=room, user=user):
        return CLOSE_FORBIDDEN, None
    if presence.room_is_full(room=room, user=user):
        return CLOSE_FULL, None
    try:
        participation = room_enter(room=room, user=user)
    except RoomError:
        return CLOSE_FORBIDDEN, None
    row = presence.presence_add(room=room, user=user, channel_name=channel_name)
    latest = history(room=room, viewer=user, limit=PAGE_SIZE)
    muted = participation.is_muted() and participation.muted_until
    return None, {
        "room": room,
        "blocked": blocked_user_ids(user=user),
        "hello": {
            "type": "hello",
            "v": PROTOCOL_VERSION,
            "room": {"id": room.pk, "slug": room.slug, "name": room.title},
            "you": {
                "id": user.pk,
                "name": user.name,
                "status": row.status,
                "staff": user.is_staff,
                "muted_until": muted.isoformat() if muted else None,
            },
            "presence": presence.presence_snapshot(room=room, viewer=user),
            "history": [broadcast.message_data(m) for m in reversed(latest)],
        },
    }


@database_sync_to_async
def _leave(channel_name: str) -> bool:
    return presence.presence_remove(channel_name=channel_name)


@database_sync_to_async
def _set_status(room: Room, user: User, status: str) -> bool:
    return bool(presence.presence_set_status(room=room, user=user, status=status))


def _member_get(user_id: int) -> User:
    member = User.objects.filter(pk=user_id).first()
    if member is None:
        raise FrameError("no_member")
    return member


@database_sync_to_async
def _mute(room: Room, by: User, user_id: int, minutes: int) -> RoomParticipation:
    until = timezone.now() + timedelta(minutes=minutes) if minutes else None
    return room_member_mute(room=room, member=_member_get(user_id), by=by, until=until)


@database_sync_to_async
def _remove(room: Room, by: User, user_id: int) -> RoomParticipation:
    return room_member_remove(room=room, member=_member_get(user_id), by=by)


@database_sync_to_async
def _call_join(
    room: Room,
    user: User,
    channel_name: str,
    table: int | None,
    audio: bool,
    video: bool,
    replace: bool,
) -> calls.Seat:
    return calls.call_join(
        room=room,
        user=user,
        channel_name=channel_name,
        table=table,
        audio=audio,
        video=video,
        replace=replace,
    )


_call_leave = database_sync_to_async(calls.call_leave)
_call_target = database_sync_to_async(calls.call_target)
_call_media = database_sync_to_async(calls.call_media)


@database_sync_to_async
def _post(room: Room, user: User, text: str, client_id: uuid.UUID) -> tuple[Message, bool]:
    return message_post(room=room, author=user, text=text, client_id=client_id)


def _message_get(room: Room, message_id: int) -> Message:
    message = Message.objects.select_related("room", "author").filter(room=room, pk=message_id)
    found = message.first()
    if found is None:
        raise FrameError("not_found")
    return found


@database_sync_to_async
def _edit(room: Room, user: User, message_id: int, text: str) -> Message:
    return message_edit(message=_message_get(room, message_id), editor=user, text=text)


@database_sync_to_async
def _delete(room: Room, user: User, message_id: int) -> Message | None:
    message = _message_get(room, message_id)
    return message if message_delete(message=message, by=user) else None


@database_sync_to_async
def _history(
    room: Room, user: User, *, before_id: int | None = None, after_id: int | None = None
) -> dict[str, Any]:
    page = history(
        room=room, viewer=user, before_id=before_id, after_id=after_id, limit=PAGE_SIZE + 1
    )
    has_more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    if after_id is None:
        page.reverse()  # newest first from the selector; the protocol sends oldest first
    return {
        "type": "history.page",
        "messages": [broadcast.message_data(m) for m in page],
        "has_more": has_more,
    }


# Frame validation -------------------------------------------------------------------------


def _positive_int(content: dict[str, Any], key: str) -> int:
    value = content.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise FrameError("invalid_fields")
    return value


def _text(content: dict[str, Any]) -> str:
    value = content.get("text")
    if not isinstance(value, str):
        raise FrameError("invalid_fields")
    return value


def _minutes(content: dict[str, Any]) -> int:
    value = content.get("minutes")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MUTE_MAX_MINUTES:
        raise FrameError("invalid_fields")
    return value


def _bool(content: dict[str, Any], key: str, default: bool | None = None) -> bool:
    value = content.get(key, default)
    if not isinstance(value, bool):
        raise FrameError("invalid_fields")
    return value


def _table(content: dict[str, Any]) -> int | None:
    value = content.get("table")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= calls.TABLE_MAX:
        raise FrameError("invalid_fields")
    return value


def _sdp(content: dict[str, Any]) -> str:
    value = content.get("sdp")
    if not isinstance(value, str) or not value:
        raise FrameError("invalid_fields")
    if len(value) > SDP_MAX_LENGTH:
        raise FrameError("sdp_too_large")
    return value


def _short_string_or_null(candidate: dict[str, Any], key: str) -> str | None:
    value = candidate.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > ICE_FIELD_MAX_LENGTH:
        raise FrameError("invalid_fields")
    return value


def _candidate(content: dict[str, Any]) -> dict[str, Any] | None:
    """An `RTCIceCandidateInit`, rebuilt from its known fields so nothing else is relayed;
    null is the end of candidates."""
    if "candidate" not in content:
        raise FrameError("invalid_fields")
    value = content["candidate"]
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FrameError("invalid_fields")
    line = value.get("candidate")
    if not isinstance(line, str) or len(line) > CANDIDATE_MAX_LENGTH:
        raise FrameError("invalid_fields")
    index = value.get("sdpMLineIndex")
    if index is not None and (
        isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= 65535
    ):
        raise FrameError("invalid_fields")
    return {
        "candidate": line,
        "sdpMid": _short_string_or_null(value, "sdpMid"),
        "sdpMLineIndex": index,
        "usernameFragment": _short_string_or_null(value, "usernameFragment"),
    }


def _uuid(content: dict[str, Any], key: str) -> uuid.UUID:
    value = content.get(key)
    if not isinstance(value, str):
        raise FrameError("invalid_fields")
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise FrameError("invalid_fields") from exc


def _language(scope: dict[str, Any]) -> str:
    """The language the member's pages are in (LocaleMiddleware's rules: the language
    cookie, then the browser's Accept-Language, then the site default)."""
    request = HttpRequest()
    request.COOKIES = dict(scope.get("cookies") or {})
    for name, value in scope.get("headers") or ():
        if name == b"accept-language":
            request.META["HTTP_ACCEPT_LANGUAGE"] = value.decode("latin-1")
    return translation.get_language_from_request(request)


class _MemberSocket(AsyncJsonWebsocketConsumer):
    """A member's socket, speaking the member's language, that can be closed from elsewhere:
    logout, account closed (group `user_<id>`)."""

    language: str | None = None

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        # Error and goodbye messages are translated, like the page around the socket.
        if self.language is None:
            self.language = _language(self.scope)
        # Unlike Channels' own dispatch, no `aclose_old_connections()` hop to the database
        # thread before every event: a chat message to a 1,000-socket room would queue 1,000
        # hops there. Every database helper here closes old connections itself.
        with translation.override(self.language):
            await handler(message)

    async def say_bye(self, code: int) -> None:
        reason, message = BYE[code]
        await self.send_json({"type": "bye", "reason": reason, "message": str(message)})
        await self.close(code=code)

    async def session_ended(self, event: dict[str, Any]) -> None:
        session = self.scope.get("session")
        key = session.session_key if session is not None else None
        if key and broadcast.session_digest(key) == event["session"]:
            await self.say_bye(CLOSE_LOGGED_OUT)

    async def account_closed(self, event: dict[str, Any]) -> None:
        await self.say_bye(CLOSE_ACCOUNT_CLOSED)


class RoomConsumer(_MemberSocket):
    """One member's connection to one room. Refusals happen before `accept()`."""

    room: Room | None = None
    user: User
    blocked: set[int]

    async def connect(self) -> None:
        self.room = None
        self.joined = False
        self.blocked = set()
        self.chat_times: deque[float] = deque()
        self.call_times: deque[float] = deque()
        # The table this connection sits at, and its peer id there (rooms/calls.py).
        self.table: int | None = None
        self.peer: int | None = None
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return
        refusal, joined = await _enter(
            self.scope["url_route"]["kwargs"]["slug"], user, self.channel_name
        )
        if joined is None:
            await self.close(code=refusal)
            return
        room = joined["room"]
        self.user, self.room, self.joined = user, room, True
        session = self.scope.get("session")
        liveness.watch(
            self.channel_name,
            liveness.Watched(
                room_id=room.pk,
                user_id=user.pk,
                session_key=(session.session_key if session is not None else None) or "",
            ),
        )
        # A change between the snapshot in `hello` and joining the group is announced by
        # its batch a second later, by when this socket is in the group.
        await self.channel_layer.group_add(broadcast.room_group(room.pk), self.channel_name)
        await self.channel_layer.group_add(broadcast.user_group(user.pk), self.channel_name)
        await self.accept()
        self.blocked = joined["blocked"]
        await self.send_json(joined["hello"])
        broadcast.presence_mark(room_id=room.pk, user_id=user.pk)

    async def disconnect(self, code: int) -> None:
        if self.room is None:
            return
        await self.call_depart()
        for group in (broadcast.room_group(self.room.pk), broadcast.user_group(self.user.pk)):
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.joined:
            liveness.forget(self.channel_name)
            if await _leave(self.channel_name):
                broadcast.presence_mark(room_id=self.room.pk, user_id=self.user.pk)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if not self.joined:
            return
        if text_data is None:
            await self.send_error("invalid_frame")
            return
        if len(text_data.encode()) > MAX_FRAME_BYTES:
            await self.send_error("frame_too_large")
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            await self.send_error("invalid_json")
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_error("invalid_fields")
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
            await self.send_json({"type": "error", "code": exc.code, "message": str(exc)})

    async def send_error(self, code: str) -> None:
        await self.send_json({"type": "error", "code": code, "message": str(ERRORS[code])})

    async def say_bye(self, code: int) -> None:
        await self.call_depart()
        await super().say_bye(code)

    def _rate_limit(self, times: deque[float] | None = None, limit: int = RATE_LIMIT) -> None:
        times = self.chat_times if times is None else times
        now = time.monotonic()
        while times and times[0] <= now - RATE_WINDOW:
            times.popleft()
        if len(times) >= limit:
            raise FrameError("rate_limited")
        times.append(now)

    def _call_rate_limit(self) -> None:
        # Signalling has its own budget, so a call setting up never eats into chat's.
        self._rate_limit(self.call_times, CALL_RATE_LIMIT)

    async def call_depart(self) -> None:
        """Leave the call, if in one: the peers hear `call.peer_left` at once."""
        if self.table is None:
            return
        self.table = self.peer = None
        departure = await _call_leave(channel_name=self.channel_name)
        if departure is not None:
            await broadcast.call_peer_left(departure=departure)
            broadcast.presence_mark(room_id=departure.room_id, user_id=departure.user_id)

    async def call_left(self, reason: str) -> None:
        """This connection is out of its call without having asked (the server dropped it,
        or another connection of the member took its seat)."""
        self.table = self.peer = None
        await self.send_json({"type": "call.left", "reason": reason})

    async def _in_call(self) -> None:
        if self.table is None:
            raise calls.NotInCall

    # Client frames ---------------------------------------------------------------------

    async def on_chat_send(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        text, client_id = _text(content), _uuid(content, "client_id")
        self._rate_limit()
        message, created = await _post(self.room, self.user, text, client_id)
        # Stored (committed) before anyone hears of it.
        await self.send_json({"type": "chat.ack", "client_id": str(client_id), "id": message.pk})
        if created:
            await broadcast.chat_message(message=message, sender_channel=self.channel_name)

    async def on_chat_edit(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        message_id, text = _positive_int(content, "id"), _text(content)
        self._rate_limit()
        await broadcast.chat_edited(message=await _edit(self.room, self.user, message_id, text))

    async def on_chat_delete(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        message_id = _positive_int(content, "id")
        self._rate_limit()
        message = await _delete(self.room, self.user, message_id)
        if message is not None:
            await broadcast.chat_deleted(message=message)

    async def on_history_before(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        before_id = _positive_int(content, "before_id")
        await self.send_json(await _history(self.room, self.user, before_id=before_id))

    async def on_history_since(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        after_id = 0 if content.get("after_id") == 0 else _positive_int(content, "after_id")
        await self.send_json(await _history(self.room, self.user, after_id=after_id))

    async def on_presence_status(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        status = content.get("status")
        if status not in Presence.Status.values:
            raise FrameError("invalid_fields")
        if await _set_status(self.room, self.user, str(status)):
            broadcast.presence_mark(room_id=self.room.pk, user_id=self.user.pk)

    async def on_member_mute(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        user_id, minutes = _positive_int(content, "user_id"), _minutes(content)
        self._rate_limit()
        participation = await _mute(self.room, self.user, user_id, minutes)
        until = participation.muted_until
        await broadcast.member_muted(
            room_id=self.room.pk, user_id=user_id, until=until.isoformat() if until else None
        )
        action = "mute" if minutes else "unmute"
        await self.send_json({"type": "moderation.done", "action": action, "user_id": user_id})

    async def on_member_remove(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        user_id = _positive_int(content, "user_id")
        self._rate_limit()
        await _remove(self.room, self.user, user_id)
        await broadcast.member_removed(room_id=self.room.pk, user_id=user_id)
        await self.send_json({"type": "moderation.done", "action": "remove", "user_id": user_id})

    async def on_ping(self, content: dict[str, Any]) -> None:
        # No database: liveness, sessions and access are checked for all of this process's
        # sockets at once by rooms.liveness.
        await self.send_json({"type": "pong"})

    async def access_revoked(self, event: dict[str, Any]) -> None:
        """From rooms.liveness: the session ended, the account closed, the member was
        removed or the room closed, and no broadcast said so."""
        await self.say_bye(BYE_CODES[event["reason"]])

    async def presence_restored(self, event: dict[str, Any]) -> None:
        """From rooms.liveness: this connection's presence row had been pruned (the process
        stalled) and is back; a seat it had is gone, and its peers heard so."""
        if self.table is not None:
            await self.call_left("dropped")

    async def on_call_join(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        self._call_rate_limit()
        table, audio, video = _table(content), _bool(content, "audio"), _bool(content, "video")
        replace = _bool(content, "replace", default=False)
        if self.table is not None:
            raise calls.AlreadyInCall
        seat = await _call_join(
            self.room, self.user, self.channel_name, table, audio, video, replace
        )
        self.table, self.peer = seat.table, seat.me.peer
        for departure in seat.replaced:
            await broadcast.call_peer_left(departure=departure)
            await broadcast.call_dropped(departure=departure, reason="replaced")
        await broadcast.call_frame(
            channel_names=[peer.channel_name for peer in seat.peers],
            table=seat.table,
            frame={"type": "call.peer_joined", **seat.me.data()},
        )
        await self.send_json(
            {
                "type": "call.joined",
                "table": seat.table,
                "peer": seat.me.peer,
                "peers": [peer.data() for peer in seat.peers],
                "ice_servers": ice_servers(user_id=self.user.pk),
            }
        )
        broadcast.presence_mark(room_id=self.room.pk, user_id=self.user.pk)

    async def on_call_leave(self, content: dict[str, Any]) -> None:
        self._call_rate_limit()
        await self._in_call()
        await self.call_depart()
        await self.send_json({"type": "call.left", "reason": "left"})

    async def _relay(self, to: int, frame: dict[str, Any]) -> None:
        """Hand `frame` (plus `from`) to peer `to` at this connection's table, and only to it."""
        await self._in_call()
        try:
            peer, table, channel_name = await _call_target(channel_name=self.channel_name, peer=to)
        except calls.NotInCall:
            # Its seat went (pruned during a stall) before this connection heard of it.
            await self.call_left("dropped")
            raise
        await broadcast.call_frame(
            channel_names=[channel_name], table=table, frame={**frame, "from": peer}
        )

    async def on_call_offer(self, content: dict[str, Any]) -> None:
        self._call_rate_limit()
        to, sdp = _positive_int(content, "to"), _sdp(content)
        await self._relay(to, {"type": "call.offer", "sdp": sdp})

    async def on_call_answer(self, content: dict[str, Any]) -> None:
        self._call_rate_limit()
        to, sdp = _positive_int(content, "to"), _sdp(content)
        await self._relay(to, {"type": "call.answer", "sdp": sdp})

    async def on_call_ice(self, content: dict[str, Any]) -> None:
        self._call_rate_limit()
        to, candidate = _positive_int(content, "to"), _candidate(content)
        await self._relay(to, {"type": "call.ice", "candidate": candidate})

    async def on_call_media(self, content: dict[str, Any]) -> None:
        self._call_rate_limit()
        audio, video = _bool(content, "audio"), _bool(content, "video")
        screen = _bool(content, "screen")
        await self._in_call()
        peer, table, others = await _call_media(
            channel_name=self.channel_name, audio=audio, video=video, screen=screen
        )
        await broadcast.call_frame(
            channel_names=others,
            table=table,
            frame={
                "type": "call.peer_media",
                "peer": peer,
                "audio": audio,
                "video": video,
                "screen": screen,
            },
        )

    HANDLERS = {
        "chat.send": on_chat_send,
        "chat.edit": on_chat_edit,
        "chat.delete": on_chat_delete,
        "history.before": on_history_before,
        "history.since": on_history_since,
        "presence.status": on_presence_status,
        "member.mute": on_member_mute,
        "member.remove": on_member_remove,
        "ping": on_ping,
        "call.join": on_call_join,
        "call.leave": on_call_leave,
        "call.offer": on_call_offer,
        "call.answer": on_call_answer,
        "call.ice": on_call_ice,
        "call.media": on_call_media,
    }

    # Group events (from rooms.broadcast) -------------------------------------------------
    # Chat and presence events carry their frame ready-encoded: a 1,000-socket room encodes
    # each message once, not 1,000 times.

    async def chat_message(self, event: dict[str, Any]) -> None:
        if event["author_id"] in self.blocked or event["sender_channel"] == self.channel_name:
            return
        await self.send(text_data=event["frame"])

    async def chat_edited(self, event: dict[str, Any]) -> None:
        if event["author_id"] not in self.blocked:
            await self.send(text_data=event["frame"])

    async def chat_deleted(self, event: dict[str, Any]) -> None:
        if event["author_id"] not in self.blocked:
            await self.send(text_data=event["frame"])

    async def presence_update(self, event: dict[str, Any]) -> None:
        members: list[dict[str, Any]] = event["members"]
        left: list[int] = event["left"]
        hidden = self.blocked
        if not any(m["id"] in hidden for m in members) and not hidden.intersection(left):
            await self.send(text_data=event["frame"])
            return
        members = [m for m in members if m["id"] not in hidden]
        left = [user_id for user_id in left if user_id not in hidden]
        if members or left:
            await self.send_json({"type": "presence.update", "members": members, "left": left})

    async def event_ended(self, event: dict[str, Any]) -> None:
        assert self.room is not None
        if self.room.is_cafeteria:
            return
        message = _("“%(title)s” has ended. Carry on the conversation in the cafeteria.") % {
            "title": event["title"]
        }
        await self.send_json(
            {
                "type": "room.notice",
                "notice": "event_ended",
                "message": str(message),
                "url": reverse("rooms:room", args=[CAFETERIA_SLUG]),
            }
        )

    async def room_closed(self, event: dict[str, Any]) -> None:
        await self.say_bye(CLOSE_ROOM_CLOSED)

    async def member_removed(self, event: dict[str, Any]) -> None:
        if self.room is not None and event["room_id"] == self.room.pk:
            await self.say_bye(CLOSE_REMOVED)

    async def member_muted(self, event: dict[str, Any]) -> None:
        if self.room is not None and event["room_id"] == self.room.pk:
            await self.send_json({"type": "you.muted", "until": event["until"]})

    # Call events, sent to this connection's own channel (rooms.broadcast, "Calls") -------

    async def call_frame(self, event: dict[str, Any]) -> None:
        # A frame for a table this connection has left (a late ICE candidate) is dropped.
        if self.table is not None and event["table"] == self.table:
            await self.send(text_data=event["frame"])

    async def call_dropped(self, event: dict[str, Any]) -> None:
        if self.table is not None and event["table"] == self.table:
            await self.call_left(event["reason"])


class LobbyConsumer(_MemberSocket):
    """The lobby page's socket: only says "something changed" (a room's presence, a room
    opened or closed); the page then fetches its list over HTTP, which applies the viewer's
    access rules and blocks. Coalesced to one frame per `LOBBY_INTERVAL`."""

    async def connect(self) -> None:
        self.pending: asyncio.Task[None] | None = None
        self.last_sent = 0.0
        self.user_id: int | None = None
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return
        self.user_id = user.pk
        await self.accept()
        await self.channel_layer.group_add(broadcast.LOBBY_GROUP, self.channel_name)
        await self.channel_layer.group_add(broadcast.user_group(user.pk), self.channel_name)

    async def disconnect(self, code: int) -> None:
        if self.pending is not None:
            self.pending.cancel()
        if self.user_id is not None:
            await self.channel_layer.group_discard(broadcast.LOBBY_GROUP, self.channel_name)
            await self.channel_layer.group_discard(
                broadcast.user_group(self.user_id), self.channel_name
            )

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_json(
                {"type": "error", "code": "unknown_type", "message": str(ERRORS["unknown_type"])}
            )

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if text_data is None or len(text_data.encode()) > MAX_FRAME_BYTES:
            await self.send_json(
                {"type": "error", "code": "invalid_frame", "message": str(ERRORS["invalid_frame"])}
            )
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            content = None
        await self.receive_json(content)

    async def lobby_changed(self, event: dict[str, Any]) -> None:
        if self.pending is not None:
            return
        delay = max(0.0, self.last_sent + LOBBY_INTERVAL - time.monotonic())
        self.pending = asyncio.create_task(self._send_changed(delay))

    async def _send_changed(self, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        self.pending = None
        self.last_sent = time.monotonic()
        await self.send_json({"type": "lobby.changed"})

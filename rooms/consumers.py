"""The room socket, protocol v1 (docs/websocket-protocol.md)."""

import asyncio
import time
import uuid
from collections import deque
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils.translation import gettext_lazy as _

from members.models import User
from members.services import blocked_user_ids
from rooms import broadcast, presence
from rooms.models import Message, Presence, Room, RoomError
from rooms.selectors import history
from rooms.services import message_delete, message_edit, message_post, room_can_enter, room_enter

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 8 * 1024
PAGE_SIZE = 50
# Chat frames (send, edit, delete) per connection within the window.
RATE_LIMIT = 10
RATE_WINDOW = 10.0
SNAPSHOT_INTERVAL = 1.0

CLOSE_NOT_LOGGED_IN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_UNKNOWN_ROOM = 4404

ERRORS = {
    "invalid_frame": _("This frame is not valid."),
    "frame_too_large": _("This frame is too large."),
    "invalid_json": _("This frame is not valid JSON."),
    "unknown_type": _("This frame type is unknown."),
    "invalid_fields": _("This frame has missing or wrong fields."),
    "rate_limited": _("Too many messages: wait a few seconds."),
    "not_found": _("This message does not exist."),
}


class FrameError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# Database helpers: each one small, each one calling services ------------------------------


@database_sync_to_async
def _room_get(slug: str) -> Room | None:
    return Room.objects.filter(slug=slug).first()


@database_sync_to_async
def _can_enter(room: Room, user: User) -> bool:
    return room_can_enter(room=room, user=user)


@database_sync_to_async
def _join(room: Room, user: User, channel_name: str) -> dict[str, Any]:
    """Enter the room and open this connection's presence. Raises RoomError."""
    room_enter(room=room, user=user)
    row = presence.presence_add(room=room, user=user, channel_name=channel_name)
    latest = history(room=room, viewer=user, limit=PAGE_SIZE)
    return {
        "blocked": blocked_user_ids(user=user),
        "hello": {
            "type": "hello",
            "v": PROTOCOL_VERSION,
            "room": {"id": room.pk, "slug": room.slug, "name": room.title},
            "you": {"id": user.pk, "name": user.name, "status": row.status},
            "presence": presence.presence_snapshot(room=room, viewer=user),
            "history": [broadcast.message_data(m) for m in reversed(latest)],
        },
    }


@database_sync_to_async
def _leave(channel_name: str) -> bool:
    return presence.presence_remove(channel_name=channel_name)


@database_sync_to_async
def _heartbeat(room: Room, user: User, channel_name: str) -> bool:
    """True when presence changed. Raises RoomError when the member may no longer be here
    (room closed, member removed)."""
    room_enter(room=room, user=user)
    if presence.presence_heartbeat(channel_name=channel_name):
        return False
    # Pruned while the connection slept: it is back.
    presence.presence_add(room=room, user=user, channel_name=channel_name)
    return True


@database_sync_to_async
def _set_status(room: Room, user: User, status: str) -> bool:
    return bool(presence.presence_set_status(room=room, user=user, status=status))


@database_sync_to_async
def _snapshot(room: Room, user: User) -> list[dict[str, Any]]:
    return presence.presence_snapshot(room=room, viewer=user)


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


def _uuid(content: dict[str, Any], key: str) -> uuid.UUID:
    value = content.get(key)
    if not isinstance(value, str):
        raise FrameError("invalid_fields")
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise FrameError("invalid_fields") from exc


class RoomConsumer(AsyncJsonWebsocketConsumer):
    """One member's connection to one room. Refusals happen before `accept()`."""

    room: Room | None = None
    user: User
    blocked: set[int]

    async def connect(self) -> None:
        self.room = None
        self.blocked = set()
        self.chat_times: deque[float] = deque()
        self.last_snapshot = 0.0
        self.snapshot_task: asyncio.Task[None] | None = None
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return
        room = await _room_get(self.scope["url_route"]["kwargs"]["slug"])
        if room is None:
            await self.close(code=CLOSE_UNKNOWN_ROOM)
            return
        if not await _can_enter(room, user):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user = user
        await self.accept()
        try:
            joined = await _join(room, user, self.channel_name)
        except RoomError:
            # Lost a race with a close or a removal since the check above.
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.room = room
        self.blocked = joined["blocked"]
        await self.channel_layer.group_add(broadcast.room_group(room.pk), self.channel_name)
        await self.send_json(joined["hello"])
        await broadcast.presence_changed(room_id=room.pk, origin=self.channel_name)

    async def disconnect(self, code: int) -> None:
        if self.snapshot_task is not None:
            self.snapshot_task.cancel()
        if self.room is not None:
            await self.channel_layer.group_discard(
                broadcast.room_group(self.room.pk), self.channel_name
            )
            if await _leave(self.channel_name):
                await broadcast.presence_changed(room_id=self.room.pk, origin=self.channel_name)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if self.room is None:
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

    def _rate_limit(self) -> None:
        now = time.monotonic()
        while self.chat_times and self.chat_times[0] <= now - RATE_WINDOW:
            self.chat_times.popleft()
        if len(self.chat_times) >= RATE_LIMIT:
            raise FrameError("rate_limited")
        self.chat_times.append(now)

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
            await broadcast.presence_changed(room_id=self.room.pk, origin=self.channel_name)

    async def on_ping(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        try:
            changed = await _heartbeat(self.room, self.user, self.channel_name)
        except RoomError:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if changed:
            await broadcast.presence_changed(room_id=self.room.pk, origin=self.channel_name)
        await self.send_json({"type": "pong"})

    HANDLERS = {
        "chat.send": on_chat_send,
        "chat.edit": on_chat_edit,
        "chat.delete": on_chat_delete,
        "history.before": on_history_before,
        "history.since": on_history_since,
        "presence.status": on_presence_status,
        "ping": on_ping,
    }

    # Group events (from rooms.broadcast) -------------------------------------------------

    async def chat_message(self, event: dict[str, Any]) -> None:
        if event["author_id"] in self.blocked or event["sender_channel"] == self.channel_name:
            return
        await self.send_json({"type": "chat.message", "message": event["message"]})

    async def chat_edited(self, event: dict[str, Any]) -> None:
        if event["author_id"] not in self.blocked:
            await self.send_json({"type": "chat.edited", "message": event["message"]})

    async def chat_deleted(self, event: dict[str, Any]) -> None:
        if event["author_id"] not in self.blocked:
            await self.send_json({"type": "chat.deleted", "id": event["id"]})

    async def presence_changed(self, event: dict[str, Any]) -> None:
        # Coalesced: at most one snapshot per SNAPSHOT_INTERVAL per connection; changes that
        # arrive meanwhile are covered by the pending one, which reads the state when it runs.
        if event.get("origin") == self.channel_name or self.snapshot_task is not None:
            return
        delay = max(0.0, self.last_snapshot + SNAPSHOT_INTERVAL - time.monotonic())
        self.snapshot_task = asyncio.create_task(self._send_snapshot(delay))

    async def _send_snapshot(self, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        # From here on the read below may miss a new change: let it schedule the next one.
        self.snapshot_task = None
        self.last_snapshot = time.monotonic()
        assert self.room is not None
        members = await _snapshot(self.room, self.user)
        await self.send_json({"type": "presence.snapshot", "members": members})

"""The room and lobby sockets, protocol v1 (docs/websocket-protocol.md). The parts they are
built from are in rooms/sockets/."""

import asyncio
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

from channels.db import database_sync_to_async
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.access import staff_may
from members.models import User
from members.services import blocked_user_ids
from rooms import broadcast, presence, rights
from rooms.models import CAFETERIA_SLUG, Room, RoomParticipation
from rooms.selectors import history_on_arrival, muted_here
from rooms.services import room_admits, room_entered
from rooms.sockets.base import (
    CLOSE_FORBIDDEN,
    CLOSE_FULL,
    CLOSE_ROOM_CLOSED,
    CLOSE_UNKNOWN_ROOM,
    NOBODY,
    PROTOCOL_VERSION,
    Handler,
    MemberSocket,
)
from rooms.sockets.calls import CallFrames
from rooms.sockets.chat import PAGE_SIZE, ChatFrames
from rooms.sockets.frames import FrameError, decode
from rooms.sockets.moderation import ModerationFrames
from rooms.sockets.presence import PresenceFrames

# Lobby pages hear at most one "something changed" per this many seconds.
LOBBY_INTERVAL = 2.0


# Arrivals wait on the database more than they compute: on threads of their own, several
# overlap instead of queuing one by one on Channels' single database thread behind every
# other socket's work (a crowd coming back after a restart). Each thread takes a pooled
# connection per arrival, so keep this under the pool's size (DB_POOL_MAX_SIZE).
ARRIVAL_THREADS = 3
_arrivals = ThreadPoolExecutor(max_workers=ARRIVAL_THREADS, thread_name_prefix="room-arrival")


@transaction.atomic  # a failure half-way leaves no presence row behind
def _enter_now(
    room_id: int, user: User, channel_name: str, with_history: bool = True
) -> tuple[int, None] | tuple[None, dict[str, Any]]:
    """Everything a connection needs from the database before it is accepted, in one trip
    to the database thread (a thousand members arriving make a thousand of these): the
    room, the access rules, the entry and this connection's presence, and `hello`, whose
    `history` is left empty for a client that catches up by itself (`with_history`).
    Returns (close code, None) to refuse, or (None, what the consumer needs)."""
    room = Room.objects.filter(pk=room_id).first()
    if room is None:
        return CLOSE_UNKNOWN_ROOM, None
    # Read once, used by every rule below.
    participation = RoomParticipation.objects.filter(room=room, user=user).first()
    blocked = blocked_user_ids(user=user)
    if not room_admits(room=room, user=user, participation=participation, blocked=blocked):
        return CLOSE_FORBIDDEN, None
    if room.capacity is not None:
        # Arrivals run side by side (ARRIVAL_THREADS, and other processes): counting who is
        # here and adding oneself is one step per room, or two arrivals both take the last
        # place. Held until this arrival commits; rooms without a capacity never wait.
        Room.objects.select_for_update().filter(pk=room.pk).first()
    if presence.room_is_full(room=room, user=user):
        return CLOSE_FULL, None
    participation = room_entered(room=room, user=user, participation=participation)
    row = presence.presence_add(room=room, user=user, channel_name=channel_name)
    latest = history_on_arrival(room=room, hidden=blocked, limit=PAGE_SIZE) if with_history else []
    muted = participation.is_muted() and participation.muted_until
    moderates = staff_may(user, rights.MODERATE)
    # Shared with the other arrivals of the last moment (a crowd coming back after a
    # restart), its JSON included: this socket joins the room's group at once to hear what
    # changed.
    present = presence.presence_snapshot_shared(room=room, viewer=user, own=row, hidden=blocked)
    hello = {
        "type": "hello",
        "v": PROTOCOL_VERSION,
        "room": {"id": room.pk, "slug": room.slug, "name": room.title},
        "you": {
            "id": user.pk,
            "name": user.name,
            "status": row.status,
            # What the page offers: sending out and muting, and who is muted; deleting
            # others' messages.
            "staff": moderates,
            "deletes": staff_may(user, rights.DELETE),
            "muted_until": muted.isoformat() if muted else None,
            **({"muted_here": muted_here(room=room)} if moderates else {}),
        },
        "history": [broadcast.message_data(m, blocked) for m in reversed(latest)],
        # The page sends it back on its next connection's catch-up (`changed_since`).
        "now": int(time.time() * 1000),
    }
    # Written here, on the arrival's thread, rather than by the event loop that every
    # socket of the process shares.
    text = f'{broadcast.encode(hello)[:-1]},"presence":{present.text}}}'
    return None, {"room": room, "blocked": blocked, "hello": text}


_enter = database_sync_to_async(_enter_now, thread_sensitive=False, executor=_arrivals)


def _room_id_now(slug: str, kinds: frozenset[str]) -> int | None:
    return Room.objects.filter(slug=slug, kind__in=kinds).values_list("pk", flat=True).first()


_room_id = database_sync_to_async(_room_id_now, thread_sensitive=False, executor=_arrivals)


@database_sync_to_async
def _leave(channel_name: str) -> bool:
    return presence.presence_remove(channel_name=channel_name)


class RoomConsumer(ChatFrames, PresenceFrames, CallFrames, ModerationFrames):
    """One member's connection to one room. Refusals happen before `accept()`."""

    # The rooms this socket opens. A focus block's room only through its block's socket,
    # which seats each member at their own table.
    ROOM_KINDS: ClassVar[frozenset[str]] = frozenset(Room.Kind.values) - {Room.Kind.FOCUS}

    HANDLERS: ClassVar[dict[str, Handler]] = {
        **ChatFrames.HANDLERS,
        **PresenceFrames.HANDLERS,
        **CallFrames.HANDLERS,
        **ModerationFrames.HANDLERS,
        "ping": MemberSocket.on_ping,
    }

    async def connect(self) -> None:
        user = await self.authenticate()
        if user is None:
            return
        room_id = await _room_id(self.scope["url_route"]["kwargs"]["slug"], self.ROOM_KINDS)
        if room_id is None:
            await self.release()
            await self.close(code=CLOSE_UNKNOWN_ROOM)
            return
        # The room's and the member's events are heard before the arrival reads whether
        # they may come in: what changes after that reading (the room closes, staff remove
        # them) reaches this socket, held until its `hello` has gone.
        await self.join_group(broadcast.room_group(room_id), crowd=True)
        await self.join_group(broadcast.user_group(user.pk))
        refusal, joined = await _enter(room_id, user, self.channel_name, not self.catches_up())
        if joined is None:
            await self.leave_groups()
            await self.release()
            await self.close(code=refusal)
            return
        room = joined["room"]
        self.room, self.joined = room, True
        self.watch()
        await self.accept()
        self.blocked = joined["blocked"] or NOBODY
        await self.send_text(joined["hello"])
        broadcast.presence_mark(room_id=room.pk, user_id=user.pk)

    def catches_up(self) -> bool:
        """Whether the client asked for a `hello` without history (`?catch_up=1`): a room
        page holds the messages it was drawn with and asks `history.since` after every
        `hello`, so the 50 latest would only come twice, on every reconnection."""
        query = urllib.parse.parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        return query.get("catch_up") == ["1"]

    async def disconnect(self, code: int) -> None:
        """Runs once the connection is gone, and after a failed `connect`; each step runs
        even if one before it fails, the presence row first among them."""
        if self.room is None:  # refused, or failed half-way through `connect`
            try:
                await self.leave_groups()
            finally:
                await self.release()
            return
        try:
            # Peers hear of the departure before the presence row, and its seat, goes.
            await self.call_depart()
        finally:
            try:
                if self.joined:
                    self.joined = False
                    self.unwatch()
                    if await _leave(self.channel_name):
                        broadcast.presence_mark(room_id=self.room.pk, user_id=self.user.pk)
            finally:
                await self.leave_groups()
                await self.release()

    # Group events about the room itself (rooms.broadcast) -------------------------------

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


class LobbyConsumer(MemberSocket):
    """The lobby page's socket: only says "something changed" (a room's presence, a room
    opened or closed); the page then fetches its list over HTTP, which applies the viewer's
    access rules and blocks. Coalesced to one frame per `LOBBY_INTERVAL`."""

    pending: asyncio.Task[None] | None = None
    last_sent = 0.0

    async def connect(self) -> None:
        user = await self.authenticate()
        if user is None:
            return
        self.watch()
        await self.join_group(broadcast.LOBBY_GROUP, crowd=True)
        await self.join_group(broadcast.user_group(user.pk))
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.pending is not None:
            self.pending.cancel()
        self.unwatch()
        try:
            await self.leave_groups()
        finally:
            await self.release()

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        await self.pace()
        # The lobby's protocol names two errors: a frame it cannot take, and anything else.
        try:
            content = decode(text_data)
        except FrameError as exc:
            unreadable = exc.code in ("invalid_frame", "frame_too_large")
            await self.refuse("invalid_frame" if unreadable else "unknown_type")
            return
        if content["type"] == "ping":
            await self.on_ping(content)
        else:
            await self.refuse("unknown_type")

    async def lobby_changed(self, event: dict[str, Any]) -> None:
        if self.pending is not None:
            return
        delay = max(0.0, self.last_sent + LOBBY_INTERVAL - time.monotonic())
        self.pending = asyncio.create_task(self._send_changed(delay))

    async def member_removed(self, event: dict[str, Any]) -> None:
        """Removed from a room: the page fetches its list again, without that room."""
        await self.lobby_changed(event)

    async def member_muted(self, event: dict[str, Any]) -> None:
        pass  # for the member's room sockets; the lobby shows no one's voice

    async def access_check(self, event: dict[str, Any]) -> None:
        """A block made or lifted (or another change to the account): the page fetches its
        list again, with the faces the viewer sees now."""
        await super().access_check(event)
        if not self.closing:
            await self.lobby_changed(event)

    async def _send_changed(self, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        self.pending = None
        self.last_sent = time.monotonic()
        await self.send_json({"type": "lobby.changed"})

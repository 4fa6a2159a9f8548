"""The stage page's socket (docs/websocket-protocol.md, "Stage"): the room's socket, with
its chat, presence and moderation, plus the stage's frames. Media never pass through
here: the page talks to Janus itself, on handles the site joined to the room for it."""

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

from channels.db import database_sync_to_async
from django.conf import settings

from members.models import User
from rooms.broadcast import encode, message_data
from rooms.consumers import RoomConsumer
from rooms.ice import ice_refresh_seconds, ice_servers
from rooms.selectors import questions_asked
from rooms.sockets.base import CLOSE_UNKNOWN_ROOM, Handler, MemberSocket, as_now
from rooms.sockets.frames import FrameError, boolean, positive_int
from stage import services
from stage.broadcast import stage_group
from stage.janus import JanusSettings, browser_token
from stage.models import Attendance, Stage

# The Q&A panel's questions sent on arrival: more than a talk's audience asks.
QUESTIONS_MAX = 200
# Janus ids are JSON numbers below 2**53.
JANUS_ID_MAX = 2**53


def _janus_id(content: dict[str, Any], key: str) -> int:
    value = positive_int(content, key)
    if value >= JANUS_ID_MAX:
        raise FrameError("invalid_fields")
    return value


def _feeds(content: dict[str, Any]) -> list[int]:
    feeds = content.get("feeds")
    if not isinstance(feeds, list) or not 0 < len(feeds) <= 7:
        raise FrameError("invalid_fields")
    return [_janus_id({"feed": feed}, "feed") for feed in feeds]


@database_sync_to_async
def _stage_id(room_id: int) -> int | None:
    return Stage.objects.filter(room_id=room_id).values_list("pk", flat=True).first()


@database_sync_to_async
def _stage_hello(
    stage_id: int, user: User, blocked: frozenset[int] | set[int]
) -> tuple[Stage, dict[str, Any]] | None:
    stage = Stage.objects.filter(pk=stage_id).select_related("room", "host").first()
    if stage is None:
        return None
    conf = JanusSettings.from_settings()
    if stage.is_live:
        Attendance.objects.get_or_create(stage=stage, user=user)
    return stage, {
        "type": "stage.hello",
        "janus": (
            {
                "url": settings.JANUS_PUBLIC_URL,
                "token": browser_token(conf, ttl_seconds=settings.JANUS_TOKEN_TTL),
            }
            if conf.configured
            else None
        ),
        "ice_servers": ice_servers(user_id=user.pk),
        "ice_refresh": ice_refresh_seconds(),
        "can_host": services.stage_may_host(stage=stage, user=user),
        # The Q&A lists every question; the chat's first page holds only the latest messages.
        "questions": [
            message_data(message, blocked)
            for message in questions_asked(room=stage.room, hidden=blocked, limit=QUESTIONS_MAX)
        ],
        **services.hands_visible(services.stage_state(stage=stage), blocked),
    }


@database_sync_to_async
def _attended(stage: Stage, user: User) -> None:
    Attendance.objects.get_or_create(stage=stage, user=user)


# Stage services wait on Janus's HTTP API as well as the database: on threads of their
# own, so a slow Janus never holds up the chat and presence work queued on Channels' one
# database thread. Each takes a pooled connection: keep it under DB_POOL_MAX_SIZE.
STAGE_THREADS = 3
_stage_threads = ThreadPoolExecutor(max_workers=STAGE_THREADS, thread_name_prefix="stage")


def _in_stage_thread(function: Callable[..., Any]) -> Callable[..., Any]:
    return database_sync_to_async(function, thread_sensitive=False, executor=_stage_threads)


@_in_stage_thread
def _call(name: str, stage: Stage, **kwargs: Any) -> Any:
    return getattr(services, name)(stage=stage, **kwargs)


@_in_stage_thread
def _call_as(name: str, stage: Stage, user: User, **kwargs: Any) -> Any:
    """A host's frame, judged on the member's rights as they are now."""
    return getattr(services, name)(stage=stage, by=as_now(user), **kwargs)


_left = _in_stage_thread(services.stage_left)


class StageFrames(MemberSocket):
    stage: Stage | None = None
    attended = False

    async def _stage(self) -> Stage:
        if self.stage is None:
            raise FrameError("unknown_type")
        await self.spend("calls")  # signalling's budget: a stage sets up in a burst
        return self.stage

    async def on_watch(self, content: dict[str, Any]) -> None:
        session, handle = _janus_id(content, "session"), _janus_id(content, "handle")
        feeds = _feeds(content)
        stage = await self._stage()
        await _call(
            "stage_watch",
            stage,
            user=self.user,
            channel_name=self.channel_name,
            session=session,
            handle=handle,
            feeds=feeds,
        )
        await self.send_json({"type": "stage.joined", "role": "watch", "handle": handle})

    async def on_publish(self, content: dict[str, Any]) -> None:
        session, handle = _janus_id(content, "session"), _janus_id(content, "handle")
        stage = await self._stage()
        feed = await _call(
            "stage_publish",
            stage,
            user=self.user,
            channel_name=self.channel_name,
            session=session,
            handle=handle,
        )
        await self.send_json(
            {"type": "stage.joined", "role": "publish", "handle": handle, "feed": feed}
        )

    async def on_live(self, content: dict[str, Any]) -> None:
        screen = boolean(content, "screen", False)
        await _call("stage_live", await self._stage(), user=self.user, screen=screen)

    async def on_unpublish(self, content: dict[str, Any]) -> None:
        await _call("stage_unpublish", await self._stage(), user=self.user)

    async def on_hand(self, content: dict[str, Any]) -> None:
        raised = boolean(content, "raised")
        # A status change, on that budget too: each one that moves reaches the whole audience.
        await self.spend("presence")
        await _call("stage_hand", await self._stage(), user=self.user, raised=raised)

    async def on_token(self, content: dict[str, Any]) -> None:
        """A fresh Janus token and TURN credentials, for a page that has been open longer
        than they last (it asks every `ice_refresh` seconds, and on reconnecting)."""
        await self._stage()
        conf = JanusSettings.from_settings()
        token = (
            browser_token(conf, ttl_seconds=settings.JANUS_TOKEN_TTL) if conf.configured else None
        )
        await self.send_json(
            {
                "type": "stage.token",
                "token": token,
                "ice_servers": ice_servers(user_id=self.user.pk),
            }
        )

    async def on_start(self, content: dict[str, Any]) -> None:
        await _call_as("stage_start", await self._stage(), self.user)

    async def on_end(self, content: dict[str, Any]) -> None:
        await _call_as("stage_end", await self._stage(), self.user)

    async def on_invite(self, content: dict[str, Any]) -> None:
        user_id = positive_int(content, "user_id")
        await _call_as("stage_invite", await self._stage(), self.user, user_id=user_id)

    async def on_return(self, content: dict[str, Any]) -> None:
        user_id = positive_int(content, "user_id")
        await _call_as("stage_return", await self._stage(), self.user, user_id=user_id)

    async def on_mute(self, content: dict[str, Any]) -> None:
        user_id, muted = positive_int(content, "user_id"), boolean(content, "muted")
        await _call_as("stage_mute", await self._stage(), self.user, user_id=user_id, muted=muted)

    async def on_remove(self, content: dict[str, Any]) -> None:
        user_id = positive_int(content, "user_id")
        await _call_as("stage_remove", await self._stage(), self.user, user_id=user_id)

    HANDLERS: ClassVar[dict[str, Handler]] = {
        "stage.watch": on_watch,
        "stage.publish": on_publish,
        "stage.live": on_live,
        "stage.unpublish": on_unpublish,
        "stage.hand": on_hand,
        "stage.token": on_token,
        "stage.start": on_start,
        "stage.end": on_end,
        "stage.invite": on_invite,
        "stage.return": on_return,
        "stage.mute": on_mute,
        "stage.remove": on_remove,
    }

    # Group events (stage.broadcast): frames encoded once for every socket.

    async def stage_state(self, event: dict[str, Any]) -> None:
        if event["live"] and not self.attended and self.stage is not None:
            self.attended = True
            await _attended(self.stage, self.user)
        frame = event["frame"]
        if self.blocked and not self.blocked.isdisjoint(event.get("hands", ())):
            frame = encode(services.hands_visible(json.loads(frame), self.blocked))
        await self.send(text_data=frame)

    async def stage_ended(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["frame"])


class StageConsumer(StageFrames, RoomConsumer):
    """One member's connection to a room's stage page."""

    HANDLERS: ClassVar[dict[str, Handler]] = {
        **RoomConsumer.HANDLERS,
        **StageFrames.HANDLERS,
    }

    async def connect(self) -> None:
        await super().connect()
        if self.room is None or not self.joined:
            return
        stage_id = await _stage_id(self.room.pk)
        hello = None
        if stage_id is not None:
            # Heard before the stage is read, held until `stage.hello` has gone: a change
            # meanwhile (a hand, the end) still reaches this page.
            await self.join_group(stage_group(stage_id), crowd=True)
            hello = await _stage_hello(stage_id, self.user, self.blocked)
        if hello is None:  # the room has no stage (any more)
            await self.close(code=CLOSE_UNKNOWN_ROOM)
            return
        self.stage, frame = hello
        self.attended = self.stage.is_live
        await self.send_json(frame)

    async def disconnect(self, code: int) -> None:
        try:
            if self.stage is not None:
                await _left(channel_name=self.channel_name)
        finally:
            await super().disconnect(code)

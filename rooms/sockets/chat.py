"""Chat on the room socket: post, edit, delete, history pages and catching up after a
reconnect, with `chat.ack` once a message is stored."""

import uuid
from datetime import datetime
from typing import Any, ClassVar

from channels.db import database_sync_to_async

from members.models import User
from members.services import blocked_user_ids
from rooms import broadcast
from rooms.models import Message, Room
from rooms.reactions import reaction_valid, reactions_frame_for
from rooms.selectors import history, history_upto, messages_changed
from rooms.services import message_delete, message_edit, message_post, reaction_toggle
from rooms.sockets.base import Handler, MemberSocket, as_now
from rooms.sockets.frames import (
    FrameError,
    boolean,
    moment,
    positive_int,
    text,
    uuid_field,
)

# Messages in a page of history: the hello's, each "load older", and the chat a room's page
# (rooms, stages, focus blocks) renders first, which the page's script expects to match.
PAGE_SIZE = 50


@database_sync_to_async
def _post(
    room: Room, user: User, text: str, client_id: uuid.UUID, reply_to: int | None, question: bool
) -> tuple[Message, bool]:
    return message_post(
        room=room,
        author=user,
        text=text,
        client_id=client_id,
        reply_to=reply_to,
        question=question,
    )


def _message_get(room: Room, message_id: int) -> Message:
    message = Message.objects.select_related("room", "author", "reply_to__author").filter(
        room=room, pk=message_id
    )
    found = message.first()
    if found is None:
        raise FrameError("not_found")
    return found


@database_sync_to_async
def _edit(room: Room, user: User, message_id: int, text: str) -> Message:
    return message_edit(message=_message_get(room, message_id), editor=as_now(user), text=text)


@database_sync_to_async
def _delete(room: Room, user: User, message_id: int) -> Message | None:
    message = _message_get(room, message_id)
    return message if message_delete(message=message, by=as_now(user)) else None


@database_sync_to_async
def _react(
    room: Room, user: User, message_id: int, emoji: str
) -> tuple[Message, list[dict[str, Any]], int]:
    message = _message_get(room, message_id)
    if message.author_id in blocked_user_ids(user=user):
        raise FrameError("not_found")
    reactions, version = reaction_toggle(message=message, user=as_now(user), emoji=emoji)
    return message, reactions, version


@database_sync_to_async
def _history(
    room: Room,
    user: User,
    hidden: set[int],
    *,
    before_id: int | None = None,
    after_id: int | None = None,
    changed_since: datetime | None = None,
) -> dict[str, Any]:
    upto = history_upto(room=room) if after_id is not None else None
    page = history(
        room=room, viewer=user, before_id=before_id, after_id=after_id, limit=PAGE_SIZE + 1
    )
    has_more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    if after_id is None:
        page.reverse()  # newest first from the selector; the protocol sends oldest first
    frame: dict[str, Any] = {
        "type": "history.page",
        "messages": [broadcast.message_data(m, hidden) for m in page],
        "has_more": has_more,
    }
    if upto is not None:
        # A catch-up page holds every message it may show from `after_id` up to this one.
        frame["upto"] = {"id": page[-1].pk, "seq": page[-1].seq} if has_more else upto
    if after_id is not None and changed_since is not None:
        changed = messages_changed(room=room, viewer=user, upto=after_id, since=changed_since)
        frame["changed"] = [broadcast.message_data(m, hidden) for m in changed]
    return frame


class ChatFrames(MemberSocket):
    """Needs `room`, and `blocked`: the ids whose messages this member does not see."""

    async def on_chat_send(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        message_text, client_id = text(content), uuid_field(content, "client_id")
        reply_to = None if content.get("reply_to") is None else positive_int(content, "reply_to")
        question = boolean(content, "question", False)
        await self.spend("chat")
        message, created = await _post(
            self.room, self.user, message_text, client_id, reply_to, question
        )
        # Stored (committed) before anyone hears of it, and the room hears of it first: an
        # ack that waits on a slow sender would let a later message by someone else go out
        # before this one, and a member dropping in between would catch up from the later
        # id and never see this one. The sender's resend of a message acked in no time is a
        # duplicate, acked and broadcast no more.
        try:
            if created:
                await broadcast.chat_message(message=message, sender_channel=self.channel_name)
        finally:
            await self.send_json(
                {
                    "type": "chat.ack",
                    "client_id": str(client_id),
                    "id": message.pk,
                    "seq": message.seq,
                    # The page stamped it by its own reckoning; this is the stored time.
                    "created_at": message.created_at.isoformat(),
                }
            )

    async def on_chat_edit(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        message_id, message_text = positive_int(content, "id"), text(content)
        await self.spend("chat")
        message = await _edit(self.room, self.user, message_id, message_text)
        await broadcast.chat_edited(message=message)

    async def on_chat_delete(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        message_id = positive_int(content, "id")
        await self.spend("chat")
        message = await _delete(self.room, self.user, message_id)
        if message is not None:
            await broadcast.chat_deleted(message=message)

    async def on_chat_react(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        message_id, emoji = positive_int(content, "id"), content.get("emoji")
        if not reaction_valid(emoji):
            raise FrameError("invalid_fields")
        await self.spend("chat")
        message, reactions, version = await _react(self.room, self.user, message_id, emoji)
        await broadcast.chat_reactions(
            message=message, reactions=reactions, version=version, by=self.user.pk
        )

    async def on_history_before(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        before_id = positive_int(content, "before_id")
        await self.spend("history")
        await self.send_json(
            await _history(self.room, self.user, self.blocked, before_id=before_id)
        )

    async def on_history_since(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        # 0 is the room's start: a client that has seen no message yet.
        after_id = 0 if content.get("after_id") == 0 else positive_int(content, "after_id")
        # What was edited or deleted among the messages the page holds while it was away.
        changed_since = moment(content, "changed_since") if "changed_since" in content else None
        await self.spend("history")
        await self.send_json(
            await _history(
                self.room, self.user, self.blocked, after_id=after_id, changed_since=changed_since
            )
        )

    HANDLERS: ClassVar[dict[str, Handler]] = {
        "chat.send": on_chat_send,
        "chat.edit": on_chat_edit,
        "chat.delete": on_chat_delete,
        "chat.react": on_chat_react,
        "history.before": on_history_before,
        "history.since": on_history_since,
    }

    # Group events (rooms.broadcast). They carry their frame ready-encoded: a 1,000-socket
    # room encodes each message once, not 1,000 times.

    def _message_frame(self, event: dict[str, Any]) -> str:
        """The event's frame as this member may see it (rooms.broadcast._message_event)."""
        if event.get("quoted_id") in self.blocked:
            return str(event["frame_quote_hidden"])
        return str(event["frame"])

    async def chat_message(self, event: dict[str, Any]) -> None:
        # The sender has its `chat.ack` already.
        if event["sender_channel"] == self.channel_name:
            return
        if event["author_id"] in self.blocked:
            # Its number only, so that the page does not wait on a gap and catch up for it.
            skip = {"type": "chat.skip", "id": event["id"], "seq": event["seq"]}
            await self.send_text(broadcast.encode(skip))
            return
        await self.send_text(self._message_frame(event))

    async def chat_edited(self, event: dict[str, Any]) -> None:
        if event["author_id"] not in self.blocked:
            await self.send_text(self._message_frame(event))

    async def chat_deleted(self, event: dict[str, Any]) -> None:
        if event["author_id"] not in self.blocked:
            await self.send_text(event["frame"])

    async def chat_reactions(self, event: dict[str, Any]) -> None:
        if event["author_id"] in self.blocked:
            return
        if (frame := reactions_frame_for(event, self.blocked)) is not None:
            await self.send_text(frame)

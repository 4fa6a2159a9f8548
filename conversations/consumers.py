"""The member socket, `/ws/me/` (docs/websocket-protocol.md, "The member socket"): one per
open page of a logged-in member. It carries the member's private messages, typing and read
receipts, and the header's counters, to every tab at once; no page polls.

Built on the room sockets' base (rooms.sockets.base): the same origin check, sessions,
socket places, frame limits, budgets across sockets, error frames and goodbyes.
"""

import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, ClassVar

from channels.db import database_sync_to_async

from conversations import live, selectors, services
from conversations.models import Conversation, Message
from conversations.services import ConversationHidden, ConversationRefused
from members.models import User
from members.services import blocked_user_ids
from rooms.broadcast import user_group
from rooms.reactions import reaction_valid, reactions_frame_for
from rooms.sockets.base import PROTOCOL_VERSION, Handler, MemberSocket
from rooms.sockets.frames import FrameError, moment, positive_int, text, uuid_field

# A page says "typing" at most this often per conversation (the client sends one every few
# seconds while keys are pressed); the others' pages show it for a little longer.
TYPING_EVERY_SECONDS = 2.0
# How long this socket trusts what it read of a conversation's members for typing frames;
# the frames that store anything read it again every time.
AUDIENCE_SECONDS = 30.0


class SocketRefusal(Exception):
    """A message refused with a reason the member can read (a ConversationRefused)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_blocked_user_ids = database_sync_to_async(blocked_user_ids)


@database_sync_to_async
def _hello(user: User) -> dict[str, Any]:
    messages, notices = selectors.counts_for(user=user)
    return {
        "type": "hello",
        "v": PROTOCOL_VERSION,
        "you": {"id": user.pk, "name": user.name},
        "counts": {"messages": messages, "notices": notices},
        # The server's clock, in ms: the page's next catch-up asks for changes since then.
        "now": int(time.time() * 1000),
    }


def _conversation(user: User, conversation_id: int) -> Conversation:
    found = selectors.readable(user=user, conversation_id=conversation_id)
    if found is None:
        raise FrameError("not_found")
    return found[0]


def _post_now(
    user: User,
    conversation_id: int,
    message_text: str,
    client_id: uuid.UUID,
    reply_to: int | None,
) -> tuple[int, list[tuple[dict[str, Any], list[int]]]]:
    """Store the message: its id, and when it is new its frames and their readers to push
    (services.message_pushes). Whether the member has a seat is message_store's first
    question (ConversationHidden). The hourly cap is the page form's too."""
    if not services.message_allowed(
        user=user, conversation_id=conversation_id, client_id=client_id
    ):
        raise SocketRefusal(str(services.WRITING_TOO_FAST))
    try:
        message, created, user_ids = services.message_store(
            conversation_id=conversation_id,
            author=user,
            text=message_text,
            client_id=client_id,
            reply_to=reply_to,
        )
    except ConversationHidden as hidden:
        raise FrameError("not_found") from hidden
    except ConversationRefused as refusal:
        raise SocketRefusal(str(refusal)) from refusal
    pushes = services.message_pushes(message=message, user_ids=user_ids) if created else []
    return message.pk, pushes


# Sending waits on PostgreSQL more than it computes (a handful of round trips and a commit):
# on threads of their own, several messages overlap instead of queuing one by one on
# Channels' single database thread (bench/bench_conversations_live.py). Each thread takes a
# pooled connection per message: keep this under the pool's size (DB_POOL_MAX_SIZE).
SEND_THREADS = 3
_sending = ThreadPoolExecutor(max_workers=SEND_THREADS, thread_name_prefix="message-send")
_post = database_sync_to_async(_post_now, thread_sensitive=False, executor=_sending)


def _message(user: User, conversation_id: int, message_id: int) -> Message:
    conversation = _conversation(user, conversation_id)
    message = (
        Message.objects.select_related("author", "reply_to__author", "conversation")
        .filter(conversation=conversation, pk=message_id)
        .first()
    )
    if message is None:
        raise FrameError("not_found")
    return message


def _refusing(change: Callable[[], object]) -> None:
    try:
        change()
    except ConversationRefused as refusal:
        raise SocketRefusal(str(refusal)) from refusal


@database_sync_to_async
def _edit(user: User, conversation_id: int, message_id: int, new_text: str) -> None:
    message = _message(user, conversation_id, message_id)
    _refusing(lambda: services.message_edit(message=message, editor=user, text=new_text))


@database_sync_to_async
def _delete(user: User, conversation_id: int, message_id: int) -> None:
    message = _message(user, conversation_id, message_id)
    _refusing(lambda: services.message_delete(message=message, by=user))


@database_sync_to_async
def _react(user: User, conversation_id: int, message_id: int, emoji: str) -> None:
    message = _message(user, conversation_id, message_id)
    _refusing(lambda: services.reaction_toggle(message=message, user=user, emoji=emoji))


@database_sync_to_async
def _read(user: User, conversation_id: int, upto: int) -> None:
    services.conversation_read(
        conversation=_conversation(user, conversation_id), user=user, upto=upto
    )


@database_sync_to_async
def _since(
    user: User, conversation_id: int, after: int, changed_since: datetime | None
) -> dict[str, Any]:
    conversation = _conversation(user, conversation_id)
    page, more = selectors.messages_page(conversation=conversation, viewer=user, after=after)
    hidden = blocked_user_ids(user=user)
    frame = {
        "type": "messages",
        "conversation": conversation_id,
        "messages": [live.message_data(message, hidden) for message in page],
        "has_more": more,
    }
    if changed_since is not None:
        changed = selectors.messages_changed(
            conversation=conversation, viewer=user, upto=after, since=changed_since
        )
        frame["changed"] = [live.message_data(message, hidden) for message in changed]
    return frame


@database_sync_to_async
def _typing_audience(user: User, conversation_id: int) -> list[int]:
    try:
        members = services.audience(conversation_id=conversation_id, author=user)
    except ConversationHidden as hidden:
        raise FrameError("not_found") from hidden
    except ConversationRefused:
        return []  # the other member left: nobody to tell
    return [member for member in members if member != user.pk]


class MemberConsumer(MemberSocket):
    """A member's own socket. It hears what conversations.live pushes to the member (group
    `inbox_<id>`) and, like their room sockets, the goodbyes of rooms.sockets.base (group
    `user_<id>`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # {conversation id: (when read, the others who hear this member typing)}
        self.audiences: dict[int, tuple[float, list[int]]] = {}
        # {conversation id: when this socket last passed on a typing frame}
        self.typed: dict[int, float] = {}
        # Whom this member does not see (`blocked`) is read when a reaction first needs it:
        # most sockets never hear one.
        self.blocked_read = False

    async def connect(self) -> None:
        user = await self.authenticate()
        if user is None:
            return
        self.watch()
        await self.join_group(live.inbox_group(user.pk))
        await self.join_group(user_group(user.pk))
        self.joined = True
        hello = await _hello(user)
        await self.accept()
        await self.send_json(hello)

    async def disconnect(self, code: int) -> None:
        # Watched before it joined its groups: a join that failed leaves the socket watched,
        # and the sweep would renew its place among the member's sockets while the process
        # runs. Forgetting is harmless for a socket never watched.
        self.joined = False
        self.unwatch()
        try:
            await self.leave_groups()
        finally:
            await self.release()

    # Frames in ----------------------------------------------------------------------------

    async def on_message_send(self, content: dict[str, Any]) -> None:
        conversation_id = positive_int(content, "conversation")
        message_text, client_id = text(content), uuid_field(content, "client_id")
        reply_to = None if content.get("reply_to") is None else positive_int(content, "reply_to")
        await self.spend("messages")
        try:
            message_id, pushes = await _post(
                self.user, conversation_id, message_text, client_id, reply_to
            )
        except SocketRefusal as refusal:
            await self.refuse("refused", refusal.message, about=content)
            return
        try:
            for frame, readers in pushes:  # committed by now
                await live.message_new(message_frame=frame, user_ids=readers)
        finally:
            await self._ack(conversation_id, client_id, message_id)

    async def _ack(self, conversation_id: int, client_id: uuid.UUID, message_id: int) -> None:
        # The message went out to every tab (conversations.live) before this ack: the page
        # that sent it shows it once, by its client_id.
        await self.send_json(
            {
                "type": "message.ack",
                "conversation": conversation_id,
                "client_id": str(client_id),
                "id": message_id,
            }
        )

    async def on_message_edit(self, content: dict[str, Any]) -> None:
        conversation_id, message_id = (
            positive_int(content, "conversation"),
            positive_int(content, "id"),
        )
        new_text = text(content)
        await self.spend("messages")
        await self._changing(content, _edit(self.user, conversation_id, message_id, new_text))

    async def on_message_delete(self, content: dict[str, Any]) -> None:
        conversation_id, message_id = (
            positive_int(content, "conversation"),
            positive_int(content, "id"),
        )
        await self.spend("messages")
        await self._changing(content, _delete(self.user, conversation_id, message_id))

    async def on_message_react(self, content: dict[str, Any]) -> None:
        conversation_id, message_id = (
            positive_int(content, "conversation"),
            positive_int(content, "id"),
        )
        emoji = content.get("emoji")
        if not reaction_valid(emoji):
            raise FrameError("invalid_fields")
        await self.spend("signals")
        await self._changing(content, _react(self.user, conversation_id, message_id, emoji))

    async def _changing(self, content: dict[str, Any], change: Awaitable[None]) -> None:
        """Run a change to a message; its result reaches every page (conversations.live),
        a refusal only this one."""
        try:
            await change
        except SocketRefusal as refusal:
            await self.refuse("refused", refusal.message, about=content)

    async def on_read(self, content: dict[str, Any]) -> None:
        conversation_id, upto = positive_int(content, "conversation"), positive_int(content, "upto")
        await self.spend("signals")
        await _read(self.user, conversation_id, upto)

    async def on_typing(self, content: dict[str, Any]) -> None:
        conversation_id = positive_int(content, "conversation")
        now = time.monotonic()
        if now - self.typed.get(conversation_id, 0.0) < TYPING_EVERY_SECONDS:
            return  # said already: nobody needs it twice
        await self.spend("signals")
        self.typed[conversation_id] = now
        read_at, others = self.audiences.get(conversation_id, (0.0, []))
        if now - read_at > AUDIENCE_SECONDS:
            others = await _typing_audience(self.user, conversation_id)
            self.audiences[conversation_id] = (now, others)
        await live.typing(
            conversation_id=conversation_id,
            member={"id": self.user.pk, "name": self.user.name},
            user_ids=others,
        )

    async def on_messages_since(self, content: dict[str, Any]) -> None:
        conversation_id = positive_int(content, "conversation")
        # 0: the client has seen no message of the conversation yet.
        after = 0 if content.get("after") == 0 else positive_int(content, "after")
        # The server's clock (`now` of a hello, or the page's `data-synced-at`), in ms: what
        # was edited or deleted since among the messages the page holds comes too.
        changed_since = moment(content, "changed_since") if "changed_since" in content else None
        await self.spend("history")
        await self.send_json(await _since(self.user, conversation_id, after, changed_since))

    HANDLERS: ClassVar[dict[str, Handler]] = {
        "message.send": on_message_send,
        "message.edit": on_message_edit,
        "message.delete": on_message_delete,
        "message.react": on_message_react,
        "read": on_read,
        "typing": on_typing,
        "messages.since": on_messages_since,
        "ping": MemberSocket.on_ping,
    }

    # Group events (conversations.live) ----------------------------------------------------

    async def member_frame(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["frame"])

    async def member_reactions(self, event: dict[str, Any]) -> None:
        """A frame with a message's reactions (`message.reactions`, or `message.edited`,
        whose message carries them): without those of whom this member does not see, and
        not at all when one of them made the change (nothing they see changed)."""
        if not self.blocked_read:
            self.blocked = frozenset(await _blocked_user_ids(user=self.user))
            self.blocked_read = True
        if (frame := reactions_frame_for(event, self.blocked)) is not None:
            await self.send(text_data=frame)

    async def conversation_changed(self, event: dict[str, Any]) -> None:
        # Its members changed: who hears this member type there is read again.
        self.audiences.pop(event["conversation"], None)
        await self.send(text_data=event["frame"])

    async def access_check(self, event: dict[str, Any]) -> None:
        # A block or an account change: forget who hears this member type.
        self.audiences.clear()
        await super().access_check(event)
        self.blocked_read = True  # read again there

    # Room events sent to the member's group concern their room sockets only.

    async def member_removed(self, event: dict[str, Any]) -> None:
        pass

    async def member_muted(self, event: dict[str, Any]) -> None:
        pass

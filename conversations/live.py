"""Every push to members' own sockets (`/ws/me/`, conversations.consumers) goes through
here. Each goes to the group of the member's own sockets (`inbox_<id>`, on every server
process), so every open tab of theirs hears it; the frame is encoded once per push. Their
room sockets are not in that group and hear none of it.

Services send them with `rooms.broadcast.on_commit(...)` after their writes: nobody hears of
a message that was rolled back, and a message stored over HTTP is pushed as one sent over
the socket is (docs/websocket-protocol.md, "The member socket").
"""

from collections.abc import Collection, Iterable
from typing import Any

from channels.layers import get_channel_layer
from django.urls import reverse

from conversations.models import Attachment, Message
from rooms import fanout
from rooms.broadcast import encode
from rooms.quotes import quote_data


def inbox_group(user_id: int) -> str:
    return f"inbox_{user_id}"


def message_data(message: Message, hidden: Collection[int] = ()) -> dict[str, Any]:
    """A message as the member socket shows it (docs/websocket-protocol.md, "The member
    socket"); `author` and `reply_to__author` must be loaded, and `reaction_list` set where
    it has reactions (selectors.with_reactions). `hidden`: whom the reader does not see, for
    the quote of the message it answers (rooms.quotes)."""
    author = message.author
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        # `staff`: marked "Team" on the page (as in rooms: rooms.broadcast.message_data).
        "author": {"id": author.pk, "name": author.name, "staff": author.is_staff}
        if author
        else None,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": message.is_deleted,
        "client_id": str(message.client_id),
        "reply_to": quote_data(message.reply_to, hidden),
        "reactions": getattr(message, "reaction_list", []),
        "reactions_version": message.reactions_version,
        "attachment": attachment_data(message),
    }


def attachment_data(message: Message) -> dict[str, Any] | None:
    """The message's file or picture as pages show it; None when it has none (the
    `attachment` relation must be loaded, or the message fresh from `message_post`)."""
    try:
        attachment = message.attachment
    except Attachment.DoesNotExist:
        return None
    url = reverse("conversations:attachment", args=[message.conversation_id, message.pk])
    return {
        "kind": attachment.kind,
        "name": attachment.name,
        "size": attachment.size,
        "url": url,
        "thumbnail_url": f"{url}?thumbnail=1" if attachment.thumbnail else None,
    }


async def _push(user_ids: Iterable[int], event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for user_id in user_ids:
        await fanout.group_send(layer, inbox_group(user_id), event)


async def message_new(*, message_frame: dict[str, Any], user_ids: list[int]) -> None:
    """A new message, to every socket of its author (their other tabs) and of the members
    who may see it."""
    frame = {"type": "message.new", "message": message_frame}
    await _push(user_ids, {"type": "member.frame", "frame": encode(frame)})


async def typing(*, conversation_id: int, member: dict[str, Any], user_ids: list[int]) -> None:
    frame = {"type": "typing", "conversation": conversation_id, "member": member}
    await _push(user_ids, {"type": "member.frame", "frame": encode(frame)})


async def read(*, conversation_id: int, member_id: int, upto: int, user_ids: list[int]) -> None:
    """`member_id` has read up to the message `upto`: the others' read receipts, and the
    member's own other tabs (which take the conversation's unread mark off)."""
    frame = {"type": "read", "conversation": conversation_id, "member": member_id, "upto": upto}
    await _push(user_ids, {"type": "member.frame", "frame": encode(frame)})


async def counts(*, user_id: int, messages: int, notices: int) -> None:
    """The header's counters as they are now, to every tab of the member."""
    frame = {"type": "counts", "messages": messages, "notices": notices}
    await _push([user_id], {"type": "member.frame", "frame": encode(frame)})


async def conversation_changed(*, conversation_id: int, user_ids: list[int]) -> None:
    """The conversation's name or members changed (or the member left it): pages showing it
    fetch it again."""
    frame = {"type": "conversation.changed", "conversation": conversation_id}
    # An event of its own, not a `member.frame`: the socket also forgets whom it tells of
    # its member's typing there.
    await _push(user_ids, {**frame, "frame": encode(frame)})


async def message_deleted(*, conversation_id: int, message_id: int, user_ids: list[int]) -> None:
    """Its author or staff (moderation) deleted a message: pages showing it say so."""
    frame = {"type": "message.deleted", "conversation": conversation_id, "id": message_id}
    await _push(user_ids, {"type": "member.frame", "frame": encode(frame)})


async def message_edited(*, message_frame: dict[str, Any], user_ids: list[int]) -> None:
    frame = {"type": "message.edited", "message": message_frame}
    # The message comes with its reactions, which each socket shows as message_reactions'.
    await _push(
        user_ids,
        {
            "type": "member.reactions",
            "frame": encode(frame),
            "reactions": message_frame.get("reactions", []),
            "by": None,
        },
    )


async def message_reactions(
    *,
    conversation_id: int,
    message_id: int,
    reactions: list[dict[str, Any]],
    version: int,
    user_ids: list[int],
    by: int,
) -> None:
    """A message's reactions changed: all of them, as they are now, numbered
    (`Message.reactions_version`)."""
    frame = {
        "type": "message.reactions",
        "conversation": conversation_id,
        "id": message_id,
        "reactions": reactions,
        "version": version,
    }
    # With the reactions as they are, and who changed them (`by`): a socket whose member
    # does not see one of those sends them without (conversations.consumers).
    await _push(
        user_ids,
        {"type": "member.reactions", "frame": encode(frame), "reactions": reactions, "by": by},
    )

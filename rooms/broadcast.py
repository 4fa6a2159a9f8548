"""Every broadcast to a room's sockets goes through here (group `room_<id>`).

The functions are coroutines, awaited by consumers once their database helper has returned:
the helpers run in autocommit, so the write is committed by then and nobody hears of a
message that was rolled back. Synchronous code (a Celery task) wraps them in
`async_to_sync` after its transaction.
"""

from typing import Any

from channels.layers import get_channel_layer

from rooms.models import Message


def room_group(room_id: int) -> str:
    return f"room_{room_id}"


def message_data(message: Message) -> dict[str, Any]:
    """A message as the protocol shows it (docs/websocket-protocol.md, "The message object")."""
    author = message.author
    return {
        "id": message.pk,
        "author": {"id": author.pk, "name": author.name} if author else None,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": message.is_deleted,
    }


async def _send(room_id: int, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(room_group(room_id), event)


async def chat_message(*, message: Message, sender_channel: str) -> None:
    """A new message; the sending connection got its `chat.ack` instead."""
    await _send(
        message.room_id,
        {
            "type": "chat.message",
            "message": message_data(message),
            "author_id": message.author_id,
            "sender_channel": sender_channel,
        },
    )


async def chat_edited(*, message: Message) -> None:
    await _send(
        message.room_id,
        {"type": "chat.edited", "message": message_data(message), "author_id": message.author_id},
    )


async def chat_deleted(*, message: Message) -> None:
    await _send(
        message.room_id,
        {"type": "chat.deleted", "id": message.pk, "author_id": message.author_id},
    )


async def presence_changed(*, room_id: int, origin: str = "") -> None:
    """Someone came, went or changed status. Each connection then sends its own filtered
    snapshot (blocks differ per viewer); `origin` is the connection that caused it, if any."""
    await _send(room_id, {"type": "presence.changed", "origin": origin})

"""Reactions in a room, the same small set as in conversations: everyone in the room sees
them change, history brings them back, and a bad or muted reaction is refused on a socket
that stays."""

from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from rooms.models import Reaction, RoomParticipation
from tests.test_rooms_socket import join, member_with_session, room, send, settled

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def next_of(communicator: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    """The next frame of `kind`, letting the room's other news pass (never an error or a
    goodbye the test did not ask for)."""
    while True:
        frame = await communicator.receive_json_from(timeout=5)
        if frame["type"] == kind:
            return frame
        assert frame["type"] in {
            "presence.update",
            "chat.message",
            "chat.skip",
            "chat.reactions",
        }, frame


async def test_everyone_in_the_room_sees_a_reaction_come_and_go_and_history_keeps_it() -> None:
    _alice, alice_session = await member_with_session(display_name="Alice")
    bob, bob_session = await member_with_session(display_name="Bob")
    place = await room()
    alice_socket, _ = await join(place, alice_session)
    bob_socket, _ = await join(place, bob_session)
    await settled(alice_socket)
    await settled(bob_socket)
    await alice_socket.send_json_to(send("¿Café?"))
    message_id = (await next_of(alice_socket, "chat.ack"))["id"]

    await bob_socket.send_json_to({"type": "chat.react", "id": message_id, "emoji": "☕"})
    for socket in (alice_socket, bob_socket):
        frame = await next_of(socket, "chat.reactions")
        assert frame == {
            "type": "chat.reactions",
            "id": message_id,
            "reactions": [{"emoji": "☕", "members": [bob.pk]}],
            "version": 1,
        }
    _later, hello = await join(place, alice_session)
    [shown] = [m for m in hello["history"] if m["id"] == message_id]
    assert shown["reactions"] == [{"emoji": "☕", "members": [bob.pk]}]
    assert shown["reactions_version"] == 1
    await _later.disconnect()

    await bob_socket.send_json_to({"type": "chat.react", "id": message_id, "emoji": "☕"})
    taken_back = await next_of(alice_socket, "chat.reactions")
    assert taken_back["reactions"] == [] and taken_back["version"] == 2
    await bob_socket.send_json_to({"type": "chat.react", "id": message_id, "emoji": "💩"})
    assert (await next_of(bob_socket, "error"))["code"] == "invalid_fields"

    await database_sync_to_async(RoomParticipation.objects.update_or_create)(
        room=place, user=bob, defaults={"muted_until": timezone.now() + timedelta(hours=1)}
    )
    await bob_socket.send_json_to({"type": "chat.react", "id": message_id, "emoji": "👍"})
    assert (await next_of(bob_socket, "error"))["code"] == "muted"
    assert not await database_sync_to_async(Reaction.objects.exists)()
    for socket in (alice_socket, bob_socket):
        await socket.disconnect()

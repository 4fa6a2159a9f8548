"""The room socket (protocol v1) on the real ASGI application and the Redis channel layer."""

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from coworking.asgi import application
from members.models import User
from rooms import broadcast
from rooms.models import Message, Presence, Room
from rooms.presence import presence_prune
from tests.factories import BlockFactory, MessageFactory, RoomFactory, UserFactory

ORIGIN = (b"origin", b"http://127.0.0.1:8000")

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> Iterator[None]:
    # Each test runs its own event loop; the Redis layer keeps receive state per instance
    # that must not leak from one loop to the next.
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@database_sync_to_async
def member(**kwargs: Any) -> tuple[User, str]:
    user = UserFactory.create(**kwargs)
    client = Client()
    client.force_login(user)
    return user, client.cookies["sessionid"].value


@database_sync_to_async
def room(**kwargs: Any) -> Room:
    return RoomFactory.create(**kwargs)


async def connect(
    room: Room, session: str | None = None, origin: tuple[bytes, bytes] = ORIGIN
) -> tuple[WebsocketCommunicator, Any]:
    headers = [origin]
    if session:
        headers.append((b"cookie", f"sessionid={session}".encode()))
    communicator = WebsocketCommunicator(application, f"/ws/rooms/{room.slug}/", headers=headers)
    connected, detail = await communicator.connect(timeout=5)
    return communicator, (connected, detail)


async def join(room: Room, session: str) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    communicator, (connected, _detail) = await connect(room, session)
    assert connected
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return communicator, hello


async def next_of(communicator: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    """The next frame of `kind`, skipping presence snapshots and the like."""
    while True:
        frame = await communicator.receive_json_from(timeout=5)
        if frame["type"] == kind:
            return frame
        assert frame["type"] == "presence.snapshot", frame


async def drain(communicator: WebsocketCommunicator, quiet: float = 0.3) -> list[dict[str, Any]]:
    frames = []
    while not await communicator.receive_nothing(timeout=quiet):
        frames.append(await communicator.receive_json_from())
    return frames


def send(text: str, client_id: uuid.UUID | None = None) -> dict[str, Any]:
    return {"type": "chat.send", "text": text, "client_id": str(client_id or uuid.uuid4())}


async def test_joining_says_hello_with_presence_and_history() -> None:
    alice, session = await member(display_name="Alice")
    place = await room()
    old = await database_sync_to_async(MessageFactory.create)(room=place, text="Earlier")

    communicator, hello = await join(place, session)

    assert hello["v"] == 1
    assert hello["room"]["slug"] == place.slug
    assert hello["you"] == {"id": alice.pk, "name": "Alice", "status": "working"}
    assert [m["id"] for m in hello["presence"]] == [alice.pk]
    assert [m["id"] for m in hello["history"]] == [old.pk]
    assert hello["history"][0]["text"] == "Earlier"
    await communicator.disconnect()
    assert not await database_sync_to_async(Presence.objects.exists)()


async def test_two_members_chat_with_an_ack_to_the_sender() -> None:
    _alice, alice_session = await member()
    _bob, bob_session = await member()
    place = await room()
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)
    client_id = uuid.uuid4()

    await alice.send_json_to(send("Hola", client_id))

    ack = await next_of(alice, "chat.ack")
    received = await next_of(bob, "chat.message")
    assert ack["client_id"] == str(client_id)
    assert received["message"]["id"] == ack["id"]
    assert received["message"]["text"] == "Hola"
    assert not [f for f in await drain(alice) if f["type"] == "chat.message"]
    await alice.disconnect()
    await bob.disconnect()


async def test_a_resent_client_id_is_acked_with_the_same_id_and_stored_once() -> None:
    _alice, session = await member()
    place = await room()
    alice, _ = await join(place, session)
    client_id = uuid.uuid4()

    await alice.send_json_to(send("Once", client_id))
    first = await next_of(alice, "chat.ack")
    await alice.send_json_to(send("Once", client_id))
    second = await next_of(alice, "chat.ack")

    assert first == second
    assert await database_sync_to_async(Message.objects.filter(room=place).count)() == 1
    await alice.disconnect()


async def test_catching_up_after_a_reconnection_returns_only_missed_messages() -> None:
    _alice, alice_session = await member()
    _bob, bob_session = await member()
    place = await room()
    bob, _ = await join(place, bob_session)
    alice, _ = await join(place, alice_session)
    await alice.send_json_to(send("Seen"))
    seen = (await next_of(alice, "chat.ack"))["id"]
    assert (await next_of(bob, "chat.message"))["message"]["id"] == seen
    await bob.disconnect()
    missed = []
    for text in ("One", "Two"):
        await alice.send_json_to(send(text))
        missed.append((await next_of(alice, "chat.ack"))["id"])

    bob, _ = await join(place, bob_session)
    await bob.send_json_to({"type": "history.since", "after_id": seen})
    page = await next_of(bob, "history.page")

    assert [m["id"] for m in page["messages"]] == missed
    assert page["has_more"] is False
    await bob.send_json_to({"type": "history.before", "before_id": missed[0]})
    earlier = await next_of(bob, "history.page")
    assert [m["id"] for m in earlier["messages"]] == [seen]
    await alice.disconnect()
    await bob.disconnect()


async def test_an_anonymous_visitor_is_refused_before_accept() -> None:
    place = await room()

    communicator, (connected, code) = await connect(place)
    await communicator.disconnect()

    # Over a real server this is an HTTP 403 during the handshake.
    assert (connected, code) == (False, 4401)


async def test_a_foreign_origin_is_refused() -> None:
    _alice, session = await member()
    place = await room()

    communicator, (connected, _code) = await connect(
        place, session, origin=(b"origin", b"https://evil.example.com")
    )
    await communicator.disconnect()

    assert not connected


async def test_an_unknown_room_is_refused() -> None:
    _alice, session = await member()

    communicator, (connected, code) = await connect(Room(slug="nowhere"), session)
    await communicator.disconnect()

    assert (connected, code) == (False, 4404)


async def test_an_outsider_is_refused_from_a_private_room() -> None:
    _owner, owner_session = await member()
    _outsider, outsider_session = await member()
    owner = await database_sync_to_async(User.objects.get)(pk=_owner.pk)
    place = await room(private=True, created_by=owner)

    refused, (connected, code) = await connect(place, outsider_session)
    await refused.disconnect()
    assert (connected, code) == (False, 4403)
    communicator, _hello = await join(place, owner_session)
    await communicator.disconnect()


async def test_bad_frames_get_error_frames_and_the_socket_keeps_working() -> None:
    _alice, session = await member()
    place = await room()
    alice, _ = await join(place, session)

    await alice.send_to(text_data="{not json")
    assert (await next_of(alice, "error"))["code"] == "invalid_json"
    await alice.send_json_to({"type": "dance"})
    assert (await next_of(alice, "error"))["code"] == "unknown_type"
    await alice.send_json_to({"type": "chat.send", "text": "No client id"})
    assert (await next_of(alice, "error"))["code"] == "invalid_fields"
    await alice.send_json_to({"type": "chat.edit", "id": "1", "text": "x"})
    assert (await next_of(alice, "error"))["code"] == "invalid_fields"
    await alice.send_json_to(send("x" * 9000))
    error = await next_of(alice, "error")
    assert error["code"] == "frame_too_large"
    assert error["message"]
    await alice.send_json_to(send("x" * 2001))
    assert (await next_of(alice, "error"))["code"] == "too_long"

    await alice.send_json_to({"type": "ping"})
    assert (await next_of(alice, "pong")) == {"type": "pong"}
    await alice.disconnect()


async def test_chat_frames_beyond_the_rate_limit_are_refused() -> None:
    _alice, session = await member()
    place = await room()
    alice, _ = await join(place, session)

    for n in range(10):
        await alice.send_json_to(send(f"Message {n}"))
        await next_of(alice, "chat.ack")
    await alice.send_json_to(send("One too many"))

    assert (await next_of(alice, "error"))["code"] == "rate_limited"
    assert await database_sync_to_async(Message.objects.filter(room=place).count)() == 10
    await alice.disconnect()


async def test_blocked_members_do_not_see_each_others_messages_or_presence() -> None:
    alice_user, alice_session = await member()
    bob_user, bob_session = await member()
    _carol, carol_session = await member()
    await database_sync_to_async(BlockFactory.create)(blocker=alice_user, blocked=bob_user)
    place = await room()
    alice, _ = await join(place, alice_session)
    bob, bob_hello = await join(place, bob_session)
    carol, _ = await join(place, carol_session)
    assert [m["id"] for m in bob_hello["presence"]] == [bob_user.pk]

    await bob.send_json_to(send("From Bob"))
    await next_of(bob, "chat.ack")
    assert (await next_of(carol, "chat.message"))["message"]["text"] == "From Bob"
    await asyncio.sleep(1.2)  # let coalesced snapshots go out

    frames = await drain(alice)
    assert not [f for f in frames if f["type"] == "chat.message"]
    snapshots = [f for f in frames if f["type"] == "presence.snapshot"]
    assert snapshots
    assert bob_user.pk not in {m["id"] for m in snapshots[-1]["members"]}
    for communicator in (alice, bob, carol):
        await communicator.disconnect()


async def test_a_status_change_reaches_the_others_as_a_snapshot() -> None:
    alice_user, alice_session = await member()
    _bob, bob_session = await member()
    place = await room()
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)
    await drain(alice, quiet=1.2)

    await bob.send_json_to({"type": "presence.status", "status": "dnd"})
    snapshot = await next_of(alice, "presence.snapshot")
    while {m["status"] for m in snapshot["members"]} != {"working", "dnd"}:
        snapshot = await next_of(alice, "presence.snapshot")
    assert {m["id"]: m["status"] for m in snapshot["members"]}[alice_user.pk] == "working"
    await bob.send_json_to({"type": "presence.status", "status": "nap"})
    assert (await next_of(bob, "error"))["code"] == "invalid_fields"
    await alice.disconnect()
    await bob.disconnect()


async def test_stale_presence_is_pruned() -> None:
    _alice, alice_session = await member()
    bob_user, bob_session = await member()
    place = await room()
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)
    await drain(alice, quiet=1.2)
    # Bob's laptop closed: no goodbye, no heartbeat for over a minute.
    await database_sync_to_async(Presence.objects.filter(user=bob_user).update)(
        heartbeat_at=timezone.now() - timedelta(seconds=61)
    )

    # What the `rooms.tasks.presence_prune` beat task does, in this event loop.
    pruned = await database_sync_to_async(presence_prune)(now=timezone.now())
    assert pruned == {place.pk}
    await broadcast.presence_changed(room_id=place.pk)

    snapshot = await next_of(alice, "presence.snapshot")
    assert bob_user.pk not in {m["id"] for m in snapshot["members"]}
    await alice.disconnect()
    await bob.disconnect()

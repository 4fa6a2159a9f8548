"""The room socket (protocol v1) on the real ASGI application and the Redis channel layer."""

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.utils import timezone

from coworking.asgi import application
from members import services
from members.models import Profile, User
from members.privacy import account_delete
from rooms import broadcast, liveness
from rooms import services as rooms_services
from rooms.models import Message, Presence, Reaction, Room
from rooms.presence import PRESENCE_TTL, presence_prune
from rooms.services import room_close, room_member_mute, room_member_remove
from rooms.sockets import base, limits
from tests.conftest import a_fresh_budget_window
from tests.factories import BlockFactory, MessageFactory, RoomFactory, UserFactory, granted

ORIGIN = (b"origin", b"http://127.0.0.1:8000")

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def member_with_session(**kwargs: Any) -> tuple[User, str]:
    """A member and the key of a session they are logged in with, for a socket's cookie."""
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
    """The next frame of `kind`, skipping presence updates and chat this test does not
    look at (never a goodbye or an error it did not ask for)."""
    while True:
        frame = await communicator.receive_json_from(timeout=5)
        if frame["type"] == kind:
            return frame
        assert frame["type"] in {"hello", "presence.update", "chat.message", "chat.deleted"}, frame


async def drain(communicator: WebsocketCommunicator, quiet: float = 0.3) -> list[dict[str, Any]]:
    frames = []
    while not await communicator.receive_nothing(timeout=quiet):
        frames.append(await communicator.receive_json_from())
    return frames


async def settled(communicator: WebsocketCommunicator) -> list[dict[str, Any]]:
    """The frames up to the announcement of every presence change made so far (joins are
    announced in batches a second later, later still on a loaded machine), then any
    stragglers: the socket is quiet and the next frame is about what the test does next."""
    loop = asyncio.get_running_loop()
    while timers := [
        t
        for t in [*broadcast._timers.values(), *broadcast._waiting]
        if t.get_loop() is loop and not t.done()
    ]:
        await asyncio.gather(*timers, return_exceptions=True)
    return await drain(communicator)


def send(text: str, client_id: uuid.UUID | None = None) -> dict[str, Any]:
    return {"type": "chat.send", "text": text, "client_id": str(client_id or uuid.uuid4())}


async def test_joining_says_hello_with_presence_and_history() -> None:
    alice, session = await member_with_session(display_name="Alice")
    place = await room()
    old = await database_sync_to_async(MessageFactory.create)(room=place, text="Earlier")

    communicator, hello = await join(place, session)

    assert hello["v"] == 1
    assert hello["room"]["slug"] == place.slug
    assert hello["you"] == {
        "id": alice.pk,
        "name": "Alice",
        "status": "working",
        "staff": False,
        "deletes": False,
        "muted_until": None,
    }
    assert [m["id"] for m in hello["presence"]] == [alice.pk]
    assert [m["id"] for m in hello["history"]] == [old.pk]
    assert hello["history"][0]["text"] == "Earlier"
    await communicator.disconnect()
    assert not await database_sync_to_async(Presence.objects.exists)()


async def test_a_page_that_catches_up_by_itself_gets_hello_without_history() -> None:
    _alice, session = await member_with_session()
    place = await room()
    old = await database_sync_to_async(MessageFactory.create)(room=place, text="Earlier")
    communicator = WebsocketCommunicator(
        application,
        f"/ws/rooms/{place.slug}/?catch_up=1",
        headers=[ORIGIN, (b"cookie", f"sessionid={session}".encode())],
    )
    connected, _detail = await communicator.connect(timeout=5)
    assert connected

    hello = await communicator.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    assert hello["history"] == []
    # The messages it was drawn without, its catch-up brings.
    await communicator.send_json_to({"type": "history.since", "after_id": 0})
    page = await next_of(communicator, "history.page")
    assert [m["text"] for m in page["messages"]] == ["Earlier"]
    assert page["upto"]["id"] == old.pk
    await communicator.disconnect()


async def test_two_members_chat_with_an_ack_to_the_sender() -> None:
    _alice, alice_session = await member_with_session()
    _bob, bob_session = await member_with_session()
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


async def test_the_team_s_messages_are_marked_live_and_in_history_not_a_lookalike_name() -> None:
    """A member named "Moderación" wrote as if for the team: nothing told them apart."""
    _fake, fake_session = await member_with_session(display_name="Moderación")
    _team, team_session = await member_with_session(display_name="Lucía", is_staff=True)
    _bob, bob_session = await member_with_session()
    place = await room()
    fake, _ = await join(place, fake_session)
    team, _ = await join(place, team_session)
    reader, _ = await join(place, bob_session)

    await fake.send_json_to(send("Tu cuenta será cerrada"))
    first = await next_of(reader, "chat.message")
    await team.send_json_to(send("Hola a todos"))
    second = await next_of(reader, "chat.message")

    assert (first["message"]["author"]["staff"], second["message"]["author"]["staff"]) == (
        False,
        True,
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.cookies["sessionid"] = bob_session
    page = (await database_sync_to_async(client.get)(f"/rooms/{place.slug}/")).content.decode()
    assert page.count('<span class="team-badge">Equipo</span>') == 1
    assert page.index("Hola a todos") > page.index('<span class="team-badge">')
    for communicator in (fake, team, reader):
        await communicator.disconnect()


async def test_a_message_asked_as_a_question_says_so_live_and_in_history() -> None:
    _alice, alice_session = await member_with_session()
    _bob, bob_session = await member_with_session()
    place = await room()
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)

    await alice.send_json_to({**send("¿Grabáis la charla?"), "question": True})
    await alice.send_json_to(send("Gracias"))
    await alice.send_json_to({**send("Otra"), "question": "yes"})

    asked, plain = await next_of(bob, "chat.message"), await next_of(bob, "chat.message")
    assert (asked["message"]["question"], plain["message"]["question"]) == (True, False)
    acks = [await next_of(alice, "chat.ack") for _ in range(2)]
    refused = await next_of(alice, "error")
    assert [ack["id"] for ack in acks] == [asked["message"]["id"], plain["message"]["id"]]
    assert (refused["code"], refused["about"]) == ("invalid_fields", "chat.send")
    await bob.disconnect()
    _again, hello = await join(place, bob_session)
    assert [m["question"] for m in hello["history"]] == [True, False]
    await alice.disconnect()
    await _again.disconnect()


async def test_a_resent_client_id_is_acked_with_the_same_id_and_stored_once() -> None:
    _alice, session = await member_with_session()
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
    _alice, alice_session = await member_with_session()
    _bob, bob_session = await member_with_session()
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


async def test_a_catch_up_since_a_hello_brings_what_was_edited_deleted_or_reacted_to() -> None:
    bob, bob_session = await member_with_session()
    carla, _carla_session = await member_with_session()
    dan, _dan_session = await member_with_session()
    place = await room()
    kept, edited, deleted, hidden, later = [
        await database_sync_to_async(MessageFactory.create)(room=place, author=author, text=text)
        for author, text in (
            (carla, "Igual"),
            (carla, "Antes"),
            (carla, "Se irá"),
            (dan, "De alguien bloqueado"),
            (carla, "Después de todo"),
        )
    ]
    socket, hello = await join(place, bob_session)
    await socket.disconnect()

    @database_sync_to_async
    def meanwhile() -> None:
        BlockFactory.create(blocker=bob, blocked=dan)
        rooms_services.message_edit(message=edited, editor=carla, text="Cambiado")
        rooms_services.message_delete(message=deleted, by=carla)
        rooms_services.message_edit(message=hidden, editor=dan, text="Oculto")
        rooms_services.message_edit(message=later, editor=carla, text="Más allá")
        rooms_services.reaction_toggle(message=kept, user=carla, emoji="☕")

    await meanwhile()
    socket, _hello = await join(place, bob_session)
    asked = {"type": "history.since", "after_id": hidden.pk, "changed_since": hello["now"]}
    await socket.send_json_to(asked)
    page = await next_of(socket, "history.page")

    # Up to `after_id` only (the page brings what follows), never a blocked member's.
    assert [(m["id"], m["text"], m["deleted"]) for m in page["changed"]] == [
        (kept.pk, "Igual", False),
        (edited.pk, "Cambiado", False),
        (deleted.pk, "", True),
    ]
    assert page["changed"][0]["reactions"] == [{"emoji": "☕", "members": [carla.pk]}]
    assert [m["id"] for m in page["messages"]] == [later.pk]
    await socket.send_json_to({"type": "history.since", "after_id": kept.pk})
    assert "changed" not in await next_of(socket, "history.page")
    await socket.send_json_to({**asked, "changed_since": "yesterday"})
    assert (await next_of(socket, "error"))["code"] == "invalid_fields"
    await socket.disconnect()


async def test_an_anonymous_visitor_is_refused_before_accept() -> None:
    place = await room()

    communicator, (connected, code) = await connect(place)
    await communicator.disconnect()

    # Over a real server this is an HTTP 403 during the handshake.
    assert (connected, code) == (False, 4401)


async def test_a_foreign_origin_is_refused() -> None:
    _alice, session = await member_with_session()
    place = await room()

    communicator, (connected, _code) = await connect(
        place, session, origin=(b"origin", b"https://evil.example.com")
    )
    await communicator.disconnect()

    assert not connected


async def test_an_unknown_room_is_refused() -> None:
    _alice, session = await member_with_session()

    communicator, (connected, code) = await connect(Room(slug="nowhere"), session)
    await communicator.disconnect()

    assert (connected, code) == (False, 4404)


async def test_an_outsider_is_refused_from_a_private_room() -> None:
    _owner, owner_session = await member_with_session()
    _outsider, outsider_session = await member_with_session()
    owner = await database_sync_to_async(User.objects.get)(pk=_owner.pk)
    place = await room(private=True, created_by=owner)

    refused, (connected, code) = await connect(place, outsider_session)
    await refused.disconnect()
    assert (connected, code) == (False, 4403)
    communicator, _hello = await join(place, owner_session)
    await communicator.disconnect()


async def test_bad_frames_get_error_frames_and_the_socket_keeps_working() -> None:
    _alice, session = await member_with_session()
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
    await alice.send_json_to(send("x" * 40_000))
    error = await next_of(alice, "error")
    assert error["code"] == "frame_too_large"
    assert error["message"]
    await alice.send_json_to(send("x" * 2001))
    assert (await next_of(alice, "error"))["code"] == "too_long"

    await alice.send_json_to({"type": "ping"})
    assert (await next_of(alice, "pong")) == {"type": "pong"}
    await alice.disconnect()


async def test_nested_frames_and_unstorable_text_get_error_frames_and_leave_no_trace() -> None:
    _alice, session = await member_with_session()
    place = await room()
    alice, _ = await join(place, session)

    # Deep enough to exhaust the JSON parser's recursion, well under the size limit.
    await alice.send_to(text_data='{"type": "chat.send", "x": ' + "[" * 15_000 + "]" * 15_000 + "}")
    assert (await next_of(alice, "error"))["code"] == "invalid_json"
    await alice.send_to(text_data='{"type": "ping", "x": ' + "[" * 40 + "]" * 40 + "}")
    assert (await next_of(alice, "error"))["code"] == "invalid_json"
    # Text PostgreSQL cannot store: a NUL, and a lone surrogate escaped in the JSON.
    await alice.send_json_to(send("before\x00after"))
    assert (await next_of(alice, "error"))["code"] == "invalid_fields"
    lone_surrogate = json.dumps(send("x")).replace('"x"', '"\\ud800"')
    await alice.send_to(text_data=lone_surrogate)
    assert (await next_of(alice, "error"))["code"] == "invalid_fields"

    await alice.send_json_to(send("Still here"))
    await next_of(alice, "chat.ack")
    texts = await database_sync_to_async(list)(Message.objects.values_list("text", flat=True))
    assert texts == ["Still here"]
    await alice.disconnect()


async def test_chat_frames_beyond_the_rate_limit_are_refused() -> None:
    _alice, session = await member_with_session()
    place = await room()
    alice, _ = await join(place, session)
    await a_fresh_budget_window()

    for n in range(10):
        await alice.send_json_to(send(f"Message {n}"))
        await next_of(alice, "chat.ack")
    await alice.send_json_to(send("One too many"))

    assert (await next_of(alice, "error"))["code"] == "rate_limited"
    assert await database_sync_to_async(Message.objects.filter(room=place).count)() == 10
    await alice.disconnect()


async def test_pings_beyond_the_connections_limit_are_refused_and_the_socket_stays() -> None:
    _alice, session = await member_with_session()
    alice, _ = await join(await room(), session)
    await settled(alice)
    # Pings are counted per connection in windows of RATE_WINDOW seconds: start in a fresh one.
    left = base.RATE_WINDOW - time.monotonic() % base.RATE_WINDOW
    if left < 3:
        await asyncio.sleep(left + 0.05)

    for _ in range(base.PING_LIMIT + 1):
        await alice.send_json_to({"type": "ping"})
    answers = [
        (await alice.receive_json_from(timeout=5))["type"] for _ in range(base.PING_LIMIT + 1)
    ]

    assert answers == ["pong"] * base.PING_LIMIT + ["error"]
    await alice.send_json_to(send("Still here"))
    await next_of(alice, "chat.ack")
    await alice.disconnect()


async def frames_until(
    communicator: WebsocketCommunicator, done: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """The frames as they come, up to the first one after which `done(frames)` holds."""
    frames: list[dict[str, Any]] = []
    while not done(frames):
        frames.append(await communicator.receive_json_from(timeout=5))
    return frames


async def test_blocked_members_do_not_see_each_others_messages_or_presence() -> None:
    alice_user, alice_session = await member_with_session()
    bob_user, bob_session = await member_with_session()
    carol_user, carol_session = await member_with_session()
    await database_sync_to_async(BlockFactory.create)(blocker=alice_user, blocked=bob_user)
    place = await room()
    alice, _ = await join(place, alice_session)
    bob, bob_hello = await join(place, bob_session)
    carol, _ = await join(place, carol_session)
    assert [m["id"] for m in bob_hello["presence"]] == [bob_user.pk]

    await bob.send_json_to(send("From Bob"))
    ack = await next_of(bob, "chat.ack")
    assert (await next_of(carol, "chat.message"))["message"]["text"] == "From Bob"

    def skipped_and_carol_arrived(frames: list[dict[str, Any]]) -> bool:
        # Batches go out in the order the arrivals were marked, and Bob came before Carol:
        # once Alice hears of Carol, every batch with Bob in it has reached her too.
        arrived = {m["id"] for f in frames if f["type"] == "presence.update" for m in f["members"]}
        return carol_user.pk in arrived and any(f["type"] == "chat.skip" for f in frames)

    frames = await frames_until(alice, skipped_and_carol_arrived)

    # Bob edits his message, Carol reacts to it, Bob deletes it: Carol hears each of them,
    # so each went out to the room.
    await bob.send_json_to({"type": "chat.edit", "id": ack["id"], "text": "From Bob, again"})
    assert (await next_of(carol, "chat.edited"))["message"]["id"] == ack["id"]
    await carol.send_json_to({"type": "chat.react", "id": ack["id"], "emoji": "☕"})
    assert (await next_of(carol, "chat.reactions"))["id"] == ack["id"]
    await bob.send_json_to({"type": "chat.delete", "id": ack["id"]})
    assert (await next_of(carol, "chat.deleted"))["id"] == ack["id"]
    # Carol's next message reaches Alice after all of that (one room, one inbox, in order):
    # whatever Alice was sent about Bob's message is in her frames before it.
    await carol.send_json_to(send("From Carol"))
    await next_of(carol, "chat.ack")
    frames += await frames_until(alice, lambda got: bool(got) and got[-1]["type"] == "chat.message")

    assert [f["message"]["text"] for f in frames if f["type"] == "chat.message"] == ["From Carol"]
    # Only its number, so that Alice's page does not take it for a gap.
    skips = [f for f in frames if f["type"] == "chat.skip"]
    assert skips == [{"type": "chat.skip", "id": ack["id"], "seq": ack["seq"]}]
    assert not [f for f in frames if f["type"] in {"chat.edited", "chat.reactions", "chat.deleted"}]
    updates = [f for f in frames if f["type"] == "presence.update"]
    seen = {m["id"] for f in updates for m in f["members"]} | {
        i for f in updates for i in f["left"]
    }
    assert bob_user.pk not in seen
    for communicator in (alice, bob, carol):
        await communicator.disconnect()


async def presence_news(communicator: WebsocketCommunicator) -> tuple[list[int], list[int]]:
    """Who the next `presence.update` brings and who it takes away."""
    frame = await next_of(communicator, "presence.update")
    return [member["id"] for member in frame["members"]], frame["left"]


async def test_a_block_made_or_lifted_while_both_are_in_the_room_changes_both_lists() -> None:
    alice_user, alice_session = await member_with_session()
    bob_user, bob_session = await member_with_session()
    place = await room()
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)
    await settled(alice)
    await settled(bob)

    await database_sync_to_async(services.block_create)(blocker=alice_user, blocked=bob_user)

    assert await presence_news(alice) == ([], [bob_user.pk])
    assert await presence_news(bob) == ([], [alice_user.pk])

    await database_sync_to_async(services.block_delete)(blocker=alice_user, blocked=bob_user)

    assert await presence_news(alice) == ([bob_user.pk], [])
    assert await presence_news(bob) == ([alice_user.pk], [])
    for communicator in (alice, bob):
        await communicator.disconnect()


async def answers_to(communicator: WebsocketCommunicator, frame: dict[str, Any]) -> list[Any]:
    """What the socket answers `frame` with itself, up to the pong of a ping sent right after
    it (frames are handled in order), leaving presence news aside. Not the room's broadcasts
    about it: those come back through the channel layer, maybe after the pong."""
    await communicator.send_json_to(frame)
    await communicator.send_json_to({"type": "ping"})
    frames = await frames_until(communicator, lambda got: bool(got) and got[-1]["type"] == "pong")
    return [f for f in frames[:-1] if f["type"] != "presence.update"]


async def test_a_status_change_reaches_the_others_as_a_presence_update() -> None:
    _alice, alice_session = await member_with_session()
    bob_user, bob_session = await member_with_session()
    place = await room()
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)
    await settled(alice)

    await bob.send_json_to({"type": "presence.status", "status": "dnd"})
    update = await alice.receive_json_from(timeout=5)
    assert update["type"] == "presence.update"
    assert [(m["id"], m["status"]) for m in update["members"]] == [(bob_user.pk, "dnd")]
    assert update["left"] == []
    await bob.send_json_to({"type": "presence.status", "status": "nap"})
    assert (await next_of(bob, "error"))["code"] == "invalid_fields"
    await alice.disconnect()
    await bob.disconnect()


async def test_a_rename_reaches_the_others_presence_lists_without_a_reload() -> None:
    from tests.test_members_profile import VALID

    _alice, alice_session = await member_with_session()
    bob_user, bob_session = await member_with_session(display_name="Bob Old")
    await database_sync_to_async(Profile.objects.update_or_create)(
        user=bob_user, defaults={"onboarded_at": timezone.now()}
    )
    place = await room()
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)
    await settled(alice)
    client = Client()
    client.cookies["sessionid"] = bob_session

    saved = await database_sync_to_async(client.post)(
        "/members/me/edit/", {**VALID, "display_name": "Roberto Nuevo"}
    )

    assert saved["Location"] == f"/members/{bob_user.pk}/"
    update = await next_of(alice, "presence.update")
    assert [(m["id"], m["name"]) for m in update["members"]] == [(bob_user.pk, "Roberto Nuevo")]
    await alice.disconnect()
    await bob.disconnect()


async def test_stale_presence_is_pruned() -> None:
    _alice, alice_session = await member_with_session()
    bob_user, bob_session = await member_with_session()
    place = await room()
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)
    await settled(alice)
    # The server process holding Bob's socket died: nobody touches his row any more.
    await database_sync_to_async(Presence.objects.filter(user=bob_user).update)(
        heartbeat_at=timezone.now() - PRESENCE_TTL - timedelta(seconds=1)
    )

    # What the `rooms.tasks.presence_prune` beat task does, in this event loop.
    pruned = await database_sync_to_async(presence_prune)(now=timezone.now())
    assert pruned == {place.pk: {bob_user.pk}}
    await broadcast.presence_announce(room_id=place.pk, user_ids=pruned[place.pk])

    update = await next_of(alice, "presence.update")
    assert update == {"type": "presence.update", "members": [], "left": [bob_user.pk]}
    await alice.disconnect()
    await bob.disconnect()


async def closed_with(communicator: WebsocketCommunicator) -> int:
    """The close code the server ended the socket with, after any frames before it."""
    while True:
        output = await communicator.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            return int(output["code"])


async def bye_then_close(communicator: WebsocketCommunicator) -> tuple[str, int]:
    bye = await next_of(communicator, "bye")
    assert bye["message"]
    return bye["reason"], await closed_with(communicator)


async def test_joins_in_a_burst_reach_the_others_as_one_batched_update() -> None:
    _alice, alice_session = await member_with_session()
    place = await room()
    alice, _ = await join(place, alice_session)
    await settled(alice)
    others = [await member_with_session() for _ in range(8)]

    joined = await asyncio.gather(*(join(place, session) for _user, session in others))
    sockets = [communicator for communicator, _hello in joined]
    frames = await settled(alice)

    # One event per one-second batch window, not one per join.
    assert 1 <= len(frames) <= 3
    assert {f["type"] for f in frames} == {"presence.update"}
    assert {m["id"] for f in frames for m in f["members"]} == {user.pk for user, _ in others}

    await sockets[0].disconnect()
    update = await next_of(alice, "presence.update")
    assert update == {"type": "presence.update", "members": [], "left": [others[0][0].pk]}
    for communicator in (alice, *sockets[1:]):
        await communicator.disconnect()


async def test_with_several_processes_a_room_hears_one_batch_at_a_time_for_all_of_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each process sent its own batches: ten processes, ten times the frames, and two
    readings a moment apart could arrive in the other order. Here another process has just
    sent the room's batch (its turn runs) and Carol's change waits in the room's set."""
    alice_user, alice_session = await member_with_session()
    bob_user, bob_session = await member_with_session()
    carol_user, carol_session = await member_with_session()
    place = await room()
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)
    carol, _ = await join(place, carol_session)
    await settled(alice)
    monkeypatch.setattr(broadcast, "PRESENCE_BATCH_SECONDS", 0.2)
    client = limits.shared_redis()
    assert client is not None
    await client.sadd(f"presence:pending:{place.pk}", carol_user.pk)
    await client.set(f"presence:turn:{place.pk}", "1", px=600)

    await alice.send_json_to({"type": "presence.status", "status": "dnd"})
    await bob.send_json_to({"type": "presence.status", "status": "break"})
    update = await next_of(alice, "presence.update")
    more = [frame for frame in await settled(alice) if frame["type"] == "presence.update"]

    # This process waited for the turn, then sent its own changes with the other's.
    assert {m["id"] for m in update["members"]} == {alice_user.pk, bob_user.pk, carol_user.pk}
    assert more == []
    assert not await client.exists(f"presence:pending:{place.pk}")
    # A batch whose members another process sent while it waited sends nothing.
    await client.set(f"presence:turn:{place.pk}", "1", px=5000)
    await bob.send_json_to({"type": "presence.status", "status": "working"})
    while not await client.exists(f"presence:pending:{place.pk}"):  # offered, now waiting
        await asyncio.sleep(0.05)
    await client.delete(f"presence:pending:{place.pk}")  # taken and sent elsewhere
    assert [f for f in await settled(alice) if f["type"] == "presence.update"] == []
    for communicator in (alice, bob, carol):
        await communicator.disconnect()


async def test_in_a_crowd_presence_batches_wait_longer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every process's batches reach every socket of the room: in a crowd they wait longer,
    so that thousands arriving cost each socket a frame every few seconds, not every one."""
    crowds: list[int] = []
    delay = broadcast.presence_batch_delay

    def measured(local_sockets: int) -> float:
        crowds.append(local_sockets)
        return delay(local_sockets)

    monkeypatch.setattr(broadcast, "presence_batch_delay", measured)
    monkeypatch.setattr(broadcast, "PRESENCE_BATCH_SECONDS", 0.2)
    monkeypatch.setattr(broadcast, "PRESENCE_CROWD", 1)  # a crowd from 2 sockets
    place = await room()
    alice, _ = await join(place, (await member_with_session())[1])
    bob, _ = await join(place, (await member_with_session())[1])
    await settled(alice)
    await settled(bob)
    cleo_user, cleo_session = await member_with_session()
    crowds.clear()

    cleo, _ = await join(place, cleo_session)
    update = await next_of(alice, "presence.update")

    # Cleo's batch waited for a crowd of three of the room's sockets in this process.
    assert crowds == [3]
    assert delay(3) == pytest.approx(3 * 0.2)
    assert [m["id"] for m in update["members"]] == [cleo_user.pk]
    for communicator in (alice, bob, cleo):
        await communicator.disconnect()


async def test_a_second_tab_keeps_the_member_present_when_the_first_closes() -> None:
    _alice, alice_session = await member_with_session()
    bob_user, bob_session = await member_with_session()
    place = await room()
    alice, _ = await join(place, alice_session)
    first_tab, _ = await join(place, bob_session)
    second_tab, _ = await join(place, bob_session)
    await settled(alice)

    await first_tab.disconnect()
    update = await next_of(alice, "presence.update")

    assert [m["id"] for m in update["members"]] == [bob_user.pk]
    assert update["left"] == []
    await alice.disconnect()
    await second_tab.disconnect()


async def test_authors_edit_and_delete_and_everyone_hears_it() -> None:
    _alice, alice_session = await member_with_session()
    _bob, bob_session = await member_with_session()
    place = await room()
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)
    await alice.send_json_to(send("Helo"))
    message_id = (await next_of(alice, "chat.ack"))["id"]
    await next_of(bob, "chat.message")

    await alice.send_json_to({"type": "chat.edit", "id": message_id, "text": "Hello"})
    edited = await next_of(bob, "chat.edited")
    assert (await next_of(alice, "chat.edited")) == edited  # the author's other tabs too
    assert edited["message"]["text"] == "Hello"
    assert edited["message"]["edited_at"]
    await bob.send_json_to({"type": "chat.edit", "id": message_id, "text": "Mine now"})
    assert (await next_of(bob, "error"))["code"] == "not_allowed"
    await bob.send_json_to({"type": "chat.delete", "id": message_id})
    assert (await next_of(bob, "error"))["code"] == "not_allowed"
    await bob.send_json_to({"type": "chat.delete", "id": 999_999})
    assert (await next_of(bob, "error"))["code"] == "not_found"

    await alice.send_json_to({"type": "chat.delete", "id": message_id})
    assert (await next_of(bob, "chat.deleted")) == {"type": "chat.deleted", "id": message_id}
    await next_of(alice, "chat.deleted")
    await alice.send_json_to({"type": "chat.edit", "id": message_id, "text": "Back"})
    assert (await next_of(alice, "error"))["code"] == "deleted"
    stored = await database_sync_to_async(Message.objects.get)(pk=message_id)
    assert stored.text == "" and stored.deleted_at
    await alice.disconnect()
    await bob.disconnect()


async def test_the_page_offers_staff_the_tools_their_rights_hold() -> None:
    """One flag drove both the mute and remove tools and the Delete button: staff holding
    only one of the two rights were offered a tool the server refused."""
    deleter = await database_sync_to_async(
        lambda: granted(UserFactory.create(), "rooms.change_message")
    )()
    client = Client()
    await database_sync_to_async(client.force_login)(deleter)
    _socket, hello = await join(await room(), client.cookies["sessionid"].value)
    assert (hello["you"]["staff"], hello["you"]["deletes"]) == (False, True)
    await _socket.disconnect()


async def test_staff_delete_anyones_message_mute_and_remove_over_the_socket() -> None:
    bob_user, bob_session = await member_with_session(display_name="Bob")
    _staff, staff_session = await member_with_session(is_staff=True, is_superuser=True)
    place = await room()
    bob, _ = await join(place, bob_session)
    staff, staff_hello = await join(place, staff_session)
    assert staff_hello["you"]["staff"] is True
    await bob.send_json_to(send("Spam"))
    message_id = (await next_of(bob, "chat.ack"))["id"]

    await staff.send_json_to({"type": "chat.delete", "id": message_id})
    assert (await next_of(bob, "chat.deleted"))["id"] == message_id

    await staff.send_json_to({"type": "member.mute", "user_id": bob_user.pk, "minutes": 15})
    done = await next_of(staff, "moderation.done")
    muted = await next_of(bob, "you.muted")
    assert muted["until"]
    assert done == {
        "type": "moderation.done",
        "action": "mute",
        "user_id": bob_user.pk,
        "until": muted["until"],
    }
    # Staff arriving now learn who is muted here (their tools offer "Unmute"); members don't.
    other_staff, other_hello = await join(
        place, (await member_with_session(is_staff=True, is_superuser=True))[1]
    )
    assert other_hello["you"]["muted_here"] == [{"id": bob_user.pk, "until": muted["until"]}]
    member, member_hello = await join(place, (await member_with_session())[1])
    assert "muted_here" not in member_hello["you"]
    await other_staff.disconnect()
    await member.disconnect()
    await bob.send_json_to(send("Still here"))
    assert (await next_of(bob, "error"))["code"] == "muted"
    await staff.send_json_to({"type": "member.mute", "user_id": bob_user.pk, "minutes": 0})
    assert (await next_of(bob, "you.muted"))["until"] is None
    assert (await next_of(staff, "moderation.done")) == {
        "type": "moderation.done",
        "action": "unmute",
        "user_id": bob_user.pk,
        "until": None,
    }
    await bob.send_json_to(send("Sorry"))
    await next_of(bob, "chat.ack")

    await staff.send_json_to({"type": "member.remove", "user_id": bob_user.pk})
    assert await bye_then_close(bob) == ("removed", 4001)
    assert (await next_of(staff, "moderation.done"))["action"] == "remove"
    refused, (connected, code) = await connect(place, bob_session)
    await refused.disconnect()
    assert (connected, code) == (False, 4403)
    await staff.disconnect()


async def test_members_cannot_moderate_and_bad_moderation_frames_are_refused() -> None:
    alice_user, alice_session = await member_with_session()
    bob_user, bob_session = await member_with_session()
    _staff, staff_session = await member_with_session(is_staff=True, is_superuser=True)
    place = await room()
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)
    staff, _ = await join(place, staff_session)

    await alice.send_json_to({"type": "member.mute", "user_id": bob_user.pk, "minutes": 5})
    assert (await next_of(alice, "error"))["code"] == "not_allowed"
    await alice.send_json_to({"type": "member.remove", "user_id": bob_user.pk})
    assert (await next_of(alice, "error"))["code"] == "not_allowed"
    for frame in (
        {"type": "member.mute", "user_id": bob_user.pk, "minutes": 5000},
        {"type": "member.mute", "user_id": bob_user.pk},
        {"type": "member.remove", "user_id": "bob"},
    ):
        await staff.send_json_to(frame)
        assert (await next_of(staff, "error"))["code"] == "invalid_fields"
    await staff.send_json_to({"type": "member.remove", "user_id": 999_999})
    assert (await next_of(staff, "error"))["code"] == "no_member"

    assert not [f for f in await drain(bob) if f["type"] in {"bye", "you.muted"}]
    await alice.send_json_to({"type": "ping"})
    assert (await next_of(alice, "pong"))["type"] == "pong"
    assert alice_user.pk
    for communicator in (alice, bob, staff):
        await communicator.disconnect()


async def test_a_removal_without_a_broadcast_is_found_by_the_processs_sweep() -> None:
    bob_user, bob_session = await member_with_session()
    staff_user, _staff_session = await member_with_session(is_staff=True, is_superuser=True)
    place = await room()
    bob, _ = await join(place, bob_session)

    # Removed through the admin or a service call, without a broadcast to the socket.
    await database_sync_to_async(room_member_remove)(room=place, member=bob_user, by=staff_user)
    await bob.send_json_to({"type": "ping"})
    assert (await next_of(bob, "pong")) == {"type": "pong"}  # pings touch no database
    await liveness.sweep()  # what this process does every TOUCH_INTERVAL

    assert await bye_then_close(bob) == ("removed", 4001)


async def test_the_sweep_touches_presence_and_puts_back_a_pruned_row() -> None:
    alice_user, alice_session = await member_with_session()
    bob_user, bob_session = await member_with_session()
    place = await room()
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)
    await settled(alice)
    stale = timezone.now() - PRESENCE_TTL - timedelta(seconds=1)
    await database_sync_to_async(Presence.objects.filter(user=alice_user).update)(
        heartbeat_at=stale
    )
    # Bob's process stalled long enough for his row to be pruned.
    await database_sync_to_async(Presence.objects.filter(user=bob_user).delete)()

    await liveness.sweep()

    rows = await database_sync_to_async(list)(Presence.objects.order_by("user_id"))
    assert [row.user_id for row in rows] == sorted([alice_user.pk, bob_user.pk])
    assert all(row.heartbeat_at > stale for row in rows)
    update = await next_of(alice, "presence.update")
    assert [m["id"] for m in update["members"]] == [bob_user.pk]
    await alice.disconnect()
    await bob.disconnect()


async def test_a_pruned_row_is_not_put_back_into_a_room_that_filled_up_meanwhile() -> None:
    """Alice's process stalled past the TTL and her row was pruned; another process let Bob
    into the freed place. Put back, the room held two in its one place."""
    alice_user, alice_session = await member_with_session()
    bob_user, bob_session = await member_with_session()
    place = await room(capacity=1)
    alice, _ = await join(place, alice_session)
    await database_sync_to_async(Presence.objects.filter(user=alice_user).delete)()
    bob, _ = await join(place, bob_session)

    await liveness.sweep()

    users = await database_sync_to_async(list)(
        Presence.objects.filter(room=place).values_list("user_id", flat=True)
    )
    assert users == [bob_user.pk]
    assert await bye_then_close(alice) == ("full", 4006)
    await bob.disconnect()


async def test_the_sweep_goes_over_its_sockets_a_slice_at_a_time_and_misses_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each slice is one trip on the thread every database call of the process shares, so
    # that a chat message sent meanwhile waits for a slice, not for every socket.
    monkeypatch.setattr(liveness, "SWEEP_SLICE", 2)
    slices: list[int] = []
    check = liveness.connections_check

    def connections_check(**kwargs: Any) -> tuple[dict[str, str], list[str]]:
        slices.append(len(kwargs["connections"]))
        return check(**kwargs)

    monkeypatch.setattr(liveness, "connections_check", connections_check)
    staff_user, _staff_session = await member_with_session(is_staff=True, is_superuser=True)
    place = await room()
    people = [await member_with_session() for _ in range(5)]
    sockets = [(await join(place, session))[0] for _user, session in people]
    await settled(sockets[0])
    stale = timezone.now() - PRESENCE_TTL - timedelta(seconds=1)
    await database_sync_to_async(Presence.objects.update)(heartbeat_at=stale)
    last_user, _session = people[-1]
    await database_sync_to_async(Presence.objects.filter(user=last_user).delete)()
    removed_user, _session = people[2]
    await database_sync_to_async(room_member_remove)(room=place, member=removed_user, by=staff_user)

    await liveness.sweep()

    assert max(slices) == 2 and sum(slices) >= 5
    assert await bye_then_close(sockets[2]) == ("removed", 4001)
    rows = await database_sync_to_async(list)(Presence.objects.exclude(user=removed_user))
    assert sorted(row.user_id for row in rows) == sorted(
        user.pk for user, _session in people if user != removed_user
    )
    assert all(row.heartbeat_at > stale for row in rows)
    for communicator in sockets[:2] + sockets[3:]:
        await communicator.disconnect()


async def test_a_sweep_decodes_again_only_the_sessions_whose_member_or_data_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bob_user, session = await member_with_session()
    bob, _ = await join(await room(), session)
    await liveness.sweep()
    decoded: list[str] = []
    decode = SessionStore.decode

    def counted(store: SessionStore, data: str) -> dict[str, Any]:
        decoded.append(data)
        return decode(store, data)

    monkeypatch.setattr(SessionStore, "decode", counted)

    await liveness.sweep()
    assert decoded == []  # nothing changed: the last sweep's answer stands

    await database_sync_to_async(User.objects.filter(pk=bob_user.pk).update)(password="!other")
    await liveness.sweep()
    assert len(decoded) == 1
    assert await bye_then_close(bob) == ("password", 4004)


async def test_a_new_secret_key_without_the_old_one_as_fallback_ends_checked_sessions() -> None:
    _bob, session = await member_with_session()
    bob, _ = await join(await room(), session)
    await liveness.sweep()  # checked, and remembered as signed in

    with override_settings(SECRET_KEY="another-" + "k" * 50, SECRET_KEY_FALLBACKS=[]):
        await liveness.sweep()

    assert await bye_then_close(bob) == ("password", 4004)


async def test_a_processs_sockets_share_one_inbox_channel_in_redis() -> None:
    """No channel per socket (4 KiB each, docs/benchmarks.md): every socket's address is
    a place in its process's inbox, the one channel the process reads for them."""
    place = await room()
    sockets = []
    for _ in range(3):
        _user, session = await member_with_session()
        sockets.append((await join(place, session))[0])

    addresses = await database_sync_to_async(
        lambda: list(Presence.objects.filter(room=place).values_list("channel_name", flat=True))
    )()
    inboxes = {address.rpartition("!")[0] for address in addresses}
    assert len(addresses) == 3 and len(inboxes) == 1
    client = limits.shared_redis()
    assert client is not None
    (inbox,) = inboxes
    assert await client.pubsub_numsub(inbox) == [(inbox.encode(), 1)]
    for communicator in sockets:
        await communicator.disconnect()


async def test_logging_out_closes_that_sessions_sockets_only() -> None:
    bob_user = await database_sync_to_async(UserFactory.create)()
    browser, other_browser = Client(), Client()
    await database_sync_to_async(browser.force_login)(bob_user)
    await database_sync_to_async(other_browser.force_login)(bob_user)
    place = await room()
    bob, _ = await join(place, browser.cookies["sessionid"].value)
    elsewhere, _ = await join(place, other_browser.cookies["sessionid"].value)

    response = await database_sync_to_async(browser.post)("/accounts/logout/")

    assert response.status_code == 302
    assert await bye_then_close(bob) == ("logged_out", 4000)
    await elsewhere.send_json_to({"type": "ping"})
    assert (await next_of(elsewhere, "pong"))["type"] == "pong"
    await elsewhere.disconnect()


async def test_a_session_ended_elsewhere_is_found_by_the_sweep() -> None:
    _bob, session = await member_with_session()
    place = await room()
    bob, _ = await join(place, session)

    await database_sync_to_async(Session.objects.filter(session_key=session).delete)()
    await liveness.sweep()

    assert await bye_then_close(bob) == ("logged_out", 4000)


async def test_deleting_the_account_closes_every_socket_of_it() -> None:
    bob_user, session = await member_with_session()
    first, second = await room(), await room()
    one, _ = await join(first, session)
    two, _ = await join(second, session)

    await database_sync_to_async(account_delete)(user=bob_user)

    assert await bye_then_close(one) == ("account", 4003)
    assert await bye_then_close(two) == ("account", 4003)


async def test_a_member_blocked_by_a_private_rooms_creator_is_refused_even_if_invited() -> None:
    owner, _owner_session = await member_with_session()
    guest, guest_session = await member_with_session()
    place = await room(private=True, created_by=owner)
    await database_sync_to_async(place.invitees.add)(guest)
    await database_sync_to_async(BlockFactory.create)(blocker=owner, blocked=guest)

    refused, (connected, code) = await connect(place, guest_session)
    await refused.disconnect()

    assert (connected, code) == (False, 4403)


async def test_a_full_room_refuses_a_newcomer_but_not_a_second_tab() -> None:
    _alice, alice_session = await member_with_session()
    _bob, bob_session = await member_with_session()
    _carol, carol_session = await member_with_session()
    place = await room(capacity=2)
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)

    refused, (connected, code) = await connect(place, carol_session)
    await refused.disconnect()
    second_tab, _ = await join(place, bob_session)

    assert (connected, code) == (False, 4409)
    for communicator in (alice, bob, second_tab):
        await communicator.disconnect()


async def test_members_arriving_together_never_take_more_places_than_the_room_has() -> None:
    sessions = [(await member_with_session())[1] for _ in range(8)]
    place = await room(capacity=2)

    attempts = await asyncio.gather(*(connect(place, session) for session in sessions))

    accepted = [communicator for communicator, (connected, _code) in attempts if connected]
    assert len(accepted) == 2
    assert sorted(code for _c, (connected, code) in attempts if not connected) == [4409] * 6
    for communicator, _outcome in attempts:
        await communicator.disconnect()


async def test_closing_the_room_says_bye_to_everyone_inside() -> None:
    owner, session = await member_with_session()
    place = await room(created_by=owner)
    inside, _ = await join(place, session)

    await database_sync_to_async(room_close)(room=place, by=owner)
    await broadcast.room_closed(room_id=place.pk)

    assert await bye_then_close(inside) == ("closed", 4002)


async def test_the_lobby_socket_hears_that_rooms_changed_coalesced() -> None:
    _alice, alice_session = await member_with_session()
    place = await room()
    anonymous = WebsocketCommunicator(application, "/ws/rooms/", headers=[ORIGIN])
    assert await anonymous.connect(timeout=5) == (False, 4401)
    lobby = WebsocketCommunicator(
        application,
        "/ws/rooms/",
        headers=[ORIGIN, (b"cookie", f"sessionid={alice_session}".encode())],
    )
    assert (await lobby.connect(timeout=5))[0]

    sockets = []
    for _ in range(3):
        _user, session = await member_with_session()
        sockets.append((await join(place, session))[0])

    assert await lobby.receive_json_from(timeout=5) == {"type": "lobby.changed"}
    assert await lobby.receive_nothing(timeout=1.0)
    await lobby.send_to(text_data="nonsense")
    assert (await lobby.receive_json_from(timeout=5))["type"] == "error"
    for communicator in (lobby, *sockets):
        await communicator.disconnect()


async def test_a_block_made_or_lifted_has_both_lobby_lists_fetched_again() -> None:
    """The faces in each room are drawn from the list the page fetches, which leaves out
    whom the viewer does not see: after a block, and after it is lifted, both fetch it."""
    alice, alice_session = await member_with_session()
    bob, bob_session = await member_with_session()
    lobbies = []
    for session in (alice_session, bob_session):
        lobby = WebsocketCommunicator(
            application,
            "/ws/rooms/",
            headers=[ORIGIN, (b"cookie", f"sessionid={session}".encode())],
        )
        assert (await lobby.connect(timeout=5))[0]
        lobbies.append(lobby)

    for change in (services.block_create, services.block_delete):
        await database_sync_to_async(change)(blocker=alice, blocked=bob)
        for lobby in lobbies:
            assert await lobby.receive_json_from(timeout=5) == {"type": "lobby.changed"}
    for lobby in lobbies:
        await lobby.disconnect()


async def test_a_member_removed_from_a_room_has_their_lobby_list_fetched_again() -> None:
    """The removal goes to every socket of the member (their group): the room's says bye,
    the lobby's has the page fetch its list again, and stays."""
    alice, session = await member_with_session()
    place = await room()
    lobby = WebsocketCommunicator(
        application, "/ws/rooms/", headers=[ORIGIN, (b"cookie", f"sessionid={session}".encode())]
    )
    assert (await lobby.connect(timeout=5))[0]

    await broadcast.member_removed(room_id=place.pk, user_id=alice.pk)

    assert await lobby.receive_json_from(timeout=5) == {"type": "lobby.changed"}
    await lobby.send_json_to({"type": "ping"})
    assert await lobby.receive_json_from(timeout=5) == {"type": "pong"}
    await lobby.disconnect()


async def test_errors_speak_the_language_of_the_members_pages() -> None:
    _alice, session = await member_with_session()
    place = await room()
    messages = {}
    for accept, cookie in (("en-US,en;q=0.9", ""), ("en-US", "django_language=es; "), ("", "")):
        headers = [ORIGIN, (b"cookie", f"{cookie}sessionid={session}".encode())]
        if accept:
            headers.append((b"accept-language", accept.encode()))
        communicator = WebsocketCommunicator(application, f"/ws/rooms/{place.slug}/", headers)
        assert (await communicator.connect(timeout=5))[0]
        await communicator.send_to(text_data="{oops")
        messages[(accept, cookie)] = (await next_of(communicator, "error"))["message"]
        await communicator.disconnect()

    assert list(messages.values()) == [
        "This frame is not valid JSON.",
        "Este mensaje del protocolo no es JSON válido.",
        "Este mensaje del protocolo no es JSON válido.",
    ]


async def test_when_the_event_held_here_ends_the_room_is_invited_to_the_cafeteria() -> None:
    from events.tasks import events_wrap_up_tick
    from tests.factories import EventFactory

    host, session = await member_with_session()
    place = await room(created_by=host)
    now = timezone.now()
    await database_sync_to_async(EventFactory.create)(
        host=host,
        created_by=host,
        room=place,
        title="Open talk",
        starts_at=now - timedelta(hours=1),
        ends_at=now - timedelta(minutes=1),
    )
    inside, _ = await join(place, session)

    # What beat runs every minute, in this event loop's thread pool.
    assert await database_sync_to_async(events_wrap_up_tick)() == 1
    assert await database_sync_to_async(events_wrap_up_tick)() == 0

    notice = await next_of(inside, "room.notice")
    assert notice["notice"] == "event_ended"
    assert "Open talk" in notice["message"]
    assert notice["url"] == "/rooms/cafeteria/"
    assert await inside.receive_nothing(timeout=0.5)
    await inside.disconnect()


async def test_open_lobbies_hear_when_an_event_room_opens() -> None:
    from rooms.tasks import rooms_opened_tick

    _alice, session = await member_with_session()
    await room(opens_at=timezone.now() - timedelta(seconds=20))
    await room(opens_at=timezone.now() + timedelta(minutes=5))  # not yet
    lobby = WebsocketCommunicator(
        application,
        "/ws/rooms/",
        headers=[ORIGIN, (b"cookie", f"sessionid={session}".encode())],
    )
    assert (await lobby.connect(timeout=5))[0]

    assert await database_sync_to_async(rooms_opened_tick)() == 1

    assert await lobby.receive_json_from(timeout=5) == {"type": "lobby.changed"}
    await lobby.disconnect()


async def test_a_reaction_across_a_block_either_way_is_not_found_and_stores_nothing() -> None:
    alice_user, alice_session = await member_with_session()
    bob_user, bob_session = await member_with_session()
    carol_user = await database_sync_to_async(UserFactory.create)()
    await database_sync_to_async(BlockFactory.create)(blocker=alice_user, blocked=bob_user)
    place = await room()
    posted = database_sync_to_async(MessageFactory.create)
    from_alice = await posted(room=place, author=alice_user, text="From Alice")
    from_bob = await posted(room=place, author=bob_user, text="From Bob")
    from_carol = await posted(room=place, author=carol_user, text="From Carol")
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)

    # The blocker and the blocked alike are answered as for a message that does not exist.
    for socket, message_id in ((alice, from_bob.pk), (bob, from_alice.pk), (bob, 999_999)):
        answers = await answers_to(socket, {"type": "chat.react", "id": message_id, "emoji": "☕"})
        assert [(f["type"], f.get("code"), f.get("about")) for f in answers] == [
            ("error", "not_found", "chat.react")
        ], message_id

    # The socket stays, and reacts to anyone else's message as before.
    await alice.send_json_to({"type": "chat.react", "id": from_carol.pk, "emoji": "☕"})
    assert (await next_of(alice, "chat.reactions"))["id"] == from_carol.pk
    stored = await database_sync_to_async(list)(Reaction.objects.values_list("message", "user"))
    assert stored == [(from_carol.pk, alice_user.pk)]
    await alice.disconnect()
    await bob.disconnect()


async def test_reactions_to_a_third_s_message_leave_out_whom_the_reader_does_not_see() -> None:
    """Live and in the history: Bob's reaction, whom Alice blocked, neither counts nor names
    him on her page; Carol sees both."""
    alice_user, alice_session = await member_with_session()
    bob_user, bob_session = await member_with_session()
    carol_user, carol_session = await member_with_session()
    await database_sync_to_async(BlockFactory.create)(blocker=alice_user, blocked=bob_user)
    place = await room()
    from_carol = await database_sync_to_async(MessageFactory.create)(
        room=place, author=carol_user, text="From Carol"
    )
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)
    carol, _ = await join(place, carol_session)

    await bob.send_json_to({"type": "chat.react", "id": from_carol.pk, "emoji": "☕"})
    assert (await next_of(carol, "chat.reactions"))["reactions"] == [
        {"emoji": "☕", "members": [bob_user.pk]}
    ]
    await carol.send_json_to({"type": "chat.react", "id": from_carol.pk, "emoji": "☕"})
    both = (await next_of(carol, "chat.reactions"))["reactions"]
    assert both == [{"emoji": "☕", "members": [bob_user.pk, carol_user.pk]}]
    # Alice heard nothing of Bob's (nothing she sees changed), then Carol's without his.
    assert (await next_of(alice, "chat.reactions"))["reactions"] == [
        {"emoji": "☕", "members": [carol_user.pk]}
    ]

    again, hello = await join(place, alice_session)
    (message,) = [m for m in hello["history"] if m["id"] == from_carol.pk]
    assert message["reactions"] == [{"emoji": "☕", "members": [carol_user.pk]}]
    for socket in (alice, bob, carol, again):
        await socket.disconnect()


async def test_a_reactions_event_from_the_release_before_reaches_the_page_as_it_was_sent() -> None:
    """During a rolling deploy, a process of the release before sends its event without the
    summary this release reads: its frame goes out as it is, not a KeyError per socket."""
    _alice, alice_session = await member_with_session()
    place = await room()
    message = await database_sync_to_async(MessageFactory.create)(room=place, text="Hola")
    alice, _ = await join(place, alice_session)
    await settled(alice)
    frame = {
        "type": "chat.reactions",
        "id": message.pk,
        "reactions": [{"emoji": "☕", "members": [7]}],
    }
    layer = get_channel_layer()
    assert layer is not None

    await layer.group_send(
        broadcast.room_group(place.pk),
        {"type": "chat.reactions", "frame": json.dumps(frame), "author_id": message.author_id},
    )

    assert await next_of(alice, "chat.reactions") == frame
    await alice.disconnect()


async def test_a_mute_lifted_in_the_admin_reaches_the_member_s_open_page() -> None:
    bob_user, bob_session = await member_with_session(display_name="Bob")
    staff_user, _staff_session = await member_with_session(is_staff=True, is_superuser=True)
    place = await room()
    bob, _ = await join(place, bob_session)

    @database_sync_to_async
    def mute_then_lift_in_the_admin() -> int:
        participation = room_member_mute(
            room=place, member=bob_user, by=staff_user, until=timezone.now() + timedelta(hours=1)
        )
        admin = Client()
        admin.force_login(staff_user)
        lifted = admin.post(
            "/admin/rooms/roomparticipation/",
            {"action": "unmute", "_selected_action": [participation.pk]},
        )
        return lifted.status_code

    assert await mute_then_lift_in_the_admin() == 302
    assert (await next_of(bob, "you.muted"))["until"]
    assert (await next_of(bob, "you.muted"))["until"] is None
    await bob.disconnect()

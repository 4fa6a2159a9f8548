"""The room socket under attack and under change: failures in handlers, fuzzed frames,
access revoked while connected, and budgets per member across sockets (docs/security.md)."""

import asyncio
import json
import logging
import random
import time
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.test import Client

from coworking.asgi import application
from members.models import User
from rooms import consumers, liveness
from rooms.models import Message, Presence, Room
from rooms.sockets import base, limits
from rooms.sockets import chat as chat_socket
from tests.conftest import a_fresh_budget_window
from tests.factories import BlockFactory, UserFactory
from tests.test_rooms_socket import (
    ORIGIN,
    bye_then_close,
    connect,
    drain,
    join,
    member_with_session,
    next_of,
    room,
    send,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def presence_count() -> Any:
    return database_sync_to_async(Presence.objects.count)()


async def lobby(session: str) -> tuple[WebsocketCommunicator, Any]:
    communicator = WebsocketCommunicator(
        application, "/ws/rooms/", headers=[ORIGIN, (b"cookie", f"sessionid={session}".encode())]
    )
    return communicator, await communicator.connect(timeout=5)


# Failures and fuzzing ---------------------------------------------------------------------


async def test_a_handler_that_fails_answers_a_generic_error_and_the_socket_stays(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _alice, session = await member_with_session()
    place = await room()
    alice, _ = await join(place, session)

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("a bug in a service")

    monkeypatch.setattr(chat_socket, "message_post", broken)
    client_id = str(uuid.uuid4())
    await alice.send_json_to(send("Hola", uuid.UUID(client_id)))

    error = await next_of(alice, "error")
    assert (error["code"], error["client_id"]) == ("server_error", client_id)
    assert error["message"]
    assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)
    await alice.send_json_to({"type": "ping"})
    assert await next_of(alice, "pong") == {"type": "pong"}
    await alice.disconnect()
    assert await presence_count() == 0


async def test_a_connection_that_fails_while_joining_leaves_no_presence_and_no_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _alice, session = await member_with_session()
    place = await room()

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("history could not be read")

    real_history = consumers.history_on_arrival
    monkeypatch.setattr(consumers, "history_on_arrival", broken)
    # A small cap makes the point as well as the real one: more failures than places.
    monkeypatch.setattr(limits, "MAX_SOCKETS", 3)
    for _ in range(limits.MAX_SOCKETS + 1):
        refused, (connected, code) = await connect(place, session)
        assert (connected, code) == (False, 1011)
        await refused.wait()

    assert await presence_count() == 0
    monkeypatch.setattr(consumers, "history_on_arrival", real_history)
    alice, _ = await join(place, session)  # its places were all given back
    await alice.disconnect()


def _fuzz_frame(rng: random.Random, peer_ids: list[int]) -> str:
    """One frame from a seeded mix: garbage, broken JSON, deep or odd shapes, and every frame
    type of the protocol with fields of the wrong type, size or encoding."""
    odd_values: list[Any] = [
        None,
        True,
        -1,
        0,
        2**70,
        1.5,
        "",
        "x" * 3000,
        "\x00",
        "a\ud800b",
        "🙂" * 10,
        [],
        {},
        [[[[1]]]],
        {"a": {"b": {"c": None}}},
        *peer_ids,
    ]
    types = [
        "chat.send",
        "chat.edit",
        "chat.delete",
        "history.before",
        "history.since",
        "presence.status",
        "member.mute",
        "member.remove",
        "call.join",
        "call.leave",
        "call.offer",
        "call.answer",
        "call.ice",
        "call.media",
        "ping",
        "nope",
        "",
    ]
    fields = [
        "text",
        "client_id",
        "id",
        "before_id",
        "after_id",
        "status",
        "user_id",
        "minutes",
        "table",
        "audio",
        "video",
        "screen",
        "replace",
        "to",
        "sdp",
        "candidate",
    ]
    roll = rng.random()
    if roll < 0.1:
        return "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(rng.randrange(1, 40)))
    if roll < 0.15:
        depth = rng.randrange(10, 5000)
        return "[" * depth + "]" * depth if rng.random() < 0.5 else '{"a":' * depth
    if roll < 0.2:
        return json.dumps(rng.choice(odd_values))
    frame: dict[str, Any] = {"type": rng.choice([*types, *odd_values[:5]])}
    for key in rng.sample(fields, rng.randrange(0, 5)):
        frame[key] = rng.choice(odd_values)
    if frame["type"] == "chat.send" and rng.random() < 0.3:
        frame["client_id"] = str(uuid.UUID(int=rng.getrandbits(128)))
    # Lone surrogates and the like go out as JSON escapes, the way a hostile client sends them.
    return json.dumps(frame)


async def test_three_thousand_fuzzed_frames_crash_nothing_and_a_neighbour_chats_on(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What is under test is how each frame is handled, not the pace at which a member's
    # frames are read (its own test below): thousands at that pace would take a minute.
    # Three thousand draw every frame type and odd value dozens of times over; ten thousand
    # (until 2026-12-06) found nothing more and cost the suite 8 s of a loaded core.
    monkeypatch.setattr(base, "PACE_PER_SECOND", 100_000.0)
    monkeypatch.setattr(base, "PACE_BURST", 100_000.0)
    mallory_user, mallory_session = await member_with_session()
    bob_user, bob_session = await member_with_session()
    place = await room()
    mallory, _ = await join(place, mallory_session)
    bob, _ = await join(place, bob_session)
    rng = random.Random(20261203)
    bob_acks = 0

    for n in range(3_000):
        if rng.random() < 0.02:
            await mallory.send_to(bytes_data=rng.randbytes(rng.randrange(1, 64)))
        else:
            await mallory.send_to(text_data=_fuzz_frame(rng, [bob_user.pk, mallory_user.pk]))
        if n % 300 == 299:
            # Bob chats on between the bursts (within his own budget) and hears his acks.
            await bob.send_json_to(send(f"Still fine after {n + 1}"))
            await next_of(bob, "chat.ack")
            bob_acks += 1
            # Mallory's socket still answers, and has not been sent away.
            await mallory.send_json_to({"type": "ping"})
            for frame in await _until_pong(mallory):
                assert frame["type"] != "bye", frame
                assert frame.get("code") != "server_error", frame

    assert bob_acks == 10
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    rows = await database_sync_to_async(list)(Presence.objects.values_list("user_id", flat=True))
    assert sorted(rows) == sorted([mallory_user.pk, bob_user.pk])
    # The pongs above may answer fuzzed pings: Mallory's socket can still be working through
    # her frames (spaced ones wait their turn). Her disconnect comes after them, and the test
    # harness would cancel a consumer still busy at its timeout, leaving her row behind.
    for _ in range(600):
        if not mallory.input_queue.qsize():
            break
        await asyncio.sleep(0.1)
    await mallory.disconnect(timeout=10)
    await bob.disconnect(timeout=10)
    left = await database_sync_to_async(list)(Presence.objects.values("user_id", "table"))
    assert left == []


async def _until_pong(communicator: WebsocketCommunicator) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while True:
        frame = await communicator.receive_json_from(timeout=30)
        if frame["type"] == "pong":
            return frames
        frames.append(frame)


# Revocation ---------------------------------------------------------------------------------


async def test_a_member_flooding_any_frame_is_read_no_faster_than_the_pace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _mallory, session = await member_with_session()
    place = await room()
    mallory, _ = await join(place, session)
    waits: list[float] = []
    sleep = asyncio.sleep
    # The pace reads a clock of its own that moves only when a paced frame waits: how many
    # frames wait, and how long, no longer depends on how fast this machine sends them.
    now = [time.monotonic()]
    monkeypatch.setattr(base, "time", SimpleNamespace(monotonic=lambda: now[0]))

    async def noted(delay: float) -> None:
        # Other timers of the process (the presence batch: 1 s, the sweep) are not pacing.
        if delay >= 1:
            await sleep(delay)
            return
        waits.append(delay)
        now[0] += delay
        await sleep(0)

    monkeypatch.setattr(base.asyncio, "sleep", noted)
    monkeypatch.setattr(base, "PACE_PER_SECOND", 20.0)
    monkeypatch.setattr(base, "PACE_BURST", 100.0)
    burst = 100

    async def flood(frames: int) -> None:
        # Unreadable frames: refused before any budget is asked (the answers stop at 50).
        for _ in range(frames):
            await mallory.send_to(text_data="{")
        await mallory.send_json_to({"type": "ping"})
        await _until_pong(mallory)

    await flood(burst - 1)
    read_at_once = len(waits)
    await flood(50)

    # The burst goes through unhindered; past it, each frame waits for its share of a second.
    assert read_at_once == 0
    assert waits == pytest.approx([1 / 20] * 51)
    await mallory.disconnect()


async def test_a_demoted_moderator_cannot_moderate_on_a_socket_opened_as_staff() -> None:
    staff_user, staff_session = await member_with_session(is_staff=True, is_superuser=True)
    bob_user, bob_session = await member_with_session()
    place = await room()
    staff, hello = await join(place, staff_session)
    bob, _ = await join(place, bob_session)
    assert hello["you"]["staff"] is True

    await database_sync_to_async(User.objects.filter(pk=staff_user.pk).update)(is_staff=False)
    await staff.send_json_to({"type": "member.remove", "user_id": bob_user.pk})

    assert (await next_of(staff, "error"))["code"] == "not_allowed"
    await bob.send_json_to({"type": "ping"})
    assert await next_of(bob, "pong") == {"type": "pong"}
    await staff.disconnect()
    await bob.disconnect()


async def test_a_password_change_closes_every_socket_of_the_member_at_once() -> None:
    bob_user = await database_sync_to_async(UserFactory.create)()
    laptop, phone = Client(), Client()
    await database_sync_to_async(laptop.force_login)(bob_user)
    await database_sync_to_async(phone.force_login)(bob_user)
    place = await room()
    in_room, _ = await join(place, laptop.cookies["sessionid"].value)
    on_phone, (connected, _detail) = await lobby(phone.cookies["sessionid"].value)
    assert connected

    def change_password() -> None:
        bob_user.set_password("a new and long passphrase")
        bob_user.save()

    await database_sync_to_async(change_password)()

    assert await bye_then_close(in_room) == ("password", 4004)
    assert await bye_then_close(on_phone) == ("password", 4004)


async def test_a_password_changed_without_a_broadcast_is_found_by_the_sweep() -> None:
    bob_user, session = await member_with_session()
    place = await room()
    bob, _ = await join(place, session)
    on_lobby, _ = await lobby(session)

    await database_sync_to_async(User.objects.filter(pk=bob_user.pk).update)(password="!other")
    await liveness.sweep()

    assert await bye_then_close(bob) == ("password", 4004)
    assert await bye_then_close(on_lobby) == ("password", 4004)


async def test_lobby_sockets_are_swept_when_their_session_ends() -> None:
    _bob, session = await member_with_session()
    on_lobby, (connected, _detail) = await lobby(session)
    assert connected

    await database_sync_to_async(Session.objects.filter(session_key=session).delete)()
    await liveness.sweep()

    assert await bye_then_close(on_lobby) == ("logged_out", 4000)


async def test_an_uninvited_member_leaves_the_private_room_at_once() -> None:
    owner, owner_session = await member_with_session()
    guest, guest_session = await member_with_session()
    place = await room(private=True, created_by=owner)
    await database_sync_to_async(place.invitees.add)(guest)
    host, _ = await join(place, owner_session)
    visitor, _ = await join(place, guest_session)

    await database_sync_to_async(place.invitees.remove)(guest)

    assert await bye_then_close(visitor) == ("no_access", 4005)
    await host.send_json_to({"type": "ping"})
    assert await next_of(host, "pong") == {"type": "pong"}
    await host.disconnect()


async def test_an_invitation_list_cleared_without_signals_is_found_by_the_sweep() -> None:
    owner, _owner_session = await member_with_session()
    guest, guest_session = await member_with_session()
    place = await room(private=True, created_by=owner)
    await database_sync_to_async(place.invitees.add)(guest)
    visitor, _ = await join(place, guest_session)

    await database_sync_to_async(Room.invitees.through.objects.filter(room=place).delete)()
    await liveness.sweep()

    assert await bye_then_close(visitor) == ("no_access", 4005)


async def test_a_block_with_the_creator_closes_the_private_room_and_hides_messages_at_once() -> (
    None
):
    owner, _owner_session = await member_with_session()
    guest, guest_session = await member_with_session()
    carol, carol_session = await member_with_session()
    private = await room(private=True, created_by=owner)
    public = await room()
    await database_sync_to_async(private.invitees.add)(guest)
    visitor, _ = await join(private, guest_session)
    guest_in_public, _ = await join(public, guest_session)
    carol_in_public, _ = await join(public, carol_session)

    await database_sync_to_async(BlockFactory.create)(blocker=guest, blocked=owner)
    await database_sync_to_async(BlockFactory.create)(blocker=carol, blocked=guest)

    assert await bye_then_close(visitor) == ("no_access", 4005)
    await drain(carol_in_public, quiet=0.5)
    await guest_in_public.send_json_to(send("Can you hear me?"))
    await next_of(guest_in_public, "chat.ack")
    assert not [f for f in await drain(carol_in_public) if f["type"] == "chat.message"]
    await guest_in_public.disconnect()
    await carol_in_public.disconnect()


async def test_deactivation_closes_lobby_sockets_too() -> None:
    bob_user, session = await member_with_session()
    on_lobby, _ = await lobby(session)

    def deactivate() -> None:
        bob_user.is_active = False
        bob_user.save()

    await database_sync_to_async(deactivate)()

    assert await bye_then_close(on_lobby) == ("account", 4003)


# Budgets per member ----------------------------------------------------------------------


async def test_a_member_holds_at_most_twenty_sockets_and_a_closed_one_frees_its_place() -> None:
    _alice, session = await member_with_session()
    place = await room()
    assert limits.MAX_SOCKETS == 20
    open_ones = [(await join(place, session))[0] for _ in range(10)]
    open_ones += [(await lobby(session))[0] for _ in range(10)]

    # Told why, so that the page can say it rather than "reconnecting".
    refused, (connected, _) = await connect(place, session)
    assert connected
    assert await bye_then_close(refused) == ("too_many_sockets", 4429)
    one_more, (connected, _) = await lobby(session)
    assert connected
    assert await bye_then_close(one_more) == ("too_many_sockets", 4429)

    await open_ones.pop().disconnect()
    again, _ = await join(place, session)
    for communicator in (*open_ones, again):
        await communicator.disconnect()
    assert await presence_count() == 0


async def test_the_sweep_renews_every_claim_however_many_batches_it_takes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(limits, "RENEW_BATCH", 2)
    claims = [(990_000 + n, f"specific.test!renew{n}") for n in range(5)]
    before = time.time()

    await limits.sockets_renew(claims=claims)

    client = limits.shared_redis()
    assert client is not None
    for user_id, name in claims:
        key = limits._sockets_key(user_id)
        expires = await client.zscore(key, name)
        assert expires is not None and expires >= before + limits.CLAIM_TTL
        assert 0 < await client.ttl(key) <= 2 * limits.CLAIM_TTL


async def test_chat_budget_is_shared_by_all_of_a_members_sockets() -> None:
    _alice, session = await member_with_session()
    place = await room()
    tabs = [(await join(place, session))[0] for _ in range(3)]
    await a_fresh_budget_window()

    for n in range(limits.BUDGETS["chat"]):
        tab = tabs[n % 3]
        await tab.send_json_to(send(f"Message {n}"))
        await next_of(tab, "chat.ack")
    refused_id = str(uuid.uuid4())
    await tabs[2].send_json_to(send("One too many", uuid.UUID(refused_id)))

    error = await next_of(tabs[2], "error")
    assert (error["code"], error["client_id"]) == ("rate_limited", refused_id)
    assert await database_sync_to_async(Message.objects.filter(room=place).count)() == 10
    for tab in tabs:
        await tab.disconnect()


async def test_history_and_status_frames_have_budgets_too() -> None:
    _alice, session = await member_with_session()
    place = await room()
    alice, _ = await join(place, session)
    await a_fresh_budget_window()

    for _ in range(limits.BUDGETS["history"]):
        await alice.send_json_to({"type": "history.since", "after_id": 0})
        await next_of(alice, "history.page")
    await alice.send_json_to({"type": "history.before", "before_id": 10})
    refused = await next_of(alice, "error")
    # The error names the refused request, so the page can ask again later.
    assert (refused["code"], refused["about"]) == ("rate_limited", "history.before")

    for n in range(limits.BUDGETS["presence"]):
        status = "break" if n % 2 == 0 else "working"
        await alice.send_json_to({"type": "presence.status", "status": status})
    await alice.send_json_to({"type": "presence.status", "status": "break"})
    assert (await next_of(alice, "error"))["code"] == "rate_limited"
    await alice.disconnect()


async def test_a_socket_from_another_port_or_scheme_of_the_same_host_is_refused() -> None:
    _alice, session = await member_with_session()
    place = await room()
    for origin in (
        b"http://127.0.0.1:8001",
        b"https://127.0.0.1:8000",
        b"http://127.0.0.1",
        b"null",
        b"http://127.0.0.1:8000.evil.example",
    ):
        refused, (connected, _code) = await connect(place, session, origin=(b"origin", origin))
        assert not connected, origin
        await refused.wait()
    # The socket's own address (its Host header) is an allowed origin, even when it is not
    # the site's configured address.
    communicator = WebsocketCommunicator(
        application,
        f"/ws/rooms/{place.slug}/",
        headers=[
            (b"origin", b"http://localhost:8123"),
            (b"host", b"localhost:8123"),
            (b"cookie", f"sessionid={session}".encode()),
        ],
    )
    assert (await communicator.connect(timeout=5))[0]
    await communicator.disconnect()


async def test_a_crowd_leaving_at_once_releases_every_place() -> None:
    """A web process restarting, or a proxy dropping its connections, makes every socket of
    the process release its place in the same instant: more Redis calls at once than the
    client's pool holds connections. Each waits for a connection; none fails."""
    claims = [(980_000 + n, f"specific.test!crowd{n}") for n in range(400)]
    taken = await asyncio.gather(
        *(limits.socket_claim(user_id=user_id, channel_name=name) for user_id, name in claims)
    )
    assert all(taken)

    await asyncio.gather(
        *(limits.socket_release(user_id=user_id, channel_name=name) for user_id, name in claims)
    )

    client = limits.shared_redis()
    assert client is not None
    for user_id, _name in claims:
        assert await client.zcard(limits._sockets_key(user_id)) == 0

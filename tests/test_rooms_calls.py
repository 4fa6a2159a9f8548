"""Calls over the room socket: seats at tables, signalling relayed to one peer only, and
the peers told when someone goes (docs/websocket-protocol.md, "Calls"). Real ASGI
application, Redis channel layer, PostgreSQL."""

import base64
import hashlib
import hmac
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.utils import timezone

from members.models import User
from rooms import broadcast
from rooms.calls import CallFull, call_join
from rooms.ice import turn_credentials
from rooms.models import Presence, Room
from rooms.presence import PRESENCE_TTL, presence_add
from rooms.sockets import limits
from rooms.tasks import presence_prune
from tests.conftest import a_fresh_budget_window
from tests.factories import BlockFactory, RoomFactory, UserFactory
from tests.test_rooms_socket import drain, join, member_with_session, next_of, room, settled

SDP = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 192.168.1.20 54400 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "abcd",
}

pytestmark = pytest.mark.django_db(transaction=True)
sockets = pytest.mark.asyncio


@database_sync_to_async
def cafeteria() -> Room:
    place, _ = Room.objects.get_or_create(
        kind=Room.Kind.CAFETERIA, defaults={"name": "Cafeteria", "slug": "cafeteria"}
    )
    return place


async def sit(
    communicator: WebsocketCommunicator, table: int | None = None, **fields: Any
) -> dict[str, Any]:
    await communicator.send_json_to(
        {"type": "call.join", "table": table, "audio": True, "video": False, **fields}
    )
    return await next_of(communicator, "call.joined")


async def error_of(communicator: WebsocketCommunicator, frame: dict[str, Any]) -> str:
    await communicator.send_json_to(frame)
    error = await next_of(communicator, "error")
    assert error["message"]
    return str(error["code"])


async def call_frames(communicator: WebsocketCommunicator, quiet: float = 0.3) -> list[Any]:
    return [f for f in await drain(communicator, quiet) if f["type"].startswith("call.")]


async def still_up(communicator: WebsocketCommunicator) -> None:
    await communicator.send_json_to({"type": "ping"})
    assert await next_of(communicator, "pong") == {"type": "pong"}


async def two_in_a_room() -> tuple[WebsocketCommunicator, WebsocketCommunicator]:
    """Two members' sockets in one new meeting room, not at its table yet."""
    _alice, alice_session = await member_with_session()
    _bob, bob_session = await member_with_session()
    place = await room()
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)
    return alice, bob


async def close_all(*communicators: WebsocketCommunicator) -> None:
    for communicator in communicators:
        await communicator.disconnect()


@sockets
async def test_joining_a_meeting_rooms_call_lists_the_peers_and_tells_them(
    settings: Any,
) -> None:
    settings.STUN_URLS = ["stun:stun.example.org:3478"]
    settings.TURN_SECRET = ""
    alice_user, alice_session = await member_with_session(display_name="Alice")
    bob_user, bob_session = await member_with_session(display_name="Bob")
    place = await room()
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)

    first = await sit(alice)
    second = await sit(bob, video=True)

    assert first["table"] == 1
    assert first["peers"] == []
    assert first["ice_servers"] == [{"urls": ["stun:stun.example.org:3478"]}]
    assert second["table"] == 1
    assert second["peers"] == [
        {
            "peer": first["peer"],
            "user": {"id": alice_user.pk, "name": "Alice"},
            "audio": True,
            "video": False,
            "screen": False,
        }
    ]
    assert await next_of(alice, "call.peer_joined") == {
        "type": "call.peer_joined",
        "peer": second["peer"],
        "user": {"id": bob_user.pk, "name": "Bob"},
        "audio": True,
        "video": True,
        "screen": False,
    }
    seats = await database_sync_to_async(
        lambda: dict(Presence.objects.values_list("pk", "table"))
    )()
    assert seats == {first["peer"]: 1, second["peer"]: 1}
    await close_all(alice, bob)


@sockets
async def test_offers_answers_and_candidates_reach_only_the_intended_peer() -> None:
    place = await cafeteria()
    names = ("alice", "bob", "carol", "dave", "erin")
    people = {name: await member_with_session() for name in names}
    socket = {name: (await join(place, people[name][1]))[0] for name in names}
    alice = await sit(socket["alice"])
    bob = await sit(socket["bob"], table=alice["table"])
    carol = await sit(socket["carol"])  # another table
    await sit(socket["dave"], table=carol["table"])
    # Erin is in the cafeteria but in no call.
    for name in names:
        await drain(socket[name])

    await socket["alice"].send_json_to({"type": "call.offer", "to": bob["peer"], "sdp": SDP})
    offer = await next_of(socket["bob"], "call.offer")
    await socket["bob"].send_json_to({"type": "call.answer", "to": alice["peer"], "sdp": SDP})
    answer = await next_of(socket["alice"], "call.answer")
    noisy = {**CANDIDATE, "extra": "x" * 100}
    await socket["alice"].send_json_to({"type": "call.ice", "to": bob["peer"], "candidate": noisy})
    ice = await next_of(socket["bob"], "call.ice")
    await socket["alice"].send_json_to({"type": "call.ice", "to": bob["peer"], "candidate": None})
    end = await next_of(socket["bob"], "call.ice")

    assert offer == {"type": "call.offer", "from": alice["peer"], "sdp": SDP}
    assert answer == {"type": "call.answer", "from": bob["peer"], "sdp": SDP}
    # Only the known fields travel.
    assert ice == {"type": "call.ice", "from": alice["peer"], "candidate": CANDIDATE}
    assert end == {"type": "call.ice", "from": alice["peer"], "candidate": None}
    for name in ("carol", "dave", "erin"):
        assert await call_frames(socket[name]) == [], name
    assert await call_frames(socket["alice"]) == []
    await close_all(*socket.values())


@sockets
async def test_a_member_outside_the_call_cannot_signal_anyone_in_it() -> None:
    _alice, alice_session = await member_with_session()
    _outsider, outsider_session = await member_with_session()
    place = await room()
    alice, _ = await join(place, alice_session)
    outsider, _ = await join(place, outsider_session)
    seat = await sit(alice)
    await drain(outsider)

    for frame in (
        {"type": "call.offer", "to": seat["peer"], "sdp": SDP},
        {"type": "call.answer", "to": seat["peer"], "sdp": SDP},
        {"type": "call.ice", "to": seat["peer"], "candidate": CANDIDATE},
        {"type": "call.media", "audio": True, "video": True, "screen": True},
        {"type": "call.leave"},
    ):
        assert await error_of(outsider, frame) == "not_in_call"

    assert await call_frames(alice) == []
    await still_up(outsider)
    await close_all(alice, outsider)


@sockets
async def test_frames_to_anyone_not_at_the_senders_table_are_refused() -> None:
    place = await cafeteria()
    people = [await member_with_session() for _ in range(4)]
    alice, bob, carol, erin = [(await join(place, session))[0] for _user, session in people]
    alice_seat = await sit(alice)
    await sit(bob, table=alice_seat["table"])
    carol_seat = await sit(carol)
    erin_row = await database_sync_to_async(lambda: Presence.objects.get(user=people[3][0]).pk)()
    other_room = await room()
    elsewhere, _ = await join(other_room, people[1][1])
    elsewhere_seat = await sit(elsewhere)
    for communicator in (alice, bob, carol, erin, elsewhere):
        await drain(communicator)

    for target in (carol_seat["peer"], erin_row, elsewhere_seat["peer"], alice_seat["peer"]):
        frame = {"type": "call.offer", "to": target, "sdp": SDP}
        assert await error_of(alice, frame) == "no_peer", target
    assert await error_of(alice, {"type": "call.offer", "to": 999_999, "sdp": SDP}) == "no_peer"

    for communicator in (bob, carol, erin, elsewhere):
        assert await call_frames(communicator) == []
    await still_up(alice)
    await close_all(alice, bob, carol, erin, elsewhere)


@sockets
async def test_malformed_and_oversized_frames_are_refused_and_nobody_else_hears() -> None:
    _alice, alice_session = await member_with_session()
    _bob, bob_session = await member_with_session()
    place = await room()
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)
    seat = await sit(alice)
    bob_seat = await sit(bob)
    await drain(alice)
    to = bob_seat["peer"]

    for frame in (
        {"type": "call.join", "audio": "yes", "video": False},
        {"type": "call.join", "table": "1", "audio": True, "video": False},
        {"type": "call.join", "table": 0, "audio": True, "video": False},
        {"type": "call.join", "table": True, "audio": True, "video": False},
        {"type": "call.offer", "to": to},
        {"type": "call.offer", "to": to, "sdp": ""},
        {"type": "call.offer", "to": to, "sdp": 42},
        {"type": "call.offer", "to": str(to), "sdp": SDP},
        {"type": "call.answer", "sdp": SDP},
        {"type": "call.ice", "to": to},
        {"type": "call.ice", "to": to, "candidate": "candidate:1"},
        {"type": "call.ice", "to": to, "candidate": {"sdpMid": "0"}},
        {"type": "call.ice", "to": to, "candidate": {**CANDIDATE, "candidate": "c" * 1001}},
        {"type": "call.ice", "to": to, "candidate": {**CANDIDATE, "sdpMLineIndex": "0"}},
        {"type": "call.ice", "to": to, "candidate": {**CANDIDATE, "sdpMid": ["0"]}},
        {"type": "call.media", "audio": True, "video": False},
        {"type": "call.media", "audio": 1, "video": False, "screen": False},
    ):
        assert await error_of(alice, frame) == "invalid_fields", frame
    big = {"type": "call.offer", "to": to, "sdp": "a" * 16_001}
    assert await error_of(alice, big) == "sdp_too_large"
    huge = {"type": "call.offer", "to": to, "sdp": "a" * 33_000}
    assert await error_of(alice, huge) == "frame_too_large"

    assert await call_frames(bob) == []
    # A description at the limit goes through.
    await alice.send_json_to({"type": "call.offer", "to": to, "sdp": "a" * 16_000})
    assert (await next_of(bob, "call.offer"))["from"] == seat["peer"]
    await close_all(alice, bob)


@sockets
async def test_a_full_call_refuses_the_next_member(settings: Any) -> None:
    settings.CALL_MAX_PARTICIPANTS = 2
    people = [await member_with_session() for _ in range(3)]
    place = await room()
    alice, bob, carol = [(await join(place, session))[0] for _user, session in people]
    await sit(alice)
    await sit(bob)

    assert await error_of(carol, {"type": "call.join", "audio": True, "video": True}) == (
        "call_full"
    )
    await bob.send_json_to({"type": "call.leave"})
    await next_of(bob, "call.left")
    assert (await sit(carol))["table"] == 1
    await close_all(alice, bob, carol)


def test_two_members_racing_for_the_last_seat_get_one_seat(settings: Any) -> None:
    settings.CALL_MAX_PARTICIPANTS = 2
    place = RoomFactory.create()
    seated, first, second = UserFactory.create_batch(3)
    presence_add(room=place, user=seated, channel_name="seated")
    call_join(room=place, user=seated, channel_name="seated", table=None, audio=True, video=False)
    for user in (first, second):
        presence_add(room=place, user=user, channel_name=f"racer-{user.pk}")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def take_seat(user: User) -> None:
        barrier.wait()
        try:
            call_join(
                room=place,
                user=user,
                channel_name=f"racer-{user.pk}",
                table=None,
                audio=True,
                video=False,
            )
            outcomes.append("seated")
        except CallFull:
            outcomes.append("full")
        finally:
            connection.close()

    threads = [threading.Thread(target=take_seat, args=(user,)) for user in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["full", "seated"]
    assert Presence.objects.filter(room=place, table=1).count() == 2


@sockets
async def test_a_second_tab_is_refused_unless_it_replaces_the_first() -> None:
    _alice, alice_session = await member_with_session()
    _bob, bob_session = await member_with_session()
    place = await room()
    alice, _ = await join(place, alice_session)
    first_tab, _ = await join(place, bob_session)
    second_tab, _ = await join(place, bob_session)
    await sit(alice)
    old = await sit(first_tab)
    await next_of(alice, "call.peer_joined")

    join_frame = {"type": "call.join", "table": None, "audio": True, "video": True}
    assert await error_of(first_tab, join_frame) == "already_in_call"
    assert await error_of(second_tab, join_frame) == "already_in_call"
    # After a network blip the new connection takes the seat of the old one.
    new = await sit(second_tab, replace=True)

    assert await next_of(first_tab, "call.left") == {"type": "call.left", "reason": "replaced"}
    assert await next_of(alice, "call.peer_left") == {"type": "call.peer_left", "peer": old["peer"]}
    assert (await next_of(alice, "call.peer_joined"))["peer"] == new["peer"]
    assert [peer["peer"] for peer in new["peers"]] != [old["peer"]]
    await close_all(alice, first_tab, second_tab)


@sockets
async def test_cafeteria_tables_are_started_joined_and_must_exist() -> None:
    place = await cafeteria()
    people = [await member_with_session() for _ in range(4)]
    alice, bob, carol, dave = [(await join(place, session))[0] for _user, session in people]

    first = await sit(alice)
    second = await sit(bob)
    third = await sit(carol, table=first["table"])

    assert (first["table"], second["table"], third["table"]) == (1, 2, 1)
    assert [peer["peer"] for peer in third["peers"]] == [first["peer"]]
    assert (await next_of(alice, "call.peer_joined"))["peer"] == third["peer"]
    assert await call_frames(bob) == []
    join_five = {"type": "call.join", "table": 5, "audio": True, "video": False}
    assert await error_of(dave, join_five) == "no_table"
    # The table goes when its last member leaves; its number is free for the next one.
    await bob.send_json_to({"type": "call.leave"})
    await next_of(bob, "call.left")
    assert await error_of(dave, {**join_five, "table": 2}) == "no_table"
    assert (await sit(dave))["table"] == 2
    await close_all(alice, bob, carol, dave)


@sockets
async def test_a_meeting_room_has_only_table_one() -> None:
    _alice, session = await member_with_session()
    place = await room()
    alice, _ = await join(place, session)

    frame = {"type": "call.join", "table": 2, "audio": True, "video": False}
    assert await error_of(alice, frame) == "no_table"
    assert (await sit(alice, table=1))["table"] == 1
    await close_all(alice)


@sockets
async def test_presence_shows_who_sits_at_which_table() -> None:
    place = await cafeteria()
    people = [await member_with_session() for _ in range(3)]
    (alice_user, alice_session), (bob_user, bob_session), (carol_user, carol_session) = people
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)
    await settled(alice)

    await sit(bob)
    update = await next_of(alice, "presence.update")
    assert [(m["id"], m["table"]) for m in update["members"]] == [(bob_user.pk, 1)]
    # A second tab not in a call does not hide the table of the one in it.
    extra_tab, _ = await join(place, bob_session)
    carol, hello = await join(place, carol_session)

    tables = {entry["id"]: entry["table"] for entry in hello["presence"]}
    assert tables == {alice_user.pk: None, bob_user.pk: 1, carol_user.pk: None}
    await bob.send_json_to({"type": "call.leave"})
    await next_of(bob, "call.left")
    update = await next_of(carol, "presence.update")
    while bob_user.pk not in {m["id"] for m in update["members"]}:
        update = await next_of(carol, "presence.update")
    assert [m["table"] for m in update["members"] if m["id"] == bob_user.pk] == [None]
    await close_all(alice, bob, extra_tab, carol)


@sockets
async def test_peers_hear_when_someone_leaves_disconnects_or_is_removed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people = [await member_with_session() for _ in range(3)]
    _staff, staff_session = await member_with_session(is_staff=True, is_superuser=True)
    place = await room()
    alice, bob, carol = [(await join(place, session))[0] for _user, session in people]
    staff, _ = await join(place, staff_session)
    alice_seat = await sit(alice)
    bob_seat = await sit(bob)
    carol_seat = await sit(carol)
    for communicator in (alice, bob, carol):
        await drain(communicator)

    await bob.send_json_to({"type": "call.leave"})
    assert await next_of(bob, "call.left") == {"type": "call.left", "reason": "left"}
    assert await next_of(alice, "call.peer_left") == {
        "type": "call.peer_left",
        "peer": bob_seat["peer"],
    }
    await bob.disconnect()

    # At once, not with the batched presence: with presence announcements held back, the
    # peers still hear that Carol's seat is empty.
    held: list[int] = []
    monkeypatch.setattr(
        broadcast, "presence_mark", lambda *, room_id, user_id: held.append(user_id)
    )
    await carol.disconnect()
    assert (await next_of(alice, "call.peer_left"))["peer"] == carol_seat["peer"]
    assert set(held) == {people[2][0].pk}
    monkeypatch.undo()

    await sit(staff)
    await next_of(alice, "call.peer_joined")
    await alice.send_json_to({"type": "member.remove", "user_id": people[0][0].pk})
    assert (await next_of(alice, "error"))["code"] == "not_allowed"
    await staff.send_json_to({"type": "member.remove", "user_id": people[0][0].pk})
    frames = await drain(staff, quiet=0.5)
    assert {"type": "call.peer_left", "peer": alice_seat["peer"]} in frames
    await close_all(alice, staff)


@sockets
async def test_the_prune_task_tells_the_peers_of_a_dead_process_connection() -> None:
    _alice, alice_session = await member_with_session()
    bob_user, bob_session = await member_with_session()
    place = await room()
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)
    await sit(alice)
    bob_seat = await sit(bob)
    await settled(alice)
    # The server process holding Bob's socket stopped touching his row.
    await database_sync_to_async(Presence.objects.filter(user=bob_user).update)(
        heartbeat_at=timezone.now() - PRESENCE_TTL - timedelta(seconds=1)
    )

    assert await database_sync_to_async(presence_prune)() == 1

    assert await next_of(alice, "call.peer_left") == {
        "type": "call.peer_left",
        "peer": bob_seat["peer"],
    }
    update = await next_of(alice, "presence.update")
    assert update["left"] == [bob_user.pk]
    # Bob's process was only stalled: his socket hears it is out of the call.
    assert await next_of(bob, "call.left") == {"type": "call.left", "reason": "dropped"}
    assert await database_sync_to_async(presence_prune)() == 0
    assert await call_frames(alice) == []
    await close_all(alice, bob)


@sockets
async def test_turn_credentials_are_the_coturn_hmac_of_an_expiring_username(
    settings: Any,
) -> None:
    settings.STUN_URLS = []
    settings.TURN_URLS = ["turn:turn.example.org:3478", "turns:turn.example.org:5349"]
    settings.TURN_SECRET = "s3cret"
    settings.TURN_CREDENTIAL_TTL = timedelta(hours=2)
    alice_user, session = await member_with_session()
    place = await room()
    alice, _ = await join(place, session)

    before = int(time.time())
    (turn,) = (await sit(alice))["ice_servers"]

    assert turn["urls"] == settings.TURN_URLS
    expiry, user_id = turn["username"].split(":")
    assert user_id == str(alice_user.pk)
    assert before + 7200 <= int(expiry) <= int(time.time()) + 7200
    expected = hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()
    assert base64.b64decode(turn["credential"]) == expected
    await close_all(alice)


@sockets
async def test_a_call_asks_for_new_turn_credentials_at_half_their_life_and_gets_them(
    settings: Any,
) -> None:
    settings.STUN_URLS = []
    settings.TURN_URLS = ["turn:turn.example.org:3478"]
    settings.TURN_SECRET = "s3cret"
    settings.TURN_CREDENTIAL_TTL = timedelta(hours=1)
    _alice, session = await member_with_session()
    place = await room()
    alice, _ = await join(place, session)
    outsider, _ = await join(place, (await member_with_session())[1])
    joined = await sit(alice)
    first = joined["ice_servers"][0]["username"]

    with time_machine.travel(timedelta(seconds=joined["ice_refresh"])):
        await alice.send_json_to({"type": "call.credentials"})
        renewed = await next_of(alice, "call.credentials")
    await outsider.send_json_to({"type": "call.credentials"})  # not in the call

    assert joined["ice_refresh"] == 1800
    later = renewed["ice_servers"][0]["username"]
    assert int(later.split(":")[0]) >= int(first.split(":")[0]) + 1800
    assert (await next_of(outsider, "error"))["code"] == "not_in_call"
    await close_all(alice, outsider)


def test_turn_credentials_for_a_fixed_moment() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    username, credential = turn_credentials(user_id=7, secret="north", ttl_seconds=600, now=now)

    assert username == f"{int(now.timestamp()) + 600}:7"
    digest = hmac.new(b"north", username.encode(), hashlib.sha1).digest()
    assert credential == base64.b64encode(digest).decode()


@sockets
async def test_without_a_turn_secret_no_turn_server_is_offered(settings: Any) -> None:
    settings.STUN_URLS = []
    settings.TURN_URLS = ["turn:turn.example.org:3478"]
    settings.TURN_SECRET = ""
    _alice, session = await member_with_session()
    place = await room()
    alice, _ = await join(place, session)

    assert (await sit(alice))["ice_servers"] == []
    await close_all(alice)


@sockets
async def test_signalling_has_its_own_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(limits.BUDGETS, "calls", 5)
    await a_fresh_budget_window()
    alice, bob = await two_in_a_room()
    await sit(alice)  # one call frame
    bob_seat = await sit(bob)
    await drain(alice)
    media = {"type": "call.media", "audio": False, "video": True, "screen": False}

    for _ in range(4):
        await alice.send_json_to(media)
    for _ in range(4):
        assert (await next_of(bob, "call.peer_media"))["video"] is True
    assert await error_of(alice, media) == "rate_limited"
    assert await error_of(
        alice, {"type": "call.ice", "to": bob_seat["peer"], "candidate": None}
    ) == ("rate_limited")

    # Chat keeps its own budget.
    await alice.send_json_to(
        {"type": "chat.send", "text": "Still here", "client_id": str(uuid.uuid4())}
    )
    await next_of(alice, "chat.ack")
    await close_all(alice, bob)


@sockets
async def test_media_changes_reach_the_other_peers() -> None:
    people = [await member_with_session() for _ in range(3)]
    place = await room()
    alice, bob, carol = [(await join(place, session))[0] for _user, session in people]
    seat = await sit(alice)
    await sit(bob)
    await sit(carol)
    await drain(alice)
    await drain(bob)

    await alice.send_json_to({"type": "call.media", "audio": False, "video": True, "screen": True})

    expected = {
        "type": "call.peer_media",
        "peer": seat["peer"],
        "audio": False,
        "video": True,
        "screen": True,
    }
    assert await next_of(bob, "call.peer_media") == expected
    assert await next_of(carol, "call.peer_media") == expected
    assert await call_frames(alice) == []
    # A newcomer sees what Alice sends now.
    _dave, dave_session = await member_with_session()
    dave, _ = await join(place, dave_session)
    peers = {peer["peer"]: peer for peer in (await sit(dave))["peers"]}
    assert (peers[seat["peer"]]["audio"], peers[seat["peer"]]["screen"]) == (False, True)
    await close_all(alice, bob, carol, dave)


@sockets
async def test_members_on_either_side_of_a_block_never_share_a_table() -> None:
    place = await cafeteria()
    (alice_user, alice_session), (bob_user, bob_session) = [
        await member_with_session() for _ in range(2)
    ]
    carol_user, carol_session = await member_with_session()
    await database_sync_to_async(BlockFactory.create)(blocker=alice_user, blocked=bob_user)
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)
    carol, _ = await join(place, carol_session)
    alice_seat = await sit(alice)

    join_alices = {"type": "call.join", "table": alice_seat["table"], "audio": True, "video": False}
    # The blocked one cannot sit with the blocker, nor the blocker with the blocked.
    assert await error_of(bob, join_alices) == "blocked_at_table"
    bob_seat = await sit(bob)
    await alice.send_json_to({"type": "call.leave"})
    await next_of(alice, "call.left")
    join_bobs = {**join_alices, "table": bob_seat["table"]}
    assert await error_of(alice, join_bobs) == "blocked_at_table"
    # Nothing else changes: a third member sits with either.
    assert (await sit(carol, table=bob_seat["table"]))["table"] == bob_seat["table"]
    assert carol_user.pk
    await close_all(alice, bob, carol)


@sockets
async def test_a_block_made_while_both_sit_at_one_table_gets_the_blocker_up() -> None:
    """Their peers hear an ordinary departure; the blocked one's offers reach nobody."""
    place = await cafeteria()
    (alice_user, alice_session), (bob_user, bob_session) = [
        await member_with_session() for _ in range(2)
    ]
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)
    alice_seat = await sit(alice)
    await sit(bob, table=alice_seat["table"])
    await drain(alice)
    await drain(bob)

    await database_sync_to_async(BlockFactory.create)(blocker=alice_user, blocked=bob_user)

    left = [frame for frame in await drain(alice, quiet=1.0) if frame["type"] == "call.left"]
    assert left == [{"type": "call.left", "reason": "blocked"}]
    bobs = await drain(bob, quiet=1.0)
    assert [f["peer"] for f in bobs if f["type"] == "call.peer_left"] == [alice_seat["peer"]]
    assert not [frame for frame in bobs if frame["type"] == "call.left"]  # Bob stays seated
    offer = {"type": "call.offer", "to": alice_seat["peer"], "sdp": SDP}
    assert await error_of(bob, offer) == "no_peer"
    await close_all(alice, bob)


@sockets
async def test_a_blocked_pair_cannot_share_a_meeting_rooms_call() -> None:
    (alice_user, alice_session), (bob_user, bob_session) = [
        await member_with_session() for _ in range(2)
    ]
    await database_sync_to_async(BlockFactory.create)(blocker=bob_user, blocked=alice_user)
    place = await room()
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)
    await sit(alice)

    assert await error_of(bob, {"type": "call.join", "audio": True, "video": False}) == (
        "blocked_at_table"
    )
    await close_all(alice, bob)


@sockets
async def test_joining_and_leaving_in_a_loop_is_stopped_and_the_table_hears_no_more() -> None:
    """Each join reaches every peer (a new connection, said aloud on their page): within
    the signalling budget, one member could keep a table busy with 15 a second."""
    await a_fresh_budget_window()
    alice, bob = await two_in_a_room()
    await sit(bob)

    for _ in range(limits.BUDGETS["call_joins"]):
        await sit(alice)
        await alice.send_json_to({"type": "call.leave"})
        await next_of(alice, "call.left")
    refused = await error_of(alice, {"type": "call.join", "audio": True, "video": False})

    assert refused == "joining_too_often"
    heard = [frame["type"] for frame in await drain(bob)]
    assert heard.count("call.peer_joined") == limits.BUDGETS["call_joins"]
    # The socket stays, and chat keeps its own budget.
    await alice.send_json_to(
        {"type": "chat.send", "text": "Sorry, my camera", "client_id": str(uuid.uuid4())}
    )
    await next_of(alice, "chat.ack")
    await close_all(alice, bob)

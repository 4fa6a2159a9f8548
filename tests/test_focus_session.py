"""A focus block while it is on, through its page and its socket (docs/focus.md, "The
session"): the server's clock tells every page each phase change at its moment, the tables
are drawn at the start among those who came, goals and outcomes reach the table, the call is
the member's own table's, and a page that comes back (or a server that restarted) finds the
same moment from the stored times. Blocks here start a second or two from now, so the
server's real timers fire during the test."""

from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from coworking.asgi import application
from focus import consumers, sessions
from focus.models import FocusBlock, Seat
from focus.services import seat_cancel
from focus.sessions import session_enter
from members import services
from members.models import Block, Profile, User
from rooms.services import room_member_mute
from rooms.sockets.limits import BUDGETS
from tests.conftest import a_fresh_budget_window
from tests.factories import UserFactory
from tests.test_rooms_socket import ORIGIN, drain, member_with_session

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def block_with_seats(
    *sessions: tuple[User, str], starts_in: timedelta, minutes: int = 25
) -> FocusBlock:
    """A block starting `starts_in` from now (negative: started), each member seated and
    their page's room opened to them as the page's GET does."""
    block = FocusBlock.objects.create(starts_at=timezone.now() + starts_in, minutes=minutes)
    for user, _session in sessions:
        Seat.objects.create(block=block, user=user)
        session_enter(block=block, user=user)
    block.refresh_from_db()
    return block


async def members(count: int) -> list[tuple[User, str]]:
    return [await member_with_session() for _ in range(count)]


class Page:
    def __init__(self, socket: WebsocketCommunicator) -> None:
        self.socket = socket

    async def next(self, kind: str, timeout: float = 8) -> dict[str, Any]:
        while True:
            frame = await self.socket.receive_json_from(timeout=timeout)
            if frame["type"] == kind:
                return frame
            assert frame["type"] != "error" or kind == "error", frame


async def open_page(block: FocusBlock, session: str) -> tuple[Page, dict[str, Any]]:
    socket = WebsocketCommunicator(
        application,
        f"/ws/focus/focus-{block.pk}/",
        headers=[ORIGIN, (b"cookie", f"sessionid={session}".encode())],
    )
    connected, _detail = await socket.connect(timeout=5)
    assert connected
    page = Page(socket)
    return page, await page.next("focus.hello")


@database_sync_to_async
def seat_of(block: FocusBlock, user: User) -> Seat:
    return Seat.objects.get(block=block, user=user)


async def test_two_members_hear_the_start_from_the_server_and_sit_together() -> None:
    alice, bob = await members(2)
    block = await block_with_seats(alice, bob, starts_in=timedelta(seconds=2))
    page_a, hello_a = await open_page(block, alice[1])
    page_b, hello_b = await open_page(block, bob[1])

    assert hello_a["phase"] == hello_b["phase"] == "before"
    assert hello_a["ends_at"] == hello_b["ends_at"] == block.starts_at.isoformat()
    assert hello_a["table"] is None

    phase_a, phase_b = await page_a.next("focus.phase"), await page_b.next("focus.phase")
    assert phase_a["phase"] == phase_b["phase"] == "check_in"
    assert phase_a["ends_at"] == (block.starts_at + timedelta(minutes=3)).isoformat()
    table_a, table_b = await page_a.next("focus.table"), await page_b.next("focus.table")
    assert table_a["table"] == table_b["table"] == 1
    assert {mate["user"]["id"] for mate in table_a["mates"]} == {alice[0].pk, bob[0].pk}
    assert (await seat_of(block, alice[0])).arrived_at is not None

    # Alice's goal, as she wrote it, reaches Bob's page; markup stays text.
    await page_a.socket.send_json_to({"type": "focus.goal", "goal": "  Write the <b>intro</b> "})
    saved = await page_a.next("focus.saved")
    assert saved["goal"] == "Write the <b>intro</b>"
    mate = await page_b.next("focus.mate")
    assert mate["user"]["id"] == alice[0].pk and mate["goal"] == "Write the <b>intro</b>"

    # The table's call is their own table's, whatever the page asks for.
    await page_a.socket.send_json_to(
        {"type": "call.join", "table": 7, "audio": True, "video": False}
    )
    joined = await page_a.next("call.joined")
    assert joined["table"] == 1

    for page in (page_a, page_b):
        await page.socket.disconnect()


async def test_a_clock_that_failed_closes_the_socket_so_the_page_comes_back_to_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The table draw failing once (the database restarting, say) stopped the page's clock
    # for good: the countdown stood at 00:00, no table, no later phase.
    (alice,) = await members(1)
    block = await block_with_seats(alice, starts_in=timedelta(seconds=2))
    page, _hello = await open_page(block, alice[1])

    async def draw_fails(block: FocusBlock) -> dict[int, list[dict[str, Any]]]:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(consumers, "_tables_of", draw_fails)

    assert (await page.next("focus.phase"))["phase"] == "check_in"
    assert (await page.next("error"))["code"] == "server_error"
    # Closed as a server failure (not a goodbye): the page connects again, and its new
    # socket's clock starts over from the server's moment.
    assert await page.socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 1011}
    monkeypatch.undo()
    again, hello = await open_page(block, alice[1])
    assert hello["phase"] == "check_in" and hello["table"] == 1
    await again.socket.disconnect()


async def test_bad_goals_and_early_outcomes_get_error_frames_and_the_socket_stays() -> None:
    (alice,) = await members(1)
    block = await block_with_seats(alice, starts_in=timedelta(minutes=-1))
    page, hello = await open_page(block, alice[1])
    assert hello["phase"] == "check_in" and hello["table"] == 1

    await page.socket.send_json_to({"type": "focus.goal", "goal": "x" * 10_000})
    assert (await page.next("error"))["code"] == "invalid_fields"
    await page.socket.send_json_to({"type": "focus.goal", "goal": "y" * 300})
    too_long = await page.next("error")
    assert too_long["code"] == "goal_too_long" and "280" in too_long["message"]
    await page.socket.send_json_to({"type": "focus.outcome", "outcome": "done"})
    assert (await page.next("error"))["code"] == "not_yet"

    await page.socket.send_json_to({"type": "focus.goal", "goal": "Finish the report"})
    assert (await page.next("focus.saved"))["goal"] == "Finish the report"
    assert (await seat_of(block, alice[0])).goal == "Finish the report"
    await page.socket.disconnect()


async def test_goals_beyond_the_chat_budget_are_refused_and_the_socket_stays() -> None:
    # A goal is written to the database and told to the table: a loop sending them would
    # cost both, as chat would, so it spends the chat budget.
    (alice,) = await members(1)
    block = await block_with_seats(alice, starts_in=timedelta(minutes=-1))
    page, _hello = await open_page(block, alice[1])
    await a_fresh_budget_window()

    for n in range(BUDGETS["chat"] + 1):
        await page.socket.send_json_to({"type": "focus.goal", "goal": f"Goal {n}"})
    answers: list[dict[str, Any]] = []
    while len(answers) < BUDGETS["chat"] + 1:
        frame = await page.socket.receive_json_from(timeout=8)
        if frame["type"] in {"focus.saved", "error"}:
            answers.append(frame)

    assert [frame["type"] for frame in answers].count("focus.saved") == BUDGETS["chat"]
    assert [frame.get("code") for frame in answers if frame["type"] == "error"] == ["rate_limited"]
    await page.socket.send_json_to({"type": "ping"})
    assert (await page.next("pong"))["type"] == "pong"
    await page.socket.disconnect()


async def test_work_begins_for_everyone_and_the_check_out_takes_the_outcome() -> None:
    (alice,) = await members(1)
    # Two seconds before the check-in ends.
    block = await block_with_seats(alice, starts_in=timedelta(minutes=-3, seconds=2))
    page, hello = await open_page(block, alice[1])
    assert hello["phase"] == "check_in"

    work = await page.next("focus.phase")
    assert work["phase"] == "work"
    assert work["ends_at"] == (block.ends_at - timedelta(minutes=3)).isoformat()
    await page.socket.disconnect()

    # Later, at the check-out: the outcome is taken and the table hears it.
    await database_sync_to_async(FocusBlock.objects.filter(pk=block.pk).update)(
        starts_at=timezone.now() - timedelta(minutes=23)
    )
    page, hello = await open_page(block, alice[1])
    assert hello["phase"] == "check_out"
    await page.socket.send_json_to({"type": "focus.outcome", "outcome": "partly"})
    assert (await page.next("focus.saved"))["outcome"] == "partly"
    await page.socket.send_json_to({"type": "focus.outcome", "outcome": "maybe"})
    assert (await page.next("error"))["code"] == "refused"
    await page.socket.disconnect()


async def test_a_page_that_comes_back_after_a_drop_or_a_restart_finds_the_same_moment() -> None:
    alice, bob = await members(2)
    block = await block_with_seats(alice, bob, starts_in=timedelta(minutes=-10))
    page, first = await open_page(block, alice[1])
    await page.socket.disconnect()

    # What a restarted process knows: nothing kept in memory.
    consumers._draws.clear()
    page, again = await open_page(block, alice[1])
    assert again["phase"] == first["phase"] == "work"
    assert (
        again["ends_at"] == first["ends_at"] == (block.ends_at - timedelta(minutes=3)).isoformat()
    )
    assert again["table"] == first["table"] == 1

    # Bob comes late, after the tables were drawn without him: he sits at Alice's table,
    # and her page hears of him.
    late, hello = await open_page(block, bob[1])
    assert hello["table"] == 1
    assert (await page.next("focus.mate"))["user"]["id"] == bob[0].pk
    for each in (page, late):
        await each.socket.disconnect()


async def test_a_latecomer_never_sits_with_someone_who_blocks_them() -> None:
    alice, bob = await members(2)
    block = await block_with_seats(alice, bob, starts_in=timedelta(minutes=-5))
    await database_sync_to_async(Block.objects.create)(blocker=alice[0], blocked=bob[0])
    page, hello = await open_page(block, alice[1])
    late, late_hello = await open_page(block, bob[1])
    assert hello["table"] == 1 and late_hello["table"] == 2
    for each in (page, late):
        await each.socket.disconnect()


async def test_the_call_waits_for_the_table() -> None:
    (alice,) = await members(1)
    block = await block_with_seats(alice, starts_in=timedelta(minutes=5))
    page, _hello = await open_page(block, alice[1])
    await page.socket.send_json_to({"type": "call.join", "audio": True, "video": False})
    refused = await page.next("error")
    assert refused["code"] == "no_table_yet"
    await page.socket.send_json_to({"type": "focus.goal", "goal": "Plan the week"})
    assert (await page.next("focus.saved"))["goal"] == "Plan the week"
    await page.socket.disconnect()


async def outsider_session() -> str:
    return (await member_with_session())[1]


async def test_only_seated_members_come_in() -> None:
    (alice,) = await members(1)
    block = await block_with_seats(alice, starts_in=timedelta(minutes=5))
    socket = WebsocketCommunicator(
        application,
        f"/ws/focus/focus-{block.pk}/",
        headers=[ORIGIN, (b"cookie", f"sessionid={await outsider_session()}".encode())],
    )
    connected, _code = await socket.connect(timeout=5)
    assert not connected
    # A socket from another site is refused too.
    foreign = WebsocketCommunicator(
        application,
        f"/ws/focus/focus-{block.pk}/",
        headers=[
            (b"origin", b"https://evil.example"),
            (b"cookie", f"sessionid={alice[1]}".encode()),
        ],
    )
    connected, _code = await foreign.connect(timeout=5)
    assert not connected


async def test_a_block_s_room_opens_only_through_its_own_socket_and_page() -> None:
    alice, bob = await members(2)
    block = await block_with_seats(alice, bob, starts_in=timedelta(minutes=-5))
    # Alice sits at table 1; the rooms' own socket, where a page picks its table, is shut.
    page, hello = await open_page(block, alice[1])
    assert hello["table"] == 1
    plain = WebsocketCommunicator(
        application,
        f"/ws/rooms/focus-{block.pk}/",
        headers=[ORIGIN, (b"cookie", f"sessionid={bob[1]}".encode())],
    )
    connected, _code = await plain.connect(timeout=5)
    assert not connected
    # And the focus socket opens no other room.
    other = WebsocketCommunicator(
        application,
        "/ws/focus/cafeteria/",
        headers=[ORIGIN, (b"cookie", f"sessionid={bob[1]}".encode())],
    )
    connected, _code = await other.connect(timeout=5)
    assert not connected
    client = Client()
    client.cookies["sessionid"] = bob[1]
    # Its address in the rooms leads to the block's page, which checks the seat.
    response = await database_sync_to_async(client.get)(f"/rooms/focus-{block.pk}/")
    assert (response.status_code, response["Location"]) == (302, f"/focus/{block.pk}/")
    await page.socket.disconnect()


async def test_giving_the_seat_back_sends_the_page_away_and_keeps_it_out() -> None:
    (alice,) = await members(1)
    block = await block_with_seats(alice, starts_in=timedelta(minutes=20))
    page, _hello = await open_page(block, alice[1])

    seat = await seat_of(block, alice[0])
    await database_sync_to_async(seat_cancel)(seat=seat)
    assert (await page.next("bye"))["type"] == "bye"

    again = WebsocketCommunicator(
        application,
        f"/ws/focus/focus-{block.pk}/",
        headers=[ORIGIN, (b"cookie", f"sessionid={alice[1]}".encode())],
    )
    connected, _code = await again.connect(timeout=5)
    assert not connected


async def test_a_tablemate_who_gives_back_their_seat_leaves_the_others_tables_live() -> None:
    alice, bob = await members(2)
    block = await block_with_seats(alice, bob, starts_in=timedelta(minutes=-5))
    page_a, hello_a = await open_page(block, alice[1])
    page_b, hello_b = await open_page(block, bob[1])
    assert hello_a["table"] == hello_b["table"] == 1
    assert (await page_a.next("focus.mate"))["user"]["id"] == bob[0].pk  # he sat down

    await database_sync_to_async(seat_cancel)(seat=await seat_of(block, bob[0]))

    left = await page_a.next("focus.mate_left")
    assert left["user"] == {"id": bob[0].pk}
    assert (await page_b.next("bye"))["type"] == "bye"
    # A page opened now agrees.
    again, hello = await open_page(block, alice[1])
    assert [mate["user"]["id"] for mate in hello["tablemates"]] == [alice[0].pk]
    for page in (page_a, again):
        await page.socket.disconnect()


async def test_a_page_open_long_before_the_start_arrives_in_time_for_the_tables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Arrivals count from a second before the start here (ten minutes on the site).
    monkeypatch.setattr(sessions, "ARRIVE_FROM", timedelta(seconds=1))
    (alice,) = await members(1)
    block = await block_with_seats(alice, starts_in=timedelta(seconds=3))
    page, hello = await open_page(block, alice[1])
    assert hello["phase"] == "before"
    assert (await seat_of(block, alice[0])).arrived_at is None

    assert (await page.next("focus.phase"))["phase"] == "check_in"
    assert (await page.next("focus.table"))["table"] == 1
    assert (await seat_of(block, alice[0])).arrived_at is not None
    await page.socket.disconnect()


async def test_a_tablemate_s_goal_set_while_a_page_opens_is_in_its_hello_or_follows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice, bob = await members(2)
    block = await block_with_seats(alice, bob, starts_in=timedelta(minutes=-5))

    @database_sync_to_async
    def both_at_table_one() -> None:
        now = timezone.now()
        Seat.objects.filter(block=block).update(table=1, arrived_at=now)
        FocusBlock.objects.filter(pk=block.pk).update(tables_at=now)

    await both_at_table_one()
    bobs, _hello = await open_page(block, bob[1])
    arrive = consumers._arrive

    async def arrive_then_bob_sets_his_goal(*args: Any) -> Any:
        arrived = await arrive(*args)  # Alice's seat and table read
        await bobs.socket.send_json_to({"type": "focus.goal", "goal": "Cerrar el informe"})
        await bobs.next("focus.mate")  # his table has heard it
        return arrived

    monkeypatch.setattr(consumers, "_arrive", arrive_then_bob_sets_his_goal)
    alices, hello = await open_page(block, alice[1])

    in_hello = {mate["user"]["id"]: mate["goal"] for mate in hello["tablemates"]}
    if in_hello[bob[0].pk] != "Cerrar el informe":
        assert (await alices.next("focus.mate"))["goal"] == "Cerrar el informe"
    for page in (alices, bobs):
        await page.socket.disconnect()


async def test_a_member_muted_in_the_block_s_room_writes_no_goal_to_the_table() -> None:
    alice, bob = await members(2)
    block = await block_with_seats(alice, bob, starts_in=timedelta(seconds=2))

    @database_sync_to_async
    def mute() -> None:
        block.refresh_from_db()
        assert block.room is not None
        room_member_mute(
            room=block.room,
            member=alice[0],
            by=UserFactory.create(is_staff=True, is_superuser=True),
            until=timezone.now() + timedelta(hours=1),
        )

    await mute()
    page_a, _hello = await open_page(block, alice[1])
    page_b, _hello_b = await open_page(block, bob[1])
    await page_a.next("focus.table")
    await page_b.next("focus.table")

    await page_a.socket.send_json_to({"type": "focus.goal", "goal": "lo que el silencio no para"})

    assert (await page_a.next("error"))["code"] == "muted"
    heard = []
    while not await page_b.socket.receive_nothing(timeout=0.5):
        heard.append((await page_b.socket.receive_json_from())["type"])
    assert "focus.mate" not in heard
    for page in (page_a, page_b):
        await page.socket.disconnect()


async def in_the_call_then_blocked(
    *pages: Page, blocker: tuple[User, str], blocked: tuple[User, str]
) -> None:
    """Each page joins its table's call (table 1); then `blocker` blocks `blocked` from
    their profile (an onboarded member's, as the block's page wants)."""
    for page in pages:
        await page.socket.send_json_to({"type": "call.join", "audio": True, "video": False})
        assert (await page.next("call.joined"))["table"] == 1
    await database_sync_to_async(Profile.objects.update_or_create)(
        user=blocked[0], defaults={"onboarded_at": timezone.now()}
    )
    client = Client()
    client.cookies["sessionid"] = blocker[1]
    answer = await database_sync_to_async(client.post)(f"/members/{blocked[0].pk}/block/")
    assert answer.status_code == 302


async def test_after_the_end_a_tablemate_blocked_is_no_longer_seen_nor_heard() -> None:
    """In the hour after the end, when outcomes are still told, nobody is moved apart any
    more: the page stops showing and hearing the other instead."""
    alice, bob = await members(2)
    block = await block_with_seats(alice, bob, starts_in=timedelta(minutes=-30))  # over
    await database_sync_to_async(Seat.objects.filter(block=block).update)(
        table=1, arrived_at=block.starts_at, goal="Mi objetivo"
    )
    page_a, hello_a = await open_page(block, alice[1])
    assert {mate["user"]["id"] for mate in hello_a["tablemates"]} == {alice[0].pk, bob[0].pk}
    page_b, _hello_b = await open_page(block, bob[1])
    await in_the_call_then_blocked(page_a, page_b, blocker=alice, blocked=bob)  # still talking

    # At once: Alice's page takes Bob off her table, and she gets up from the call.
    assert (await page_a.next("call.left"))["reason"] == "blocked"
    assert (await page_a.next("focus.mate_left"))["user"] == {"id": bob[0].pk}
    assert (await page_b.next("call.peer_left"))["peer"]

    await page_b.socket.send_json_to({"type": "focus.outcome", "outcome": "done"})
    await page_b.next("focus.saved")
    # Alice's own outcome, told after Bob's: by then she would have heard his.
    await page_a.socket.send_json_to({"type": "focus.outcome", "outcome": "partly"})
    heard = []
    while (frame := await page_a.socket.receive_json_from(timeout=5))["type"] != "focus.saved":
        heard.append(frame)
    heard += await drain(page_a.socket)
    assert [f["user"]["id"] for f in heard if f["type"] == "focus.mate"] == [alice[0].pk]
    _again, hello = await open_page(block, alice[1])
    assert [mate["user"]["id"] for mate in hello["tablemates"]] == [alice[0].pk]
    for page in (page_a, page_b, _again):
        await page.socket.disconnect()


async def test_a_member_blocked_by_someone_at_no_table_of_theirs_hears_nothing_of_it() -> None:
    """A block is never told: a page hears of a tablemate leaving, of nobody else."""
    alice, bob = await members(2)  # Alice is in no block at all
    block = await block_with_seats(bob, starts_in=timedelta(minutes=-30))  # over
    await database_sync_to_async(Seat.objects.filter(block=block).update)(
        table=1, arrived_at=block.starts_at
    )
    page_b, _hello = await open_page(block, bob[1])

    await database_sync_to_async(services.block_create)(blocker=alice[0], blocked=bob[0])

    assert not [f for f in await drain(page_b.socket, quiet=1.5) if f["type"].startswith("focus.")]
    await page_b.socket.disconnect()


async def test_a_block_made_at_the_table_moves_the_blocker_to_another_table_and_call() -> None:
    """Blocked mid-session, Bob used to stay at Alice's table: she still read his goal
    live, and the table's call refused her while he was in it. She moves (he is never told
    of a block: to him she left the table, as someone giving back a seat does)."""
    alice, bob, carla = await members(3)
    block = await block_with_seats(alice, bob, carla, starts_in=timedelta(minutes=-5))
    page_a, hello_a = await open_page(block, alice[1])
    page_b, hello_b = await open_page(block, bob[1])
    page_c, hello_c = await open_page(block, carla[1])
    assert hello_a["table"] == hello_b["table"] == hello_c["table"] == 1
    await in_the_call_then_blocked(page_a, page_b, blocker=alice, blocked=bob)

    assert (await page_a.next("call.left"))["reason"] == "moved"
    moved = await page_a.next("focus.table")
    assert moved["table"] == 2
    assert [mate["user"]["id"] for mate in moved["mates"]] == [alice[0].pk]
    assert (await seat_of(block, alice[0])).table == 2
    for page in (page_b, page_c):
        assert (await page.next("focus.mate_left"))["user"] == {"id": alice[0].pk}
    assert (await page_b.next("call.peer_left"))["peer"]

    # Bob's goal goes to his table, not to Alice; her new table's call is hers to join.
    await page_b.socket.send_json_to({"type": "focus.goal", "goal": "Bob's goal"})
    assert (await page_c.next("focus.mate"))["goal"] == "Bob's goal"
    await page_a.socket.send_json_to({"type": "call.join", "audio": True, "video": False})
    assert (await page_a.next("call.joined"))["table"] == 2
    await page_c.socket.send_json_to({"type": "focus.goal", "goal": "Carla's goal"})
    heard = await page_b.next("focus.mate")
    if heard["user"]["id"] == bob[0].pk:  # his own goal, told to his table
        heard = await page_b.next("focus.mate")
    assert heard["goal"] == "Carla's goal"
    # Carla's goal, told before Alice writes hers, does not come first to Alice's page.
    await page_a.socket.send_json_to({"type": "focus.goal", "goal": "Alice's goal"})
    assert (await page_a.next("focus.mate"))["user"]["id"] == alice[0].pk
    # A page Alice opens now agrees.
    again, hello = await open_page(block, alice[1])
    assert hello["table"] == 2
    for page in (page_a, page_b, page_c, again):
        await page.socket.disconnect()

"""The stage through its socket and a real Janus (docs/stage.md): the host starts it and
publishes, a member watches what Janus forwards, hands go up and speakers are invited,
forged or refused frames get error frames, a removed member's media stop, and the end
sends everyone to the cafeteria. The pages' media side is played by aiortc peers
(tests/janus_peer.py) holding the token the socket gave them."""

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client, override_settings
from django.utils import timezone

from coworking.asgi import application
from members.models import User
from members.privacy import account_delete
from rooms.models import Reaction, Room
from rooms.sockets.chat import PAGE_SIZE
from rooms.sockets.limits import BUDGETS
from stage.janus import Janus, JanusSettings
from stage.models import Attendance, Stage
from tests.conftest import a_fresh_budget_window
from tests.factories import BlockFactory, MessageFactory, RoomFactory
from tests.janus_peer import BrowserSession, Receiver, publish
from tests.test_rooms_socket import member_with_session

ORIGIN = (b"origin", b"http://127.0.0.1:8000")

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _janus_settings(janus: JanusSettings) -> Iterator[None]:
    with override_settings(
        JANUS_HTTP_PORT=janus.http_port,
        JANUS_API_SECRET=janus.api_secret,
        JANUS_ROOM_ADMIN_KEY=janus.room_admin_key,
        JANUS_TOKEN_SECRET=janus.token_secret,
        JANUS_PUBLIC_URL=f"http://127.0.0.1:{janus.http_port}/janus",
    ):
        yield


@database_sync_to_async
def staff_room(host_session: str) -> Room:
    """A staff room whose stage the host opened by visiting its page."""
    room = RoomFactory.create(kind=Room.Kind.PERMANENT, name="Formación", slug="formacion")
    client = Client()
    client.cookies["sessionid"] = host_session
    assert client.get(f"/stage/{room.slug}/").status_code == 200
    return room


class Page:
    """A member's stage page: its socket, and its media side once it opens one."""

    def __init__(
        self, communicator: WebsocketCommunicator, hello: dict[str, Any], room_hello: dict[str, Any]
    ) -> None:
        self.socket, self.hello, self.room_hello = communicator, hello, room_hello
        self.janus: BrowserSession | None = None

    async def next(self, kind: str, timeout: float = 10) -> dict[str, Any]:
        while True:
            frame = await self.socket.receive_json_from(timeout=timeout)
            if frame["type"] == kind:
                return frame
            assert frame["type"] not in {"error", "bye"} or kind in {"error", "bye"}, frame

    async def state(self, test: Any = lambda state: True) -> dict[str, Any]:
        while True:
            state = await self.next("stage.state")
            if test(state):
                return state

    async def media(self) -> BrowserSession:
        if self.janus is None:
            url, token = self.hello["janus"]["url"], self.hello["janus"]["token"]
            self.janus = await BrowserSession(url, token).open()
        return self.janus

    async def close(self) -> None:
        if self.janus is not None:
            await self.janus.close()
        await self.socket.disconnect()


async def open_page(room: Room, session: str) -> Page:
    headers = [ORIGIN, (b"cookie", f"sessionid={session}".encode())]
    communicator = WebsocketCommunicator(application, f"/ws/stage/{room.slug}/", headers=headers)
    connected, _detail = await communicator.connect(timeout=5)
    assert connected
    room_hello = await communicator.receive_json_from(timeout=5)
    assert room_hello["type"] == "hello"
    while True:
        frame = await communicator.receive_json_from(timeout=5)
        if frame["type"] == "stage.hello":
            return Page(communicator, frame, room_hello)


async def go_live(page: Page) -> tuple[int, Any]:
    """The page publishes through Janus on a handle the site joined for it."""
    janus = await page.media()
    handle = await janus.handle()
    await page.socket.send_json_to(
        {"type": "stage.publish", "session": janus.session, "handle": handle}
    )
    joined = await page.next("stage.joined")
    assert (await janus.event(handle))["plugindata"]["data"]["videoroom"] == "joined"
    connection = await publish(janus, handle)
    await page.socket.send_json_to({"type": "stage.live"})
    # Live once the site says so: a page opened before that (on a busy machine) would find
    # the speaker not publishing yet.
    await page.state(lambda state: any(s["feed"] == joined["feed"] for s in state["speakers"]))
    return joined["feed"], connection


async def host_live(host_session: str) -> tuple[Room, Page, int, Any]:
    """A staff room whose host started the stage and went live."""
    room = await staff_room(host_session)
    host_page = await open_page(room, host_session)
    await host_page.socket.send_json_to({"type": "stage.start"})
    await host_page.state(lambda state: state["state"] == "live")
    feed, sender = await go_live(host_page)
    return room, host_page, feed, sender


async def watch(page: Page, feeds: list[int]) -> Receiver:
    janus = await page.media()
    handle = await janus.handle()
    await page.socket.send_json_to(
        {"type": "stage.watch", "session": janus.session, "handle": handle, "feeds": feeds}
    )
    receiver = Receiver()
    await receiver.answer(janus, handle)
    return receiver


async def frames_arrive(receiver: Receiver, at_least: int = 10) -> bool:
    for _ in range(100):
        if receiver.frames["video"] >= at_least and receiver.frames["audio"] >= at_least:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_the_host_goes_live_a_member_watches_raises_a_hand_and_is_invited() -> None:
    host, host_session = await member_with_session(
        is_staff=True, is_superuser=True, display_name="Marta"
    )
    _bob, bob_session = await member_with_session(display_name="Bob")
    room = await staff_room(host_session)
    host_page = await open_page(room, host_session)
    assert host_page.hello["can_host"] is True and host_page.hello["state"] == "off"
    assert (
        host_page.hello["janus"]["token"].endswith("=") or ":" in host_page.hello["janus"]["token"]
    )
    bob_page = await open_page(room, bob_session)
    assert bob_page.hello["can_host"] is False

    await bob_page.socket.send_json_to({"type": "stage.start"})
    refused = await bob_page.next("error")
    assert refused["code"] == "not_host"

    await host_page.socket.send_json_to({"type": "stage.start"})
    live = await bob_page.state(lambda state: state["state"] == "live")
    # The session's clock starts (a talk's overrun is counted from it: events.stage).
    started = await database_sync_to_async(Stage.objects.get)(room=room)
    assert started.started_at is not None
    assert [s["user"]["name"] for s in live["speakers"]] == ["Marta"]
    assert live["speakers"][0]["feed"] is None  # not publishing yet: nobody subscribes

    feed, sender = await go_live(host_page)
    on_air = await bob_page.state(lambda state: state["speakers"][0]["feed"] == feed)
    assert on_air["host"]["id"] == host.pk
    receiver = await watch(bob_page, [feed])
    assert await frames_arrive(receiver)
    assert await database_sync_to_async(Attendance.objects.filter(stage__room=room).count)() == 2

    # A second publisher of the same member (another tab) is refused; so is an attendee's.
    janus = await host_page.media()
    await host_page.socket.send_json_to(
        {"type": "stage.publish", "session": janus.session, "handle": await janus.handle()}
    )
    assert (await host_page.next("error"))["code"] == "already_publishing"
    bob_janus = await bob_page.media()
    await bob_page.socket.send_json_to(
        {"type": "stage.publish", "session": bob_janus.session, "handle": await bob_janus.handle()}
    )
    assert (await bob_page.next("error"))["code"] == "not_speaker"

    await bob_page.socket.send_json_to({"type": "stage.hand", "raised": True})
    raised = await host_page.state(lambda state: state["hands"])
    assert raised["hands"] == [{"id": _bob.pk, "name": "Bob"}]
    await host_page.socket.send_json_to({"type": "stage.invite", "user_id": _bob.pk})
    invited = await bob_page.state(lambda state: len(state["speakers"]) == 2)
    assert invited["hands"] == [] and invited["speakers"][1]["user"]["name"] == "Bob"
    bob_feed, bob_sender = await go_live(bob_page)
    both = await host_page.state(lambda state: state["speakers"][1]["feed"] == bob_feed)
    host_receiver = await watch(host_page, [both["speakers"][1]["feed"]])
    assert await frames_arrive(host_receiver)

    # The host mutes Bob for everyone: Janus stops forwarding his microphone, not his camera.
    await host_page.socket.send_json_to({"type": "stage.mute", "user_id": _bob.pk, "muted": True})
    muted = await bob_page.state(lambda state: state["speakers"][1]["muted"])
    assert muted["speakers"][1]["feed"] == bob_feed
    await asyncio.sleep(0.5)  # what was on its way
    heard, seen = host_receiver.frames["audio"], host_receiver.frames["video"]
    await asyncio.sleep(1.0)
    assert host_receiver.frames["audio"] == heard and host_receiver.frames["video"] > seen

    # The host sends Bob back to the audience: his publisher leaves Janus at once.
    await host_page.socket.send_json_to({"type": "stage.return", "user_id": _bob.pk})
    await bob_page.state(lambda state: len(state["speakers"]) == 1)
    with Janus(JanusSettings.from_settings()) as site:
        stage = await database_sync_to_async(Stage.objects.get)(room=room)
        assert [p["id"] for p in site.room_publishers(room=stage.janus_room)] == [feed]

    for closing in (receiver, host_receiver):
        await closing.close()
    await sender.close()
    await bob_sender.close()
    await bob_page.close()
    await host_page.close()


async def test_forged_frames_get_error_frames_and_the_socket_stays_up() -> None:
    _host, host_session = await member_with_session(is_staff=True, is_superuser=True)
    room = await staff_room(host_session)
    page = await open_page(room, host_session)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"type": "stage.watch", "session": "1", "handle": 2, "feeds": [3]}, "invalid_fields"),
        ({"type": "stage.watch", "session": 1, "handle": 2, "feeds": []}, "invalid_fields"),
        ({"type": "stage.watch", "session": 1, "handle": 2**60, "feeds": [3]}, "invalid_fields"),
        ({"type": "stage.watch", "session": 1, "handle": 2, "feeds": [3]}, "not_live"),
        ({"type": "stage.invite", "user_id": True}, "invalid_fields"),
        ({"type": "stage.hand"}, "invalid_fields"),
    ]
    for frame, code in cases:
        await page.socket.send_json_to(frame)
        error = await page.next("error")
        assert (error["code"], error["about"]) == (code, frame["type"])
    # A page open for hours asks for a fresh Janus token and TURN credentials, at half the
    # credentials' life.
    assert page.hello["ice_refresh"] > 0
    with override_settings(
        STUN_URLS=[], TURN_URLS=["turn:turn.example.org:3478"], TURN_SECRET="s3cret"
    ):
        await page.socket.send_json_to({"type": "stage.token"})
        fresh = await page.next("stage.token")
    assert fresh["token"].endswith("=") and ",janus,janus.plugin.videoroom:" in fresh["token"]
    (turn,) = fresh["ice_servers"]
    assert turn["urls"] == ["turn:turn.example.org:3478"] and turn["credential"]
    await page.socket.send_json_to({"type": "stage.start"})
    await page.state(lambda state: state["state"] == "live")
    # Feeds nobody publishes are not watched.
    await page.socket.send_json_to({"type": "stage.watch", "session": 1, "handle": 2, "feeds": [3]})
    assert (await page.next("error"))["code"] == "no_feed"
    await page.close()


async def test_a_removed_member_stops_receiving_and_the_end_sends_everyone_to_the_cafeteria() -> (
    None
):
    _host, host_session = await member_with_session(is_staff=True, is_superuser=True)
    bob, bob_session = await member_with_session()
    _carla, carla_session = await member_with_session()
    room, host_page, feed, sender = await host_live(host_session)
    pages = [await open_page(room, bob_session), await open_page(room, carla_session)]
    receivers = [await watch(page, [feed]) for page in pages]
    assert all([await frames_arrive(receiver) for receiver in receivers])

    await host_page.socket.send_json_to({"type": "stage.remove", "user_id": bob.pk})
    bye = await pages[0].next("bye")
    assert bye["reason"] == "removed"
    await asyncio.sleep(1.0)  # what was on its way when the session ended
    removed_before, kept_before = (sum(r.frames.values()) for r in receivers)
    await asyncio.sleep(2.0)
    assert sum(receivers[0].frames.values()) == removed_before  # within the 5 s promised
    assert sum(receivers[1].frames.values()) > kept_before
    # He cannot come back.
    headers = [ORIGIN, (b"cookie", f"sessionid={bob_session}".encode())]
    again = WebsocketCommunicator(application, f"/ws/stage/{room.slug}/", headers=headers)
    connected, _code = await again.connect(timeout=5)
    assert not connected
    await again.disconnect()

    await host_page.socket.send_json_to({"type": "stage.end"})
    ended = await pages[1].next("stage.ended")
    assert ended["url"] == "/rooms/cafeteria/" and ended["countdown"] > 0
    stage = await database_sync_to_async(Stage.objects.get)(room=room)
    assert stage.state == Stage.State.ENDED
    with Janus(JanusSettings.from_settings()) as site:
        assert not site.room_exists(room=stage.janus_room)

    for receiver in receivers:
        await receiver.close()
    await sender.close()
    for page in (*pages, host_page):
        await page.close()


@database_sync_to_async
def questions_then_chat(room: Room, viewer: User) -> dict[str, int]:
    """An early question the viewer voted for, then a chat longer than the first page, a
    deleted question and one by someone the viewer blocked."""
    early = MessageFactory.create(room=room, text="¿Grabáis la sesión?", is_question=True)
    Reaction.objects.create(message=early, user=viewer, emoji="👍")
    for _ in range(PAGE_SIZE + 1):
        MessageFactory.create(room=room)
    gone = MessageFactory.create(room=room, is_question=True, deleted_at=timezone.now(), text="")
    blocked = MessageFactory.create(room=room, is_question=True)
    BlockFactory.create(blocker=viewer, blocked=blocked.author)
    return {"early": early.pk, "gone": gone.pk, "blocked": blocked.pk}


async def test_the_stage_hello_lists_questions_asked_before_the_chat_s_first_page() -> None:
    _host, host_session = await member_with_session(is_staff=True, is_superuser=True)
    viewer, session = await member_with_session()
    room = await staff_room(host_session)
    ids = await questions_then_chat(room, viewer)

    page = await open_page(room, session)
    assert ids["early"] not in {message["id"] for message in page.room_hello["history"]}
    [question] = page.hello["questions"]
    assert question["id"] == ids["early"]
    assert question["text"] == "¿Grabáis la sesión?"
    assert question["reactions"] == [{"emoji": "👍", "members": [viewer.pk]}]
    await page.close()


async def test_a_raised_hand_is_not_shown_across_a_block() -> None:
    host, host_session = await member_with_session(
        is_staff=True, is_superuser=True, display_name="Marta"
    )
    bob, bob_session = await member_with_session(display_name="Bob")
    carla, carla_session = await member_with_session(display_name="Carla")
    await database_sync_to_async(BlockFactory.create)(blocker=carla, blocked=host)
    room = await staff_room(host_session)
    pages = [
        await open_page(room, session) for session in (host_session, bob_session, carla_session)
    ]
    host_page, bob_page, carla_page = pages
    await host_page.socket.send_json_to({"type": "stage.start"})
    await carla_page.state(lambda state: state["state"] == "live")

    await carla_page.socket.send_json_to({"type": "stage.hand", "raised": True})
    await bob_page.socket.send_json_to({"type": "stage.hand", "raised": True})

    seen_by_bob = await bob_page.state(lambda state: len(state["hands"]) == 2)
    assert {hand["id"] for hand in seen_by_bob["hands"]} == {bob.pk, carla.pk}
    seen_by_host = await host_page.state(lambda state: state["hands"])
    assert seen_by_host["hands"] == [{"id": bob.pk, "name": "Bob"}]
    later = await open_page(room, host_session)  # a page opened now says the same
    assert later.hello["hands"] == [{"id": bob.pk, "name": "Bob"}]
    for page in (*pages, later):
        await page.close()


async def test_a_page_opening_as_the_stage_changes_still_hears_of_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stage import consumers
    from stage.services import stage_hand

    _host, host_session = await member_with_session(
        is_staff=True, is_superuser=True, display_name="Marta"
    )
    carla, _carla_session = await member_with_session(display_name="Carla")
    _bob, bob_session = await member_with_session(display_name="Bob")
    room = await staff_room(host_session)
    host_page = await open_page(room, host_session)
    await host_page.socket.send_json_to({"type": "stage.start"})
    await host_page.state(lambda state: state["state"] == "live")
    read_hello = consumers._stage_hello

    async def hello_then_a_hand(*args: Any) -> Any:
        # Bob's page has read the stage; Carla raises her hand before it is told.
        hello = await read_hello(*args)
        stage = await database_sync_to_async(Stage.objects.get)(room=room)
        await database_sync_to_async(stage_hand)(stage=stage, user=carla, raised=True)
        return hello

    monkeypatch.setattr(consumers, "_stage_hello", hello_then_a_hand)
    bob_page = await open_page(room, bob_session)

    assert bob_page.hello["hands"] == []
    seen = await bob_page.state(lambda state: state["hands"])
    assert seen["hands"] == [{"id": carla.pk, "name": "Carla"}]
    for page in (host_page, bob_page):
        await page.close()


async def test_no_stage_for_members_in_a_room_without_one(client: Client) -> None:
    _member, session = await member_with_session()
    plain = await database_sync_to_async(RoomFactory.create)(kind=Room.Kind.PERMANENT, slug="sala")
    headers = [ORIGIN, (b"cookie", f"sessionid={session}".encode())]
    communicator = WebsocketCommunicator(application, "/ws/stage/sala/", headers=headers)
    connected, _detail = await communicator.connect(timeout=5)
    assert connected  # the room's own socket, then the stage's refusal
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    assert (await communicator.receive_output(timeout=5))["type"] == "websocket.close"
    await communicator.disconnect()
    assert plain.slug == "sala"


async def test_a_speaker_whose_connection_drops_leaves_the_stage_and_can_come_back() -> None:
    _host, host_session = await member_with_session(is_staff=True, is_superuser=True)
    _bob, bob_session = await member_with_session()
    room, host_page, feed, sender = await host_live(host_session)
    bob_page = await open_page(room, bob_session)
    assert bob_page.hello["speakers"][0]["feed"] == feed
    # Bob is on stage too, and the host's page watches him on the Janus session it
    # publishes on (as the page does).
    await host_page.socket.send_json_to({"type": "stage.invite", "user_id": _bob.pk})
    await bob_page.state(lambda state: len(state["speakers"]) == 2)
    bob_feed, bob_sender = await go_live(bob_page)
    await host_page.state(lambda state: state["speakers"][-1]["feed"] == bob_feed)
    host_receiver = await watch(host_page, [bob_feed])

    # The host's network drops: the server closes the socket once its pings stop.
    await host_receiver.close()
    await sender.close()
    await host_page.close()

    gone = await bob_page.state(lambda state: state["speakers"][0]["feed"] is None)
    assert gone["state"] == "live"  # the session goes on; the host's place is kept
    assert gone["speakers"][1]["feed"] == bob_feed
    stage = await database_sync_to_async(Stage.objects.get)(room=room)
    with Janus(JanusSettings.from_settings()) as site:
        assert [p["id"] for p in site.room_publishers(room=stage.janus_room)] == [bob_feed]
    back = await open_page(room, host_session)
    new_feed, new_sender = await go_live(back)
    assert new_feed != feed
    await bob_page.state(lambda state: state["speakers"][0]["feed"] == new_feed)

    await new_sender.close()
    await bob_sender.close()
    await back.close()
    await bob_page.close()


async def test_a_hand_flapped_up_and_down_runs_into_the_status_budget() -> None:
    """Each move reaches the whole audience: a member gets the budget of status changes."""
    _host, host_session = await member_with_session(
        is_staff=True, is_superuser=True, display_name="Marta"
    )
    _bob, bob_session = await member_with_session(display_name="Bob")
    room = await staff_room(host_session)
    host_page, bob_page = [await open_page(room, s) for s in (host_session, bob_session)]
    await host_page.socket.send_json_to({"type": "stage.start"})
    await bob_page.state(lambda state: state["state"] == "live")
    await a_fresh_budget_window()

    for number in range(BUDGETS["presence"] + 1):
        await bob_page.socket.send_json_to({"type": "stage.hand", "raised": number % 2 == 0})

    assert (await bob_page.next("error"))["code"] == "rate_limited"
    for page in (host_page, bob_page):
        await page.close()


async def test_a_speaker_who_deletes_their_account_leaves_the_stage_and_janus_at_once() -> None:
    host, host_session = await member_with_session(
        is_staff=True, is_superuser=True, display_name="Marta"
    )
    bob, bob_session = await member_with_session(display_name="Bob")
    room, host_page, feed, sender = await host_live(host_session)
    bob_page = await open_page(room, bob_session)
    await host_page.socket.send_json_to({"type": "stage.invite", "user_id": bob.pk})
    await bob_page.state(lambda state: len(state["speakers"]) == 2)
    bob_feed, bob_sender = await go_live(bob_page)
    await host_page.state(lambda state: state["speakers"][-1]["feed"] == bob_feed)

    await database_sync_to_async(account_delete)(user=bob)

    told = await host_page.state(lambda state: len(state["speakers"]) == 1)
    assert told["speakers"][0]["user"]["id"] == host.pk
    stage = await database_sync_to_async(Stage.objects.get)(room=room)
    with Janus(JanusSettings.from_settings()) as site:
        assert [p["id"] for p in site.room_publishers(room=stage.janus_room)] == [feed]

    await bob_sender.close()
    await sender.close()
    for page in (bob_page, host_page):
        await page.close()

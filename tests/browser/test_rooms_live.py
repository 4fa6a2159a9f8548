"""Two members meet in the cafeteria and chat live."""

import contextlib
import re
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Literal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import Page, WebSocketRoute, expect
from websockets.sync.client import connect

from members.models import User
from rooms import broadcast, services
from rooms.models import CAFETERIA_SLUG, Message, Presence, Room, message_seq_next
from tests.browser.conftest import PageProblems, PlaywrightLoopGuard, elsewhere
from tests.browser.network import FlakyNetwork
from tests.conftest import signed_in_cookies
from tests.factories import PASSWORD, MessageFactory, RoomFactory, onboarded_member

pytestmark = pytest.mark.browser

Login = Callable[[Page, str, str, str], None]
NewPage = Callable[..., Page]
AxeCheck = Callable[[Page], None]

SCHEMES: tuple[Literal["light", "dark"], ...] = ("light", "dark")


def cafeteria() -> Room:
    # A transactional test flushes the tables, the migrated cafeteria included.
    room, _created = Room.objects.get_or_create(
        kind=Room.Kind.CAFETERIA, defaults={"name": "Cafeteria", "slug": CAFETERIA_SLUG}
    )
    return room


def stored(room: Room, author: User, text: str, count: int) -> None:
    """`count` messages "`text` 0", "`text` 1"... stored in the room at once, numbered as
    the site numbers them, and announced to nobody (written while a page was away)."""
    with transaction.atomic():
        first = message_seq_next(room_id=room.pk)
        Message.objects.bulk_create(
            Message(room=room, seq=first + n, author=author, text=f"{text} {n}")
            for n in range(count)
        )


def test_two_members_see_each_other_and_chat_live(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")

    first, second = new_page(), new_page()
    login(first, asgi_server, ana.email, PASSWORD)
    login(second, asgi_server, beto.email, PASSWORD)
    first.goto(f"/rooms/{room.slug}/")
    expect(first.locator("#chat-status")).to_have_text("Connected.")
    second.goto(f"/rooms/{room.slug}/")

    expect(second.locator("#presence")).to_contain_text("Ana Arias")
    expect(first.locator("#presence")).to_contain_text("Beto Blanco")

    second.get_by_label("Message").fill("Hola, <b>Ana</b>")
    second.get_by_label("Message").press("Enter")
    expect(first.locator("#messages li").last).to_contain_text("Hola, <b>Ana</b>")
    expect(second.locator("#messages li").last).to_contain_text("delivered")
    assert first.locator("#messages b").count() == 0


def test_the_presence_list_keeps_the_server_s_order_as_people_come_and_go(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    """By name without accents or case, as `hello` lists them: each arrival finds its place
    (by halves, not by reading the whole list, for a crowd of thousands)."""
    room = cafeteria()
    marta = onboarded_member("Marta Mora", email="marta@example.com")
    names = ["Zoe Zamora", "Úrsula Ugarte", "ana Alba", "Beto Blanco", "Álvaro Abad"]
    members = [
        onboarded_member(name, email=f"member{n}@example.com") for n, name in enumerate(names)
    ]
    page = new_page()
    login(page, asgi_server, marta.email, PASSWORD)
    page.goto(f"/rooms/{room.slug}/")
    expect(page.locator("#chat-status")).to_have_text("Connected.")

    with contextlib.ExitStack() as stack:
        sockets = {}
        for member in members:
            session = signed_in_cookies(asgi_server, member.email, PASSWORD)["sessionid"]
            sockets[member.display_name] = stack.enter_context(
                connect(
                    asgi_server.replace("http", "ws") + f"/ws/rooms/{room.slug}/",
                    additional_headers={"Origin": asgi_server, "Cookie": f"sessionid={session}"},
                    max_size=None,
                    open_timeout=10,
                )
            )
        presence = page.locator("#presence .presence-name")
        expect(presence).to_have_text(
            ["Álvaro Abad", "ana Alba", "Beto Blanco", "Marta Mora", "Úrsula Ugarte", "Zoe Zamora"]
        )
        sockets["Beto Blanco"].close()
        expect(presence).to_have_text(
            ["Álvaro Abad", "ana Alba", "Marta Mora", "Úrsula Ugarte", "Zoe Zamora"]
        )


def test_room_pages_pass_axe(
    page: Page, asgi_server: str, login: Login, axe_check: AxeCheck
) -> None:
    room = cafeteria()
    me = onboarded_member("Inés Robles", email="yo@example.com")

    login(page, asgi_server, me.email, PASSWORD)
    page.goto("/rooms/")
    expect(page.get_by_role("link", name="Cafeteria")).to_be_visible()
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        axe_check(page)
    page.goto(f"/rooms/{room.slug}/")
    expect(page.locator("#chat-status")).to_have_text("Connected.")
    expect(page.locator("#presence")).to_contain_text("Inés Robles")
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        axe_check(page)


def test_messages_written_on_a_dead_connection_all_arrive_after_reconnecting(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    """More messages than the server takes in one go wait in the page and go out at its
    pace: none is stranded by the rate limit."""
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    first, second = new_page(), new_page()
    routes: list[WebSocketRoute] = []
    dead = False

    def through(socket: WebSocketRoute) -> None:
        # A dead connection looks open to the page and swallows what it sends.
        if not dead:
            socket.connect_to_server()
        routes.append(socket)

    first.route_web_socket(re.compile(r"/ws/rooms/cafeteria/(\?catch_up=1)?$"), through)
    login(first, asgi_server, ana.email, PASSWORD)
    login(second, asgi_server, beto.email, PASSWORD)
    first.goto(f"/rooms/{room.slug}/")
    expect(first.locator("#chat-status")).to_have_text("Connected.")
    second.goto(f"/rooms/{room.slug}/")
    expect(second.locator("#presence")).to_contain_text("Ana Arias")

    dead = True
    routes[-1].close(code=3000, reason="network gone")
    count = len(routes)
    while len(routes) == count:  # the page reconnects, into the dead connection
        first.wait_for_timeout(100)
    message = first.get_by_label("Message")
    for n in range(12):
        message.fill(f"Mensaje {n}")
        message.press("Enter")
    dead = False
    routes[-1].close(code=3000, reason="network back")

    for n in range(12):
        expect(second.locator("#messages")).to_contain_text(f"Mensaje {n}", timeout=30_000)
    expect(first.locator("#messages .message-state").filter(has_text="sending")).to_have_count(0)
    assert Message.objects.filter(room=room, author=ana).count() == 12


def test_a_chosen_status_survives_a_dropped_connection(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    """The drop deletes the connection's presence and the server greets the new one with
    the default status: the page puts back the one the member chose."""
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    first, second = new_page(), new_page()
    network = FlakyNetwork(first, r"/ws/rooms/cafeteria/(\?catch_up=1)?$")
    login(first, asgi_server, ana.email, PASSWORD)
    login(second, asgi_server, beto.email, PASSWORD)
    first.goto(f"/rooms/{room.slug}/")
    expect(first.locator("#chat-status")).to_have_text("Connected.")
    second.goto(f"/rooms/{room.slug}/")
    ana_there = second.locator("#presence li", has_text="Ana Arias")
    expect(ana_there).to_contain_text("Working")
    first.get_by_label("Your status").select_option(label="In a call")
    expect(ana_there).to_contain_text("In a call")

    network.go_down()
    expect(ana_there).to_have_count(0)  # gone for the others
    network.come_back()

    expect(ana_there).to_contain_text("In a call")
    expect(first.get_by_label("Your status")).to_have_value("call")
    second.reload()
    expect(second.locator("#presence li", has_text="Ana Arias")).to_contain_text("In a call")


def test_everything_written_while_a_member_was_away_is_there_after_reconnecting(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    """More than `hello`'s latest page and one catch-up page: the catch-up pages on from
    its own last message, not from the newest one the page already holds. The first
    catch-up is refused (the member's history budget spent, say): the page asks again."""
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    page = new_page()
    network = FlakyNetwork(page, r"/ws/rooms/cafeteria/(\?catch_up=1)?$", refuse="history.since")
    login(page, asgi_server, ana.email, PASSWORD)
    page.goto(f"/rooms/{room.slug}/")
    expect(page.locator("#chat-status")).to_have_text("Connected.")

    network.go_down()
    stored(room, beto, "Mientras no estabas", 230)
    network.come_back()

    messages = page.locator("#messages li[data-id]")
    expect(messages).to_have_count(230, timeout=30_000)
    for n in (0, 120, 229):
        expect(page.locator("#messages")).to_contain_text(f"Mientras no estabas {n}")
    assert len(network.refused) == 1


def test_what_was_edited_or_deleted_among_the_messages_held_is_redrawn_after_reconnecting(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    """More than `hello`'s latest page came meanwhile, so `hello` brings the changed messages
    no more: the catch-up's `changed` does. A message deleted while a laptop slept (by its
    author, or by staff) no longer stays on its page, and a reaction made meanwhile shows."""
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    before = [MessageFactory.create(room=room, author=beto, text=f"Antes {n}") for n in range(3)]
    page = new_page()
    network = FlakyNetwork(page, r"/ws/rooms/cafeteria/(\?catch_up=1)?$")
    login(page, asgi_server, ana.email, PASSWORD)
    page.goto(f"/rooms/{room.slug}/")
    expect(page.locator("#chat-status")).to_have_text("Connected.")
    texts = page.locator("#messages li[data-id] .message-text")
    expect(texts).to_have_text(["Antes 0", "Antes 1", "Antes 2"])

    network.go_down()
    # Playwright's loop runs in this thread: the services' broadcasts go from another.
    elsewhere(services.message_delete, message=before[1], by=beto)
    elsewhere(services.message_edit, message=before[2], editor=beto, text="Después")
    elsewhere(services.reaction_toggle, message=before[0], user=beto, emoji="☕")
    stored(room, beto, "Mientras no estabas", 60)
    network.come_back()

    expect(page.locator("#messages li[data-id]")).to_have_count(63, timeout=30_000)
    expect(texts.nth(1)).to_have_text("This message was deleted.")
    expect(texts.nth(2)).to_have_text("Después")
    first_item = page.locator("#messages li[data-id]").first
    expect(first_item.locator(".reaction")).to_contain_text("☕ 1")
    expect(page.locator("#messages")).not_to_contain_text("Antes 1")
    # Only the first `hello` carried the latest messages: the reconnections asked for none,
    # and what changed came with the catch-up alone.
    asked_history = [not route.url.endswith("?catch_up=1") for route in network.routes]
    assert asked_history[0] and not any(asked_history[1:]), asked_history


def test_a_room_open_all_day_keeps_its_latest_messages_and_gives_back_the_oldest_on_request(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    """Every message that comes in costs a page more the more it holds: while the member
    follows the end of the log, the oldest go (over 500, down to 400), and "Load older
    messages" brings them back."""
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    page = new_page()
    routes: list[WebSocketRoute] = []

    def through(socket: WebSocketRoute) -> None:
        socket.connect_to_server()
        routes.append(socket)

    page.route_web_socket(re.compile(r"/ws/rooms/cafeteria/(\?catch_up=1)?$"), through)
    login(page, asgi_server, ana.email, PASSWORD)
    page.goto(f"/rooms/{room.slug}/")
    expect(page.locator("#chat-status")).to_have_text("Connected.")

    stored(room, beto, "Hoy", 520)
    # Heard live, as the day goes by (the frames the room's broadcast sends).
    for message in Message.objects.filter(room=room).prefetch_related("mentions").order_by("id"):
        data = broadcast.message_data(message)
        routes[-1].send(broadcast.encode({"type": "chat.message", "message": data}))
    items = page.locator("#messages li[data-id]")
    expect(items.last).to_contain_text("Hoy 519", timeout=30_000)
    held = items.count()
    assert 400 <= held <= 500, held
    expect(items.first.locator(".message-text")).not_to_have_text("Hoy 0")

    older = page.get_by_role("button", name="Load older messages")
    for page_number in range(1, 4):
        older.click()
        expect(items).to_have_count(min(held + 50 * page_number, 520))
    expect(items.first.locator(".message-text")).to_have_text("Hoy 0")
    expect(older).to_be_hidden()


def test_someone_here_since_yesterday_is_here_since_yesterday_s_date_not_a_time_to_come(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    since = timezone.now() - timedelta(hours=30)  # always another day
    Presence.objects.create(
        room=room,
        user=beto,
        channel_name="beto-since-yesterday",
        since=since,
        heartbeat_at=timezone.now() + timedelta(hours=1),
    )
    page = new_page()
    login(page, asgi_server, ana.email, PASSWORD)
    page.goto(f"/rooms/{room.slug}/")
    expect(page.locator("#chat-status")).to_have_text("Connected.")

    local = since.astimezone(ZoneInfo(ana.time_zone))
    beto_since = page.locator("#presence li", has_text="Beto Blanco").locator(".presence-since")
    expect(beto_since).to_have_text(f"since {local.day} {local:%b}, {local:%H:%M}")
    Presence.objects.filter(user=beto).delete()


def test_a_message_whose_broadcast_never_came_is_fetched_once_the_next_one_shows_the_gap(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    """Messages are numbered in their room: one that arrives a number too far on tells the
    page it missed one (a broadcast lost, or overtaken by another process's), and the page
    catches up from where it is complete (docs/websocket-protocol.md, "Catching up")."""
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    page = new_page()
    login(page, asgi_server, ana.email, PASSWORD)
    page.goto(f"/rooms/{room.slug}/")
    expect(page.locator("#chat-status")).to_have_text("Connected.")

    MessageFactory.create(room=room, author=beto, text="Nunca anunciado")
    announced = MessageFactory.create(room=room, author=beto, text="Anunciado")
    announced = Message.objects.prefetch_related("mentions").get(pk=announced.pk)
    # Playwright's loop runs in this thread: the broadcast goes from another.
    chat_message = partial(broadcast.on_commit, broadcast.chat_message, sender_channel="")
    elsewhere(chat_message, message=announced)

    texts = page.locator("#messages li[data-id] .message-text")
    expect(texts).to_have_text(["Nunca anunciado", "Anunciado"])


def test_a_closed_room_s_page_shows_nobody_here_and_the_way_on(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    room = RoomFactory.create(created_by=ana, name="Sprint review")
    first, second = new_page(), new_page()
    for page, who in ((first, ana), (second, beto)):
        login(page, asgi_server, who.email, PASSWORD)
        page.goto(f"/rooms/{room.slug}/")
    expect(second.locator("#presence")).to_contain_text("Ana Arias")

    first.get_by_text("Close this room").click()
    first.get_by_role("button", name="Yes, close the room").click()

    # The page says so at once, with the way on. A page whose socket happened to be
    # reconnecting just then (seen once on a loaded machine) is refused, and loads the closed
    # room's page instead, which says the same.
    expect(second.get_by_role("link", name="Go to the cafeteria").first).to_be_visible()
    said = re.compile(r"^(You are not in the room any more\.|This room closed on .*)$")
    expect(second.get_by_text(said).first).to_be_visible()


def test_a_page_refused_because_the_room_filled_up_meanwhile_says_it_is_full(
    new_page: NewPage, asgi_server: str, login: Login, page_problems: PageProblems
) -> None:
    from rooms.models import Presence

    ana = onboarded_member("Ana Arias", email="ana@example.com")
    room = RoomFactory.create(name="Mesa pequeña", capacity=2)
    page = new_page()
    network = FlakyNetwork(page, rf"/ws/rooms/{room.slug}/(\?catch_up=1)?$")
    login(page, asgi_server, ana.email, PASSWORD)
    page.goto(f"/rooms/{room.slug}/")
    expect(page.locator("#chat-status")).to_have_text("Connected.")

    network.go_down()  # Ana's place goes with her connection; two others take the room
    PlaywrightLoopGuard.leave()  # their arrival is broadcast from here, outside Playwright
    for name in ("Beto", "Carla"):
        Presence.objects.create(room=room, user=onboarded_member(name), channel_name=name)
    network.come_back()

    # Refused (4409), the page asks the site why and shows it, rather than retry forever.
    expect(page.get_by_role("heading", name="This room is full")).to_be_visible(timeout=15_000)
    # The browser logs the refused handshake and the full room's 409 as errors, and only
    # those.
    assert page_problems.console_errors
    assert all(
        "handshake: Unexpected response code: 403" in error or "409 (Conflict)" in error
        for error in page_problems.console_errors
    ), page_problems.console_errors
    page_problems.allow()
    # Their rows stand for connections of no server: gone, as those would go.
    Presence.objects.filter(channel_name__in=["Beto", "Carla"]).delete()


def test_a_page_older_than_the_server_s_protocol_asks_for_a_reload_and_stops(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    room = cafeteria()
    page = new_page()
    connections: list[WebSocketRoute] = []

    def newer_server(socket: WebSocketRoute) -> None:
        connections.append(socket)
        server = socket.connect_to_server()

        def to_page(frame: str | bytes) -> None:
            if '"type": "hello"' in str(frame) or '"type":"hello"' in str(frame):
                frame = re.sub(r'"v":\s*\d+', '"v": 999', str(frame))
            socket.send(frame)

        server.on_message(to_page)

    page.route_web_socket(re.compile(rf"/ws/rooms/{room.slug}/(\?catch_up=1)?$"), newer_server)
    login(page, asgi_server, ana.email, PASSWORD)
    page.goto(f"/rooms/{room.slug}/")

    status = page.locator("#chat-status")
    # With a button for it: the installed app has no browser button to reload with.
    expect(status).to_have_text("This page is out of date. Please reload it. Reload")
    page.wait_for_timeout(2_500)  # past the first reconnection's wait
    expect(status).to_have_text("This page is out of date. Please reload it. Reload")
    assert len(connections) == 1
    with page.expect_navigation():
        status.get_by_role("button", name="Reload").click()

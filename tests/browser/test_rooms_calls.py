"""Calls in real headless Chromium: members join a meeting room's call or sit at a cafeteria
table, and their browsers connect peer to peer with fake camera and microphone (see the
launch flags in conftest.py), signalled over the room socket."""

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Locator, Page, WebSocketRoute, expect

from members.models import User
from rooms.models import Room
from tests.browser.test_rooms_live import cafeteria
from tests.browser.test_rooms_page import enter
from tests.conftest import child_env, free_port, start_server, wait_for_port
from tests.factories import PASSWORD, RoomFactory, onboarded_member

pytestmark = pytest.mark.browser

Login = Callable[[Page, str, str, str], None]
NewPage = Callable[..., Page]
AxeCheck = Callable[[Page], None]

SCHEMES: tuple[Literal["light", "dark"], ...] = ("light", "dark")
# ICE and DTLS on loopback take well under a second; leave room for a loaded machine.
CONNECT_TIMEOUT = 20_000

REFUSE_DEVICES = """
navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""


def meeting_room(creator: User) -> Room:
    return RoomFactory.create(created_by=creator, name="Standup", slug="standup")


def with_devices(new_page: NewPage, base_url: str) -> Page:
    page = new_page()
    page.context.grant_permissions(["camera", "microphone"], origin=base_url)
    return page


def join_call(page: Page, *, camera: bool, button: str = "Join call") -> None:
    page.get_by_label("Microphone and camera" if camera else "Microphone only").check()
    page.get_by_role("button", name=button).click()
    expect(page.get_by_role("group", name="Call controls")).to_be_visible()


def remote_tiles(page: Page) -> Locator:
    return page.locator("#call-tiles > li[data-peer]")


def remote_tile(page: Page, name: str) -> Locator:
    name_there = page.locator(".call-name", has_text=re.compile(f"^{re.escape(name)}$"))
    return remote_tiles(page).filter(has=name_there)


def track_states(tile: Locator) -> list[str]:
    states: list[str] = tile.locator("video").evaluate(
        """video => video.srcObject
            ? video.srcObject.getTracks().map(t => `${t.kind}:${t.readyState}`) : []"""
    )
    return sorted(states)


def expect_connected(page: Page, *names: str) -> None:
    """`page` shows exactly these members as remote tiles, each connected with live tracks."""
    expect(remote_tiles(page)).to_have_count(len(names), timeout=CONNECT_TIMEOUT)
    for name in names:
        tile = remote_tile(page, name)
        expect(tile).to_have_attribute("data-state", "connected", timeout=CONNECT_TIMEOUT)
        assert track_states(tile) == ["audio:live", "video:live"]


def expect_picture(page: Page, tile: Locator) -> None:
    """Frames of the other side's (fake) camera arrive and are decoded."""
    expect(tile).to_have_attribute("data-video", "on")
    page.wait_for_function(
        "video => video.videoWidth > 0",
        arg=tile.locator("video").element_handle(),
        timeout=CONNECT_TIMEOUT,
    )


def test_two_members_connect_one_with_camera_one_with_microphone_only(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    room = meeting_room(ana)
    first, second = with_devices(new_page, asgi_server), with_devices(new_page, asgi_server)
    enter(first, asgi_server, login, ana, room)
    enter(second, asgi_server, login, beto, room)

    join_call(first, camera=True)
    expect(first.locator("#call-status")).to_have_text("You joined the call.")
    expect(first.get_by_role("button", name="Mute")).to_be_focused()
    join_call(second, camera=False)

    expect_connected(first, "Beto Blanco")
    expect_connected(second, "Ana Arias")
    # Ana's camera reaches Beto; Beto, audio only, shows as his initials.
    expect_picture(second, remote_tile(second, "Ana Arias"))
    beto_there = remote_tile(first, "Beto Blanco")
    expect(beto_there).to_have_attribute("data-video", "off")
    expect(beto_there.locator(".call-initials")).to_have_text("BB")
    expect(beto_there.locator("video")).to_be_hidden()
    # Each sees themselves too, and the camera button says what is on.
    expect(first.locator("#call-tiles > li[data-self]")).to_contain_text("Ana Arias (you)")
    expect(first.get_by_role("button", name="Camera")).to_have_attribute("aria-pressed", "true")
    expect(second.get_by_role("button", name="Camera")).to_have_attribute("aria-pressed", "false")
    # Being in a call is their presence status.
    expect(second.locator("#presence li", has_text="Ana Arias")).to_contain_text("In a call")
    expect(first.get_by_label("Your status")).to_have_value("call")


def test_a_third_member_joins_everyone_connects_and_a_leaver_disappears(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    cris = onboarded_member("Cris Castro", email="cris@example.com")
    room = meeting_room(ana)
    pages = [with_devices(new_page, asgi_server) for _ in range(3)]
    for page, member in zip(pages, (ana, beto, cris), strict=True):
        enter(page, asgi_server, login, member, room)
    first, second, third = pages

    join_call(first, camera=True)
    join_call(second, camera=False)
    expect_connected(first, "Beto Blanco")
    join_call(third, camera=True)

    expect_connected(first, "Beto Blanco", "Cris Castro")
    expect_connected(second, "Ana Arias", "Cris Castro")
    expect_connected(third, "Ana Arias", "Beto Blanco")
    expect(first.locator("#call-status")).to_have_text("Cris Castro joined.")

    second.get_by_role("button", name="Leave call").click()
    expect(second.locator("#call-status")).to_have_text("You left the call.")
    expect(second.get_by_role("button", name="Join call")).to_be_focused()
    expect(second.locator("#call-tiles")).to_be_hidden()
    for page, other in ((first, "Cris Castro"), (third, "Ana Arias")):
        expect(remote_tile(page, "Beto Blanco")).to_have_count(0)
        expect(page.locator("#call-status")).to_have_text("Beto Blanco left.")
        expect_connected(page, other)
    # His status from before the call comes back.
    expect(second.get_by_label("Your status")).to_have_value("working")
    expect(first.locator("#presence li", has_text="Beto Blanco")).to_contain_text("Working")


def test_a_closed_tab_drops_out_of_the_others_call(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    room = meeting_room(ana)
    first, second = with_devices(new_page, asgi_server), with_devices(new_page, asgi_server)
    enter(first, asgi_server, login, ana, room)
    enter(second, asgi_server, login, beto, room)
    join_call(first, camera=False)
    join_call(second, camera=False)
    expect_connected(first, "Beto Blanco")

    # As a person closes a tab: the page unloads and its socket says goodbye. Playwright's
    # default close kills the page instead, and under load the server then sometimes heard of
    # it only from the heartbeat, long after this test gave up.
    second.close(run_before_unload=True)
    expect(remote_tiles(first)).to_have_count(0, timeout=10_000)


def test_mute_and_camera_changes_reach_the_others(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    room = meeting_room(ana)
    first, second = with_devices(new_page, asgi_server), with_devices(new_page, asgi_server)
    enter(first, asgi_server, login, ana, room)
    enter(second, asgi_server, login, beto, room)
    join_call(first, camera=True)
    join_call(second, camera=False)
    expect_connected(second, "Ana Arias")
    ana_there = remote_tile(second, "Ana Arias")

    mute = first.get_by_role("button", name="Mute")
    mute.click()
    expect(mute).to_have_attribute("aria-pressed", "true")
    expect(ana_there).to_have_attribute("data-audio", "off")
    expect(ana_there).to_contain_text("muted")
    mute.press("Enter")
    expect(ana_there).to_have_attribute("data-audio", "on")
    expect(ana_there.locator(".call-muted")).to_be_hidden()

    first.get_by_role("button", name="Camera").click()
    expect(ana_there).to_have_attribute("data-video", "off")
    expect(ana_there.locator(".call-initials")).to_be_visible()

    # Beto joined with the microphone only; his camera goes out without renegotiating.
    camera = second.get_by_role("button", name="Camera")
    camera.click()
    expect(camera).to_have_attribute("aria-pressed", "true")
    expect_picture(first, remote_tile(first, "Beto Blanco"))
    expect(remote_tile(first, "Beto Blanco")).to_have_attribute("data-state", "connected")


def test_screen_sharing_replaces_the_picture_and_stops(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    room = meeting_room(ana)
    first, second = with_devices(new_page, asgi_server), with_devices(new_page, asgi_server)
    enter(first, asgi_server, login, ana, room)
    enter(second, asgi_server, login, beto, room)
    join_call(first, camera=False)
    join_call(second, camera=False)
    expect_connected(second, "Ana Arias")
    ana_there = remote_tile(second, "Ana Arias")

    share = first.get_by_role("button", name="Share screen")
    share.click()
    expect(share).to_have_attribute("aria-pressed", "true")
    expect(ana_there).to_contain_text("sharing the screen")
    expect_picture(second, ana_there)

    share.click()
    expect(share).to_have_attribute("aria-pressed", "false")
    expect(ana_there).to_have_attribute("data-video", "off")
    expect(ana_there.locator(".call-sharing")).to_be_hidden()


def routed_room_socket(page: Page) -> list[WebSocketRoute]:
    """The page's sockets to the standup room, each through a route the test can cut or
    speak on as the server (the last is the live one)."""
    sockets: list[WebSocketRoute] = []

    def through(socket: WebSocketRoute) -> None:
        socket.connect_to_server()
        sockets.append(socket)

    page.route_web_socket(re.compile(r"/ws/rooms/standup/(\?catch_up=1)?$"), through)
    return sockets


def test_a_network_blip_rejoins_the_call_and_reconnects(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    room = meeting_room(ana)
    first, second = with_devices(new_page, asgi_server), with_devices(new_page, asgi_server)
    # Ana's room socket goes through a route the test can cut, as a network would.
    sockets = routed_room_socket(first)
    enter(first, asgi_server, login, ana, room)
    enter(second, asgi_server, login, beto, room)
    join_call(first, camera=True)
    join_call(second, camera=False)
    expect_connected(second, "Ana Arias")
    old_peer = remote_tile(second, "Ana Arias").get_attribute("data-peer")

    sockets[-1].close(code=3000, reason="blip")
    expect(first.locator("#chat-status")).to_have_text("Connected.", timeout=10_000)
    expect(first.locator("#call-status")).to_have_text("You are back in the call.")

    expect_connected(first, "Beto Blanco")
    expect_connected(second, "Ana Arias")
    assert remote_tile(second, "Ana Arias").get_attribute("data-peer") != old_peer
    expect(first.get_by_label("Your status")).to_have_value("call")


def test_members_sit_at_a_cafeteria_table_and_presence_shows_it(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    first, second = with_devices(new_page, asgi_server), with_devices(new_page, asgi_server)
    enter(first, asgi_server, login, ana, room)
    enter(second, asgi_server, login, beto, room)
    expect(second.locator("#call-no-tables")).to_be_visible()

    join_call(first, camera=False, button="Start a table")
    expect(first.locator("#call-status")).to_have_text("You sit at table 1.")
    table = second.locator("#call-tables li", has_text="Table 1")
    expect(table).to_contain_text("Ana Arias")
    expect(second.locator("#presence li", has_text="Ana Arias")).to_contain_text("at table 1")
    expect(second.locator("#call-no-tables")).to_be_hidden()

    second.get_by_role("button", name="Sit here, table 1").click()
    expect_connected(first, "Beto Blanco")
    expect_connected(second, "Ana Arias")
    expect(table).to_contain_text("Ana Arias, Beto Blanco")
    expect(table).to_contain_text("You sit here")
    expect(first.locator("#presence li", has_text="Beto Blanco")).to_contain_text("at table 1")

    # The chat stays the whole cafeteria's.
    second.get_by_label("Message", exact=True).fill("Coffee at table 1")
    second.get_by_label("Message", exact=True).press("Enter")
    expect(first.locator("#messages li").last).to_contain_text("Coffee at table 1")

    second.get_by_role("button", name="Leave the table").click()
    expect(first.locator("#presence li", has_text="Beto Blanco")).not_to_contain_text("at table")
    expect(second.locator("#call-tables li", has_text="Table 1")).not_to_contain_text("Beto")


def test_a_refused_microphone_is_explained(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    room = meeting_room(ana)
    page = new_page()
    page.context.add_init_script(REFUSE_DEVICES)
    enter(page, asgi_server, login, ana, room)

    page.get_by_role("button", name="Join call").click()
    expect(page.locator("#call-status")).to_have_text(
        "Your browser did not allow the microphone or camera. "
        "Allow them for this site in the address bar, then try again."
    )
    expect(page.get_by_role("button", name="Join call")).to_be_visible()
    expect(page.get_by_role("group", name="Call controls")).to_be_hidden()
    expect(page.get_by_label("Your status")).to_have_value("working")


def test_the_room_page_in_a_call_passes_axe(
    new_page: NewPage, asgi_server: str, login: Login, axe_check: AxeCheck
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    room = meeting_room(ana)
    first, second = with_devices(new_page, asgi_server), with_devices(new_page, asgi_server)
    enter(first, asgi_server, login, ana, room)
    enter(second, asgi_server, login, beto, room)
    for scheme in SCHEMES:
        first.emulate_media(color_scheme=scheme)
        axe_check(first)
    join_call(first, camera=True)
    join_call(second, camera=False)
    expect_connected(first, "Beto Blanco")
    first.get_by_role("button", name="Mute").click()
    for page in (first, second):
        for scheme in SCHEMES:
            page.emulate_media(color_scheme=scheme)
            axe_check(page)


def test_the_cafeteria_with_tables_passes_axe(
    new_page: NewPage, asgi_server: str, login: Login, axe_check: AxeCheck
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    first, second = with_devices(new_page, asgi_server), with_devices(new_page, asgi_server)
    enter(first, asgi_server, login, ana, room)
    enter(second, asgi_server, login, beto, room)
    join_call(first, camera=False, button="Start a table")
    expect(second.get_by_role("button", name="Sit here, table 1")).to_be_visible()
    for page in (first, second):
        for scheme in SCHEMES:
            page.emulate_media(color_scheme=scheme)
            axe_check(page)


@pytest.fixture
def two_seat_server(asgi_server: str, collected_static: Path, tmp_path: Path) -> Iterator[str]:
    """Another server on the same database, with tables of two (`CALL_MAX_PARTICIPANTS`)."""
    port = free_port()
    env = child_env(
        DJANGO_SETTINGS_MODULE="tests.live_settings",
        DEBUG="0",
        SECRET_KEY="two-seats-" + "x" * 50,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL=f"http://127.0.0.1:{port}",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        SECURE_COOKIES="0",
        STATIC_ROOT=str(collected_static),
        MEDIA_ROOT=str(tmp_path / "media"),
        EMAIL_URL="consolemail://",
        CALL_MAX_PARTICIPANTS="2",
    )
    with (tmp_path / "daphne.log").open("w") as log:
        process = start_server(port=port, env=env, output=log)
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_full_table_refuses_one_more_and_lets_go_of_the_devices(
    new_page: NewPage, two_seat_server: str, login: Login
) -> None:
    room = cafeteria()
    members = [
        onboarded_member("Ana Arias", email="ana@example.com"),
        onboarded_member("Beto Blanco", email="beto@example.com"),
        onboarded_member("Cris Castro", email="cris@example.com"),
    ]
    pages = [with_devices(new_page, two_seat_server) for _ in members]
    for page, member in zip(pages, members, strict=True):
        login(page, two_seat_server, member.email, PASSWORD)
        page.goto(f"{two_seat_server}/rooms/{room.slug}/")
        expect(page.locator("#chat-status")).to_have_text("Connected.")
    first, second, third = pages

    join_call(first, camera=False, button="Start a table")
    second.get_by_role("button", name="Sit here, table 1").click()
    expect_connected(first, "Beto Blanco")
    expect(third.locator("#call-tables li", has_text="Table 1")).to_contain_text("Beto Blanco")

    # The page knows the cap: the full table says so and offers no seat.
    table = third.locator("#call-tables li", has_text="Table 1")
    expect(table).to_contain_text("2 of 2 seats taken")
    expect(table).to_contain_text("Full")
    expect(third.get_by_role("button", name="Sit here, table 1")).to_be_hidden()
    # A page that still offered the seat (it had not heard yet) is refused by the server.
    third.evaluate(
        "document.querySelector('#call-tables li[data-table=\"1\"] .call-sit').hidden = false"
    )
    third.get_by_role("button", name="Sit here, table 1").click()
    expect(third.locator("#call-status")).to_have_text("This call is full.")
    expect(third.get_by_role("group", name="Call controls")).to_be_hidden()
    expect(third.get_by_role("button", name="Start a table")).to_be_visible()
    # Refused, the page let go of its seat request and its own tile.
    expect(third.locator("#call-tiles li")).to_have_count(0)
    expect(first.locator("#call-tiles > li[data-peer]")).to_have_count(1)


def test_a_page_told_it_left_a_call_for_a_reason_it_does_not_know_lets_go_of_it(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    """A later release's reason (a rolling deploy, a page open for hours): the server has
    ended this page's place in the call, so the page ends it too, devices and all, rather
    than go on showing a call that is over."""
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    room = meeting_room(ana)
    page = with_devices(new_page, asgi_server)
    sockets = routed_room_socket(page)
    enter(page, asgi_server, login, ana, room)
    join_call(page, camera=True)
    # The late answer to a leave before this join (left, then joined again on a slow link)
    # is about the seat given up: this call goes on. The notice after it shows it was read.
    sockets[-1].send('{"type": "call.left", "reason": "left"}')
    sockets[-1].send('{"type": "room.notice", "message": "Read so far", "url": "/rooms/"}')
    expect(page.locator("#room-notice")).to_contain_text("Read so far")
    expect(page.get_by_role("group", name="Call controls")).to_be_visible()

    sockets[-1].send('{"type": "call.left", "reason": "a-reason-from-later"}')

    expect(page.locator("#call-status")).to_have_text("You left the call.")
    expect(page.get_by_role("group", name="Call controls")).to_be_hidden()
    expect(page.locator("#call-tiles li")).to_have_count(0)

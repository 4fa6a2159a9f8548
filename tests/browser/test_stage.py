"""The stage in Chromium, with fake camera and microphone, its media through the test
run's Janus (docs/stage.md): the host goes live from the green room, an attendee sees and
hears them, raises a hand, is invited, goes live and the host sees them; the host ends the
session and both land in the cafeteria."""

import json
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Dialog, Locator, Page, expect

from events.models import Event, EventKind
from members.models import User
from rooms.models import Room
from rooms.sockets.chat import PAGE_SIZE
from stage.models import Stage
from stage.services import stage_state
from tests.browser.conftest import PageProblems
from tests.browser.network import FlakyNetwork
from tests.conftest import JanusProcess
from tests.factories import PASSWORD, MessageFactory, RoomFactory, onboarded_member

pytestmark = pytest.mark.browser

Login = Callable[[Page, str, str, str], None]
NewPage = Callable[..., Page]
AxeCheck = Callable[[Page], None]

MEDIA_TIMEOUT = 30_000


def talk_room(host: User) -> Room:
    """A talk held in a room: its host hosts the room's stage."""
    from datetime import timedelta

    from django.utils import timezone

    room = RoomFactory.create(created_by=host, name="Charla #SinFiltros", slug="sinfiltros")
    now = timezone.now()
    Event.objects.create(
        kind=EventKind.TALK,
        title="#SinFiltros",
        host=host,
        room=room,
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
    )
    return room


def open_stage(page: Page, base_url: str, login: Login, user: User, room: Room) -> None:
    page.context.grant_permissions(["camera", "microphone"], origin=base_url)
    login(page, base_url, user.email, PASSWORD)
    page.goto(f"/stage/{room.slug}/")
    expect(page.locator("#chat-status")).to_have_text("Connected.")


def accept_dialogs(page: Page) -> None:
    def accept(dialog: Dialog) -> None:
        dialog.accept()

    page.on("dialog", accept)


def playing_video(page: Page, tile: Locator) -> None:
    """The tile's video shows frames of a fake camera, and plays."""
    expect(tile.locator("video")).to_have_count(1, timeout=MEDIA_TIMEOUT)
    page.wait_for_function(
        "video => video.videoWidth > 0 && !video.paused && video.readyState >= 2",
        arg=tile.locator("video").element_handle(),
        timeout=MEDIA_TIMEOUT,
    )


def go_live(page: Page, *, host: bool = False) -> None:
    title = "Before you go live" if host else "You're invited to the stage"
    green_room = page.get_by_role("region", name=title)
    expect(green_room).to_be_visible(timeout=MEDIA_TIMEOUT)
    go = green_room.get_by_role("button", name="Go live")
    expect(go).to_be_enabled(timeout=MEDIA_TIMEOUT)
    go.click()
    expect(page.locator("#stage-status")).to_have_text("You are live.", timeout=MEDIA_TIMEOUT)
    expect(page.get_by_role("group", name="Your controls on stage")).to_be_visible()


def test_the_host_goes_live_an_attendee_is_brought_on_stage_and_both_end_in_the_cafeteria(
    new_page: NewPage, asgi_server: str, login: Login, axe_check: AxeCheck
) -> None:
    host = onboarded_member("Lucía Host", email="lucia@example.com")
    guest = onboarded_member("Diego Público", email="diego@example.com")
    room = talk_room(host)
    # Asked before the chat's first page: the Questions panel still lists it.
    MessageFactory.create(room=room, author=guest, text="¿Habrá grabación?", is_question=True)
    MessageFactory.create_batch(PAGE_SIZE, room=room, author=host)
    host_page, guest_page = new_page(), new_page()
    accept_dialogs(host_page)
    open_stage(host_page, asgi_server, login, host, room)
    open_stage(guest_page, asgi_server, login, guest, room)
    early = host_page.locator("#questions-list > li", has_text="¿Habrá grabación?")
    expect(early).to_contain_text("Diego Público")
    expect(host_page.locator("#messages")).not_to_contain_text("¿Habrá grabación?")
    early.get_by_role("button", name="Vote for this question: 👍 0 votes").click()
    voted = early.get_by_role("button", name="Vote for this question: 👍 1 vote")
    expect(voted).to_have_attribute("aria-pressed", "true")
    guest_early = guest_page.locator("#questions-list > li", has_text="¿Habrá grabación?")
    expect(guest_early).to_contain_text("👍 1 vote")
    for listed in (early, guest_early):  # a vote keeps who asked
        expect(listed.locator(".question-author")).to_have_text("Diego Público")
    expect(guest_page.locator("#stage-off")).to_contain_text("The session has not started yet.")
    axe_check(guest_page)

    host_page.get_by_role("button", name="Start the session").click()
    go_live(host_page, host=True)
    expect(guest_page.locator("#stage-badge")).to_have_text("Live")
    playing_video(guest_page, guest_page.locator("#stage-large .stage-tile"))
    expect(guest_page.locator("#stage-large")).to_contain_text("Lucía Host")
    expect(guest_page.locator("#stage-count")).to_have_text("2")
    axe_check(host_page)

    guest_page.get_by_role("button", name="Raise your hand").click()
    hands = host_page.locator("#stage-hands")
    expect(hands).to_contain_text("Diego Público")
    hands.get_by_role("button", name="Invite Diego Público to the stage").click()
    go_live(guest_page)
    guest_tile = host_page.locator("#stage-speakers .stage-tile", has_text="Diego Público")
    playing_video(host_page, guest_tile)
    expect(host_page.locator("#stage-manage")).to_contain_text("Diego Público live")
    axe_check(guest_page)

    # Q&A: a question asked in the chat is listed for everyone and voted up.
    guest_page.get_by_label("Ask as a question (everyone can vote for it)").check()
    box = guest_page.get_by_label("Message", exact=True)
    box.fill("¿Cómo empiezo con Django?")
    box.press("Enter")
    asked = host_page.locator("#questions-list > li", has_text="¿Cómo empiezo con Django?")
    expect(asked).to_contain_text("Diego Público")
    asked.get_by_role("button", name="Vote for this question: 👍 0 votes").click()
    expect(guest_page.locator("#questions-list > li", has_text="Django")).to_contain_text(
        "👍 1 vote"
    )
    expect(guest_page.locator("#messages > li.is-question")).to_contain_text("Question")

    # Back in the audience by keyboard: the focus goes on to raising one's hand, not the top.
    guest_page.get_by_role("button", name="Back to the audience").focus()
    guest_page.keyboard.press("Enter")
    expect(guest_page.get_by_role("group", name="Your controls on stage")).to_be_hidden()
    expect(guest_page.get_by_role("button", name="Raise your hand")).to_be_focused()

    host_page.get_by_role("button", name="End the session").click()
    for page in (guest_page, host_page):
        ended = page.locator("#stage-ended")
        expect(ended).to_contain_text("Thank you for coming!")
        page.get_by_role("link", name="Continue in the cafeteria").click()
        expect(page).to_have_url(f"{asgi_server}/rooms/cafeteria/")
        expect(page.locator("#chat-status")).to_have_text("Connected.")


def test_after_janus_restarts_the_speaker_is_live_again_and_the_audience_sees_them(
    new_page: NewPage,
    asgi_server: str,
    login: Login,
    janus_process: JanusProcess,
    page_problems: PageProblems,
) -> None:
    page_problems.allow()  # the pages' requests to Janus fail while it is down
    host = onboarded_member("Lucía Host", email="lucia@example.com")
    guest = onboarded_member("Diego Público", email="diego@example.com")
    room = talk_room(host)
    host_page, guest_page = new_page(), new_page()
    open_stage(host_page, asgi_server, login, host, room)
    open_stage(guest_page, asgi_server, login, guest, room)
    host_page.get_by_role("button", name="Start the session").click()
    go_live(host_page, host=True)
    tile = guest_page.locator("#stage-large .stage-tile")
    playing_video(guest_page, tile)
    feed_before = tile.get_attribute("data-feed")

    janus_process.restart()

    # The host's page publishes again by itself (a new feed); the guest's subscribes to it.
    expect(tile).not_to_have_attribute("data-feed", feed_before or "", timeout=MEDIA_TIMEOUT)
    playing_video(guest_page, guest_page.locator("#stage-large .stage-tile[data-feed]"))
    expect(host_page.locator("#stage-status")).to_have_text("You are live.", timeout=MEDIA_TIMEOUT)


def test_at_the_end_the_focused_thanks_say_where_the_countdown_leads_and_how_to_stay(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    host = onboarded_member("Lucía Host", email="lucia@example.com")
    guest = onboarded_member("Diego Público", email="diego@example.com")
    room = talk_room(host)
    host_page, guest_page = new_page(), new_page()
    accept_dialogs(host_page)
    open_stage(host_page, asgi_server, login, host, room)
    open_stage(guest_page, asgi_server, login, guest, room)
    host_page.get_by_role("button", name="Start the session").click()
    expect(guest_page.locator("#stage-badge")).to_have_text("Live")

    host_page.get_by_role("button", name="End the session").click()
    thanks = guest_page.get_by_role("heading", name="Thank you for coming!")
    expect(thanks).to_be_focused()
    # What a screen reader reads with the heading, the countdown's words there already.
    expect(thanks).to_have_accessible_description(
        re.compile(
            r"^The session is over\. .* Taking you to the cafeteria in \d+ s\. "
            r"To stay on this page, choose “Stay here”\.$"
        )
    )
    guest_page.get_by_role("button", name="Stay here").click()
    expect(guest_page.locator("#stage-countdown")).to_have_text("")
    expect(thanks).to_have_accessible_description(re.compile(r"^The session is over\. [^.]*\.$"))


def test_a_stage_state_arriving_after_a_newer_one_is_not_shown(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    host = onboarded_member("Lucía Host", email="lucia@example.com")
    guest = onboarded_member("Diego Público", email="diego@example.com")
    room = talk_room(host)
    host_page, guest_page = new_page(), new_page()
    network = FlakyNetwork(guest_page, rf"/ws/stage/{room.slug}/(\?catch_up=1)?$")
    open_stage(host_page, asgi_server, login, host, room)
    open_stage(guest_page, asgi_server, login, guest, room)
    host_page.get_by_role("button", name="Start the session").click()
    expect(guest_page.locator("#stage-badge")).to_have_text("Live")
    guest_page.get_by_role("button", name="Raise your hand").click()
    expect(host_page.locator("#stage-host")).to_contain_text("Diego Público")

    # The start's broadcast, say, held up on its way: it reaches the page after the hand's.
    stage = Stage.objects.get(room=room)
    older = {**stage_state(stage=stage), "type": "stage.state", "hands": []}
    older["version"] -= 1
    network.routes[-1].send(json.dumps(older))
    # Frames are handled in order: once this one shows, the older state has been handled.
    marker = {"type": "error", "code": "x", "message": "Marcador", "about": "stage.hand"}
    network.routes[-1].send(json.dumps(marker))
    expect(guest_page.locator("#stage-status")).to_have_text("Marcador")

    hand = guest_page.locator("#stage-hand")
    expect(hand).to_have_text("Lower your hand")
    expect(hand).to_have_attribute("aria-pressed", "true")

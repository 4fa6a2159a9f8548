"""A focus session in Chromium, with fake camera and microphone (docs/focus.md, "The
session"): two members wait for the start on the same countdown, write their goals, are
seated together at the start by the server's clock, see each other in the table's call,
and at the check-out each says how it went and the other sees it."""

import json
import re
from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from focus.models import FocusBlock, Seat
from tests.browser.network import FlakyNetwork
from tests.factories import PASSWORD, onboarded_member

pytestmark = pytest.mark.browser

Login = Callable[[Page, str, str, str], None]
NewPage = Callable[..., Page]
AxeCheck = Callable[[Page], None]

MEDIA_TIMEOUT = 20_000


def seconds_left(page: Page) -> int:
    minutes, seconds = page.locator("#countdown").inner_text().split(":")[-2:]
    return int(minutes) * 60 + int(seconds)


def open_session(page: Page, base_url: str, login: Login, email: str, block: FocusBlock) -> None:
    page.context.grant_permissions(["camera", "microphone"], origin=base_url)
    login(page, base_url, email, PASSWORD)
    page.goto(f"/focus/{block.pk}/")
    expect(page.locator("#chat-status")).to_have_text("Connected.")


def test_two_members_share_the_countdown_sit_together_and_check_out(
    new_page: NewPage, asgi_server: str, login: Login, axe_check: AxeCheck
) -> None:
    ana = onboarded_member("Ana Foco", email="ana@example.com")
    leo = onboarded_member("Leo Foco", email="leo@example.com")
    block = FocusBlock.objects.create(
        starts_at=timezone.now() + timedelta(minutes=5), minutes=25, title="Power hour"
    )
    for member in (ana, leo):
        Seat.objects.create(block=block, user=member)
    ana_page, leo_page = new_page(), new_page()
    # The blocks page leads to the session.
    login(ana_page, asgi_server, ana.email, PASSWORD)
    ana_page.goto("/focus/")
    expect(ana_page.get_by_role("link", name="Go to the session")).to_be_visible()
    axe_check(ana_page)
    open_session(ana_page, asgi_server, login, ana.email, block)
    open_session(leo_page, asgi_server, login, leo.email, block)

    expect(ana_page.locator("#phase-name")).to_have_text("Starting soon")
    assert abs(seconds_left(ana_page) - seconds_left(leo_page)) <= 2
    # The minutes left say what they count down to: alone, they read as a clock time.
    starts = timezone.localtime(block.starts_at, ZoneInfo("Europe/Madrid")).strftime("%H:%M")
    expect(ana_page.locator("#countdown-ends")).to_be_visible()
    expect(ana_page.locator("#countdown-ends")).to_have_text(f"Until {starts}")
    axe_check(ana_page)

    ana_page.get_by_label("What will you get done in this block? One clear thing.").fill(
        "Draft the <b>newsletter</b>"
    )
    ana_page.get_by_role("button", name="Save my goal").click()
    expect(ana_page.locator("#focus-status")).to_have_text("Saved.")

    # Five minutes pass (the block is moved to start in a few seconds, and the pages come
    # back to it as after a restart): the server's clock starts the block on both pages and
    # seats them at one table.
    FocusBlock.objects.filter(pk=block.pk).update(starts_at=timezone.now() + timedelta(seconds=6))
    for page in (ana_page, leo_page):
        page.reload()
    for page in (ana_page, leo_page):
        expect(page.locator("#phase-name")).to_have_text("Check-in", timeout=20_000)
        expect(page.locator("#table-title")).to_have_text("Your table: 1")
    assert abs(seconds_left(ana_page) - seconds_left(leo_page)) <= 2
    mates = leo_page.get_by_role("list", name="At your table")
    expect(mates.locator("li", has_text="Ana Foco")).to_contain_text("Draft the <b>newsletter</b>")

    leo_page.get_by_label("What will you get done in this block? One clear thing.").fill(
        "Fix the login bug"
    )
    leo_page.get_by_role("button", name="Save my goal").click()
    expect(
        ana_page.get_by_role("list", name="At your table").locator("li", has_text="Leo Foco")
    ).to_contain_text("Fix the login bug")

    for page in (ana_page, leo_page):
        page.get_by_role("button", name="Join your table").click()
    for page, other in ((ana_page, "Leo Foco"), (leo_page, "Ana Foco")):
        tile = page.locator("#call-tiles li", has_text=other)
        expect(tile.locator("video")).to_have_count(1, timeout=MEDIA_TIMEOUT)
    axe_check(leo_page)

    # Later in the block: nine seconds before the check-out (time enough for two reloads on a
    # loaded machine to see the focused work first).
    FocusBlock.objects.filter(pk=block.pk).update(
        starts_at=timezone.now() - timedelta(minutes=22) + timedelta(seconds=9)
    )
    for page in (ana_page, leo_page):
        page.reload()
        expect(page.locator("#phase-name")).to_have_text("Focused work")
    for page in (ana_page, leo_page):
        expect(page.locator("#phase-name")).to_have_text("Check-out", timeout=20_000)
    outcome = ana_page.get_by_role("group", name="Did you do it?")
    outcome.get_by_label("Done").check()
    expect(ana_page.locator("#focus-status")).to_have_text("Saved.")
    expect(
        leo_page.get_by_role("list", name="At your table").locator("li", has_text="Ana Foco")
    ).to_contain_text(re.compile("Done"))
    axe_check(ana_page)
    assert Seat.objects.get(block=block, user=ana).outcome == "done"


def test_a_tablemate_who_gives_back_their_seat_leaves_the_table_on_the_others_page(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    ana = onboarded_member("Ana Foco", email="ana@example.com")
    leo = onboarded_member("Leo Foco", email="leo@example.com")
    block = FocusBlock.objects.create(
        starts_at=timezone.now() - timedelta(minutes=5), minutes=25, title="Power hour"
    )
    for member in (ana, leo):
        Seat.objects.create(block=block, user=member)
    ana_page, leo_page = new_page(), new_page()
    open_session(ana_page, asgi_server, login, ana.email, block)
    open_session(leo_page, asgi_server, login, leo.email, block)
    mates = ana_page.get_by_role("list", name="At your table")
    expect(mates.locator("li", has_text="Leo Foco")).to_be_visible()

    # Leo gives back his seat on the blocks page: Ana's page takes him off, and says so.
    leo_page.goto("/focus/")
    leo_page.get_by_role("button", name=re.compile("Give back my seat")).click()
    expect(leo_page.get_by_role("status").first).to_contain_text("Your seat is free")
    expect(mates.locator("li", has_text="Leo Foco")).to_have_count(0)
    expect(mates.locator("li", has_text="Ana Foco")).to_be_visible()
    expect(ana_page.locator("#focus-status")).to_have_text("Leo Foco left your table.")


def test_when_the_block_is_over_no_until_is_left_under_the_countdown(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    ana = onboarded_member("Ana Foco", email="ana@example.com")
    block = FocusBlock.objects.create(
        starts_at=timezone.now() - timedelta(minutes=5), minutes=25, title="Power hour"
    )
    Seat.objects.create(block=block, user=ana)
    page = new_page()
    network = FlakyNetwork(page, rf"/ws/focus/focus-{block.pk}/(\?catch_up=1)?$")
    open_session(page, asgi_server, login, ana.email, block)
    expect(page.locator("#countdown-ends")).to_contain_text("Until")
    # The chime's state shows, not only its aria-pressed: its label stays the same.
    chime = page.get_by_role("button", name="Chime at each change")
    background = "(button) => getComputedStyle(button).backgroundColor"
    on = chime.evaluate(background)
    chime.click()
    expect(chime).to_have_attribute("aria-pressed", "false")
    page.mouse.move(0, 0)  # not hovered, which tints it too
    assert chime.evaluate(background) != on
    # The server's own `focus.hello` has arrived (it seats her): the end sent below comes
    # after it, not before, where the greeting would put the page back to work.
    expect(page.locator("#table-title")).to_have_text("Your table: 1")

    # The block's end, as the server's clock tells it.
    over = {"type": "focus.phase", "phase": "over", "ends_at": None, "now": "2026-12-06T12:00:00Z"}
    network.routes[-1].send(json.dumps(over))

    expect(page.locator("#phase-name")).to_have_text("Finished")
    expect(page.locator("#countdown-ends")).to_be_hidden()

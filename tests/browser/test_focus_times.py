"""The focus pages in Chromium on a device whose zone is not the member's: the list and the
session page both give times in the member's profile zone, as the pages say; the list is
styled by focus's own sheet."""

from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from focus.models import FocusBlock, Seat
from tests.factories import PASSWORD, onboarded_member

pytestmark = pytest.mark.browser

Login = Callable[[Page, str, str, str], None]
NewPage = Callable[..., Page]

MADRID = ZoneInfo("Europe/Madrid")


def test_the_session_page_keeps_the_members_zone_on_a_device_in_another(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    ana = onboarded_member("Ana Foco", email="ana@example.com", time_zone="Europe/Madrid")
    starts_at = (timezone.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    block = FocusBlock.objects.create(starts_at=starts_at, minutes=25)
    Seat.objects.create(block=block, user=ana)
    in_madrid = f"{starts_at.astimezone(MADRID):%H:%M}"
    on_the_device = f"{starts_at.astimezone(ZoneInfo('UTC')):%H:%M}"
    assert in_madrid != on_the_device
    page = new_page(timezone_id="UTC")
    login(page, asgi_server, ana.email, PASSWORD)

    page.goto("/focus/")
    expect(page.locator(".focus-list time").first).to_contain_text(in_madrid)
    page.goto(f"/focus/{block.pk}/")
    expect(page.locator("#chat-status")).to_have_text("Connected.")

    expect(page.locator(".focus-when time").first).to_have_text(in_madrid)
    # A chat message drawn live follows the same zone as the ones the server wrote.
    box = page.get_by_label("Message", exact=True)
    box.fill("Ready when you are")
    box.press("Enter")
    sent = page.locator("#messages > li", has_text="Ready when you are").last
    expect(sent).to_contain_text("delivered")
    now_in_madrid = timezone.now().astimezone(MADRID)
    shown = sent.locator(".message-meta time").inner_text()
    assert shown in {
        f"{now_in_madrid:%H:%M}",
        f"{now_in_madrid - timedelta(minutes=1):%H:%M}",
    }, shown


def test_the_list_shows_cards_without_bullets_and_with_room_between_them_and_above(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    ana = onboarded_member("Ana Foco", email="ana@example.com")
    for hours in (2, 3):
        FocusBlock.objects.create(starts_at=timezone.now() + timedelta(hours=hours))
    page = new_page()
    login(page, asgi_server, ana.email, PASSWORD)

    page.goto("/focus/")

    cards = page.locator(".focus-list > li")
    expect(cards).to_have_count(2)
    style = page.locator(".focus-list").evaluate(
        "list => { const s = getComputedStyle(list); return [s.listStyleType, s.paddingLeft] }"
    )
    assert style == ["none", "0px"]
    first, second = (cards.nth(index).bounding_box() for index in (0, 1))
    assert first is not None and second is not None
    assert second["y"] - (first["y"] + first["height"]) >= 12
    # So is the member's standing, a card above them.
    standing = page.locator(".focus-standing").bounding_box()
    assert standing is not None
    assert first["y"] - (standing["y"] + standing["height"]) >= 12

"""A member starts a meetup; another finds it, answers and joins its room."""

from collections.abc import Callable
from typing import Literal

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, onboarded_member

pytestmark = pytest.mark.browser

Login = Callable[[Page, str, str, str], None]
NewPage = Callable[..., Page]
AxeCheck = Callable[[Page], None]

SCHEMES: tuple[Literal["light", "dark"], ...] = ("light", "dark")


def axe_in_both_schemes(page: Page, axe_check: AxeCheck) -> None:
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        axe_check(page)
    page.emulate_media(color_scheme="light")


def test_a_member_starts_a_meetup_and_another_joins_its_room(
    new_page: NewPage, asgi_server: str, login: Login, axe_check: AxeCheck
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")

    host = new_page()
    login(host, asgi_server, ana.email, PASSWORD)
    host.goto("/events/")
    host.get_by_role("link", name="Start a meetup").click()
    expect(host.get_by_role("heading", name="Start a meetup")).to_be_visible()
    axe_in_both_schemes(host, axe_check)
    host.get_by_label("Title").fill("Portfolio coffee")
    host.get_by_label("Topic").fill("Show one piece of work you are proud of.")
    expect(host.get_by_label("Now")).to_be_checked()
    host.get_by_label("1 hour", exact=True).check()
    host.get_by_role("button", name="Start the meetup").click()
    expect(host.get_by_role("heading", name="Portfolio coffee")).to_be_visible()
    expect(host.get_by_text("Your meetup is on.")).to_be_visible()

    guest = new_page()
    login(guest, asgi_server, beto.email, PASSWORD)
    guest.goto("/events/")
    entry = guest.locator(".event-card").filter(has_text="Portfolio coffee")
    expect(entry).to_contain_text("Starting now")
    axe_in_both_schemes(guest, axe_check)
    entry.get_by_role("link", name="Portfolio coffee").click()
    expect(guest.get_by_role("heading", name="Portfolio coffee")).to_be_visible()
    axe_in_both_schemes(guest, axe_check)

    guest.get_by_role("button", name="I'm going").click()
    expect(guest.get_by_text("You are going. See you there!")).to_be_visible()
    expect(guest.get_by_text("1 member going")).to_be_visible()
    axe_in_both_schemes(guest, axe_check)

    guest.get_by_role("link", name="Join the room").click()
    expect(guest.locator("#chat-status")).to_have_text("Connected.")
    expect(guest.locator("#presence")).to_contain_text("Beto Blanco")

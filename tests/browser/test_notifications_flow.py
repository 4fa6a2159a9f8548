"""A member sees the unread count behind the bell, reads their notifications and follows one."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from notifications.models import Kind
from notifications.services import notify
from tests.factories import PASSWORD, onboarded_member

pytestmark = pytest.mark.browser

Login = Callable[[Page, str, str, str], None]
AxeCheck = Callable[[Page], None]


def test_a_member_reads_their_notifications_from_the_header(
    page: Page, asgi_server: str, login: Login, axe_check: AxeCheck
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com", language="en")
    for key, text, url in [
        ("a", "Your coffee pair this round: Beto Blanco.", "/pairs/"),
        ("b", "Starting in 15 minutes: Open talk.", "/events/"),
    ]:
        notify(user=ana, kind=Kind.PAIR_CREATED, key=key, text=text, url=url)

    login(page, asgi_server, ana.email, PASSWORD)
    page.goto("/")
    bell = page.get_by_role("link", name="Notifications, 2 unread")
    expect(bell).to_be_visible()
    bell.focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        axe_check(page)
    page.emulate_media(color_scheme="light")

    page.get_by_role("link", name="Your coffee pair this round: Beto Blanco.").click()
    expect(page).to_have_url(f"{asgi_server}/pairs/")
    expect(page.get_by_role("link", name="Notifications, 1 unread")).to_be_visible()

    page.goto("/notifications/")
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_role("link", name="Notifications, 0 unread")).to_be_visible()
    expect(page.locator(".notification-unread")).to_have_count(0)


def test_how_long_ago_follows_the_clock_while_the_list_stays_open(
    page: Page, asgi_server: str, login: Login
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com", language="en")
    notify(user=ana, kind=Kind.PAIR_CREATED, key="a", text="Your coffee pair: Beto.", url="/pairs/")
    page.clock.install()
    login(page, asgi_server, ana.email, PASSWORD)
    page.goto("/notifications/")
    when = page.locator(".notification-meta time")
    expect(when).to_be_visible()  # as the server wrote it: "now", or a few seconds ago

    page.clock.run_for(5 * 60_000)
    expect(when).to_have_text("5 minutes ago")
    page.clock.run_for(2 * 3600_000)
    expect(when).to_have_text("2 hours ago")

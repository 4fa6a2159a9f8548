"""The lobby follows who comes and goes without a reload."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_rooms_live import cafeteria
from tests.factories import PASSWORD, onboarded_member

pytestmark = pytest.mark.browser

# The page's sockets, kept where the test can reach them.
SOCKETS_KEPT = """
window.__lobbySockets = [];
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) {
    super(...args);
    window.__lobbySockets.push(this);
  }
};
"""

Login = Callable[[Page, str, str, str], None]
NewPage = Callable[..., Page]


def test_the_lobby_updates_live_when_someone_enters_and_leaves(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    watcher, visitor = new_page(), new_page()
    watcher.add_init_script(SOCKETS_KEPT)
    login(watcher, asgi_server, ana.email, PASSWORD)
    login(visitor, asgi_server, beto.email, PASSWORD)
    watcher.goto("/rooms/")
    card = watcher.locator(".room-card").filter(
        has=watcher.locator(f'a[href="/rooms/{room.slug}/"]')
    )
    expect(card).to_contain_text("0 people inside")
    # A keyboard user on the room's link keeps it through the refreshes.
    link = card.locator(f'a[href="/rooms/{room.slug}/"]')
    link.focus()

    visitor.goto(f"/rooms/{room.slug}/")
    expect(visitor.locator("#chat-status")).to_have_text("Connected.")
    expect(card).to_contain_text("1 person inside")
    expect(card).to_contain_text("Beto Blanco")
    expect(link).to_be_focused()

    visitor.goto("/")  # leaves the room: a clean close
    expect(card).to_contain_text("0 people inside")
    expect(card).not_to_contain_text("Beto Blanco")

    # The lobby's socket drops (a network change): the page connects again and catches up.
    watcher.evaluate("window.__lobbySockets.at(-1).close()")
    visitor.goto(f"/rooms/{room.slug}/")
    expect(visitor.locator("#chat-status")).to_have_text("Connected.")
    expect(card).to_contain_text("1 person inside")

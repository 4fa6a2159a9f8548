"""The site's header on a desktop: one row, in Spanish (the longer labels) as in English."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from members.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

NewPage = Callable[..., Page]
Login = Callable[[Page, str, str, str], None]


@pytest.mark.parametrize("locale", ["es-ES", "en-US"])
@pytest.mark.parametrize("width", [1024, 1280])
def test_a_member_s_header_takes_one_row_on_a_desktop(
    new_page: NewPage, asgi_server: str, alice: User, login: Login, locale: str, width: int
) -> None:
    alice.language = locale[:2]
    alice.save(update_fields=["language"])
    page = new_page(locale=locale, viewport=(width, 800))
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/")

    brand = page.locator(".brand").bounding_box()
    menu = page.locator(".menu summary").bounding_box()
    assert brand is not None and menu is not None
    # The account menu sits beside the links, on the brand's row, not under it.
    assert abs((menu["y"] + menu["height"] / 2) - (brand["y"] + brand["height"] / 2)) < 8


def test_the_account_menu_closes_when_the_keyboard_moves_past_it(
    new_page: NewPage, asgi_server: str, alice: User, bob: User, login: Login
) -> None:
    """Left open, it would cover what the focus moved on to (on a phone, the page's links)."""
    page = new_page(viewport=(375, 800), mobile=True)
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/")
    menu = page.locator("details.menu")

    menu.locator("summary").focus()
    page.keyboard.press("Enter")
    assert menu.evaluate("menu => menu.open")
    items = menu.locator(".menu-items a, .menu-items button")
    for _ in range(items.count()):
        page.keyboard.press("Tab")
    assert menu.evaluate("menu => menu.open")  # on its last item still
    page.keyboard.press("Tab")

    assert not menu.evaluate("menu => menu.open")
    assert not menu.evaluate("menu => menu.contains(document.activeElement)")

    # A profile's "More" closes with Escape, like the account menu.
    page.goto(f"/members/{bob.pk}/")
    more = page.locator("details.profile-more")
    more.locator("summary").click()
    page.keyboard.press("Escape")
    assert not more.evaluate("menu => menu.open")


def test_a_disabled_button_looks_unavailable_wherever_it_is(
    page: Page, asgi_server: str, alice: User, login: Login
) -> None:
    """Room calls, tables and the stage disable buttons while they wait: they must not look
    as if a click would do something."""
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/")

    looks = page.evaluate(
        """() => {
          const styles = [];
          for (const kind of ["", "button-ghost", "button-danger", "button-small"]) {
            const button = document.createElement("button");
            button.className = kind;
            button.textContent = "Wait";
            document.querySelector("main").append(button);
            const enabled = getComputedStyle(button).opacity;
            button.disabled = true;
            styles.push([enabled, getComputedStyle(button).opacity]);
          }
          return styles;
        }"""
    )

    for enabled, disabled in looks:
        assert float(enabled) == 1 and float(disabled) < 0.7

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

"""Long names on a phone: a display name may be 80 characters without a space, and the
pages that show it in large type must wrap it rather than scroll sideways."""

import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from conversations.services import direct_conversation_start, message_post
from members.models import User
from tests.factories import PASSWORD, EventFactory, onboarded_member

pytestmark = pytest.mark.browser

PHONE = (360, 740)
LONG_NAME = "Maximiliana" * 7 + "Pérez"[:3]  # 80 characters, no space to break at

NewPage = Callable[..., Page]
Login = Callable[[Page, str, str, str], None]


def page_width(page: Page) -> int:
    # Against the viewport's width, not innerWidth: on a phone the browser widens its
    # layout viewport to whatever overflows, so innerWidth grows with the page.
    return int(page.evaluate("document.documentElement.scrollWidth"))


@pytest.mark.parametrize("viewer_is_long", [False, True], ids=["other", "self"])
def test_a_long_unbroken_name_wraps_on_a_phone(
    new_page: NewPage, asgi_server: str, alice: User, login: Login, viewer_is_long: bool
) -> None:
    assert len(LONG_NAME) == 80
    long = onboarded_member(LONG_NAME, email="long@example.com", language="en")
    # A headline and a city may be one long token too (an address, a place run together).
    long.profile.headline = "https://example.com/" + "portfolio" * 11
    long.profile.city = "Llanfairpwllgwyngyll" * 3
    long.profile.save()
    conversation = direct_conversation_start(starter=long, other=alice)
    message_post(conversation=conversation, author=long, text="Hola", client_id=uuid.uuid4())
    message_post(conversation=conversation, author=alice, text="¡Hola!", client_id=uuid.uuid4())
    viewer = long if viewer_is_long else alice
    page = new_page(viewport=PHONE, mobile=True)
    login(page, asgi_server, viewer.email, PASSWORD)

    # A meetup's title, and a search's words quoted back, may be one long word too.
    EventFactory.create(host=long, title=LONG_NAME)
    pages = (
        f"/members/{long.pk}/",
        "/members/?q=Maximiliana",
        "/messages/",
        "/events/",
        f"/messages/search/?q={'x' * 300}",
        "/",
    )
    for path in (*pages, f"/messages/{conversation.pk}/"):
        page.goto(path)
        assert page_width(page) <= PHONE[0], f"{path} is {page_width(page)}px wide"


def test_the_signed_in_sessions_fit_a_phone(
    new_page: NewPage, asgi_server: str, alice: User, login: Login
) -> None:
    """Each session shows the browser's whole description, one long string."""
    page = new_page(viewport=PHONE, mobile=True)
    login(page, asgi_server, alice.email, PASSWORD)

    page.goto("/accounts/sessions/")

    assert page.locator("td").count() >= 4
    assert page_width(page) <= PHONE[0], f"the sessions page is {page_width(page)}px wide"

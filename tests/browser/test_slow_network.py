"""The site on a slow connection, where an answer takes long enough to make a member tap
again."""

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from events.models import Event
from tests.browser.network import SlowAnswers
from tests.factories import PASSWORD, onboarded_member

pytestmark = pytest.mark.browser

NewPage = Callable[..., Page]
Login = Callable[[Page, str, str, str], None]


@pytest.fixture
def slow(asgi_server: str) -> Iterator[SlowAnswers]:
    proxy = SlowAnswers(asgi_server, delay=0.5)
    yield proxy
    proxy.close()


def test_a_second_tap_while_the_answer_is_on_its_way_sends_nothing_more(
    new_page: NewPage, asgi_server: str, login: Login, slow: SlowAnswers
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    page = new_page(viewport=(360, 740), mobile=True)
    login(page, asgi_server, ana.email, PASSWORD)
    page.goto(f"{slow.url}/events/new/meetup/")
    page.get_by_label("Title").fill("Café rápido")
    page.get_by_label("1 hour", exact=True).check()
    start = page.get_by_role("button", name="Start the meetup")
    start.scroll_into_view_if_needed()
    box = start.bounding_box()
    assert box is not None

    # Plain taps: Playwright's own clicks would wait for the first one's page.
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(250)  # the meetup is made; its page is still on its way
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    expect(page.get_by_text("Your meetup is on.")).to_be_visible()
    assert Event.objects.filter(title="Café rápido").count() == 1

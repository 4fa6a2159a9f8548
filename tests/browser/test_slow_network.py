"""The site on a slow connection, where an answer takes long enough to make a member tap
again."""

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from events.models import Event
from members.models import Profile
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


def camera_photo(path: Path) -> Path:
    """A 4,000 × 3,000 JPEG of 8 MB, as a phone's camera takes them: over the site's 5 MB."""
    side = (4000, 3000)
    light = Image.linear_gradient("L").resize(side)
    grain = Image.effect_noise(side, 40)
    buffer = io.BytesIO()
    Image.merge("RGB", (light, grain, light)).save(buffer, format="JPEG", quality=92)
    path.write_bytes(buffer.getvalue())
    return path


def test_a_camera_photo_goes_up_drawn_at_the_size_the_site_keeps(
    new_page: NewPage, asgi_server: str, login: Login, tmp_path: Path
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    page = new_page(viewport=(360, 740), mobile=True)
    login(page, asgi_server, ana.email, PASSWORD)
    page.goto("/members/me/edit/")
    photo = camera_photo(tmp_path / "IMG_2041.jpg")
    assert photo.stat().st_size > 5_000_000
    page.get_by_label("Photo").set_input_files(photo)
    # Swapped in the field for the smaller copy once it is drawn.
    chosen = "(({files: [file]}) => [file.name, file.type, file.size])"
    for _wait in range(150):  # decoding 12 megapixels takes a moment on a busy machine
        name, kind, size = page.locator("#id_photo_upload").evaluate(chosen)
        if size < 1_000_000:
            break
        page.wait_for_timeout(100)
    assert (name, kind) == ("IMG_2041.jpg", "image/jpeg") and size < 1_000_000
    page.get_by_role("button", name="Save").click()

    # Taken: as picked, the file is over the form's 5 MB.
    expect(page.get_by_role("heading", name="Ana Arias", level=1)).to_be_visible()
    assert (Profile.objects.get(user=ana).photo.name or "").endswith(".webp")

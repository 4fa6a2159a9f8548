"""A newcomer's first steps in a real browser, on a phone: sign up, onboard, then follow the
home page's checklist, step by step, until it goes away."""

from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import formats, translation
from playwright.sync_api import Locator, Page, expect

from matching.models import Participation
from matching.schedule import next_round_for
from tests.browser.test_members_flow import confirm_and_sign_in, photo_file
from tests.browser.test_phone import PHONE
from tests.browser.test_rooms_live import cafeteria
from tests.conftest import SmtpSink
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

NewPage = Callable[..., Page]
AxeCheck = Callable[[Page], None]


def sign_up_and_onboard(page: Page, smtp_server: SmtpSink, email: str) -> None:
    """Sign up, confirm the address, sign in and fill in only what onboarding requires,
    leaving the coffee pairs unticked."""
    page.goto("/accounts/signup/")
    page.locator("#id_email").fill(email)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    confirm_and_sign_in(page, smtp_server, email)

    expect(page.get_by_role("heading", name="Tell us about yourself")).to_be_visible()
    page.get_by_label("Display name").fill("Valeria Gómez")
    page.get_by_label("What I do").fill("Product designer")
    page.get_by_label("Spanish").check()
    page.get_by_label("Introduce me to other members regularly (coffee pairs)").uncheck()
    page.get_by_role("button", name="Save and enter the office").click()
    expect(page.get_by_role("heading", name="Hello, Valeria Gómez")).to_be_visible()


def checklist(page: Page) -> Locator:
    return page.get_by_role("region", name="Your first steps")


def step(page: Page, name: str) -> Locator:
    return checklist(page).get_by_role("listitem").filter(has=page.get_by_role("link", name=name))


def expect_done(page: Page, *names: str) -> None:
    for name in names:
        expect(step(page, name)).to_contain_text("Done")


def go_home(page: Page) -> None:
    """Through the phone's menu, as a person would."""
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    expect(page.get_by_role("heading", name="Hello, Valeria Gómez")).to_be_visible()


# The welcome email is sent by a worker, as in production (members/adapters.py).
def test_a_newcomer_on_a_phone_completes_the_first_steps(
    new_page: NewPage, smtp: SmtpSink, tmp_path: Path, axe_check: AxeCheck, celery_worker: Any
) -> None:
    cafeteria()
    page = new_page(viewport=PHONE, mobile=True, timezone_id="America/Mexico_City")
    # An inbox of this test's own: the session's sink still holds other tests' emails, and
    # the members flow signs up with an address like this one (its link is dead here).
    email = "valeria.onboarding@example.com"
    sign_up_and_onboard(page, smtp, email)

    # Onboarding asked for the hours; the rest is left, each a link to where it is done.
    expect(checklist(page)).to_contain_text("1 of 5 done")
    expect_done(page, "Set your working hours")
    for name in (
        "Add a photo",
        "Add your skills and interests",
        "Join the coffee pairs",
        "Say hello in the cafeteria",
    ):
        expect(step(page, name)).to_contain_text("To do")
    axe_check(page)

    step(page, "Add a photo").get_by_role("link").click()
    page.get_by_label("Photo").set_input_files(photo_file(tmp_path))
    page.get_by_role("button", name="Save profile").click()
    go_home(page)
    expect_done(page, "Add a photo")

    step(page, "Add your skills and interests").get_by_role("link").click()
    page.get_by_label("Skills and interests").fill("Tipografía, UX")
    page.get_by_role("button", name="Save profile").click()
    go_home(page)
    expect_done(page, "Add your skills and interests")

    step(page, "Join the coffee pairs").get_by_role("link").click()
    expect(page.get_by_label("Take part in coffee pairs")).to_be_in_viewport()
    page.get_by_label("Take part in coffee pairs").check()
    page.get_by_role("button", name="Save settings").click()
    go_home(page)
    expect_done(page, "Join the coffee pairs")
    # Between rounds: the day of the first pair, in the member's own zone.
    participation = Participation.objects.select_related("user").get(user__email=email)
    first_pair = next_round_for(participation)
    assert first_pair is not None
    local = first_pair.astimezone(ZoneInfo(participation.user.time_zone))
    with translation.override("en"):
        day = f"{formats.date_format(local, 'l')}, {formats.date_format(local, 'DATE_FORMAT')}"
    expect(step(page, "Join the coffee pairs")).to_contain_text(
        f"Your first coffee pair comes on {day}."
    )

    step(page, "Say hello in the cafeteria").get_by_role("link").click()
    expect(page.locator("#chat-status")).to_have_text("Connected.")
    message = page.get_by_label("Message", exact=True)
    expect(message).to_be_in_viewport()
    message.fill("¡Hola! Soy Valeria, diseño productos desde Ciudad de México.")
    message.press("Enter")
    expect(page.locator("#messages li").last).to_contain_text("delivered")
    go_home(page)

    expect(checklist(page)).to_have_count(0)
    expect(page.get_by_role("heading", name="Your coffee pair")).to_be_visible()

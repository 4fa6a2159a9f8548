"""Members as a person meets them: sign up, confirm the email, onboard, find someone."""

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from members import services
from members.models import Acquaintance, Profile, User
from tests.conftest import SmtpSink
from tests.factories import PASSWORD, ProfileFactory, UserFactory

pytestmark = pytest.mark.browser

Login = Callable[[Page, str, str, str], None]
NewPage = Callable[..., Page]
AxeCheck = Callable[[Page], None]


def member_in_bogota(email: str, name: str, headline: str, interests: list[str]) -> User:
    """An onboarded member who lives and works in Bogotá."""
    user = UserFactory.create(email=email, display_name=name, time_zone="America/Bogota")
    profile = ProfileFactory.create(user=user, headline=headline, city="Bogotá", country="CO")
    services.profile_update(
        profile=profile,
        interests=services.interests_from_names(names=interests),
        complete_onboarding=True,
    )
    return user


def photo_file(tmp_path: Path) -> Path:
    path = tmp_path / "yo.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (20, 120, 110)).save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def confirm_and_sign_in(page: Page, inbox: SmtpSink, email: str) -> None:
    """Follow the link of the confirmation email that went to `email`: in the browser that
    signed up, confirming signs in."""
    message = inbox.wait_for(email)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", body.get_content())
    assert link, body.get_content()
    page.goto(link.group(0))
    expect(page.get_by_role("main")).to_contain_text(f"Confirm that {email} is your email address.")
    page.get_by_role("button", name="Confirm").click()


# The welcome email is sent by a worker, as in production (members/adapters.py).
def test_a_visitor_signs_up_confirms_onboards_and_finds_a_member(
    new_page: NewPage, smtp_server: SmtpSink, tmp_path: Path, celery_worker: Any
) -> None:
    member_in_bogota("rosa@example.com", "Rosa Quintero", "Tipógrafa", ["Tipografía", "Café"])
    email = "valeria@example.com"
    page = new_page(timezone_id="America/Lima")

    page.goto("/")
    page.get_by_role("link", name="Join the community").click()
    page.locator("#id_email").fill(email)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()

    confirm_and_sign_in(page, smtp_server, email)
    expect(page.get_by_role("heading", name="Tell us about yourself")).to_be_visible()

    page.get_by_label("Photo").set_input_files(photo_file(tmp_path))
    page.get_by_label("Display name").fill("Valeria Gómez")
    page.get_by_label("What I do").fill("Product designer")
    page.get_by_label("Skills and interests").fill("Tipografía, UX")
    page.get_by_label("Spanish").check()
    page.get_by_role("button", name="Save and enter the office").click()
    expect(page.get_by_role("heading", name="Hello, Valeria Gómez")).to_be_visible()

    page.get_by_role("link", name="Members").click()
    page.get_by_label("Search").fill("tipografia")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Rosa Quintero")).to_be_visible()
    page.get_by_role("link", name="Rosa Quintero").click()
    expect(page.get_by_role("heading", name="Rosa Quintero", level=1)).to_be_visible()

    profile = Profile.objects.get(user__email=email)
    assert (profile.photo.name or "").endswith(".webp")
    # Nobody chose a zone: the page pre-selected the browser's.
    assert profile.user.time_zone == "America/Lima"


def test_member_pages_pass_axe(
    page: Page, asgi_server: str, login: Login, axe_check: AxeCheck
) -> None:
    me = member_in_bogota("yo@example.com", "Inés Robles", "Developer", ["Python"])
    other = member_in_bogota("otra@example.com", "Olga Ruiz", "Editor", ["Python", "Books"])
    services.acquaintance_record(members=[me, other], how=Acquaintance.How.PAIR)

    login(page, asgi_server, me.email, PASSWORD)
    for path in (
        "/members/",
        "/members/?q=python",
        f"/members/{other.pk}/",
        "/members/me/edit/",
        "/members/me/met/",
        "/notifications/settings/",
        "/members/me/blocked/",
        "/members/me/export/",
        "/members/me/delete/",
        f"/members/{other.pk}/report/",
        "/accounts/email/",
        "/pairs/",
        "/accounts/password/change/",
        "/messages/new/",
        "/messages/search/?q=hola",
    ):
        page.goto(path)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            axe_check(page)

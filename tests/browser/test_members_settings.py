"""The time-zone picker as a person uses it: searching by keyboard, the browser's zone
suggested until the member has saved one, and the settings page's accessibility."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from members.models import User
from tests.browser.test_conversations import open_with_its_socket
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.browser

NewPage = Callable[..., Page]
Login = Callable[[Page, str, str, str], None]
AxeCheck = Callable[[Page], None]


def test_typing_narrows_the_time_zones_and_the_choice_is_saved(
    page: Page, asgi_server: str, alice: User, login: Login, axe_check: AxeCheck
) -> None:
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/members/me/edit/")
    search = page.get_by_label("Find your time zone")
    zone = page.get_by_label("Time zone:", exact=True)
    status = page.locator("#time-zone-search-status")
    expect(zone).to_have_value("Europe/Madrid")
    everything = zone.locator("option").count()
    axe_check(page)

    search.press_sequentially("bogotá")  # accents or not, as people type

    expect(zone.locator("option")).to_have_count(1)
    expect(zone).to_have_value("America/Bogota")
    expect(status).to_have_text("1 time zone matches. Chosen: Bogotá (UTC-5).")
    search.press("Enter")  # to the list, not sending the form
    expect(zone).to_be_focused()
    assert page.url.endswith("/members/me/edit/")
    axe_check(page)

    search.fill("")

    expect(zone.locator("option")).to_have_count(everything)
    expect(zone).to_have_value("America/Bogota")  # clearing the search keeps the choice
    expect(status).to_have_text("")

    page.get_by_role("button", name="Save profile").click()

    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    alice.refresh_from_db()
    assert alice.time_zone == "America/Bogota"


def test_regions_and_several_words_narrow_the_list_and_arrows_pick_among_matches(
    page: Page, asgi_server: str, alice: User, login: Login
) -> None:
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/members/me/edit/")
    search = page.get_by_label("Find your time zone")
    zone = page.get_by_label("Time zone:", exact=True)
    status = page.locator("#time-zone-search-status")

    search.fill("america argentina")

    expect(status).to_have_text(re.compile(r"^\d+ time zones match\. Chosen: .+ \(UTC-3\)\.$"))
    values = zone.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert len(values) > 1 and all(v.startswith("America/Argentina/") for v in values)
    search.press("Enter")
    page.keyboard.press("ArrowDown")
    expect(zone).to_have_value(values[1])

    search.fill("atlantis")

    expect(status).to_have_text("No time zone matches your search.")
    # Nothing to choose from would send no zone at all: the full list stays, choice kept.
    expect(zone).to_have_value(values[1])
    assert zone.locator("option").count() > 400


def test_a_place_is_found_by_its_spanish_name(
    new_page: NewPage, asgi_server: str, alice: User, login: Login
) -> None:
    page = new_page(locale="es-ES")
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/members/me/edit/")
    zone = page.get_by_label("Zona horaria:", exact=True)

    page.get_by_label("Busca tu zona horaria").fill("ciudad de mexico")

    expect(zone.locator("option")).to_have_count(1)
    expect(zone).to_have_value("America/Mexico_City")
    expect(page.locator("#time-zone-search-status")).to_contain_text("Ciudad de México")

    # And by an older name of its zone ("Asia/Calcutta" for Kolkata, "Calcuta" in Spanish).
    page.get_by_label("Busca tu zona horaria").fill("calcutta")

    expect(zone.locator("option")).to_have_count(1)
    expect(zone).to_have_value("Asia/Kolkata")


@pytest.mark.parametrize(
    ("browser_zone", "chosen"),
    [
        ("America/Bogota", "America/Bogota"),
        # Browsers may name a zone by an older name, which the picker lists by its own.
        ("America/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("Asia/Calcutta", "Asia/Kolkata"),
    ],
)
def test_onboarding_suggests_the_browsers_zone(
    new_page: NewPage, asgi_server: str, login: Login, browser_zone: str, chosen: str
) -> None:
    newcomer = UserFactory.create()
    page = new_page(timezone_id=browser_zone)
    login(page, asgi_server, newcomer.email, PASSWORD)

    page.goto("/members/welcome/")

    expect(page.get_by_label("Time zone:", exact=True)).to_have_value(chosen)


def test_a_saved_zone_wins_over_the_browsers(
    new_page: NewPage, asgi_server: str, alice: User, login: Login
) -> None:
    alice.time_zone = "America/Mexico_City"
    alice.save()
    page = new_page(timezone_id="America/Bogota")
    login(page, asgi_server, alice.email, PASSWORD)

    page.goto("/members/me/edit/")

    expect(page.get_by_label("Time zone:", exact=True)).to_have_value("America/Mexico_City")


def test_the_ways_to_change_email_and_password_are_in_sight(
    page: Page, asgi_server: str, alice: User, login: Login
) -> None:
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/members/me/edit/")

    expect(page.get_by_role("link", name="Change your email address")).to_be_in_viewport()
    page.get_by_role("link", name="Change your password").click()

    page.wait_for_url("**/accounts/password/change/")


def test_a_form_sent_back_with_an_error_puts_the_focus_on_the_field_to_fix(
    page: Page, asgi_server: str, alice: User, login: Login
) -> None:
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/members/me/edit/")
    page.get_by_label("and finish at").fill("09:00")  # as long as the start: no day at all

    page.get_by_role("button", name="Save profile").click()

    finish = page.get_by_label("and finish at")
    expect(finish).to_have_attribute("aria-invalid", "true")
    expect(finish).to_be_focused()


def test_a_password_changed_in_one_tab_keeps_what_another_tab_was_writing(
    new_page: NewPage, asgi_server: str, alice: User, login: Login
) -> None:
    """Changing the password sends every socket of the member away. A tab of the same
    browser, still signed in, keeps the text its member was writing; another device, signed
    out by the change, goes to the login page whatever it held."""
    writing = new_page()
    login(writing, asgi_server, alice.email, PASSWORD)
    open_with_its_socket(writing, "/members/me/edit/")
    writing.locator("#id_bio").fill("Media biografía a medio escribir")
    phone = new_page()
    login(phone, asgi_server, alice.email, PASSWORD)
    open_with_its_socket(phone, "/members/me/edit/")
    phone.locator("#id_bio").fill("Desde el móvil")

    changing = writing.context.new_page()
    changing.goto("/accounts/password/change/")
    changing.locator("#id_oldpassword").fill(PASSWORD)
    changing.locator("#id_password1").fill("otra-clave-larga-2026")
    changing.locator("#id_password2").fill("otra-clave-larga-2026")
    changing.get_by_role("button", name="Change Password").click()
    expect(changing.get_by_text("Password successfully changed.")).to_be_visible()

    expect(phone).to_have_url(re.compile(r"/accounts/login/"), timeout=10_000)
    writing.wait_for_timeout(3000)  # the reload, had there been one, came 1.5 s after the kick
    expect(writing.locator("#id_bio")).to_have_value("Media biografía a medio escribir")

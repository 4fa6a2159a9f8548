"""The shared layout as a person meets it: language, keyboard, small screens, accessibility."""

import io
import re
from collections.abc import Callable

import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from members.models import User
from tests.browser.conftest import PageProblems
from tests.factories import PASSWORD, EventFactory

pytestmark = pytest.mark.browser

PHONE = (390, 844)

NewPage = Callable[..., Page]
Login = Callable[[Page, str, str, str], None]
AxeCheck = Callable[[Page], None]


def has_horizontal_overflow(page: Page) -> bool:
    return bool(
        page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
    )


def assert_within_viewport(page: Page, target: str | Locator) -> None:
    """The element is visible and fits between the left and right edges of the screen."""
    locator = page.locator(target) if isinstance(target, str) else target
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box is not None
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, (
        f"{locator} sits outside the {width}px wide viewport: {box}"
    )


def contrast(foreground: str, background: str) -> float:
    """WCAG's contrast ratio of two computed colours ("rgb(r, g, b)")."""

    def luminance(colour: str) -> float:
        channels = [int(part) / 255 for part in re.findall(r"\d+", colour)[:3]]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def style(locator: Locator, prop: str, pseudo: str | None = None) -> str:
    return str(
        locator.evaluate(
            "(node, [prop, pseudo]) => getComputedStyle(node, pseudo).getPropertyValue(prop)",
            [prop, pseudo],
        )
    )


def page_colour(page: Page) -> tuple[int, ...]:
    """The colour of the page's background, as drawn."""
    shot = Image.open(io.BytesIO(page.screenshot(clip={"x": 0, "y": 0, "width": 2, "height": 2})))
    pixel = shot.convert("RGB").getpixel((0, 0))
    assert isinstance(pixel, tuple)
    return pixel


def test_the_landing_page_greets_a_visitor_without_errors(page: Page) -> None:
    page.goto("/")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Work from anywhere, never alone.")
    expect(page.get_by_role("link", name="Join the community")).to_have_attribute(
        "href", "/accounts/signup/"
    )
    expect(page.get_by_role("banner").get_by_role("link", name="Log in")).to_be_visible()
    # The logo at the left, the way in at the right of the header.
    header = page.locator(".header-inner").bounding_box()
    join = page.get_by_role("banner").get_by_role("link", name="Join").bounding_box()
    assert header and join and abs(header["x"] + header["width"] - join["x"] - join["width"]) < 2
    # No console errors and no CSP violations: checked after every browser test.


def test_the_content_security_policy_refuses_inline_script_and_the_test_notices(
    page: Page, page_problems: PageProblems
) -> None:
    page.goto("/")

    inline_script_ran = page.evaluate("""() => new Promise((resolve) => {
        document.addEventListener(
            "securitypolicyviolation", () => resolve(window.inlineScriptRan === true), {once: true}
        );
        const script = document.createElement("script");
        script.textContent = "window.inlineScriptRan = true";
        document.body.append(script);
    })""")

    assert inline_script_ran is False
    assert any("script-src" in line for line in page_problems.csp_violations)
    assert any("Content Security Policy" in line for line in page_problems.console_errors)
    page_problems.allow()


def test_the_language_switch_turns_spanish_into_english_and_remembers_it(
    new_page: NewPage,
) -> None:
    page = new_page(locale="es-ES")
    page.goto("/")
    spanish = page.get_by_role("button", name="Español")
    english = page.get_by_role("button", name="English")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(spanish).to_have_attribute("aria-pressed", "true")
    expect(english).to_have_attribute("aria-pressed", "false")

    with page.expect_navigation():
        english.click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(english).to_have_attribute("aria-pressed", "true")
    expect(spanish).to_have_attribute("aria-pressed", "false")
    assert page.url.endswith("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Work from anywhere, never alone.")

    page.get_by_role("link", name="I already have an account").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(english).to_have_attribute("aria-pressed", "true")


def test_the_first_tab_reaches_the_skip_link_which_moves_focus_to_main(page: Page) -> None:
    page.goto("/")

    page.keyboard.press("Tab")

    skip_link = page.locator("a.skip-link")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()

    page.keyboard.press("Enter")

    expect(page.locator("main#main")).to_be_focused()
    assert page.url.endswith("/#main")


def test_visitor_pages_pass_axe_in_light_and_dark(page: Page, axe_check: AxeCheck) -> None:
    for path in (
        "/",
        "/accounts/login/",
        "/accounts/signup/",
        "/events/",
        "/newsletter/",
        "/guidelines/",
        "/privacy/",
    ):
        page.goto(path)

        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            axe_check(page)
            # Placeholders, which axe does not check: the login's are allauth's.
            for field in page.locator("input[placeholder]").all():
                ratio = contrast(
                    style(field, "color", "::placeholder"), style(field, "background-color")
                )
                assert ratio >= 4.5, (path, scheme, field.get_attribute("name"), ratio)


def test_a_member_signs_in_through_the_form_and_lands_on_their_dashboard(
    page: Page, asgi_server: str, alice: User
) -> None:
    page.goto("/accounts/login/")
    form = page.locator("main form").filter(has=page.locator("input[name=login]"))
    form.get_by_label("Email").fill(alice.email)
    form.get_by_label("Password").fill("not the password")
    form.get_by_role("button", name="Sign in").click()
    # A wrong password keeps what was typed and says why.
    expect(page.locator(".errorlist, [role=alert]").first).to_be_visible()
    expect(form.get_by_label("Email")).to_have_value(alice.email)

    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice Arias")
    expect(page.locator("details.menu")).to_have_count(1)


def test_the_member_dashboard_passes_axe_in_light_and_dark(
    page: Page, asgi_server: str, alice: User, login: Login, axe_check: AxeCheck
) -> None:
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice Arias")

    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        axe_check(page)


def test_in_forced_colours_states_stay_visible_and_on_paper_an_event_is_black_on_white(
    page: Page, asgi_server: str, alice: User, login: Login
) -> None:
    """Windows' high contrast drops backgrounds and shadows; printers drop backgrounds."""
    event = EventFactory.create(title="Taller de Django", description="Traed vuestras dudas.")
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/events/")
    page.emulate_media(forced_colors="active")
    # The chosen language is filled, as on screen: its background is not the page's.
    for name, filled in (("English", True), ("Español", False)):
        button = Image.open(io.BytesIO(page.get_by_role("button", name=name).screenshot()))
        inside = button.convert("RGB").getpixel((6, button.height // 2))
        assert (inside != page_colour(page)) is filled, (name, inside)
    current = page.locator(".main-nav a[aria-current=page]")
    assert "underline" in style(current, "text-decoration-line")
    page.locator("details.menu summary").click()
    log_out = style(page.get_by_role("button", name="Log out"), "color")
    assert log_out == style(page.get_by_role("link", name="My profile"), "color")

    # Printed from a system in dark mode, with the browser's backgrounds off.
    page.emulate_media(media="print", color_scheme="dark", forced_colors="none")
    page.goto(f"/events/{event.pk}/")
    white = "rgb(255, 255, 255)"
    for text in (
        page.get_by_role("heading", level=1),
        page.get_by_text("Traed vuestras dudas."),
        page.get_by_role("link", name="All events"),
    ):
        assert contrast(style(text, "color"), white) >= 4.5, text
    expect(page.locator(".header-actions")).to_be_hidden()
    expect(page.locator("main button").first).to_be_hidden()


def test_a_visitor_on_a_phone_reaches_home_and_the_login_without_sideways_scrolling(
    new_page: NewPage,
) -> None:
    page = new_page(viewport=PHONE, mobile=True)
    page.goto("/")

    assert not has_horizontal_overflow(page)
    # A visitor's one page to go to is home, which the logo leads to: no menu to open.
    expect(page.get_by_role("button", name="Menu")).to_have_count(0)
    assert_within_viewport(page, ".brand[href='/']")
    assert_within_viewport(page, ".header-actions a[href='/accounts/login/']")
    assert_within_viewport(page, ".header-actions a[href='/accounts/signup/']")

    page.goto("/accounts/signup/")
    assert not has_horizontal_overflow(page)


def test_a_member_on_a_phone_reaches_the_navigation_and_account_menu(
    new_page: NewPage, asgi_server: str, alice: User, login: Login
) -> None:
    page = new_page(viewport=PHONE, mobile=True)
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/")

    assert not has_horizontal_overflow(page)
    page.get_by_role("button", name="Menu").tap()
    for link in page.locator("nav.main-nav a").all():
        assert_within_viewport(page, link)
    menu_button = page.locator("details.menu > summary")
    expect(menu_button).to_have_accessible_name(re.compile("Alice Arias"))
    assert_within_viewport(page, "details.menu > summary")

    menu_button.tap()

    expect(page.locator("details.menu")).to_have_attribute("open", "")
    assert_within_viewport(page, ".menu-items a[href='/accounts/email/']")
    assert_within_viewport(page, ".menu-items button[type=submit]")
    assert not has_horizontal_overflow(page)

"""Error pages as a person meets them: accessible, and a way back to where they were."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from members.models import User
from tests.browser.conftest import NewPage, PageProblems
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

Login = Callable[[Page, str, str, str], None]
AxeCheck = Callable[[Page], None]


def allow_only_the_error_status(page_problems: PageProblems, status: int) -> None:
    """The browser logs an error status as a console error; anything else still fails."""
    expected = f"the server responded with a status of {status}"
    unexpected = [line for line in page_problems.console_errors if expected not in line]
    assert not unexpected and not page_problems.page_errors and not page_problems.csp_violations
    page_problems.allow()


def test_a_missing_page_is_accessible_and_goes_back_where_the_member_was(
    page: Page,
    asgi_server: str,
    alice: User,
    login: Login,
    axe_check: AxeCheck,
    page_problems: PageProblems,
) -> None:
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/members/me/met/")

    # Followed from the page, as a stale link would be (a typed address sends no referrer).
    with page.expect_navigation() as navigation:
        page.evaluate("location.assign('/members/me/no-such-page/')")

    response = navigation.value
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not find this page")
    expect(page.get_by_role("link", name="Go to the home page")).to_have_attribute("href", "/")
    axe_check(page)
    page.get_by_role("button", name="Go back").click()
    page.wait_for_url("**/members/me/met/")
    allow_only_the_error_status(page_problems, 404)


def test_arriving_from_elsewhere_only_home_is_offered(
    new_page: NewPage, page_problems: PageProblems
) -> None:
    page = new_page()

    page.goto("/no-such-page/")

    expect(page.get_by_role("heading", level=1)).to_have_text("We could not find this page")
    expect(page.get_by_role("link", name="Go to the home page")).to_be_visible()
    expect(page.get_by_role("button", name="Go back")).to_have_count(0)
    allow_only_the_error_status(page_problems, 404)


def test_the_csrf_failure_page_is_accessible(
    page: Page,
    asgi_server: str,
    alice: User,
    login: Login,
    axe_check: AxeCheck,
    page_problems: PageProblems,
) -> None:
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/members/me/edit/")
    # The session's token is gone, as after a long pause or a cleared cookie.
    page.context.clear_cookies(name="csrftoken")
    page.locator("#id_headline").fill("Changed after a long pause")

    page.get_by_role("button", name="Save profile").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("We could not send that form")
    axe_check(page)
    allow_only_the_error_status(page_problems, 403)

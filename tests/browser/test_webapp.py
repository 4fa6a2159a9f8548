"""The installable app in Chromium: installable, and the offline page once the network is
gone (coworking/webapp.py, docs/webapp.md)."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from members.models import User
from tests.browser.conftest import NewPage, PageProblems
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

Login = Callable[[Page, str, str, str], None]
AxeCheck = Callable[[Page], None]


def goto_offline(page: Page, path: str, *, heading: str) -> None:
    """Open `path` with the network off and expect the offline page's `heading`. Playwright's
    offline switch reaches a running service worker a moment after the page: once, on a
    loaded machine, the worker's own fetch of the next page still went out (the page came,
    its scripts did not). A second try is allowed for that; a worker that never answers
    with the offline page fails as before."""
    for _attempt in range(2):
        page.goto(path)
        if page.get_by_role("heading", level=1).text_content() == heading:
            return
        page.wait_for_timeout(500)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def test_the_app_is_installable_and_shows_the_offline_page_without_network(
    new_page: NewPage,
    asgi_server: str,
    alice: User,
    login: Login,
    axe_check: AxeCheck,
    page_problems: PageProblems,
) -> None:
    page = new_page()
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/")
    # The worker is active and (after it claimed the page) controls it.
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == f"{asgi_server}/"
    # A function, not an expression: Playwright evals an expression again at every poll,
    # which the page's CSP (no 'unsafe-eval') refuses once the first check has failed.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    session = page.context.new_cdp_session(page)
    errors = session.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # A test's browser context is private, which the browser may name as a reason not to
    # offer installing (depending on the contexts open before): nothing else may be named,
    # nothing about the manifest, its icons or the worker.
    assert [error["errorId"] for error in errors if error["errorId"] != "in-incognito"] == []
    manifest = session.send("Page.getAppManifest")
    assert not manifest.get("errors"), manifest.get("errors")

    page.context.set_offline(True)
    goto_offline(page, "/members/", heading="You are offline")
    expect(page.get_by_role("link", name="Try again")).to_be_visible()
    axe_check(page)
    # Back online, the same link brings the page that was asked for.
    page.context.set_offline(False)
    page.get_by_role("link", name="Try again").click()
    expect(page).to_have_url(f"{asgi_server}/members/")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("You are offline")
    # The member switches to Spanish: without network, the offline page speaks Spanish too.
    page.context.add_cookies([{"name": "django_language", "value": "es", "url": asgi_server}])
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.context.set_offline(True)
    goto_offline(page, "/events/", heading="No tienes conexión")
    page.context.set_offline(False)
    # The failed navigation is logged by the browser as a network error; nothing else.
    unexpected = [
        line for line in page_problems.console_errors if "ERR_INTERNET_DISCONNECTED" not in line
    ]
    assert not unexpected and not page_problems.page_errors and not page_problems.csp_violations
    page_problems.allow()

"""Playwright on Debian's Chromium, with console, CSP and accessibility (axe-core) checks.

Every page a test opens through `page` or `new_page` is watched: console errors, uncaught
exceptions and Content-Security-Policy violations fail the test once its body has passed.
A test that provokes them on purpose calls `page_problems.allow()`.

Playwright's sync API runs its event loop in a greenlet of its own and leaves that loop marked
as this thread's running loop after every call, although the test's code never runs inside it.
Django would then refuse ORM calls ("you cannot call this from an async context") and
pytest-asyncio could not start its own loop in later tests. `PlaywrightLoopGuard` clears the
mark between fixtures and after each test, and puts it back whenever Playwright's greenlet runs;
only inside browser test bodies is Django's check switched off, in this process alone. So a
fixture that both drives the browser and uses the database does the database work first (or
calls `PlaywrightLoopGuard.leave()` in between).
"""

import asyncio
import os
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import greenlet
import pytest
from django.db import connections
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    sync_playwright,
)

from tests.conftest import signed_in_cookies

AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
AXE_BLOCKING_IMPACTS = {"serious", "critical"}

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--disable-sync",
    "--no-first-run",
    # Calls: a generated camera picture and tone instead of real devices, and no permission
    # prompt (contexts still need the camera and microphone permissions granted).
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    # Peers on the same host find each other by their plain loopback address, not an mDNS
    # name nothing here would resolve.
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]

# Runs in every document before its own scripts. The listener lives in the page, so it sees
# violations that never reach the console (blocked styles, say) and reports them through the
# binding that `new_page` exposes; bindings and init scripts are not subject to the CSP.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__reportCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline code"}` +
    ` at ${event.sourceFile || event.documentURI}:${event.lineNumber}`
  );
});
"""

ColorScheme = Literal["light", "dark", "no-preference"]


@dataclass
class PageProblems:
    """What went wrong inside the pages of one test, as the browser saw it."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    allowed: bool = False
    pages: list[Page] = field(default_factory=list)

    def allow(self) -> None:
        """Let this test end with problems recorded, e.g. because it asserts on them itself."""
        self.allowed = True

    def report(self) -> str:
        sections = [
            ("Content-Security-Policy violations", self.csp_violations),
            ("Console errors", self.console_errors),
            ("Uncaught exceptions", self.page_errors),
        ]
        return "\n".join(
            f"{title}:\n" + "\n".join(f"  - {line}" for line in lines)
            for title, lines in sections
            if lines
        )


class NewPage(Protocol):
    def __call__(
        self,
        *,
        locale: str = ...,
        color_scheme: ColorScheme = ...,
        viewport: tuple[int, int] | None = ...,
        mobile: bool = ...,
        timezone_id: str | None = ...,
        service_worker: bool = ...,
    ) -> Page: ...


_problems_key = pytest.StashKey[PageProblems]()


class PlaywrightLoopGuard:
    """Keep Playwright's loop marked as running only while Playwright's greenlets run."""

    loop: asyncio.AbstractEventLoop | None = None
    home: greenlet.greenlet | None = None
    previous_tracer: Any = None

    @classmethod
    def install(cls) -> None:
        """Call right after starting Playwright, in the greenlet that runs the tests."""
        cls.loop = asyncio._get_running_loop()
        cls.home = greenlet.getcurrent()
        cls.previous_tracer = greenlet.settrace(cls._on_switch)
        cls.leave()

    @classmethod
    def uninstall(cls) -> None:
        greenlet.settrace(cls.previous_tracer)
        cls.loop = cls.home = cls.previous_tracer = None

    @classmethod
    def leave(cls) -> None:
        if cls.loop is not None and asyncio._get_running_loop() is cls.loop:
            asyncio._set_running_loop(None)

    @classmethod
    def _on_switch(cls, event: str, args: tuple[greenlet.greenlet, greenlet.greenlet]) -> None:
        # Playwright's greenlet resumes inside its loop, which expects to be marked running.
        if args[1] is not cls.home and asyncio._get_running_loop() is None:
            asyncio._set_running_loop(cls.loop)
        if cls.previous_tracer is not None:
            cls.previous_tracer(event, args)


def chromium_path() -> str:
    # The Makefile's choice (Debian's headless shell); the full browser works as well.
    return os.environ.get("CHROMIUM") or "/usr/bin/chromium-headless-shell"


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    # One driver for the whole run.
    with sync_playwright() as driver:
        PlaywrightLoopGuard.install()
        try:
            PlaywrightLoopGuard.leave()
            yield driver
        finally:
            PlaywrightLoopGuard.uninstall()


def write_fake_camera(path: Path) -> Path:
    """A small looping picture for the fake camera, as a Y4M file (160 × 120, 10 frames a
    second, a moving gradient). Chromium's own fake camera draws 640 × 480 or more at 20
    frames a second (1280 × 720 for the stage), which every call encodes and decodes: the
    call, stage and focus tests' browser CPU was a sixth higher with it, on a machine the
    whole suite keeps busy."""
    width, height, frames = 160, 120, 10
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        grey = bytes([128]) * ((width // 2) * (height // 2) * 2)  # both colour planes
        for frame in range(frames):
            out.write(b"FRAME\n")
            out.write(bytes((x + y + 8 * frame) % 256 for y in range(height) for x in range(width)))
            out.write(grey)
    return path


def _launch(
    playwright: Playwright, executable: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Browser]:
    camera = write_fake_camera(tmp_path_factory.mktemp("camera") / "camera.y4m")
    browser = playwright.chromium.launch(
        executable_path=executable,
        headless=True,
        args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={camera}"],
        # Members' browsers keep pages for Back and Forward (the back/forward cache), which
        # Playwright turns off by default: the pages are tested as members use them.
        ignore_default_args=["--disable-back-forward-cache"],
    )
    # Session-scoped fixtures are set up outside this directory's hooks.
    PlaywrightLoopGuard.leave()
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def browser(playwright: Playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    # One browser for the whole run; every test gets fresh contexts.
    yield from _launch(playwright, chromium_path(), tmp_path_factory)


@pytest.fixture(scope="session")
def full_browser(
    playwright: Playwright, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Browser]:
    """Debian's full Chromium, for what the headless shell lacks (notifications)."""
    executable = os.environ.get("CHROMIUM_FULL") or "/usr/bin/chromium"
    yield from _launch(playwright, executable, tmp_path_factory)


@pytest.fixture
def page_problems(request: pytest.FixtureRequest) -> PageProblems:
    problems = PageProblems()
    request.node.stash[_problems_key] = problems
    return problems


@pytest.fixture
def new_page(browser: Browser, asgi_server: str, page_problems: PageProblems) -> Iterator[NewPage]:
    """Open a watched page in a context of its own (own cookies, locale, screen)."""
    yield from _watched_pages(browser, asgi_server, page_problems)


@pytest.fixture
def new_full_page(
    full_browser: Browser, asgi_server: str, page_problems: PageProblems
) -> Iterator[NewPage]:
    """`new_page`, in the full browser."""
    yield from _watched_pages(full_browser, asgi_server, page_problems)


def _watched_pages(
    browser: Browser, asgi_server: str, page_problems: PageProblems
) -> Iterator[NewPage]:
    contexts: list[BrowserContext] = []

    def record_console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "")
        page_problems.console_errors.append(f"{message.text} ({where})" if where else message.text)

    def open_page(
        *,
        locale: str = "en-US",
        color_scheme: ColorScheme = "light",
        viewport: tuple[int, int] | None = None,
        mobile: bool = False,
        timezone_id: str | None = None,
        service_worker: bool = True,
    ) -> Page:
        options: dict[str, Any] = {
            "base_url": asgi_server,
            "locale": locale,
            "color_scheme": color_scheme,
        }
        if not service_worker:
            # The page's own requests then pass `page.route`: once the site's worker controls
            # the page, they go through it, where Playwright's routing does not see them.
            options["service_workers"] = "block"
        if viewport is not None:
            options["viewport"] = {"width": viewport[0], "height": viewport[1]}
        if timezone_id is not None:
            options["timezone_id"] = timezone_id
        if mobile:
            options.update(is_mobile=True, has_touch=True, device_scale_factor=3)
        context = browser.new_context(**options)
        contexts.append(context)
        context.set_default_timeout(10_000)
        context.expose_binding(
            "__reportCspViolation",
            lambda _source, text: page_problems.csp_violations.append(str(text)),
        )
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        page = context.new_page()
        page.on("console", record_console)
        page.on("pageerror", lambda error: page_problems.page_errors.append(str(error)))
        page_problems.pages.append(page)
        return page

    yield open_page
    for context in contexts:
        context.close()
    PlaywrightLoopGuard.leave()


@pytest.fixture
def page(new_page: NewPage) -> Page:
    """A watched page in an English (en-US), light-scheme, desktop-sized browser."""
    return new_page()


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup() -> Generator[None, object, object]:
    try:
        return (yield)
    finally:
        PlaywrightLoopGuard.leave()


def pytest_fixture_post_finalizer() -> None:
    PlaywrightLoopGuard.leave()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    # The loop only looks like it runs: the test body is plain sync code, so Django's
    # async-safety check would be a false alarm there. Only the body gets this exemption;
    # the server and worker processes started by fixtures never see it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"
    try:
        result = yield
        # A failing body re-raised above and is reported as it is; a passing one still
        # fails if its pages logged errors or broke the CSP.
        fail_on_page_problems(item.stash.get(_problems_key, None))
        return result
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
        PlaywrightLoopGuard.leave()


def fail_on_page_problems(problems: PageProblems | None) -> None:
    if problems is None or problems.allowed:
        return
    for open_page in problems.pages:
        if not open_page.is_closed():
            # A round trip to each page delivers events the browser has queued but not sent.
            open_page.evaluate("0")
    if report := problems.report():
        pytest.fail(f"The browser reported problems:\n{report}", pytrace=False)


def run_axe(page: Page, rules: list[str] | None = None) -> list[dict[str, Any]]:
    """axe-core's serious and critical WCAG 2.x A/AA violations on the page as it is now
    (only `rules`, when given)."""
    # `evaluate` runs outside the page's CSP (script-src 'self' would block an inline
    # <script>), so the page keeps its real policy and the CSP checks stay meaningful.
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;0")
    results = page.evaluate(
        """([tags, rules]) => axe.run(document, {
            runOnly: rules ? {type: "rule", values: rules} : {type: "tag", values: tags},
            resultTypes: ["violations"],
        })""",
        [AXE_TAGS, rules],
    )
    return [v for v in results["violations"] if v["impact"] in AXE_BLOCKING_IMPACTS]


# What a colour scheme changes, among axe's WCAG A/AA rules: a document already checked
# whole in another scheme is checked again for these only.
AXE_COLOUR_RULES = ["color-contrast", "link-in-text-block"]

# The document as it is now (its address and its markup), to know it was checked whole.
DOCUMENT_PRINT = """() => {
  const markup = document.documentElement.outerHTML;
  let hash = 0;
  for (let i = 0; i < markup.length; i++) hash = (hash * 31 + markup.charCodeAt(i)) | 0;
  return `${location.href} ${markup.length} ${hash}`;
}"""


def format_violations(page: Page, violations: list[dict[str, Any]]) -> str:
    dark = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    scheme = "dark" if dark else "light"
    lines = [
        f"axe-core found {len(violations)} serious/critical problem(s) on {page.url} "
        f"({scheme} scheme, {page.viewport_size}):"
    ]
    for violation in violations:
        lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"  * {target}")
            lines.append(f"    {node['html'][:200]}")
            summary = node.get("failureSummary") or ""
            lines.extend(f"    {line.strip()}" for line in summary.splitlines() if line.strip())
    return "\n".join(lines)


@pytest.fixture
def axe_check() -> Callable[[Page], None]:
    """`axe_check(page)`: fail with a readable list of serious or critical violations. The
    same document already checked whole, in another colour scheme, is checked for the
    colours only: the rest of what axe reads does not change with the scheme."""
    checked_whole: set[str] = set()

    def check(page: Page) -> None:
        document = page.evaluate(DOCUMENT_PRINT)
        violations = run_axe(page, AXE_COLOUR_RULES if document in checked_whole else None)
        if violations:
            pytest.fail(format_violations(page, violations), pytrace=False)
        checked_whole.add(document)

    return check


@pytest.fixture
def login() -> Callable[[Page, str, str, str], None]:
    """`login(page, base_url, email, password)`: sign in as the page would, without drawing the
    form: allauth's form is posted over HTTP and the cookies it sets go to the page's context.
    Drawing the login page and the dashboard it leads to cost every browser test seconds of
    CPU; `test_a_member_signs_in_through_the_form` drives the form itself."""

    def log_in(page: Page, base_url: str, email: str, password: str) -> None:
        cookies = signed_in_cookies(base_url, email, password)
        if "sessionid" not in cookies:
            pytest.fail(f"Logging in as {email} failed", pytrace=False)
        page.context.add_cookies(
            [{"name": name, "value": value, "url": base_url} for name, value in cookies.items()]
        )

    return log_in


def elsewhere[T](call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`call(*args, **kwargs)` in another thread: Playwright's loop runs in this one, and what
    a service pushes after its commit (async_to_sync) may not run where a loop runs. The
    thread's database connection goes back to the pool afterwards: a thread that ends holding
    one keeps it from the pool for good, and after 16 of them the test process waited 30 s
    for a connection and failed."""

    def run() -> T:
        try:
            return call(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as other:
        return other.submit(run).result()

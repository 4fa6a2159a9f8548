"""Screenshots of the main pages, at desktop and phone sizes, for docs/screenshots/.

Usage: `make screenshots`. Starts the embedded default (a fresh SQLite file in a temporary
directory, no Redis) with the demo community, logs in as the demo member through the login
form in a Spanish-speaking browser in Madrid, and saves `<page>-<size>.png` next to this file.
The server and the temporary files go away however the run ends.
"""

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from playwright.sync_api import Browser, Page, Response, sync_playwright

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from demo.data import MEMBER_EMAIL, MEMBER_PASSWORD  # noqa: E402

# Whatever points the settings elsewhere: without these the site runs embedded.
CONFIG_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "CHANNEL_LAYER_PREFIX",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "EMAIL_URL",
    "LANGUAGE_CODE",
    "TIME_ZONE",
    "MEDIA_ROOT",
    "MEDIA_URL",
    "SERVE_MEDIA",
    "STATIC_ROOT",
    "DJANGO_SETTINGS_MODULE",
)
# As the suite launches Chromium (tests/browser/conftest.py), minus the calls' fake devices.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_SECONDS = 90
PAGE_TIMEOUT_MS = 30_000
# A long page above this is kept to its first screenful, so the repository stays light.
MAX_PNG_BYTES = 1_000_000


@dataclass(frozen=True)
class Size:
    name: str
    width: int
    height: int
    phone: bool


SIZES = [Size("desktop", 1280, 800, phone=False), Size("phone", 360, 740, phone=True)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> None:
    """Run a management command quietly (the demo's emails go to the console); its output
    is shown only when it fails."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def wait_until_answering(port: int, server: subprocess.Popen[bytes]) -> None:
    """Until the server answers HTTP (any status: the health check may say 503 before the
    scheduler has run), or fail if it exits or takes too long."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited early with code {server.returncode}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.5)
        finally:
            connection.close()
    raise RuntimeError(f"the server did not answer within {SERVER_START_SECONDS} s")


@contextmanager
def demo_site(workdir: Path) -> Iterator[str]:
    """The embedded default with the demo community, served on a free port; its base URL.
    The server's output goes to `workdir / "server.log"`, shown when something fails."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if key not in CONFIG_VARIABLES}
    env.update(
        DJANGO_SETTINGS_MODULE="coworking.settings",
        DATABASE_URL=f"sqlite:///{workdir / 'screenshots.sqlite3'}",
        MEDIA_ROOT=str(workdir / "media"),
        SITE_URL=base_url,
        PYTHONUNBUFFERED="1",
    )
    log_path = workdir / "server.log"
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_demo")
    print(f"Demo community seeded; serving it on {base_url}/", flush=True)
    with log_path.open("wb") as log:
        # A session of its own, so stopping it stops everything it started.
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "coworking.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--lifespan",
                "off",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_answering(port, server)
        yield base_url
    except Exception:
        print(f"--- server log ---\n{log_path.read_text()[-4000:]}", file=sys.stderr)
        raise
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def visit(page: Page, path: str) -> None:
    """Open `path` and wait until it has settled; fail on an error or a detour to login."""
    response: Response | None = page.goto(path)
    if response is None or not response.ok:
        status = response.status if response else "no response"
        raise RuntimeError(f"{path} answered {status}")
    if "/accounts/login/" in page.url:
        raise RuntimeError(f"{path} sent the browser to the login page")
    page.wait_for_load_state("networkidle")
    page.evaluate("() => document.fonts.ready.then(() => true)")


def log_in(page: Page) -> None:
    """Through the real login form, as a person would."""
    page.goto("/accounts/login/")
    form = page.locator("main form").filter(has=page.locator("input[name=login]"))
    form.locator("input[name=login]").fill(MEMBER_EMAIL)
    form.locator("input[name=password]").fill(MEMBER_PASSWORD)
    form.locator("[type=submit]").first.click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.wait_for_load_state("networkidle")


def own_profile(page: Page) -> str:
    """The path of the member's own profile, from the account menu's "My profile" link."""
    for href in page.locator(".header-actions .menu-items a").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    ):
        if re.fullmatch(r"/members/\d+/", href or ""):
            return str(href)
    raise RuntimeError("the account menu has no link to the member's profile")


def upcoming_event(page: Page) -> str:
    """The path of the next event in the upcoming list that is not already starting."""
    visit(page, "/events/")
    cards = page.locator(".event-list .event-card")
    later = cards.filter(has_not=page.locator(".event-live"))
    chosen = later if later.count() else cards
    if not chosen.count():
        raise RuntimeError("the events list shows no upcoming event")
    return str(chosen.first.locator("h2 a").get_attribute("href"))


def room_connected(page: Page) -> None:
    # The room's status line says "Connected." in the page's language once the socket is up.
    page.wait_for_function(
        "() => document.getElementById('chat-status')?.textContent === gettext('Connected.')"
    )
    page.wait_for_load_state("networkidle")


def shoot(page: Page, name: str) -> Path:
    path = HERE / f"{name}.png"
    options: dict[str, Any] = {"animations": "disabled", "caret": "hide"}
    page.screenshot(path=path, full_page=True, **options)
    if path.stat().st_size > MAX_PNG_BYTES:
        page.screenshot(path=path, full_page=False, **options)
    return path


def screenshots_take(browser: Browser, base_url: str, size: Size) -> list[Path]:
    context = browser.new_context(
        base_url=base_url,
        viewport={"width": size.width, "height": size.height},
        is_mobile=size.phone,
        has_touch=size.phone,
        # Viewport-wide pictures: sharp enough to read, light enough to keep in the repository.
        device_scale_factor=1,
        locale="es-ES",
        extra_http_headers={"Accept-Language": "es"},
        timezone_id="Europe/Madrid",
        reduced_motion="reduce",
        color_scheme="light",
    )
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        page = context.new_page()
        log_in(page)
        profile = own_profile(page)
        event = upcoming_event(page)
        pages: list[tuple[str, str, Callable[[Page], None] | None]] = [
            ("home", "/", None),
            ("room", "/rooms/cafeteria/", room_connected),
            ("event", event, None),
            ("profile", profile, None),
            ("pairs", "/pairs/", None),
        ]
        taken = []
        for name, path, ready in pages:
            visit(page, path)
            if ready is not None:
                ready(page)
            taken.append(shoot(page, f"{name}-{size.name}"))
        return taken
    finally:
        context.close()


def stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Unwinds like Ctrl+C does, so the server and the temporary files are cleaned up.
    raise SystemExit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    chromium = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    if not os.access(chromium, os.X_OK):
        sys.exit(f"No Chromium at {chromium}: install Debian's chromium or set CHROMIUM.")
    with (
        tempfile.TemporaryDirectory(prefix="screenshots-") as workdir,
        demo_site(Path(workdir)) as base_url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        try:
            for size in SIZES:
                for path in screenshots_take(browser, base_url, size):
                    print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KiB")
        finally:
            browser.close()


if __name__ == "__main__":
    main()

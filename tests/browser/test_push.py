"""Push notifications in Chromium (docs/webapp.md, "Push notifications"): the permission is
asked only after a click, the device is stored and listed, what the server sends reaches the
tests' push service signed and encrypted for this browser's keys, and the service worker
shows it with the right title and link, then opens the right page on a click.

The browser maker's push service is out of reach here (no internet), so an init script
stands in for `PushManager`: it makes the device's keys with WebCrypto, as the browser
does, and hands out an endpoint on the tests' push service. Everything after it is real: the
page's script, the server, the task, the push service's checks and decryption, and the
message delivered to the service worker through the DevTools protocol."""

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.db import transaction
from playwright.sync_api import Page, expect

from members.models import User
from notifications.models import Kind, PushSubscription, QuietHours
from notifications.services import notify
from tests.browser.conftest import NewPage, PlaywrightLoopGuard
from tests.conftest import LIVE_SERVER, server_secret_key
from tests.factories import PASSWORD
from tests.push_service import Device, PushService, unb64

pytestmark = pytest.mark.browser

Login = Callable[[Page, str, str, str], None]
AxeCheck = Callable[[Page], None]

STAND_IN_PUSH_MANAGER = (Path(__file__).parent / "push_stand_in.js").read_text()

NOTIFICATIONS_SHOWN = """async () => {
  const registration = await navigator.serviceWorker.ready;
  // Up to 15 s: on a loaded machine the worker may first have to start (it once took over 5).
  for (let tries = 0; tries < 300; tries++) {
    const shown = await registration.getNotifications();
    if (shown.length) {
      return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return [];
}"""

# A click on the notification, as far as a test can make one: the worker's own handler runs
# on a synthetic event; what it asks of the browser (focus a tab, open one) is recorded.
CLICK = """async () => {
  self.__asked = [];
  self.clients.openWindow = async (url) => {
    self.__asked.push(["open", url]);
    return null;
  };
  WindowClient.prototype.focus = async function () {
    self.__asked.push(["focus", new URL(this.url).pathname]);
    return this;
  };
  // The notification shows once the worker has handled the push: on a loaded machine that
  // may come after the page saw the previous one, closed by the previous click.
  let notification;
  for (let tries = 0; tries < 300 && !notification; tries++) {
    [notification] = await self.registration.getNotifications();
    if (!notification) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  try {
    self.dispatchEvent(new NotificationEvent("notificationclick", { notification }));
  } catch {}
  for (let tries = 0; tries < 300 && !self.__asked.length; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return self.__asked;
}"""


def the_device(page: Page) -> Device:
    """This browser's push keys, as the stand-in made them."""
    saved = json.loads(page.evaluate("localStorage.getItem('test-push-subscription')"))
    key = ec.derive_private_key(int.from_bytes(unb64(saved["d"]), "big"), ec.SECP256R1())
    return Device(private_key=key, auth=unb64(saved["auth"]))


def push_to_worker(page: Page, base_url: str, data: bytes) -> None:
    """Deliver `data` to the site's service worker as its push service would."""
    session = page.context.new_cdp_session(page)
    found: dict[str, str] = {}

    def listen(event: dict[str, Any]) -> None:
        for registration in event["registrations"]:
            if registration["scopeURL"] == f"{base_url}/" and not registration["isDeleted"]:
                found["id"] = registration["registrationId"]

    session.on("ServiceWorker.workerRegistrationUpdated", listen)
    session.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while "id" not in found and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert "id" in found, "the service worker is not registered"
    session.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": base_url, "registrationId": found["id"], "data": data.decode()},
    )
    session.detach()


def push_until_shown(page: Page, base_url: str, data: bytes) -> list[dict[str, Any]]:
    """Deliver `data` to the service worker and wait for its notification. Once in a loaded
    full run, a push delivered just after a navigation showed nothing within 15 s. A push
    service delivers a message again until the browser takes it, so this delivers once more
    before giving up (the notification replaces any earlier one with its tag)."""
    for _attempt in range(2):
        push_to_worker(page, base_url, data)
        shown: list[dict[str, Any]] = page.evaluate(NOTIFICATIONS_SHOWN)
        if shown:
            return shown
    raise AssertionError("the service worker showed no notification")


def test_a_member_turns_on_push_and_a_notice_shows_on_the_device_with_its_link(
    new_full_page: NewPage,
    asgi_server: str,
    alice: User,
    login: Login,
    axe_check: AxeCheck,
    push_service: PushService,
    settings: Any,
) -> None:
    QuietHours.objects.create(user=alice, start=None, end=None)  # the test runs at any hour
    # The push goes out from this process, which reads the session the server signed to
    # check that it still signs Alice in: in production the worker has the web's key.
    settings.SECRET_KEY = server_secret_key(LIVE_SERVER)
    page = new_full_page()
    endpoint = json.dumps(push_service.endpoint("chromium"))
    page.add_init_script(f"window.__testPushEndpoint = {endpoint};\n{STAND_IN_PUSH_MANAGER}")
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/notifications/settings/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    # Nothing is asked of the browser before the member's click.
    turn_on = page.get_by_role("button", name="Turn on notifications on this device")
    expect(turn_on).to_be_visible()
    assert page.evaluate("[Notification.permission, window.__permissionAsks]") == ["default", 0]
    assert page.evaluate("window.__subscribeCalls") == 0
    axe_check(page)

    # The member clicks and allows: the device is stored and listed as this one. (Headless
    # Chromium shows no prompt; granting beforehand stands for the member's "Allow".)
    page.context.grant_permissions(["notifications"], origin=asgi_server)
    turn_on.click()
    expect(page.get_by_text("Notifications are on for this device.")).to_be_visible()
    expect(page.get_by_text("(this device)")).to_be_visible()
    expect(turn_on).to_be_hidden()
    device = PushSubscription.objects.get(user=alice)
    assert device.endpoint == push_service.endpoint("chromium")
    assert device.device == "Chrome on Linux"
    axe_check(page)

    # A message notice goes out; the push service receives it signed, for this browser.
    PlaywrightLoopGuard.leave()  # the bell's update is sent from here, outside Playwright
    with transaction.atomic():
        notice = notify(
            user=alice,
            kind=Kind.MESSAGE,
            key="conversation:1:1",
            text="Beto wrote to you",
            url="/messages/",
        ).notification
    [received] = push_service.wait_for("chromium")
    data = the_device(page).decrypt(received.body)
    assert json.loads(data)["title"] == "Nuevo mensaje"  # in Alice's language

    # Delivered to the service worker, it shows as a notification with its title and link.
    [shown] = push_until_shown(page, asgi_server, data)
    assert shown["title"] == "Nuevo mensaje" and shown["body"] == "Beto wrote to you"
    assert shown["tag"] == "message:/messages/"
    assert shown["data"] == {"url": f"/notifications/{notice.pk}/", "page": "/messages/"}

    # A click opens the notice (which marks it read and leads to its page) in a new tab,
    # leaving the tab in use alone; with its page already open, that tab comes forward.
    [worker] = page.context.service_workers
    assert worker.evaluate(CLICK) == [["open", f"/notifications/{notice.pk}/"]]
    page.goto("/messages/")
    push_until_shown(page, asgi_server, data)
    assert worker.evaluate(CLICK) == [["focus", "/messages/"]]
    # A link is a path of this site, even one starting "//" (another site's address).
    twice = json.dumps({"title": "Aviso", "url": f"{asgi_server}//evil.example/p"}).encode()
    push_until_shown(page, asgi_server, twice)
    assert worker.evaluate(CLICK) == [["open", "/evil.example/p"]]

    # Signing out closes what the worker showed: the next person at a shared computer
    # reads none of it.
    push_until_shown(page, asgi_server, data)
    page.locator("details.menu summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in").first).to_be_visible()
    count = "navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((n) => n.length)"
    for _wait in range(50):
        if page.evaluate(count) == 0:
            break
        page.wait_for_timeout(100)
    assert page.evaluate(count) == 0


def test_the_worker_hands_the_site_a_subscription_the_browser_replaced(
    new_full_page: NewPage, asgi_server: str, alice: User, login: Login, push_service: PushService
) -> None:
    """`pushsubscriptionchange` (Firefox rotates subscriptions; Chromium fires none a test
    can cause): the worker's own handler, run on the browser's two subscriptions, posts the
    new one with the member's cookie, and the device stored under the old one takes it."""
    old = Device()
    stored = PushSubscription.objects.create(
        user=alice, endpoint=push_service.endpoint("old"), p256dh=old.p256dh, auth=old.auth_b64
    )
    page = new_full_page()
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/notifications/settings/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    [worker] = page.context.service_workers
    fresh = Device()
    renewed = {
        "endpoint": push_service.endpoint("renewed"),
        "keys": {"p256dh": fresh.p256dh, "auth": fresh.auth_b64},
    }

    worker.evaluate(
        """([old, renewed]) => renewSubscription(
            { endpoint: old, options: {} }, { toJSON: () => renewed })""",
        [stored.endpoint, renewed],
    )

    stored.refresh_from_db()
    assert (stored.endpoint, stored.p256dh) == (renewed["endpoint"], fresh.p256dh)


def test_a_device_turned_on_follows_its_member_signing_in_again_on_that_browser(
    new_full_page: NewPage, asgi_server: str, alice: User, login: Login, push_service: PushService
) -> None:
    page = new_full_page()
    endpoint = json.dumps(push_service.endpoint("chromium"))
    page.add_init_script(f"window.__testPushEndpoint = {endpoint};\n{STAND_IN_PUSH_MANAGER}")
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/notifications/settings/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.context.grant_permissions(["notifications"], origin=asgi_server)
    page.get_by_role("button", name="Turn on notifications on this device").click()
    expect(page.get_by_text("Notifications are on for this device.")).to_be_visible()

    # The browser closed (she had not ticked "Remember me"): she signs in again, a new
    # session, and goes on to any page. Nothing is asked of her.
    page.goto("about:blank")  # closed: no page of hers left to reconnect without a cookie
    page.context.clear_cookies()
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/events/")
    [session] = [c["value"] for c in page.context.cookies() if c["name"] == "sessionid"]
    deadline = time.monotonic() + 10
    while PushSubscription.objects.get(user=alice).session_key != session:
        assert time.monotonic() < deadline, "the device stayed with the old session"
        page.wait_for_timeout(100)
    assert page.evaluate("window.__permissionAsks") == 0

"""Web Push: a member's news on their devices while no tab of the site is open
(docs/webapp.md, "Push notifications").

`notify` (notifications.services) decides whether a notice is pushed: the member has a
device, wants this kind pushed, is not in focus (the notice is held, and pushed with its
batch when released) and is not in their quiet hours. The task `push_send` then claims the
notices (`Notification.pushed_at`), so a second run pushes nothing twice, and posts one
encrypted message per device to the browser maker's push service (RFC 8030), signed with the
site's VAPID key (RFC 8292) and encrypted for the device alone (RFC 8291, aes128gcm)."""

import base64
import hashlib
import ipaddress
import json
import logging
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as clock
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from py_vapid import Vapid

from members.models import User
from notifications.models import Kind, Notification, Preference, PushSubscription, QuietHours

if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)

# Quiet hours of a member who never chose any: the night, in their own zone.
DEFAULT_QUIET = (clock(22, 0), clock(8, 0))
# A member's devices, at most: each one is a request per push.
MAX_DEVICES = 100
# Several devices of one member are sent to at once, over one connection pool.
PARALLEL = 8
# Seconds to connect to a push service, and to wait for its answer.
TIMEOUT = (3.05, 10)

# What a lock screen shows above the notice's text, per kind. Kinds not listed are not pushed:
# a missed focus session is worth a look on the site, not a buzz in the pocket.
TITLES: dict[str, Promise] = {
    Kind.PAIR_CREATED: gettext_lazy("Your coffee pair"),
    Kind.PAIR_FOLLOW_UP: gettext_lazy("Did you meet?"),
    # A day ahead or about to start: the text says which.
    Kind.EVENT_REMINDER: gettext_lazy("Event reminder"),
    Kind.WAITLIST_PROMOTED: gettext_lazy("You have a seat"),
    Kind.MENTION: gettext_lazy("Someone mentioned you"),
    Kind.EVENT_CHANGED: gettext_lazy("An event changed"),
    Kind.MESSAGE: gettext_lazy("New message"),
    Kind.FOCUS_REMINDER: gettext_lazy("Focus session soon"),
    Kind.ROOM_INVITED: gettext_lazy("An invitation"),
}
# One notification per conversation or room on the device: a new one replaces the last
# (and buzzes again) instead of stacking up.
COLLAPSED = {Kind.MESSAGE, Kind.MENTION}
# Reminders of something about to start (`Notification.urgent`) are worthless later: the push
# service may drop them once the moment has passed. Everything else waits up to a day for an
# offline device.
URGENT_TTL = 15 * 60
URGENT_TTLS: dict[str, int] = {Kind.FOCUS_REMINDER: 5 * 60}
DEFAULT_TTL = 24 * 60 * 60
# An event's reminder a day ahead goes at least 20 hours before the start (events.tasks):
# waiting half a day at most, it never reaches a device after the start.
NEWS_TTLS: dict[str, int] = {Kind.EVENT_REMINDER: 12 * 60 * 60}


# Keys ---------------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vapid_key_generate() -> str:
    """A new VAPID private key: the P-256 scalar, base64url (`VAPID_PRIVATE_KEY`)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return _b64(key.private_numbers().private_value.to_bytes(32, "big"))


def _public(key: Vapid) -> str:
    point = key.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64(point)


def vapid_key_public(private_key: str) -> str:
    """The public half, as browsers take it (`applicationServerKey`)."""
    return _public(Vapid.from_string(private_key))


def _key_from_file(path: Path) -> str:
    """The key kept in `path`, made on first use. Several processes may start at once: the
    file appears whole (a hard link to a finished temporary file) or not at all, and the
    first one wins."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as draft:
        draft.write(vapid_key_generate() + "\n")
    os.chmod(draft.name, 0o600)
    try:
        os.link(draft.name, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(draft.name)
    return path.read_text().strip()


@cache
def _vapid(private_key: str, key_file: str) -> Vapid | None:
    raw = private_key or (_key_from_file(Path(key_file)) if key_file else "")
    return Vapid.from_string(raw) if raw else None


def vapid() -> Vapid | None:
    """The site's VAPID key: `VAPID_PRIVATE_KEY`, or in the embedded setup the one kept in
    `VAPID_KEY_FILE`. None: push is off (production without a key)."""
    return _vapid(settings.VAPID_PRIVATE_KEY, str(settings.VAPID_KEY_FILE or ""))


def public_key() -> str:
    """The key the settings page gives `pushManager.subscribe`; empty when push is off."""
    key = vapid()
    return "" if key is None else _public(key)


# Subscriptions -----------------------------------------------------------------------------


def endpoint_problem(endpoint: str) -> str | None:
    """Why the server must not post to `endpoint`, or None. It came from a browser, so it may
    be anything: only HTTPS addresses on the public internet are taken, never one inside our
    own network (no server-side request forgery through push). `PUSH_ALLOW_PRIVATE_ENDPOINTS`
    lifts that for the tests' local push service. Asked again at each send, as a name's
    addresses may change after it was stored."""
    parts = urlsplit(endpoint)
    allow_private = settings.PUSH_ALLOW_PRIVATE_ENDPOINTS
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        return _("The push service's address must start with https://.")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host or parts.username or parts.password:
        return _("This is not a push service's address.")
    try:
        addresses = {
            info[4][0] for info in socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
        }
    except (OSError, UnicodeError):
        return _("We could not find this push service. Try again later.")
    if not allow_private:
        for address in addresses:
            if not ipaddress.ip_address(str(address).split("%")[0]).is_global:
                return _("This push service is not on the public internet.")
    return None


def key_problem(p256dh: str, auth: str) -> dict[str, str]:
    """What is wrong with a subscription's keys, by field: the device's public key must be a
    P-256 point and its secret 16 bytes, or nothing could be encrypted for it."""
    problems = {}
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64(p256dh))
    except (ValueError, TypeError):
        problems["p256dh"] = _("The device's public key is not a valid P-256 key.")
    try:
        secret = _unb64(auth)
    except ValueError:
        secret = b""
    if len(secret) != 16:
        problems["auth"] = _("The device's secret must be 16 bytes, base64url-encoded.")
    return problems


def device_name(user_agent: str) -> str:
    """A short name a member recognises their device by ("Firefox on Android")."""
    agent = user_agent.lower()
    browser = next(
        (
            name
            for needle, name in [
                ("edg/", "Edge"),
                ("opr/", "Opera"),
                ("samsungbrowser", "Samsung Internet"),
                ("firefox", "Firefox"),
                ("chrome", "Chrome"),
                ("chromium", "Chromium"),
                ("safari", "Safari"),
            ]
            if needle in agent
        ),
        _("A browser"),
    )
    system = next(
        (
            name
            for needle, name in [
                ("android", "Android"),
                ("iphone", "iPhone"),
                ("ipad", "iPad"),
                ("windows", "Windows"),
                ("mac os", "macOS"),
                ("cros", "ChromeOS"),
                ("linux", "Linux"),
            ]
            if needle in agent
        ),
        "",
    )
    return (
        _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
        if system
        else browser
    )


def subscription_save(
    *, user: User, endpoint: str, p256dh: str, auth: str, device: str, session_key: str
) -> PushSubscription:
    """Store a device for `user` (the fields checked by `PushSubscriptionForm`). A device
    already stored, under another member who used this browser before, becomes theirs."""
    subscription, _created = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={
            "user": user,
            "p256dh": p256dh,
            "auth": auth,
            "device": device[:80],
            "session_key": session_key or "",
        },
    )
    return subscription


# Set in a session once its page has told the site which push subscription this browser
# holds (or that the member turned one on here): its pages stop asking.
PUSH_BOUND_SESSION_KEY = "_push_bound"


def subscription_rebind(*, user: User, endpoint: str, session_key: str) -> bool:
    """This browser signed `user` in again (a new session: after a password changed
    elsewhere, or a sign-in without "Remember me" after the browser closed): their device
    stored under `endpoint` now follows the new session, rather than be found signed out at
    its next notification and turned off without a word. Only a device already theirs:
    another member who signs in on this browser is not given its notifications without their
    own click. False when there is no such device."""
    return bool(
        PushSubscription.objects.filter(user=user, endpoint=endpoint).update(
            session_key=session_key
        )
    )


def subscription_renew(
    *, user: User, old_endpoint: str, endpoint: str, p256dh: str, auth: str
) -> bool:
    """The browser replaced a device's subscription (`pushsubscriptionchange`, sent by the
    service worker): the member's device stored under `old_endpoint` now posts to
    `endpoint`. False when there is no such device (turned off since, or someone else's):
    nothing is stored, so a device the member removed does not come back."""
    with transaction.atomic():
        device = (
            PushSubscription.objects.select_for_update()
            .filter(user=user, endpoint=old_endpoint)
            .first()
        )
        if device is None:
            return False
        # The new endpoint, if the browser had already sent it (the settings page), is one
        # device: the row renewed takes its place.
        PushSubscription.objects.filter(endpoint=endpoint).exclude(pk=device.pk).delete()
        device.endpoint, device.p256dh, device.auth = endpoint, p256dh, auth
        device.save(update_fields=["endpoint", "p256dh", "auth"])
    return True


def subscriptions_forget_session(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    """Signing out (`user_logged_out`) turns off the devices this session turned on, so a
    shared computer stops showing the member's news."""
    session_key = request.session.session_key if request is not None else None
    if user is not None and session_key:
        PushSubscription.objects.filter(user=user, session_key=session_key).delete()


def subscriptions_follow_session(
    sender: Any, user: User, old_key: str, new_key: str, **kwargs: Any
) -> None:
    """The devices a session turned on stay its own when its key changes (`_devices` only
    pushes to a session that still signs the member in)."""
    PushSubscription.objects.filter(user=user, session_key=old_key).update(session_key=new_key)


def _signs_in(session_key: str, user: User) -> bool:
    """Whether the session still signs `user` in, as Django's authentication would find it:
    not ended (signed out elsewhere, "Where you are signed in", expired) and not left behind
    by a password change."""
    data = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key).load()
    return data.get(SESSION_KEY) == str(user.pk) and constant_time_compare(
        data.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()
    )


# Whether and when -----------------------------------------------------------------------------


def quiet_hours_for(*, user: User) -> tuple[clock, clock] | None:
    row = QuietHours.objects.filter(user=user).first()
    if row is None:
        return DEFAULT_QUIET
    if row.start is None or row.end is None or row.start == row.end:
        return None
    return row.start, row.end


def is_quiet(*, user: User, now: datetime) -> bool:
    """Whether `now` falls in the member's quiet hours, read in their own zone. Hours that
    cross midnight (22:00 to 08:00) are quiet on both sides of it."""
    hours = quiet_hours_for(user=user)
    if hours is None:
        return False
    start, end = hours
    local = timezone.localtime(now, ZoneInfo(user.time_zone)).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end


# Given a member's id and the moment, whether they are busy in a way that silences their
# devices: registered by the apps above (rooms: "Do not disturb", "In a call", a seat at a
# table's call), as `notifications.holds` is by focus.
BusyCheck = Callable[[int, datetime], bool]
_busy_checks: list[BusyCheck] = []


def busy_check_register(check: BusyCheck) -> None:
    """Called from an app's `ready()`; registering the same check twice keeps one."""
    if check not in _busy_checks:
        _busy_checks.append(check)


def busy(*, user_id: int, now: datetime) -> bool:
    return any(check(user_id, now) for check in _busy_checks)


def listening(*, user: User, now: datetime) -> bool:
    """Whether the member's devices take pushes now: they have one, and it is not their
    quiet hours."""
    return (
        user.is_active
        and user.deleted_at is None
        and PushSubscription.objects.filter(user=user).exists()
        and not is_quiet(user=user, now=now)
    )


def pushable(*, user: User, kind: str, wanted: bool, now: datetime, urgent: bool = False) -> bool:
    """Whether a notice of `kind` told now goes to the member's devices: they want this kind
    pushed (`wanted`, their preference), their devices are `listening`, and they are not
    `busy`, unless it reminds of something about to start (`urgent`: later it would be of no
    use, as in focus). A notice not pushed is on the site and emailed all the same, and is
    not pushed later. Held notices are pushed when released (`push_released`)."""
    return (
        wanted
        and kind in TITLES
        and listening(user=user, now=now)
        and (urgent or not busy(user_id=user.pk, now=now))
    )


def push_released(*, user: User, now: datetime) -> list[int]:
    """The notices released from a hold at `now` that go to the member's devices, as one
    batch: those of kinds they want pushed, unless it is now their quiet hours or they are
    `busy`."""
    if not listening(user=user, now=now) or busy(user_id=user.pk, now=now):
        return []
    muted = Preference.objects.filter(user=user, push=False).values_list("kind", flat=True)
    return list(
        Notification.objects.filter(
            user=user, released_at=now, pushed_at__isnull=True, kind__in=list(TITLES)
        )
        .exclude(kind__in=list(muted))
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )


# What is sent ---------------------------------------------------------------------------------


def _link(notification: Notification) -> str:
    # Through the notification's own page when it is listed: opening it marks it read.
    if notification.in_app:
        return reverse("notifications:open", args=[notification.pk])
    return notification.url or reverse("notifications:list")


def payload_for(notifications: Sequence[Notification], *, user: User) -> dict[str, Any]:
    """What the service worker shows (templates/webapp/service-worker.js, "push"): one
    notice as itself, several (a focus session's batch) as one summary."""
    with translation.override(user.language):
        if len(notifications) == 1:
            notification = notifications[0]
            collapsed = notification.kind in COLLAPSED
            return {
                "title": str(TITLES.get(notification.kind, settings.SITE_NAME)),
                "body": notification.text,
                "url": _link(notification),
                "page": notification.url or reverse("notifications:list"),
                "tag": f"{notification.kind}:{notification.url}"
                if collapsed
                else f"n{notification.pk}",
                "renotify": collapsed,
                "lang": user.language,
            }
        count = len(notifications)
        return {
            "title": _("While you were focusing"),
            "body": ngettext("%(count)d new notification", "%(count)d new notifications", count)
            % {"count": count},
            "url": reverse("notifications:list"),
            "page": reverse("notifications:list"),
            "tag": "held",
            "renotify": True,
            "lang": user.language,
        }


def _headers(
    notifications: Sequence[Notification], payload: dict[str, Any]
) -> tuple[int, dict[str, str]]:
    ttl = min(
        (
            URGENT_TTLS.get(notification.kind, URGENT_TTL)
            if notification.urgent
            else NEWS_TTLS.get(notification.kind, DEFAULT_TTL)
            for notification in notifications
        ),
        default=DEFAULT_TTL,
    )
    urgent = any(notification.urgent for notification in notifications)
    # The push service keeps only the latest message of one topic for an offline device.
    topic = _b64(hashlib.sha256(payload["tag"].encode()).digest())[:32]
    return ttl, {"Topic": topic, "Urgency": "high" if urgent else "normal"}


# Sending --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What became of one send, by subscription id."""

    sent: list[int] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)


def _origin(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def _authorisations(
    key: Vapid, devices: Iterable[PushSubscription]
) -> dict[str, dict[str, str] | None]:
    """Per push service (origin) of `devices`: the VAPID headers for it, or None when it may
    not be posted to (`endpoint_problem`). Most devices share a few services: each is
    resolved and signed for once per send."""
    found: dict[str, dict[str, str] | None] = {}
    for device in devices:
        origin = _origin(device.endpoint)
        if origin not in found:
            claims = {
                "aud": origin,
                "sub": settings.VAPID_SUBJECT,
                "exp": int(time.time()) + 12 * 60 * 60,
            }
            found[origin] = None if endpoint_problem(device.endpoint) else key.sign(claims)
    return found


def _post_one(
    session: "requests.Session",
    subscription: PushSubscription,
    authorisation: dict[str, str] | None,
    data: bytes,
    ttl: int,
    headers: dict[str, str],
) -> str:
    if authorisation is None:
        return "gone"
    parts = urlsplit(subscription.endpoint)
    info = {
        "endpoint": subscription.endpoint,
        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
    }
    import requests
    from pywebpush import WebPusher

    try:
        response = WebPusher(info, requests_session=session).send(
            data, {**headers, **authorisation}, ttl=ttl, timeout=TIMEOUT
        )
    except requests.TooManyRedirects:
        logger.warning("Push service %s answered with a redirect, not followed", parts.netloc)
        return "refused"
    except requests.RequestException as exc:
        logger.info("Push to %s failed, to retry: %s", parts.netloc, exc)
        return "retry"
    status = getattr(response, "status_code", 0)
    if status in (404, 410):
        return "gone"
    if 200 <= status < 300:
        return "sent"
    if status == 429 or status >= 500:
        return "retry"
    logger.warning(
        "Push service %s refused a message: %s %s",
        parts.netloc,
        status,
        getattr(response, "text", "")[:200],
    )
    return "refused"


def deliver(
    *,
    subscriptions: Iterable[PushSubscription],
    payload: dict[str, Any],
    ttl: int,
    headers: dict[str, str],
) -> Outcome:
    """Post `payload` to each device, several at once over one connection pool, and record
    the outcome: a device the push service no longer knows (404, 410) is deleted, a sent one
    gets its `last_push_at`. Those to retry (timeout, 429, 5xx) are for the caller."""
    outcome = Outcome()
    devices = list(subscriptions)
    key = vapid()
    if key is None or not devices:
        return outcome
    data = json.dumps(payload).encode()
    authorisations = _authorisations(key, devices)
    # Imported when sending, here and in `_post_one`: requests and pywebpush (which brings
    # aiohttp) added a quarter of a second to every process that sets Django up (each web
    # and worker process, each manage.py command), most of which never push.
    import requests
    from pywebpush import WebPusher  # noqa: F401  (a broken install fails here, once)

    with requests.Session() as session:
        # Never followed: the endpoint's address was checked (`endpoint_problem`), where a
        # redirect leads was not, and it could be inside our own network.
        session.max_redirects = 0
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=PARALLEL)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(devices))) as pool:
            results = list(
                pool.map(
                    lambda device: _post_one(
                        session,
                        device,
                        authorisations[_origin(device.endpoint)],
                        data,
                        ttl,
                        headers,
                    ),
                    devices,
                )
            )
    for device, result in zip(devices, results, strict=True):
        getattr(outcome, result).append(device.pk)
    PushSubscription.objects.filter(pk__in=outcome.gone).delete()
    PushSubscription.objects.filter(pk__in=outcome.sent).update(last_push_at=timezone.now())
    return outcome


def push_claim(*, notification_ids: Iterable[int], now: datetime) -> list[Notification]:
    """Claim the notices not pushed yet (`pushed_at`), under row locks: of two runs of one
    task, only the first pushes them. Not those read meanwhile (on another device): a phone
    does not buzz for what its member has seen."""
    with transaction.atomic():
        claimed = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(notification_ids), pushed_at__isnull=True, read_at__isnull=True)
            .order_by("created_at", "pk")
        )
        Notification.objects.filter(pk__in=[n.pk for n in claimed]).update(pushed_at=now)
    return claimed


def push_notices(
    *,
    user: User,
    notifications: Sequence[Notification],
    subscription_ids: Sequence[int] | None = None,
) -> Outcome:
    """Send claimed notices to the member's devices (or to those listed, on a retry)."""
    payload = payload_for(notifications, user=user)
    ttl, headers = _headers(notifications, payload)
    return deliver(
        subscriptions=_devices(user, subscription_ids), payload=payload, ttl=ttl, headers=headers
    )


def push_test(*, user: User, subscription_ids: Sequence[int] | None = None) -> Outcome:
    """A notification the member asked for, to see that their devices receive them: sent
    whatever the hour, to every device."""
    with translation.override(user.language):
        payload = {
            "title": settings.SITE_NAME,
            "body": _("Notifications work on this device."),
            "url": reverse("notifications:settings"),
            "tag": "test",
            "renotify": True,
            "lang": user.language,
        }
    return deliver(
        subscriptions=_devices(user, subscription_ids),
        payload=payload,
        ttl=60 * 60,
        headers={"Urgency": "normal"},
    )


def _devices(user: User, subscription_ids: Sequence[int] | None) -> Iterable[PushSubscription]:
    """The member's devices, or those of them listed (a retry). A device whose session no
    longer signs the member in is turned off (deleted) instead: the browser is no longer
    theirs to show news on. Devices turned on before sessions were recorded have none."""
    devices = PushSubscription.objects.filter(user=user)
    if subscription_ids is not None:
        devices = devices.filter(pk__in=list(subscription_ids))
    kept, gone = [], []
    for device in devices:
        if not device.session_key or _signs_in(device.session_key, user):
            kept.append(device)
        else:
            gone.append(device.pk)
    if gone:
        PushSubscription.objects.filter(pk__in=gone).delete()
    return kept

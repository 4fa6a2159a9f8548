"""Web Push through the real path (notifications/push.py, docs/webapp.md): a notice told by
`notify` goes, after commit, through the Celery task to the tests' push service on loopback
(tests/push_service.py), which checks the VAPID token and decrypts the body with the
device's key, as the device would. Also: the devices' own pages, quiet hours, holding in
focus, retries and expired devices."""

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from allauth.usersessions.models import UserSession
from django.core.management import call_command
from django.test import Client
from django.utils import timezone, translation

from conversations.services import direct_conversation_start, message_post
from events import tasks as event_tasks
from events.models import Rsvp
from matching import tasks as matching_tasks
from matching.models import Meeting, MeetingNotice
from members.models import User
from notifications import push
from notifications.models import (
    Channel,
    Kind,
    Notification,
    Preference,
    PushSubscription,
    QuietHours,
)
from notifications.services import CONFIGURABLE, notifications_mark_read, notify
from notifications.tasks import held_release_tick, push_send, push_test_send
from rooms.models import Presence
from rooms.services import cafeteria_get
from tests.factories import (
    PASSWORD,
    EventFactory,
    GroupMemberFactory,
    RsvpFactory,
    client_for,
    onboarded_member,
)
from tests.push_service import Device, PushService
from tests.test_notifications import CAUSES
from tests.test_notifications_held import DURING, END, in_focus

pytestmark = pytest.mark.django_db

# Monday 7 December 2026, 11:00 in Madrid: far from anyone's night.
NOON = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
OnCommit = Callable[..., AbstractContextManager[Any]]


def member(name: str, **fields: Any) -> User:
    email = name.lower().replace(" ", ".") + "@example.com"
    return onboarded_member(name, email=email, language="en", **fields)


def device_of(user: User, service: PushService, name: str) -> tuple[Device, PushSubscription]:
    device = Device()
    subscription = PushSubscription.objects.create(
        user=user, endpoint=service.endpoint(name), p256dh=device.p256dh, auth=device.auth_b64
    )
    return device, subscription


def shown(device: Device, service: PushService, name: str) -> list[dict[str, Any]]:
    """What the device would show: each push to it, decrypted."""
    return [json.loads(device.decrypt(received.body)) for received in service.to(name)]


@pytest.fixture
def ana() -> User:
    return member("Ana Arias")


@pytest.fixture
def retried_at_once() -> Iterator[None]:
    """Eager tasks run a retry at once (its countdown ignored) when their errors are not
    propagated to the caller, as a worker would later."""
    from coworking.celery import app

    propagates = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = propagates


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: OnCommit) -> Iterator[OnCommit]:
    yield lambda: django_capture_on_commit_callbacks(execute=True)


def test_a_notice_reaches_every_device_signed_and_encrypted_for_each(
    ana: User, push_service: PushService, on_commit: OnCommit
) -> None:
    phone, _ = device_of(ana, push_service, "phone")
    laptop, _ = device_of(ana, push_service, "laptop")

    with time_machine.travel(NOON, tick=False), on_commit():
        delivery = notify(
            user=ana,
            kind=Kind.MENTION,
            key="mention:1",
            text="Beto mentioned you in the Cafeteria",
            url="/rooms/cafeteria/",
        )

    notice = delivery.notification
    assert delivery.pushed
    for device, name in [(phone, "phone"), (laptop, "laptop")]:
        [received] = push_service.to(name)
        assert received.signer == push.public_key()  # our VAPID key signed it
        assert received.claims["sub"].startswith("mailto:")
        assert received.headers["urgency"] == "normal"
        assert int(received.headers["ttl"]) == push.DEFAULT_TTL
        assert shown(device, push_service, name) == [
            {
                "title": "Someone mentioned you",
                "body": "Beto mentioned you in the Cafeteria",
                "url": f"/notifications/{notice.pk}/",
                "page": "/rooms/cafeteria/",
                "tag": "mention:/rooms/cafeteria/",
                "renotify": True,
                "lang": "en",
            }
        ]
    notice.refresh_from_db()
    assert notice.pushed_at == NOON
    assert set(PushSubscription.objects.values_list("last_push_at", flat=True)) == {NOON}

    # The task run again (a redelivery) pushes nothing twice.
    push_send(ana.pk, [notice.pk])
    assert len(push_service.received) == 2


def test_a_push_is_written_in_the_members_language(
    push_service: PushService, on_commit: OnCommit
) -> None:
    eva = onboarded_member("Eva", email="eva@example.com", language="es")
    device, _ = device_of(eva, push_service, "eva")
    with time_machine.travel(NOON, tick=False), on_commit():
        notify(
            user=eva,
            kind=Kind.MESSAGE,
            key="conversation:1:1",
            text="Beto wrote to you",
            url="/messages/1/",
        )
    [message] = shown(device, push_service, "eva")
    assert (message["title"], message["lang"]) == ("Nuevo mensaje", "es")


@pytest.mark.parametrize("kind", [kind for kind in CONFIGURABLE if kind in push.TITLES])
def test_each_kind_is_pushed_from_the_task_that_tells_it(
    kind: str, ana: User, push_service: PushService, on_commit: OnCommit
) -> None:
    QuietHours.objects.create(user=ana, start=None, end=None)  # any hour the cause runs at
    device, _ = device_of(ana, push_service, "phone")

    with on_commit():
        CAUSES[kind](ana)

    notice = Notification.objects.get(user=ana)
    [message] = shown(device, push_service, "phone")
    with translation.override("en"):
        assert message["title"] == str(push.TITLES[Kind(kind)])
    assert message["body"] == notice.text
    # Reminders of what is about to start (CAUSES tells of an event's starting-soon one) are
    # worthless once the moment has passed: the push service may drop them.
    lifetime = {Kind.EVENT_REMINDER: 15 * 60, Kind.FOCUS_REMINDER: 5 * 60}
    [received] = push_service.to("phone")
    assert received.headers["urgency"] == ("high" if kind in lifetime else "normal")
    assert int(received.headers["ttl"]) == lifetime.get(Kind(kind), 24 * 60 * 60)


def test_a_reminder_a_day_ahead_is_news_and_a_coffee_about_to_start_is_urgent(
    ana: User, push_service: PushService, on_commit: OnCommit
) -> None:
    QuietHours.objects.create(user=ana, start=None, end=None)
    device, _ = device_of(ana, push_service, "phone")
    tomorrow = timezone.now() + timedelta(hours=23, minutes=50)
    event = EventFactory.create(starts_at=tomorrow, ends_at=tomorrow + timedelta(hours=1))
    rsvp = RsvpFactory.create(
        event=event,
        user=ana,
        status=Rsvp.Status.GOING,
        going_since=timezone.now() - timedelta(days=2),
    )
    luis = member("Luis Lara")
    group = GroupMemberFactory.create(user=ana).group
    GroupMemberFactory.create(group=group, user=luis)
    start = (timezone.now() + timedelta(minutes=10)).replace(second=0, microsecond=0)
    meeting = Meeting.objects.create(
        group=group, starts_at=start, proposed_by=luis, accepted_by=ana, accepted_at=timezone.now()
    )

    with on_commit():
        event_tasks.reminder_send(rsvp.pk, "day")
        reminder = MeetingNotice.objects.create(
            meeting=meeting,
            user=ana,
            what=MeetingNotice.What.REMINDER,
            starts_at=start,
            sequence=meeting.sequence,
        )
        matching_tasks.meeting_notice_send(reminder.pk)

    day, coffee = push_service.to("phone")
    with translation.override("en"):
        titles = [message["title"] for message in shown(device, push_service, "phone")]
    assert titles == ["Event reminder", "Your coffee pair"]
    # Sent at least 20 hours ahead, it waits 12 at most: never shown after the start.
    assert (day.headers["urgency"], int(day.headers["ttl"])) == ("normal", 12 * 60 * 60)
    assert (coffee.headers["urgency"], int(coffee.headers["ttl"])) == ("high", 15 * 60)


def test_a_kind_the_member_turned_off_is_not_pushed_but_still_told(
    ana: User, push_service: PushService, on_commit: OnCommit
) -> None:
    Preference.objects.create(user=ana, kind=Kind.MENTION, channel="both", push=False)
    device_of(ana, push_service, "phone")
    with time_machine.travel(NOON, tick=False), on_commit():
        muted = notify(user=ana, kind=Kind.MENTION, key="mention:1", text="A mention", url="/r/")
        told = notify(
            user=ana, kind=Kind.MESSAGE, key="conversation:1:1", text="A message", url="/m/"
        )
    assert not muted.pushed and muted.email and told.pushed
    assert len(push_service.to("phone")) == 1


@pytest.mark.parametrize("busy", ["dnd", "call", "at a table"])
def test_do_not_disturb_in_a_call_or_at_a_table_silences_the_devices_but_not_a_reminder(
    busy: str, ana: User, push_service: PushService, on_commit: OnCommit
) -> None:
    device_of(ana, push_service, "phone")
    here = Presence.objects.create(
        room=cafeteria_get(),
        user=ana,
        channel_name="c-ana",
        heartbeat_at=NOON,
        status=busy if busy != "at a table" else Presence.Status.WORKING,
        table=1 if busy == "at a table" else None,
    )
    with time_machine.travel(NOON, tick=False), on_commit():
        quiet = notify(user=ana, kind=Kind.MESSAGE, key="conversation:1:1", text="Hi", url="/m/")
        reminder = notify(
            user=ana, kind=Kind.FOCUS_REMINDER, key="focus:1", text="Soon", url="/f/", urgent=True
        )
    assert not quiet.pushed and quiet.email and reminder.pushed
    assert len(push_service.to("phone")) == 1

    # Back to work, away from the table: the next one buzzes; the one before does not.
    Presence.objects.filter(pk=here.pk).update(status=Presence.Status.WORKING, table=None)
    with time_machine.travel(NOON, tick=False), on_commit():
        assert notify(
            user=ana, kind=Kind.MESSAGE, key="conversation:1:2", text="Again", url="/m/"
        ).pushed
    assert len(push_service.to("phone")) == 2

    # A presence whose heartbeat stopped (a closed laptop) silences nothing.
    Presence.objects.filter(pk=here.pk).update(status=Presence.Status.DND)
    with time_machine.travel(NOON + timedelta(hours=1), tick=False), on_commit():
        assert notify(
            user=ana, kind=Kind.MESSAGE, key="conversation:1:3", text="Later", url="/m/"
        ).pushed


def test_a_kind_told_whatever_the_member_chooses_buzzes_only_if_she_wants(
    ana: User, push_service: PushService, on_commit: OnCommit
) -> None:
    page = client_for(ana).get("/notifications/settings/").content.decode()
    assert 'name="push_room_invited"' in page and 'name="push_event_changed"' in page
    Preference.objects.create(user=ana, kind=Kind.ROOM_INVITED, channel="in_app", push=False)
    device_of(ana, push_service, "phone")
    with time_machine.travel(NOON, tick=False), on_commit():
        invited = notify(user=ana, kind=Kind.ROOM_INVITED, key="room:1", text="Come", url="/r/")
        changed = notify(user=ana, kind=Kind.EVENT_CHANGED, key="event:1", text="Moved", url="/e/")
    assert not invited.pushed and changed.pushed
    assert invited.notification.in_app and changed.email  # told all the same
    assert len(push_service.to("phone")) == 1


def test_repeated_messages_of_one_conversation_replace_each_other_on_the_device(
    ana: User, push_service: PushService, on_commit: OnCommit
) -> None:
    device, _ = device_of(ana, push_service, "phone")
    with time_machine.travel(NOON, tick=False), on_commit():
        for first_unread in (1, 5):
            notify(
                user=ana,
                kind=Kind.MESSAGE,
                key=f"conversation:9:{first_unread}",
                text="Beto wrote to you",
                url="/messages/9/",
            )
        notify(
            user=ana,
            kind=Kind.MESSAGE,
            key="conversation:3:1",
            text="Eva wrote to you",
            url="/messages/3/",
        )
    first, second, other = shown(device, push_service, "phone")
    assert first["tag"] == second["tag"] != other["tag"]
    assert first["renotify"] and second["renotify"]
    topics = [received.headers["topic"] for received in push_service.to("phone")]
    assert topics[0] == topics[1] != topics[2] and len(topics[0]) <= 32


@pytest.mark.parametrize(
    ("zone", "utc_hour", "quiet"),
    [
        ("Europe/Madrid", 21, True),  # 22:00 there: quiet begins
        ("Europe/Madrid", 6, True),  # 07:00: still night
        ("Europe/Madrid", 7, False),  # 08:00: over
        ("America/Mexico_City", 3, False),  # 21:00 there: not yet
        ("America/Mexico_City", 4, True),  # 22:00 there
        ("America/Mexico_City", 15, False),  # 09:00 there
    ],
)
def test_quiet_hours_are_read_in_the_members_own_zone(
    zone: str, utc_hour: int, quiet: bool
) -> None:
    who = member("Zoe", time_zone=zone)
    moment = datetime(2026, 12, 7, utc_hour, 0, tzinfo=UTC)
    assert push.is_quiet(user=who, now=moment) is quiet


def test_in_quiet_hours_nothing_is_pushed_and_the_notice_stays_on_the_site(
    ana: User, push_service: PushService, on_commit: OnCommit
) -> None:
    device_of(ana, push_service, "phone")
    QuietHours.objects.create(user=ana, start=time(13, 0), end=time(15, 0))
    with time_machine.travel(datetime(2026, 12, 7, 12, 30, tzinfo=UTC), tick=False), on_commit():
        delivery = notify(user=ana, kind=Kind.MESSAGE, key="c:1", text="Quiet please", url="/m/")
    assert not delivery.pushed and delivery.notification.in_app and delivery.email
    assert push_service.received == []
    # The default night applies to a member who chose nothing; none once they clear it.
    QuietHours.objects.filter(user=ana).update(start=None, end=None)
    assert push.quiet_hours_for(user=ana) is None
    QuietHours.objects.filter(user=ana).delete()
    assert push.quiet_hours_for(user=ana) == push.DEFAULT_QUIET


def test_notices_held_in_focus_are_pushed_as_one_batch_when_it_ends(
    ana: User, push_service: PushService, on_commit: OnCommit
) -> None:
    device, _ = device_of(ana, push_service, "phone")
    in_focus(ana)
    with time_machine.travel(DURING, tick=False), on_commit():
        notify(user=ana, kind=Kind.MENTION, key="m:1", text="A mention", url="/rooms/x/")
        notify(user=ana, kind=Kind.MESSAGE, key="c:1", text="A message", url="/messages/1/")
    assert push_service.received == []

    with time_machine.travel(END, tick=False):
        held_release_tick()
        held_release_tick()  # a second beat pushes nothing more
    [message] = shown(device, push_service, "phone")
    assert message["title"] == "While you were focusing"
    assert message["body"] == "2 new notifications"
    assert message["url"] == "/notifications/"
    assert not Notification.objects.filter(pushed_at__isnull=True).exists()


@pytest.mark.parametrize("status", [404, 410])
def test_a_device_the_push_service_no_longer_knows_is_deleted(
    status: int, ana: User, push_service: PushService, on_commit: OnCommit
) -> None:
    device_of(ana, push_service, "old")
    _, kept = device_of(ana, push_service, "new")
    push_service.answers["/push/old"].append(status)
    with time_machine.travel(NOON, tick=False), on_commit():
        notify(user=ana, kind=Kind.MESSAGE, key="c:1", text="Hola", url="/m/")
    assert list(PushSubscription.objects.values_list("pk", flat=True)) == [kept.pk]
    assert len(push_service.received) == 2  # one each, none retried


def test_a_push_service_s_redirect_is_not_followed(
    ana: User, push_service: PushService, on_commit: OnCommit
) -> None:
    # A push service is the member's choice of address: a redirect could lead the worker to
    # an address inside our network that the endpoint's own check refused.
    device_of(ana, push_service, "moved")
    push_service.redirects["/push/moved"] = push_service.endpoint("inside")
    with time_machine.travel(NOON, tick=False), on_commit():
        notify(user=ana, kind=Kind.MESSAGE, key="c:1", text="Hola", url="/m/")
    assert push_service.to("inside") == []
    assert PushSubscription.objects.count() == 1  # refused, not retried nor dropped


@pytest.mark.usefixtures("retried_at_once")
def test_a_failing_push_service_is_retried_for_the_failed_device_only(
    ana: User, push_service: PushService, on_commit: OnCommit, monkeypatch: pytest.MonkeyPatch
) -> None:
    device, _ = device_of(ana, push_service, "flaky")
    device_of(ana, push_service, "steady")
    push_service.answers["/push/flaky"].extend([503, 429])
    # A push service that keeps the worker waiting is given up on and retried too.
    monkeypatch.setattr(push, "TIMEOUT", (1, 0.5))
    push_service.delays["/push/flaky"].extend([0, 0, 2])
    QuietHours.objects.create(user=ana, start=None, end=None)  # real time: the wait is real
    with on_commit():
        notify(user=ana, kind=Kind.MESSAGE, key="c:1", text="Hola", url="/m/")
    # Eager tasks retry at once: 503, 429, a timeout, then delivered.
    assert len(push_service.to("steady")) == 1
    flaky = push_service.wait_for("flaky", count=4)
    assert len(flaky) == 4
    assert [message["body"] for message in shown(device, push_service, "flaky")] == ["Hola"] * 4
    assert PushSubscription.objects.count() == 2


@pytest.mark.usefixtures("retried_at_once")
def test_a_push_service_that_never_recovers_is_given_up_on(
    ana: User, push_service: PushService, on_commit: OnCommit
) -> None:
    device_of(ana, push_service, "down")
    push_service.answers["/push/down"].extend([500] * 10)
    with time_machine.travel(NOON, tick=False), on_commit():
        notify(user=ana, kind=Kind.MESSAGE, key="c:1", text="Hola", url="/m/")
    from notifications.tasks import PUSH_RETRIES

    assert len(push_service.to("down")) == PUSH_RETRIES + 1
    assert PushSubscription.objects.count() == 1  # kept: the service may come back


def test_one_member_with_fifty_devices_is_one_task_that_reaches_them_all(
    ana: User, push_service: PushService, on_commit: OnCommit
) -> None:
    devices = [device_of(ana, push_service, f"d{n}")[0] for n in range(50)]
    with time_machine.travel(NOON, tick=False), on_commit():
        notify(user=ana, kind=Kind.MESSAGE, key="c:1", text="Hola", url="/m/")
    for n, device in enumerate(devices):
        assert [message["body"] for message in shown(device, push_service, f"d{n}")] == ["Hola"]


# The devices' own pages -------------------------------------------------------------------


def subscribe(client: Client, **fields: str) -> Any:
    return client.post("/notifications/push/subscribe/", fields, HTTP_USER_AGENT=ANDROID)


ANDROID = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"


def test_a_member_turns_a_device_on_lists_it_and_turns_it_off(
    ana: User, push_service: PushService, on_commit: OnCommit
) -> None:
    client = client_for(ana)
    device = Device()
    answer = subscribe(
        client, endpoint=push_service.endpoint("mine"), p256dh=device.p256dh, auth=device.auth_b64
    )
    assert answer.status_code == 201
    stored = PushSubscription.objects.get(user=ana)
    assert answer.json() == {"id": stored.pk, "device": "Chrome on Android"}
    assert stored.session_key == client.session.session_key

    page = client.get("/notifications/settings/").content.decode()
    assert "Chrome on Android" in page and f'data-push-key="{push.public_key()}"' in page

    # A test notification, on request.
    with on_commit():
        assert client.post("/notifications/push/test/").status_code == 302
    [message] = shown(device, push_service, "mine")
    assert message["body"] == "Notifications work on this device."

    # Somebody else cannot turn it off; Ana can.
    assert (
        client_for(member("Olga Otra")).post(f"/notifications/push/{stored.pk}/remove/").status_code
        == 404
    )
    assert client.post(f"/notifications/push/{stored.pk}/remove/").status_code == 302
    assert not PushSubscription.objects.exists()


def test_signing_out_turns_off_the_devices_that_session_turned_on(
    ana: User, push_service: PushService
) -> None:
    client, other = client_for(ana), client_for(ana)
    device = Device()
    fields = {"p256dh": device.p256dh, "auth": device.auth_b64}
    subscribe(client, endpoint=push_service.endpoint("shared-pc"), **fields)
    subscribe(other, endpoint=push_service.endpoint("own-phone"), **fields)
    client.post("/accounts/logout/")
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [
        push_service.endpoint("own-phone")
    ]


def test_a_session_ended_elsewhere_or_left_behind_by_a_new_password_gets_no_more_news(
    ana: User, push_service: PushService, on_commit: OnCommit
) -> None:
    shared, phone, laptop = client_for(ana), client_for(ana), client_for(ana)
    device = Device()
    fields = {"p256dh": device.p256dh, "auth": device.auth_b64}
    for client, name in ((shared, "shared-pc"), (phone, "phone"), (laptop, "laptop")):
        subscribe(client, endpoint=push_service.endpoint(name), **fields)

    def mention(n: int) -> None:
        with time_machine.travel(NOON, tick=False), on_commit():
            notify(user=ana, kind=Kind.MENTION, key=f"mention:{n}", text="Hola", url="/")

    # From her phone she ends the session she left open on a shared computer.
    UserSession.objects.get(session_key=shared.session.session_key).end()
    mention(1)
    assert push_service.to("shared-pc") == [] and len(push_service.to("phone")) == 1
    # On the phone she changes her password, staying signed in there: the laptop's session
    # no longer signs her in, the phone's (under a new key) does.
    answer = phone.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "Nueva-clave-2026", "password2": "Nueva-clave-2026"},
    )
    assert answer.status_code == 302
    phone.get("/notifications/")  # the browser's next page
    mention(2)
    assert len(push_service.to("phone")) == 2 and len(push_service.to("laptop")) == 1
    assert sorted(PushSubscription.objects.values_list("endpoint", flat=True)) == [
        push_service.endpoint("phone")
    ]


def test_a_device_follows_its_member_signing_in_again_on_that_browser_and_nobody_else(
    ana: User, push_service: PushService, on_commit: OnCommit
) -> None:
    """A sign-in without "Remember me" after the browser closed, or after a password changed
    elsewhere, is a new session: the device its page says the browser holds follows it,
    rather than be found signed out at its next notice and turned off without a word."""
    rebind = "/notifications/push/rebind/"
    laptop = client_for(ana)
    device = Device()
    endpoint = push_service.endpoint("laptop")
    subscribe(laptop, endpoint=endpoint, p256dh=device.p256dh, auth=device.auth_b64)
    assert "data-push-rebind" not in laptop.get("/").content.decode()  # turned on here

    again = client_for(ana)
    assert f'data-push-rebind="{rebind}"' in again.get("/").content.decode()
    assert again.post(rebind, {"endpoint": endpoint}).status_code == 204
    assert PushSubscription.objects.get().session_key == again.session.session_key
    assert "data-push-rebind" not in again.get("/").content.decode()  # asked once a session
    laptop.post("/accounts/logout/")  # the old session ends; the device is the new one's
    with time_machine.travel(NOON, tick=False), on_commit():
        notify(user=ana, kind=Kind.MENTION, key="mention:1", text="Hola", url="/")
    assert len(push_service.to("laptop")) == 1

    # Another member who signs in on that browser is not given Ana's notices.
    assert client_for(member("Olga Otra")).post(rebind, {"endpoint": endpoint}).status_code == 404
    assert PushSubscription.objects.get().user == ana


def test_a_subscription_the_browser_replaced_is_renewed_for_the_device_stored_under_it(
    ana: User, push_service: PushService, on_commit: OnCommit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service worker's `pushsubscriptionchange` (tests/browser/test_push.py runs the
    worker's side): no CSRF token (a worker has no page), the old endpoint names the device."""
    _old_device, stored = device_of(ana, push_service, "rotated")
    olgas_device = device_of(member("Olga Otra"), push_service, "olgas")[1]
    worker = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    worker.force_login(ana)
    device = Device()
    fresh = {"endpoint": push_service.endpoint("new"), "p256dh": device.p256dh}
    fresh["auth"] = device.auth_b64

    def renew(old_endpoint: str, client: Client = worker) -> int:
        answer = client.post("/notifications/push/renew/", {"old_endpoint": old_endpoint, **fresh})
        return int(answer.status_code)

    # Not a device of Ana's (someone else's, or turned off since): nothing is stored, and
    # the new address's host is not even looked up.
    looked_up: list[object] = []
    real_lookup = push.socket.getaddrinfo

    def lookup(*args: Any, **kwargs: Any) -> Any:
        looked_up.append(args)
        return real_lookup(*args, **kwargs)

    monkeypatch.setattr(push.socket, "getaddrinfo", lookup)
    assert renew(olgas_device.endpoint) == 404
    assert renew(push_service.endpoint("turned-off")) == 404
    assert looked_up == []
    assert renew(stored.endpoint, Client(enforce_csrf_checks=True)) == 403  # nobody signed in
    assert PushSubscription.objects.filter(endpoint=fresh["endpoint"]).count() == 0

    assert renew(stored.endpoint) == 204
    stored.refresh_from_db()
    assert (stored.endpoint, stored.user, stored.p256dh) == (fresh["endpoint"], ana, device.p256dh)
    with on_commit():
        assert client_for(ana).post("/notifications/push/test/").status_code == 302
    [message] = shown(device, push_service, "new")  # the new keys read it
    assert message["body"] == "Notifications work on this device."
    # As many tries as turning a device on allows, then a wait.
    answers = {renew(push_service.endpoint("turned-off")) for _ in range(10)}
    assert answers == {404, 429}


def test_a_browser_used_by_another_member_now_brings_them_its_notices(
    ana: User, push_service: PushService
) -> None:
    device = Device()
    fields = {
        "endpoint": push_service.endpoint("family-pc"),
        "p256dh": device.p256dh,
        "auth": device.auth_b64,
    }
    subscribe(client_for(member("Olga Otra")), **fields)
    subscribe(client_for(ana), **fields)
    assert PushSubscription.objects.get().user == ana


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"endpoint": "not a url"}, "endpoint", "This is not a push service's address."),
        (
            {"endpoint": "ftp://push.example.com/x"},
            "endpoint",
            "The push service's address must start with https://.",
        ),
        ({"endpoint": ""}, "endpoint", "The browser gave no push service's address."),
        (
            {"endpoint": "https://push.example.com/" + "a" * 1000},
            "endpoint",
            "This push service's address is too long.",
        ),
        ({"p256dh": "AAAA"}, "p256dh", "The device's public key is not a valid P-256 key."),
        ({"p256dh": "B" + "A" * 86}, "p256dh", "The device's public key is not a valid P-256 key."),
        ({"auth": "c2hvcnQ"}, "auth", "The device's secret must be 16 bytes, base64url-encoded."),
        ({"auth": "!!!!"}, "auth", "The device's secret must be 16 bytes, base64url-encoded."),
    ],
)
def test_a_malformed_subscription_is_refused_with_a_clear_message(
    fields: dict[str, str], field: str, message: str, ana: User, push_service: PushService
) -> None:
    device = Device()
    good = {
        "endpoint": push_service.endpoint("x"),
        "p256dh": device.p256dh,
        "auth": device.auth_b64,
    }
    answer = subscribe(client_for(ana), **{**good, **fields})
    assert answer.status_code == 400
    assert [error["message"] for error in answer.json()["errors"][field]] == [message]
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("https://127.0.0.1/push/x", "This push service is not on the public internet."),
        ("https://localhost:8443/push/x", "This push service is not on the public internet."),
        ("https://10.1.2.3/push/x", "This push service is not on the public internet."),
        (
            "https://169.254.169.254/latest/meta-data",
            "This push service is not on the public internet.",
        ),
        ("https://[::1]/push/x", "This push service is not on the public internet."),
        ("http://93.184.215.14/push/x", "The push service's address must start with https://."),
        ("https://user:pw@93.184.215.14/push/x", "This is not a push service's address."),
        (
            "https://no-such-host.invalid/push/x",
            "We could not find this push service. Try again later.",
        ),
    ],
)
def test_production_refuses_endpoints_inside_our_own_network(
    endpoint: str, message: str, ana: User, settings: Any
) -> None:
    settings.PUSH_ALLOW_PRIVATE_ENDPOINTS = False
    device = Device()
    answer = subscribe(
        client_for(ana), endpoint=endpoint, p256dh=device.p256dh, auth=device.auth_b64
    )
    assert answer.status_code == 400
    assert [error["message"] for error in answer.json()["errors"]["endpoint"]] == [message]


def test_a_stored_endpoint_that_now_points_inside_is_dropped_at_send_time(
    ana: User, push_service: PushService, on_commit: OnCommit, settings: Any
) -> None:
    device_of(ana, push_service, "moved")
    settings.PUSH_ALLOW_PRIVATE_ENDPOINTS = False
    with time_machine.travel(NOON, tick=False), on_commit():
        notify(user=ana, kind=Kind.MESSAGE, key="c:1", text="Hola", url="/m/")
    assert push_service.received == [] and not PushSubscription.objects.exists()


def test_without_a_key_the_site_offers_no_push(ana: User, settings: Any) -> None:
    settings.VAPID_PRIVATE_KEY = ""
    settings.VAPID_KEY_FILE = ""
    page = client_for(ana).get("/notifications/settings/").content.decode()
    assert "data-push-key" not in page
    device = Device()
    answer = subscribe(
        client_for(ana),
        endpoint="https://push.example.com/x",
        p256dh=device.p256dh,
        auth=device.auth_b64,
    )
    assert answer.status_code == 409


def test_the_member_chooses_kinds_to_push_and_quiet_hours(ana: User) -> None:
    client = client_for(ana)
    form: dict[str, str] = {kind.value: "both" for kind in CONFIGURABLE}
    form |= {f"push_{kind}": "on" for kind in CONFIGURABLE if kind != Kind.PAIR_FOLLOW_UP}
    # Told whatever she chooses, but whether her devices buzz for them is hers too.
    form |= {"push_event_changed": "on"}
    answer = client.post(
        "/notifications/settings/", {**form, "quiet_start": "23:30", "quiet_end": "07:00"}
    )
    assert answer.status_code == 302
    assert dict(Preference.objects.filter(user=ana).values_list("kind", "push")) == {
        **{kind: kind != Kind.PAIR_FOLLOW_UP for kind in CONFIGURABLE},
        Kind.EVENT_CHANGED: True,
        Kind.ROOM_INVITED: False,
    }
    assert push.quiet_hours_for(user=ana) == (time(23, 30), time(7, 0))

    # Half a pair of times is refused, and what was typed stays.
    answer = client.post(
        "/notifications/settings/", {**form, "quiet_start": "21:00", "quiet_end": ""}
    )
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "Give both times, or leave both empty for no quiet hours." in page
    assert 'value="21:00"' in page
    assert push.quiet_hours_for(user=ana) == (time(23, 30), time(7, 0))
    # The field is described by the shared help and by its error, which screen readers read.
    assert 'aria-describedby="quiet-help quiet-empty-help id_quiet_end_error"' in page
    assert 'id="id_quiet_end_error"' in page

    # The same time twice would be no quiet hours at all: refused, not dropped.
    answer = client.post(
        "/notifications/settings/", {**form, "quiet_start": "22:00", "quiet_end": "22:00"}
    )
    assert answer.status_code == 200
    assert "the same time leaves no quiet hours" in answer.content.decode()
    assert push.quiet_hours_for(user=ana) == (time(23, 30), time(7, 0))

    # Both empty: no quiet hours at all.
    client.post("/notifications/settings/", {**form, "quiet_start": "", "quiet_end": ""})
    assert push.quiet_hours_for(user=ana) is None


def test_the_key_command_prints_a_pair_the_sender_can_use(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command("vapid_keys")
    lines = capsys.readouterr().out.splitlines()
    private = lines[0].removeprefix("VAPID_PRIVATE_KEY=")
    assert lines[1].endswith(push.vapid_key_public(private))
    assert len(push._unb64(private)) == 32


def test_the_embedded_setup_makes_its_key_once_and_keeps_it(tmp_path: Path, settings: Any) -> None:
    settings.VAPID_PRIVATE_KEY = ""
    settings.VAPID_KEY_FILE = str(tmp_path / "keys" / "vapid.txt")
    first = push.public_key()
    push._vapid.cache_clear()
    assert push.public_key() == first and first
    assert (tmp_path / "keys" / "vapid.txt").stat().st_mode & 0o077 == 0  # the owner's alone
    push._vapid.cache_clear()


def test_pushes_do_not_leak_between_members(push_service: PushService, on_commit: OnCommit) -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    device_of(ana, push_service, "ana")
    beto_device, _ = device_of(beto, push_service, "beto")
    conversation = direct_conversation_start(starter=ana, other=beto)
    with time_machine.travel(NOON, tick=False), on_commit():
        message_post(conversation=conversation, author=ana, text="¿Café?", client_id=uuid.uuid4())
    with time_machine.travel(NOON + timedelta(minutes=11), tick=False), on_commit():
        from conversations.tasks import unread_tell_tick

        unread_tell_tick()
    assert push_service.to("ana") == []
    [message] = shown(beto_device, push_service, "beto")
    assert message["body"] == "Ana Arias wrote to you"
    assert message["page"] == f"/messages/{conversation.pk}/"


def test_a_test_notification_goes_out_at_any_hour(
    ana: User, push_service: PushService, settings: Any
) -> None:
    device, _ = device_of(ana, push_service, "phone")
    QuietHours.objects.create(user=ana, start=time(0, 0), end=time(23, 59))
    push_test_send(ana.pk)
    assert [m["title"] for m in shown(device, push_service, "phone")] == [settings.SITE_NAME]


def test_a_notice_read_on_another_device_before_its_push_or_its_retry_is_not_pushed(
    ana: User, push_service: PushService, django_capture_on_commit_callbacks: OnCommit
) -> None:
    _device, phone = device_of(ana, push_service, "phone")
    with time_machine.travel(NOON, tick=False), django_capture_on_commit_callbacks() as queued:
        notify(user=ana, kind=Kind.MESSAGE, key="c:1", text="Hola", url="/m/")
    notice = Notification.objects.get(user=ana)
    notifications_mark_read(user=ana)  # on the laptop, before the worker took the push

    for callback in queued:
        callback()
    push_send(ana.pk, [notice.pk], [phone.pk])  # a retry of it, minutes later

    assert push_service.to("phone") == []


def test_one_author_s_mentions_buzz_the_phone_once_every_ten_minutes(
    ana: User, push_service: PushService, on_commit: OnCommit
) -> None:
    """Within the chat budget an author could mention a member 30 times a minute, or edit a
    mention out and back in: each used to ring the phone. Every notice is still listed."""
    from rooms import services as room_services
    from tests.factories import RoomFactory

    QuietHours.objects.create(user=ana, start=None, end=None)
    device_of(ana, push_service, "phone")
    beto, carla = member("Beto Bravo"), member("Carla Cano")
    room = RoomFactory.create()
    for user in (ana, beto, carla):
        room_services.room_enter(room=room, user=user)

    def mention(author: User, at: datetime) -> None:
        with time_machine.travel(at, tick=False), on_commit():
            room_services.message_post(
                room=room, author=author, text="@Ana Arias look", client_id=uuid.uuid4()
            )

    start = NOON.replace(minute=0)
    # Not pushed (her choice then): the window is not spent on it.
    Preference.objects.create(user=ana, kind=Kind.MENTION, channel=Channel.BOTH, push=False)
    mention(beto, start)
    Preference.objects.filter(user=ana, kind=Kind.MENTION).update(push=True)
    for minute in range(1, 4):
        mention(beto, start + timedelta(minutes=minute))
    mention(carla, start + timedelta(minutes=5))  # another author rings once too
    mention(beto, start + timedelta(minutes=11))  # the next window

    assert Notification.objects.filter(user=ana, kind=Kind.MENTION).count() == 6
    assert len(push_service.to("phone")) == 3

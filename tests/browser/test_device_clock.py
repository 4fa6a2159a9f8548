"""A member whose device clock is wrong (set by hand, never synchronised) sees the site by
the server's clock: when a mute ends, their own message's time, an event's "Starting now",
how long ago a notice came (static/js/clock.js)."""

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from conversations.models import Message
from conversations.services import direct_conversation_start
from notifications.models import Kind
from notifications.services import notify
from rooms.models import RoomParticipation
from tests.browser.test_rooms_live import cafeteria
from tests.browser.test_rooms_page import enter
from tests.factories import PASSWORD, EventFactory, onboarded_member

pytestmark = pytest.mark.browser

Login = Callable[[Page, str, str, str], None]
NewPage = Callable[..., Page]


def test_a_device_an_hour_behind_writes_again_when_the_mute_ends_and_stamps_the_server_s_time(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    room = cafeteria()
    RoomParticipation.objects.create(
        room=room, user=ana, muted_until=timezone.now() + timedelta(seconds=4)
    )
    anas, betos = new_page(), new_page()
    anas.clock.install(time=timezone.now() - timedelta(hours=1))
    enter(anas, asgi_server, login, ana, room)
    enter(betos, asgi_server, login, beto, room)
    box = anas.get_by_label("Message", exact=True)
    expect(box).to_have_attribute("aria-disabled", "true")

    # Muted until 4 s from now by the server's clock, not for an hour and 4 s.
    expect(box).not_to_have_attribute("aria-disabled", "true", timeout=10_000)
    box.fill("Ya puedo escribir")
    box.press("Enter")
    sent = anas.locator("#messages > li", has_text="Ya puedo escribir")
    expect(sent).to_contain_text("delivered")
    theirs = betos.locator("#messages > li", has_text="Ya puedo escribir").locator("time").first

    # Her own message says when it was stored, as everyone else's page.
    expect(sent.locator("time").first).to_have_attribute(
        "datetime", theirs.get_attribute("datetime") or "missing"
    )


def test_a_device_hours_behind_shows_its_own_message_at_the_stored_time(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    conversation = direct_conversation_start(starter=ana, other=beto)
    page = new_page()
    page.clock.install(time=timezone.now() - timedelta(hours=3))
    login(page, asgi_server, ana.email, PASSWORD)
    page.goto(f"/messages/{conversation.pk}/")
    box = page.get_by_role("textbox", name="Message")

    box.fill("¿Café a las 10?")
    box.press("Enter")
    item = page.locator(".messages-log .chat-message:not(.pending)", has_text="¿Café a las 10?")
    expect(item).to_be_visible()

    stored = Message.objects.get(text="¿Café a las 10?").created_at
    shown = datetime.fromisoformat(item.locator("time").first.get_attribute("datetime") or "")
    assert shown == stored


def test_a_device_ahead_or_behind_shows_how_long_ago_and_what_is_live_by_the_server_s_clock(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    notify(user=ana, kind=Kind.PAIR_CREATED, key="pair", text="Your coffee pair: Beto.")
    now = timezone.now()
    EventFactory.create(
        title="Charla en marcha",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(minutes=55),
    )
    ahead, behind = new_page(), new_page()
    ahead.clock.install(time=now + timedelta(minutes=20))
    behind.clock.install(time=now - timedelta(minutes=15))
    login(ahead, asgi_server, ana.email, PASSWORD)
    login(behind, asgi_server, ana.email, PASSWORD)

    ahead.goto("/notifications/")
    ago = ahead.locator("time[data-ago]").first
    ahead.clock.run_for(61_000)  # the list's next look at the clock
    expect(ago).to_have_text("1 minute ago")

    behind.goto("/events/")
    live = behind.locator(".event-live").first
    expect(live).to_be_visible()
    behind.clock.run_for(31_000)  # the page's next look at the clock
    expect(live).to_be_visible()

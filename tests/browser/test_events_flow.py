"""A member starts a meetup; another finds it, answers and joins its room. An event's page
shows who is going."""

from collections.abc import Callable
from datetime import timedelta
from typing import Literal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from events.rsvps import rsvp_set
from events.services import meetup_start
from tests.factories import PASSWORD, EventFactory, onboarded_member

pytestmark = pytest.mark.browser

Login = Callable[[Page, str, str, str], None]
NewPage = Callable[..., Page]
AxeCheck = Callable[[Page], None]

SCHEMES: tuple[Literal["light", "dark"], ...] = ("light", "dark")


def axe_in_both_schemes(page: Page, axe_check: AxeCheck) -> None:
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        axe_check(page)
    page.emulate_media(color_scheme="light")


def test_a_member_starts_a_meetup_and_another_joins_its_room(
    new_page: NewPage, asgi_server: str, login: Login, axe_check: AxeCheck
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")

    host = new_page()
    login(host, asgi_server, ana.email, PASSWORD)
    host.goto("/events/")
    host.get_by_role("link", name="Start a meetup").click()
    expect(host.get_by_role("heading", name="Start a meetup")).to_be_visible()
    axe_in_both_schemes(host, axe_check)
    host.get_by_label("Title").fill("Portfolio coffee")
    host.get_by_label("Topic").fill("Show one piece of work you are proud of.")
    expect(host.get_by_label("Now")).to_be_checked()
    host.get_by_label("1 hour", exact=True).check()
    host.get_by_role("button", name="Start the meetup").click()
    expect(host.get_by_role("heading", name="Portfolio coffee")).to_be_visible()
    expect(host.get_by_text("Your meetup is on.")).to_be_visible()

    guest = new_page()
    login(guest, asgi_server, beto.email, PASSWORD)
    guest.goto("/events/")
    entry = guest.locator(".event-card").filter(has_text="Portfolio coffee")
    expect(entry).to_contain_text("Starting now")
    axe_in_both_schemes(guest, axe_check)
    entry.get_by_role("link", name="Portfolio coffee").click()
    expect(guest.get_by_role("heading", name="Portfolio coffee")).to_be_visible()
    axe_in_both_schemes(guest, axe_check)

    guest.get_by_role("button", name="I'm going").click()
    expect(guest.get_by_text("You are going. See you there!")).to_be_visible()
    expect(guest.get_by_text("2 members going")).to_be_visible()  # the host and Beto
    axe_in_both_schemes(guest, axe_check)
    # The chosen answer is told apart by a ring in the text's own colour, which contrasts
    # with the page as text does (the accent's ring was 1.1:1 on a card), and to screen
    # readers by the buttons' pressed states.
    going = guest.get_by_role("button", name="I'm going")
    expect(going).to_have_attribute("aria-pressed", "true")
    expect(guest.get_by_role("button", name="Maybe")).to_have_attribute("aria-pressed", "false")
    text_colour = guest.evaluate("getComputedStyle(document.body).color")
    assert text_colour in going.evaluate("button => getComputedStyle(button).boxShadow")

    guest.get_by_role("link", name="Join the room").click()
    expect(guest.locator("#chat-status")).to_have_text("Connected.")
    expect(guest.locator("#presence")).to_contain_text("Beto Blanco")


def test_the_event_page_shows_who_is_going_as_they_allow(
    new_page: NewPage, asgi_server: str, login: Login, axe_check: AxeCheck
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    hugo = onboarded_member("Hugo Hidalgo", email="hugo@example.com")
    hugo.profile.visible_in_directory = False
    hugo.profile.save()
    clara = onboarded_member("Clara Campos", email="clara@example.com")
    starts_at = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    event = meetup_start(
        by=ana,
        title="Portfolio coffee",
        description="Show one piece of work you are proud of.",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        time_zone=ana.time_zone,
    )
    for member in (beto, hugo):
        rsvp_set(event=event, user=member, status="going")

    page = new_page()
    login(page, asgi_server, clara.email, PASSWORD)
    page.goto(f"/events/{event.pk}/")
    expect(page.get_by_role("heading", name="About this event")).to_be_visible()
    expect(page.get_by_text("3 members going")).to_be_visible()
    going = page.get_by_role("list", name="Members going")
    expect(going.get_by_role("listitem")).to_have_count(2)
    expect(going.get_by_role("listitem").first).to_contain_text("Ana Arias (host)")
    expect(going).not_to_contain_text("Hugo")
    expect(page.get_by_text("and 1 more")).to_be_visible()
    axe_in_both_schemes(page, axe_check)

    going.get_by_role("link", name="Beto Blanco").click()
    expect(page.get_by_role("heading", name="Beto Blanco")).to_be_visible()


def test_a_home_page_left_open_follows_events_starting_and_ending(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    now = timezone.now()
    EventFactory.create(
        title="Café de las diez",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(minutes=20),
    )
    EventFactory.create(
        title="Charla de las once",
        starts_at=now + timedelta(minutes=10),
        ends_at=now + timedelta(hours=1),
    )
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    page = new_page()
    page.clock.install()
    login(page, asgi_server, ana.email, PASSWORD)
    page.goto("/")
    cafe = page.locator(".dashboard-events li", has_text="Café de las diez")
    talk = page.locator(".dashboard-events li", has_text="Charla de las once")
    expect(cafe.get_by_text("Starting now")).to_be_visible()
    expect(talk.get_by_text("Starting now")).to_be_hidden()

    page.clock.fast_forward(15 * 60_000)  # a timer due fires once, as after a lid was shut
    page.clock.run_for(31_000)
    expect(talk.get_by_text("Starting now")).to_be_visible()
    expect(cafe).to_be_visible()

    page.clock.fast_forward(10 * 60_000)
    page.clock.run_for(31_000)
    expect(cafe).to_be_hidden()
    expect(talk.get_by_text("Starting now")).to_be_visible()

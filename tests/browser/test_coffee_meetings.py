"""A coffee pair agrees on a time in two clicks: one proposes a suggested time from the pair's
page, the other accepts it from theirs; both pages pass axe in light and dark."""

from collections.abc import Callable
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from matching.models import Meeting, Participation
from matching.services import round_create
from members.models import User
from tests.browser.test_events_flow import axe_in_both_schemes
from tests.factories import PASSWORD, onboarded_member
from tests.test_matching_rounds import community

pytestmark = pytest.mark.browser

Login = Callable[[Page, str, str, str], None]
NewPage = Callable[..., Page]
AxeCheck = Callable[[Page], None]


def coffee_member(name: str, email: str, zone: str) -> User:
    # Working every day from 8 to 20: there are times to suggest whenever the test runs.
    member = onboarded_member(name, email=email, time_zone=zone)
    profile = member.profile
    profile.working_hours_start, profile.working_hours_end = time(8), time(20)
    profile.working_days = list(range(7))
    profile.save()
    Participation.objects.create(programme=community(), user=member, opted_in=True)
    return member


def test_one_proposes_a_suggested_time_and_the_other_accepts_it_in_one_click(
    new_page: NewPage, asgi_server: str, login: Login, axe_check: AxeCheck
) -> None:
    luis = coffee_member("Luis Lara", "luis@example.com", "Europe/Madrid")
    ana = coffee_member("Ana Arias", "ana@example.com", "Atlantic/Canary")
    round_create(programme=community(), scheduled_for=timezone.now() - timedelta(days=1))

    luis_page = new_page()
    login(luis_page, asgi_server, luis.email, PASSWORD)
    luis_page.goto("/pairs/")
    luis_page.get_by_role("link", name="Choose a time to meet").click()
    expect(luis_page.get_by_role("heading", level=1)).to_have_text("Coffee with Ana Arias")
    axe_in_both_schemes(luis_page, axe_check)
    slots = luis_page.locator(".meeting-slots button")
    expect(slots.first).to_be_visible()
    assert 3 <= slots.count() <= 5
    chosen = slots.first.inner_text()
    slots.first.click()
    expect(luis_page.locator(".meeting-state")).to_contain_text("You proposed")
    expect(luis_page.locator(".meeting-state")).to_contain_text(chosen)

    ana_page = new_page(locale="es-ES", color_scheme="dark")
    login(ana_page, asgi_server, ana.email, PASSWORD)
    ana_page.goto("/pairs/")
    expect(ana_page.get_by_role("main")).to_contain_text("Luis Lara propone")
    ana_page.get_by_role("link", name="Acepta o propón otra hora").click()
    state = ana_page.locator(".meeting-state")
    expect(state).to_contain_text("Luis Lara propone")
    axe_in_both_schemes(ana_page, axe_check)
    ana_page.get_by_role("button", name="Aceptar esta hora").click()
    expect(ana_page.locator(".messages")).to_contain_text("¡Acordado!")
    expect(state).to_contain_text("Acordado:")
    # Her page reads the time in her zone: an hour before his.
    meeting = Meeting.objects.get()
    assert meeting.accepted_at is not None and meeting.accepted_by == ana
    assert meeting.starts_at is not None
    canary = meeting.starts_at.astimezone(ZoneInfo(ana.time_zone))
    expect(state).to_contain_text(f"{canary:%H:%M}")

    luis_page.reload()
    expect(luis_page.locator(".meeting-state")).to_contain_text("It's on:")
    expect(luis_page.get_by_role("button", name="I can't make it")).to_be_visible()

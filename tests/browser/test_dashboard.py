"""The staff dashboard in a real browser: charts drawn, tables reachable, nothing blocked by
the CSP, no console errors, no serious accessibility problems, light and dark."""

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Literal

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect

from events.models import Event
from matching.models import Group, GroupMember, Programme, Round
from members.models import User
from moderation.models import Report
from newsletter.models import Subscriber
from rooms.models import HourlyUsage, Room
from rooms.services import cafeteria_get
from tests.browser.test_rooms_live import cafeteria
from tests.factories import PASSWORD, MessageFactory, onboarded_member

pytestmark = pytest.mark.browser


Login = Callable[[Page, str, str, str], None]
NewPage = Callable[..., Page]
AxeCheck = Callable[[Page], None]


@pytest.fixture
def history(staff: User) -> None:
    now = timezone.now()
    members = [
        User.objects.create_user(
            email=f"m{n}@example.com", date_joined=now - timedelta(days=n), last_seen_at=now
        )
        for n in range(12)
    ]
    programme, _ = Programme.objects.get_or_create(slug="community", defaults={"name": "Pairs"})
    for week in range(3):
        round_ = Round.objects.create(
            programme=programme, scheduled_for=now - timedelta(weeks=week, days=1)
        )
        for pair in range(3):
            group = Group.objects.create(round=round_)
            for member in members[pair * 2 : pair * 2 + 2]:
                GroupMember.objects.create(
                    group=group, round=round_, user=member, answer="met" if pair < 2 else ""
                )
    meeting = Room.objects.create(kind="permanent", name="Focus", slug="focus")
    for day in range(14):
        for hour in (8, 9, 15):
            HourlyUsage.objects.create(
                room=cafeteria_get(),
                hour=(now - timedelta(days=day)).replace(
                    hour=hour, minute=0, second=0, microsecond=0
                ),
                seconds=1800 * (hour % 4 + 1),
            )
        HourlyUsage.objects.create(
            room=meeting,
            hour=(now - timedelta(days=day)).replace(hour=16, minute=0, second=0, microsecond=0),
            seconds=5400,
        )
    for day in (2, 9):
        event = Event.objects.create(
            kind="meetup",
            title=f"Meetup {day}",
            starts_at=now - timedelta(days=day),
            ends_at=now - timedelta(days=day) + timedelta(hours=1),
            room=meeting,
            attendance_count=3,
        )
        for member in members[:5]:
            event.rsvps.create(user=member, status="going")
    Report.objects.create(reporter=members[0], reported=members[1], reason="spam", details="Ads.")
    for n in range(6):
        Subscriber.objects.create(
            email=f"reader{n}@example.com",
            consent_source="site_form",
            status="confirmed" if n % 3 else "unsubscribed",
            confirmed_at=now - timedelta(days=n * 3 + 2),
            unsubscribed_at=None if n % 3 else now - timedelta(days=n),
        )


# The first series' colour in each scheme: the palette's, not the script's fallback.
SERIES_FILL: dict[Literal["light", "dark"], str] = {
    "light": "rgb(15, 118, 110)",
    "dark": "rgb(94, 234, 212)",
}


def test_the_dashboard_draws_every_chart(
    page: Page,
    asgi_server: str,
    login: Login,
    axe_check: AxeCheck,
    staff: User,
    history: None,
) -> None:
    login(page, asgi_server, staff.email, PASSWORD)
    page.goto(f"{asgi_server}/")

    page.get_by_role("banner").get_by_role("link", name="Staff").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Community dashboard")
    charts = page.locator("svg[role=img]")
    expect(charts).to_have_count(8)
    for index in range(8):
        box = charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 100
    expect(page.get_by_role("img", name="Met rate per round")).to_be_visible()
    # The numbers behind a chart, for screen readers and the curious.
    page.get_by_text("Met rate per round: the numbers").click()
    table = page.locator("#pairs table")
    expect(table.get_by_role("cell", name="67%").first).to_be_visible()
    # Styles come from the stylesheet, and follow the scheme without a reload.
    bar = page.locator("svg[role=img] rect.chart-series-0").first
    for scheme, fill in SERIES_FILL.items():
        page.emulate_media(color_scheme=scheme)
        assert bar.evaluate("element => getComputedStyle(element).fill") == fill
        axe_check(page)
    # In forced colours (Windows' high contrast) the bars keep their colours: so do the
    # legend's keys, which the mode would otherwise blank.
    page.emulate_media(forced_colors="active")
    key = page.locator(".chart-swatch.chart-series-0").first
    middle = Image.open(io.BytesIO(key.screenshot())).convert("RGB").getpixel((6, 6))
    assert middle not in {(0, 0, 0), (255, 255, 255)}, middle

    page.get_by_role("combobox", name="Period").select_option("365")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{asgi_server}/staff/?days=365&programme=community")
    expect(page.locator("svg[role=img]")).to_have_count(8)


def test_the_dashboard_s_choices_and_charts_fit_the_smallest_phone_in_spanish(
    new_page: NewPage, asgi_server: str, login: Login, staff: User, history: None
) -> None:
    page = new_page(locale="es-ES", viewport=(320, 800), mobile=True)
    login(page, asgi_server, staff.email, PASSWORD)
    page.goto(f"{asgi_server}/staff/")

    for name in ("Periodo", "Cafés en pareja de"):
        select = page.get_by_role("combobox", name=name)
        # Wide enough to read the choice ("Últimos 30 días", "Cafés en pareja") in full.
        assert select.evaluate("element => element.getBoundingClientRect().width") > 200, name
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    # A chart's labels stay readable (drawn at 12 px, shown at 9 or more): the chart
    # scrolls sideways in its frame, which the keyboard reaches and scrolls.
    label = page.locator("#pairs svg[role=img] text.chart-axis").first
    shown = "text => parseFloat(getComputedStyle(text).fontSize) * text.getScreenCTM().a"
    assert label.evaluate(shown) >= 9
    frame = page.get_by_role("region", name="Tasa de encuentros por ronda", exact=True)
    frame.focus()
    page.keyboard.press("ArrowRight")
    expect(frame).not_to_have_js_property("scrollLeft", 0)


def test_the_moderation_queue_works_from_the_keyboard(
    page: Page, asgi_server: str, login: Login, axe_check: AxeCheck, staff: User, history: None
) -> None:
    login(page, asgi_server, staff.email, PASSWORD)
    page.goto(f"{asgi_server}/staff/moderation/")

    expect(page.locator(".report")).to_have_count(1)
    axe_check(page)
    page.get_by_label("Staff note").fill("Looks like a one-off.")
    page.get_by_role("button", name="Dismiss").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_text("Report dismissed.")).to_be_visible()
    expect(page.locator(".report")).to_have_count(0)


def test_a_member_reports_a_message_from_the_room_by_keyboard(
    page: Page, asgi_server: str, login: Login, transactional_db: None
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    mallory = onboarded_member("Mallory", email="mallory@example.com")
    MessageFactory.create(room=room, author=mallory, text="Buy my course")
    MessageFactory.create(room=room, author=ana, text="Good morning")
    login(page, asgi_server, ana.email, PASSWORD)
    page.goto(f"/rooms/{room.slug}/")
    expect(page.locator("#chat-status")).to_have_text("Connected.")

    theirs = page.locator("#messages > li", has_text="Buy my course")
    mine = page.locator("#messages > li", has_text="Good morning")
    expect(theirs.get_by_role("link", name="Report")).to_be_visible()
    expect(mine.get_by_role("link", name="Report")).to_have_count(0)
    theirs.get_by_role("link", name="Report").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Report a message")
    page.get_by_label("Why are you reporting this member?").select_option("spam")
    page.get_by_label("What happened?").fill("Adverts in the cafeteria.")
    page.get_by_role("button", name="Send report").click()

    expect(page.get_by_text("Thank you for your report.")).to_be_visible()
    report = Report.objects.get()
    assert (report.reporter, report.reported, report.message.text) == (  # type: ignore[union-attr]
        ana,
        mallory,
        "Buy my course",
    )

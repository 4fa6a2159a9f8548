"""The site on a phone-sized screen (360×740): no sideways scrolling on the main pages, the
navigation behind a menu button, the chat within reach in a room, and only the call controls
the browser can honour."""

import re
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Locator, Page, expect

from conversations.services import direct_conversation_start, group_create, message_post
from focus.models import FocusBlock, Seat
from members.models import User
from notifications.models import Kind, Notification, PushSubscription
from rooms.models import CAFETERIA_SLUG
from tests.browser.test_rooms_live import cafeteria
from tests.factories import (
    PASSWORD,
    AcquaintanceFactory,
    EventFactory,
    MessageFactory,
    onboarded_member,
)
from tests.push_service import Device

pytestmark = pytest.mark.browser

PHONE = (360, 740)

NewPage = Callable[..., Page]
Login = Callable[[Page, str, str, str], None]
AxeCheck = Callable[[Page], None]

# Each main page, as a member opens it; `{member}`, `{event}`, `{other}`, `{conversation}`,
# `{group}` and `{block}` are filled in.
MEMBER_PAGES = [
    "/",  # home
    "/members/",  # directory
    "/members/{other}/",  # profile
    "/members/{member}/",  # own profile
    "/members/me/edit/",  # profile form
    "/events/",  # events
    "/events/{event}/",  # event
    f"/rooms/{CAFETERIA_SLUG}/",  # room
    "/notifications/settings/",  # privacy and notifications
    "/accounts/email/",  # account settings
    "/pairs/",  # coffee pairs
    "/messages/",  # conversations
    "/messages/{conversation}/",  # a conversation
    "/messages/search/?q=café",  # search in one's messages
    "/messages/new/",  # a new group
    "/messages/{group}/group/",  # a group's members and name
    "/focus/",  # focus sessions
    "/focus/{block}/",  # a focus block's page
]
VISITOR_PAGES = ["/", "/events/", "/accounts/login/", "/accounts/signup/"]


def phone(new_page: NewPage) -> Page:
    return new_page(viewport=PHONE, mobile=True)


def assert_no_sideways_scrolling(page: Page) -> None:
    # Against the layout's width: a phone's emulated window widens to what overflows it.
    sizes = page.evaluate(
        "({scroll: document.documentElement.scrollWidth,"
        " inner: document.documentElement.clientWidth})"
    )
    assert sizes["scroll"] <= sizes["inner"], f"{page.url} scrolls sideways: {sizes}"


def assert_in_first_screen(locator: Locator) -> None:
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    screen = locator.page.viewport_size
    assert box is not None and screen is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= screen["width"], box
    assert box["y"] >= 0 and box["y"] + box["height"] <= screen["height"], box


def menu_button(page: Page) -> Locator:
    # Its name may go on with the count of unread messages behind it.
    return page.get_by_role("banner").get_by_role("button", name=re.compile(r"^Men[uú](\s|,|$)"))


def assert_header_on_one_line(page: Page) -> None:
    """The brand, the menu button or the links (a visitor has neither: the logo is their
    way home) and the last of the header's actions share one row."""
    header = page.locator(".header-inner")
    parts = [header.locator(".brand"), header.locator(".header-actions > *").last]
    if menu_button(page).is_visible():
        parts.append(menu_button(page))
    elif header.locator(".main-nav").count():
        parts.append(header.locator(".main-nav li").last)
    middles = []
    for part in parts:
        assert_in_first_screen(part)
        box = part.bounding_box()
        assert box is not None
        middles.append(box["y"] + box["height"] / 2)
    assert max(middles) - min(middles) < 4, f"the header wraps on {page.url}: {middles}"


def test_a_member_s_main_pages_fit_a_phone_and_pass_axe(
    new_page: NewPage,
    asgi_server: str,
    alice: User,
    bob: User,
    login: Login,
    axe_check: AxeCheck,
) -> None:
    cafeteria()
    event = EventFactory.create(host=bob, title="Café y código")
    conversation = direct_conversation_start(starter=bob, other=alice)
    message_post(
        conversation=conversation,
        author=bob,
        text="¿Tomamos un café virtual el jueves? https://example.com/agenda",
        client_id=uuid.uuid4(),
    )
    AcquaintanceFactory.create(owner=alice, other=bob)
    carla = onboarded_member("Carla Cruz", email="carla@example.com")
    group = group_create(creator=alice, members=[bob, carla], title="Trío del café")
    block = FocusBlock.objects.create(
        starts_at=timezone.now() + timedelta(minutes=5), title="Hora de foco"
    )
    Seat.objects.create(block=block, user=alice)
    # A device with notifications on: its row (name, date, button) must fit too.
    PushSubscription.objects.create(
        user=alice,
        endpoint="https://push.example.com/send/a-long-device-token-that-must-wrap",
        p256dh=Device().p256dh,
        auth=Device().auth_b64,
        device="Samsung Internet on Android",
    )
    page = phone(new_page)
    login(page, asgi_server, alice.email, PASSWORD)

    for number, path in enumerate(MEMBER_PAGES):
        page.goto(
            path.format(
                member=alice.pk,
                other=bob.pk,
                event=event.pk,
                conversation=conversation.pk,
                group=group.pk,
                block=block.pk,
            )
        )

        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_no_sideways_scrolling(page)
        assert_header_on_one_line(page)
        # Every page's body passes axe in both schemes at desktop size (test_members_flow,
        # test_layout, ...); what only a phone shows is the header and its menu button, on
        # every page: the schemes take turns, so each is checked on half of them.
        page.emulate_media(color_scheme=("light", "dark")[number % 2])
        axe_check(page)


def test_the_smallest_phones_fit_badges_dates_and_a_header_full_of_counts(
    new_page: NewPage, asgi_server: str, alice: User, bob: User, login: Login
) -> None:
    """320 px wide (WCAG's reflow width): Bob's "in focus until" badge on the pages that
    list him, a form with a date and time, and the logo beside the header's counts."""
    carla = onboarded_member("Carla Cruz", email="carla@example.com")
    group = group_create(creator=bob, members=[alice, carla], title="Trío del café")
    for n in range(12):  # twelve unread messages, and twelve notices
        message_post(conversation=group, author=bob, text=f"Hola {n}", client_id=uuid.uuid4())
        Notification.objects.create(user=alice, kind=Kind.MENTION, key=f"m{n}", text="Hola")
    started = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=5)
    block = FocusBlock.objects.create(starts_at=started, minutes=50, title="Hora de foco")
    Seat.objects.create(block=block, user=bob, arrived_at=started)
    page = new_page(viewport=(320, 640), mobile=True, locale="es-ES")
    login(page, asgi_server, alice.email, PASSWORD)

    for path in ("/members/", "/messages/", f"/messages/{group.pk}/", "/events/new/meetup/"):
        page.goto(path)
        if path != "/events/new/meetup/":
            expect(page.locator(".focus-badge").first).to_be_visible()
        assert_no_sideways_scrolling(page)
        brand = page.locator(".brand").bounding_box()
        assert brand is not None and brand["width"] >= 24 and brand["height"] >= 24, brand
        assert_header_on_one_line(page)


def assert_within_the_screen_s_width(page: Page, selector: str) -> None:
    """Every visible control the selector finds, from its left edge to its right."""
    outside = page.evaluate(
        """selector => {
            const width = document.documentElement.clientWidth;
            return [...document.querySelectorAll(selector)]
                .map(element => [element, element.getBoundingClientRect()])
                .filter(([, box]) => box.width && (box.left < 0 || box.right > width + 0.5))
                .map(([element, box]) => `${element.textContent.trim()}: ${box.left}-${box.right}`);
        }""",
        selector,
    )
    assert not outside, f"past the edge of {page.url}: {outside}"


def test_with_the_phone_s_largest_text_the_header_menus_and_footer_wrap_on_the_screen(
    new_page: NewPage, asgi_server: str, alice: User, login: Login
) -> None:
    """WCAG 1.4.4: text at twice the default size (the browser's own setting, 32 px) wraps
    the header's and the footer's controls onto more rows instead of past the screen's
    edge, where a phone's reader would have to scroll sideways to reach "Únete" or English."""
    page = new_page(viewport=(390, 844), mobile=True, locale="es-ES")
    fonts = {"standard": 32, "fixed": 26}
    page.context.new_cdp_session(page).send("Page.setFontSizes", {"fontSizes": fonts})
    controls = "header a, header button, header summary, footer a, footer button, footer label"

    page.goto("/")
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "32px"
    assert_no_sideways_scrolling(page)
    assert_within_the_screen_s_width(page, controls)
    # The skip link, however tall its text, waits wholly above the page.
    skip = page.get_by_role("link", name="Saltar al contenido")
    box = skip.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 0, box

    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/")
    assert_no_sideways_scrolling(page)
    assert_within_the_screen_s_width(page, controls)
    page.locator(".menu summary").click()
    assert_within_the_screen_s_width(page, ".menu-items a, .menu-items button")
    page.locator(".menu summary").click()
    menu_button(page).click()
    expect(
        page.get_by_role("navigation", name="Principal").get_by_role("link").first
    ).to_be_visible()
    assert_within_the_screen_s_width(page, ".main-nav a")
    assert_no_sideways_scrolling(page)


@pytest.mark.parametrize("locale", ["en-US", "es-ES"])
def test_a_visitor_s_pages_fit_a_phone_in_either_language(
    new_page: NewPage, asgi_server: str, locale: str
) -> None:
    page = new_page(viewport=PHONE, mobile=True, locale=locale)

    for path in VISITOR_PAGES:
        page.goto(path)

        assert_no_sideways_scrolling(page)
        assert_header_on_one_line(page)
        expect(menu_button(page)).to_have_count(0)


@pytest.mark.parametrize("width", [768, 1023, 1024, 1440])
def test_staff_in_spanish_keep_the_header_on_one_row_from_tablets_up(
    new_page: NewPage, asgi_server: str, login: Login, width: int
) -> None:
    """The longest header: staff have eight links, with counts, and Spanish the longest
    words. Narrower than 1024px they wait behind the menu button, which shows the count of
    unread messages that waits there with them."""
    staff = onboarded_member("Marta Equipo", email="marta@example.com", is_staff=True)
    alice = onboarded_member("Alice Arias", email="alice@example.com")
    message_post(
        conversation=direct_conversation_start(starter=alice, other=staff),
        author=alice,
        text="¿Hablamos?",
        client_id=uuid.uuid4(),
    )
    page = new_page(viewport=(width, 800), locale="es-ES")
    login(page, asgi_server, staff.email, PASSWORD)
    page.goto("/events/")

    assert_header_on_one_line(page)
    staff_link = page.get_by_role("navigation", name="Principal").get_by_role("link", name="Equipo")
    if width < 1024:
        expect(menu_button(page)).to_be_visible()
        expect(menu_button(page)).to_have_accessible_name(re.compile(r"^Menú\s*, 1 sin leer$"))
        expect(menu_button(page).locator(".nav-count")).to_have_text("1")
    else:
        expect(staff_link).to_be_visible()


def test_the_menu_button_opens_and_closes_the_navigation_by_touch_and_keyboard(
    new_page: NewPage, asgi_server: str, alice: User, login: Login
) -> None:
    page = phone(new_page)
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/")
    button = menu_button(page)
    navigation = page.get_by_role("navigation", name="Main")
    members_link = navigation.get_by_role("link", name="Members")
    # One line of header: the links wait behind the button.
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(members_link).to_be_hidden()
    controlled = button.get_attribute("aria-controls")
    assert controlled and page.locator(f"#{controlled}").count() == 1

    button.tap()

    expect(button).to_have_attribute("aria-expanded", "true")
    for link in navigation.get_by_role("link").all():
        assert_in_first_screen(link)
    assert_no_sideways_scrolling(page)
    members_link.tap()
    expect(page).to_have_url(re.compile(r"/members/$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # The URL changes when the new page starts to arrive; the menu's script runs once the
    # document is parsed, and a key pressed before that would do nothing.
    page.wait_for_load_state("domcontentloaded")
    # A new page starts with the menu closed.
    expect(menu_button(page)).to_have_attribute("aria-expanded", "false")

    # The keyboard: Enter opens, Tab walks into the links, Escape closes and returns focus.
    button = menu_button(page)
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(navigation.get_by_role("link").first).to_be_focused()
    page.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()
    expect(members_link).to_be_hidden()
    page.keyboard.press("Space")
    expect(button).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Space")
    expect(button).to_have_attribute("aria-expanded", "false")


def test_without_javascript_a_phone_shows_the_links_and_no_menu_button(
    browser: Browser, asgi_server: str, alice: User, login: Login
) -> None:
    context = browser.new_context(
        base_url=asgi_server,
        viewport={"width": PHONE[0], "height": PHONE[1]},
        java_script_enabled=False,
    )
    try:
        page = context.new_page()
        login(page, asgi_server, alice.email, PASSWORD)
        page.goto("/")

        navigation = page.get_by_role("navigation", name="Principal")
        expect(navigation.get_by_role("link", name="Miembros")).to_be_visible()
        for link in navigation.get_by_role("link").all():
            assert_in_first_screen(link)
        expect(menu_button(page)).to_have_count(0)
        assert_no_sideways_scrolling(page)
    finally:
        context.close()


def test_on_a_wide_screen_the_links_show_and_the_menu_button_does_not(
    page: Page, asgi_server: str, alice: User, login: Login
) -> None:
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/")

    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Members")
    ).to_be_visible()
    expect(menu_button(page)).to_be_hidden()


def test_in_a_room_the_chat_input_is_one_activation_away(
    new_page: NewPage, asgi_server: str, alice: User, login: Login
) -> None:
    room = cafeteria()
    MessageFactory.create_batch(30, room=room, author=alice)
    page = phone(new_page)
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto(f"/rooms/{room.slug}/")
    expect(page.locator("#chat-status")).to_have_text("Connected.")

    skip = page.get_by_role("link", name="Chat", exact=True)
    assert_in_first_screen(skip)
    skip.tap()

    message = page.get_by_label("Message", exact=True)
    assert_in_first_screen(message)
    assert_in_first_screen(page.get_by_role("button", name="Send"))
    message.fill("Hola desde el móvil")
    message.press("Enter")
    expect(page.locator("#messages li").last).to_contain_text("delivered")
    assert_no_sideways_scrolling(page)


def test_the_keyboard_reaches_the_chat_from_the_top_of_a_room(
    new_page: NewPage, asgi_server: str, alice: User, login: Login
) -> None:
    room = cafeteria()
    page = phone(new_page)
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto(f"/rooms/{room.slug}/")
    expect(page.locator("#chat-status")).to_have_text("Connected.")

    page.get_by_role("link", name="Chat", exact=True).focus()
    page.keyboard.press("Enter")

    expect(page.locator("#chat")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Message", exact=True)).to_be_focused()


NO_SCREEN_SHARING = "delete MediaDevices.prototype.getDisplayMedia;"


@pytest.mark.parametrize("can_share", [True, False])
def test_screen_sharing_is_offered_only_where_the_browser_can_share(
    new_page: NewPage, asgi_server: str, alice: User, login: Login, can_share: bool
) -> None:
    room = cafeteria()
    page = phone(new_page)
    page.context.grant_permissions(["camera", "microphone"], origin=asgi_server)
    if not can_share:
        page.context.add_init_script(NO_SCREEN_SHARING)
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto(f"/rooms/{room.slug}/")
    expect(page.locator("#chat-status")).to_have_text("Connected.")

    page.get_by_role("button", name="Start a table").click()

    controls = page.get_by_role("group", name="Call controls")
    expect(controls).to_be_visible()
    expect(controls.get_by_role("button", name="Mute")).to_be_visible()
    share = controls.get_by_role("button", name="Share screen")
    if can_share:
        expect(share).to_be_visible()
    else:
        expect(share).to_be_hidden()
    assert_no_sideways_scrolling(page)

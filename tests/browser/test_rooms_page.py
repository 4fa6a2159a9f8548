"""A room's page in the browser: editing, deleting, status, older messages, links, mentions,
moderation and accessibility, with two or three members on the real stack."""

import io
import re
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from typing import Literal

import pytest
from asgiref.sync import async_to_sync
from PIL import Image
from playwright.sync_api import Dialog, Locator, Page, WebSocket, expect
from websockets.sync.client import connect

from conversations.services import direct_conversation_start, message_store
from members.models import User
from rooms import broadcast
from rooms.models import Message, Room
from rooms.sockets.limits import MAX_SOCKETS
from tests.browser.conftest import PageProblems, elsewhere
from tests.browser.test_rooms_live import cafeteria
from tests.conftest import signed_in_cookies
from tests.factories import PASSWORD, MessageFactory, onboarded_member

pytestmark = pytest.mark.browser

Login = Callable[[Page, str, str, str], None]
NewPage = Callable[..., Page]
AxeCheck = Callable[[Page], None]

SCHEMES: tuple[Literal["light", "dark"], ...] = ("light", "dark")


def enter(page: Page, base_url: str, login: Login, user: User, room: Room) -> None:
    login(page, base_url, user.email, PASSWORD)
    page.goto(f"/rooms/{room.slug}/")
    expect(page.locator("#chat-status")).to_have_text("Connected.")


def post(page: Page, text: str) -> Locator:
    """Send a message through the form; the sender's own item, once delivered."""
    box = page.get_by_label("Message", exact=True)
    box.fill(text)
    box.press("Enter")
    item = page.locator("#messages > li", has_text=text).last
    expect(item).to_contain_text("delivered")
    # By id: the text may change.
    return page.locator(f'#messages > li[data-id="{item.get_attribute("data-id")}"]')


def item_with(page: Page, text: str) -> Locator:
    return page.locator("#messages > li", has_text=text)


def ana_and_beto_in_the_cafeteria(
    new_page: NewPage, asgi_server: str, login: Login
) -> tuple[Page, Page]:
    """Two members in the cafeteria, each on a page of their own: Ana's, then Beto's."""
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    first, second = new_page(), new_page()
    enter(first, asgi_server, login, ana, room)
    enter(second, asgi_server, login, beto, room)
    return first, second


def test_an_author_edits_a_message_and_the_other_sees_it_live(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    first, second = ana_and_beto_in_the_cafeteria(new_page, asgi_server, login)

    mine = post(first, "Lunch at one?")
    expect(item_with(second, "Lunch at one?")).to_be_visible()
    mine.get_by_role("button", name="Edit").click()
    editor = first.get_by_label("Edit your message")
    expect(editor).to_be_focused()
    # Emptied, it is refused beside the editor, which stays open for another try.
    editor.fill("")
    editor.press("Enter")
    expect(mine.get_by_role("alert")).to_have_text("A message can't be empty: delete it instead.")
    expect(editor).to_have_attribute("aria-invalid", "true")
    expect(editor).to_be_focused()
    editor.fill("Lunch at two?")
    expect(mine.get_by_role("alert")).to_have_count(0)
    editor.press("Enter")

    expect(mine.locator(".message-text")).to_have_text("Lunch at two?")
    expect(mine).to_contain_text("(edited)")
    expect(mine.get_by_role("button", name="Edit")).to_be_focused()
    theirs = item_with(second, "Lunch at two?")
    expect(theirs).to_contain_text("(edited)")
    assert Message.objects.get(text="Lunch at two?").edited_at is not None

    # Escape leaves the text as it was and returns to the button.
    mine.get_by_role("button", name="Edit").press("Enter")
    first.get_by_label("Edit your message").fill("Never mind")
    first.get_by_label("Edit your message").press("Escape")
    expect(mine.locator(".message-text")).to_have_text("Lunch at two?")
    expect(mine.get_by_role("button", name="Edit")).to_be_focused()


def test_quotes_of_a_message_follow_its_edit_and_its_deletion_live(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    """Someone who takes a message back must not leave it readable in the replies' quotes."""
    first, second = ana_and_beto_in_the_cafeteria(new_page, asgi_server, login)
    mine = post(first, "Meet at the old office")
    item_with(second, "Meet at the old office").get_by_role("button", name="Reply").click()
    post(second, "On my way")
    quotes = [page.locator(".message-quote") for page in (first, second)]
    for quote in quotes:
        expect(quote).to_contain_text("Meet at the old office")

    mine.get_by_role("button", name="Edit").click()
    first.get_by_label("Edit your message").fill("Meet at the café")
    first.get_by_label("Edit your message").press("Enter")
    for quote in quotes:
        expect(quote).to_contain_text("Meet at the café")

    mine.get_by_role("button", name="Delete").click()
    mine.get_by_role("button", name="Yes, delete").click()
    for quote in quotes:
        expect(quote).to_contain_text("This message was deleted.")
        expect(quote).not_to_contain_text("Meet at")


def test_an_author_deletes_a_message_after_confirming_with_the_keyboard(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    first, second = new_page(), new_page()
    enter(first, asgi_server, login, ana, room)
    enter(second, asgi_server, login, beto, room)

    mine = post(first, "Wrong room, sorry")
    expect(item_with(second, "Wrong room, sorry")).to_be_visible()
    mine.get_by_role("button", name="Delete").focus()
    first.keyboard.press("Enter")
    # The confirmation starts on Cancel; Escape goes back to Delete.
    expect(mine.get_by_role("button", name="Cancel")).to_be_focused()
    first.keyboard.press("Escape")
    expect(mine.get_by_role("button", name="Delete")).to_be_focused()
    first.keyboard.press("Enter")
    mine.get_by_role("button", name="Yes, delete").press("Enter")

    expect(first.locator("#messages")).to_contain_text("This message was deleted.")
    expect(second.locator("#messages")).to_contain_text("This message was deleted.")
    expect(second.locator("#messages")).not_to_contain_text("Wrong room, sorry")
    assert Message.objects.get().deleted_at is not None


def test_others_see_no_edit_or_delete_on_a_message(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    MessageFactory.create(room=room, author=ana, text="From before")
    first, second = new_page(), new_page()
    enter(first, asgi_server, login, ana, room)
    enter(second, asgi_server, login, beto, room)

    expect(item_with(first, "From before").get_by_role("button", name="Edit")).to_be_visible()
    post(first, "Fresh one")
    for text in ("From before", "Fresh one"):
        theirs = item_with(second, text)
        expect(theirs).to_be_visible()
        expect(theirs.get_by_role("button", name=re.compile("Edit|Delete"))).to_have_count(0)
        expect(theirs.get_by_role("button", name="Reply")).to_be_visible()


def test_staff_delete_anyones_message_but_edit_only_their_own(
    new_page: NewPage, asgi_server: str, login: Login, staff: User
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    MessageFactory.create(room=room, author=ana, text="Buy cheap watches")
    first, second = new_page(), new_page()
    enter(first, asgi_server, login, ana, room)
    enter(second, asgi_server, login, staff, room)

    spam = item_with(second, "Buy cheap watches")
    expect(spam.get_by_role("button", name="Edit")).to_have_count(0)
    spam.get_by_role("button", name="Delete").click()
    spam.get_by_role("button", name="Yes, delete").click()

    expect(first.locator("#messages")).to_contain_text("This message was deleted.")
    expect(first.locator("#messages")).not_to_contain_text("Buy cheap watches")
    assert Message.objects.get().deleted_by == staff


def test_a_status_change_is_seen_by_the_other_with_its_time(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    first = new_page(timezone_id="America/Mexico_City")
    second = new_page(timezone_id="Asia/Tokyo")
    enter(first, asgi_server, login, ana, room)
    enter(second, asgi_server, login, beto, room)

    status = first.get_by_label("Your status")
    expect(status).to_have_value("working")
    ana_there = second.locator("#presence li", has_text="Ana Arias")
    expect(ana_there).to_contain_text("Working")
    expect(ana_there).to_contain_text(re.compile(r"since \d\d:\d\d"))

    status.select_option(label="In a call")
    expect(ana_there).to_contain_text("In a call")
    expect(first.locator("#presence li", has_text="Ana Arias")).to_contain_text("In a call")

    # Server-rendered on a reload, then shown like live entries: in the member's zone.
    second.reload()
    ana_there = second.locator("#presence li", has_text="Ana Arias")
    expect(ana_there).to_contain_text("In a call")
    since = ana_there.locator("time")
    shown = second.evaluate(
        """iso => new Intl.DateTimeFormat(document.documentElement.lang,
            {hour: "2-digit", minute: "2-digit", hourCycle: "h23",
             timeZone: document.querySelector("[data-time-zone]").dataset.timeZone,
            }).format(new Date(iso))""",
        since.get_attribute("datetime"),
    )
    expect(since).to_have_text(shown)


def test_older_messages_load_by_button_keyboard_and_scrolling(
    page: Page, asgi_server: str, login: Login
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    for number in range(120):
        MessageFactory.create(room=room, author=ana, text=f"Seeded {number:03d}")
    enter(page, asgi_server, login, ana, room)

    log = page.locator("#messages")
    expect(log.locator("> li[data-id]")).to_have_count(50)
    expect(log).not_to_contain_text("Seeded 069")
    older = page.get_by_role("button", name="Load older messages")
    older.click()
    expect(log.locator("> li[data-id]")).to_have_count(100)
    expect(log.locator("> li[data-id]").first).to_contain_text("Seeded 020")
    # The page kept its place: what was first is still in view, not the new top.
    assert page.locator("#messages-scroll").evaluate("el => el.scrollTop") > 0

    # Back at the end, out of the button's sight: a slow layout let the page scroll it into
    # view, and the scrolling path loaded the rest before the keyboard could reach it.
    page.locator("#messages-scroll").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    older.focus()
    page.keyboard.press("Enter")
    expect(log.locator("> li[data-id]")).to_have_count(120)
    expect(log.locator("> li[data-id]").first).to_contain_text("Seeded 000")
    expect(older).to_be_hidden()
    ids = [
        int(i)
        for i in log.locator("> li[data-id]").evaluate_all("els => els.map(e => e.dataset.id)")
    ]
    assert ids == sorted(ids)


def test_scrolling_to_the_top_loads_older_messages(
    page: Page, asgi_server: str, login: Login
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    for number in range(60):
        MessageFactory.create(room=room, author=ana, text=f"Seeded {number:03d}")
    enter(page, asgi_server, login, ana, room)

    page.locator("#messages-scroll").evaluate("el => { el.scrollTop = 0; }")
    expect(page.locator("#messages > li[data-id]").first).to_contain_text("Seeded 000")
    expect(page.get_by_role("button", name="Load older messages")).to_be_hidden()


def test_short_history_has_nothing_older(page: Page, asgi_server: str, login: Login) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    MessageFactory.create_batch(3, room=room, author=ana)
    enter(page, asgi_server, login, ana, room)
    expect(page.get_by_role("button", name="Load older messages")).to_be_hidden()


def test_links_are_clickable_and_markup_stays_text(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    MessageFactory.create(
        room=room, author=ana, text="Old: https://example.org/old. <script>alert(1)</script>"
    )
    first, second = new_page(), new_page()
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    for opened in (first, second):
        opened.on("dialog", record)
    enter(first, asgi_server, login, ana, room)
    enter(second, asgi_server, login, beto, room)

    post(first, "See https://example.com/a?b=1, <b>bold</b> <script>alert(1)</script>")
    live = item_with(second, "<b>bold</b>")
    expect(live).to_contain_text("<script>alert(1)</script>")
    link = live.get_by_role("link", name="https://example.com/a?b=1")
    expect(link).to_have_attribute("href", "https://example.com/a?b=1")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")

    old = item_with(second, "Old:")
    expect(old).to_contain_text("<script>alert(1)</script>")
    expect(old.get_by_role("link", name="https://example.org/old")).to_have_attribute(
        "href", "https://example.org/old"
    )
    for opened in (first, second):
        assert opened.locator("#messages b, #messages script").count() == 0
    assert dialogs == []

    # A right-to-left override before an address would draw it backwards: the link shown as
    # https://www.google.com/... leading to evil.example. Each link keeps its own order, in
    # the room (drawn by the page) and in a conversation (drawn by the server).
    spoof = "Docs: \u202ehttps://evil.example/moc.elgoog.www//:sptth"
    post(first, spoof)
    assert drawn_in_order(second.locator("#messages a[href^='https://evil.example']"))
    conversation = direct_conversation_start(starter=ana, other=beto)
    message_store(conversation_id=conversation.pk, author=ana, text=spoof, client_id=uuid.uuid4())
    second.goto(f"/messages/{conversation.pk}/")
    assert drawn_in_order(second.locator(".messages-log a[href^='https://evil.example']"))


def drawn_in_order(link: Locator) -> bool:
    """Whether the link's first character is drawn left of its last, as an address reads."""
    start, end = link.evaluate(
        """(link) => {
          const text = link.firstChild, range = document.createRange();
          const x = (i) => { range.setStart(text, i); range.setEnd(text, i + 1);
                             return range.getBoundingClientRect().x; };
          return [x(0), x(text.length - 1)];
        }"""
    )
    return bool(start < end)


def test_a_mention_is_highlighted_for_the_member_mentioned(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    first, second = ana_and_beto_in_the_cafeteria(new_page, asgi_server, login)

    post(first, "@Beto Blanco coffee?")
    theirs = item_with(second, "coffee?")
    expect(theirs).to_have_class(re.compile(r"\bmentions-me\b"))
    expect(theirs).to_contain_text("(mentions you)")
    expect(item_with(first, "coffee?")).not_to_have_class(re.compile(r"\bmentions-me\b"))

    # After a reload the server-rendered message says the same.
    second.reload()
    expect(item_with(second, "coffee?")).to_have_class(re.compile(r"\bmentions-me\b"))
    expect(item_with(second, "coffee?")).to_contain_text("(mentions you)")
    # Its bar stays in forced colours (Windows' high contrast), which drop tints and shadows.
    # Drawn: its first pixels from the left differ from the item's background further in.
    second.emulate_media(forced_colors="active")
    shot = Image.open(io.BytesIO(item_with(second, "coffee?").screenshot())).convert("RGB")
    middle = shot.height // 2
    background = shot.getpixel((shot.width - 3, middle))
    assert [shot.getpixel((x, middle)) != background for x in range(4)] == [True] * 4
    assert shot.getpixel((6, middle)) == background


def test_staff_mute_and_unmute_a_member(
    new_page: NewPage, asgi_server: str, login: Login, staff: User
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    first, second = new_page(), new_page()
    enter(first, asgi_server, login, ana, room)
    enter(second, asgi_server, login, staff, room)

    ana_there = second.locator("#presence li", has_text="Ana Arias")
    expect(
        second.locator("#presence li", has_text="Sam Staff").get_by_role("button")
    ).to_have_count(0)
    expect(ana_there.get_by_role("button", name="Unmute")).to_be_hidden()
    box = first.get_by_label("Message", exact=True)
    box.fill("Mientras tanto")  # she is writing when it happens
    ana_there.get_by_role("button", name="Mute 15 min").click()
    expect(second.locator("#moderation-status")).to_have_text("Ana Arias is muted for 15 minutes.")
    # The button pressed gives way to the other, which takes the focus.
    expect(ana_there.get_by_role("button", name="Mute 15 min")).to_be_hidden()
    expect(ana_there.get_by_role("button", name="Unmute")).to_be_focused()
    expect(box).to_be_disabled()
    until = re.compile(r"You are muted in this room until \d\d:\d\d\.")
    expect(first.locator("#chat-muted")).to_contain_text(until)
    # Said in the status line too, and she stays where she was, her draft kept, unsent.
    expect(first.locator("#chat-status")).to_have_text(until)
    expect(box).to_be_focused()
    box.press("Enter")
    expect(box).to_have_value("Mientras tanto")
    expect(item_with(first, "Mientras tanto")).to_have_count(0)

    first.reload()
    expect(first.locator("#chat-status")).to_have_text("Connected.")
    expect(first.get_by_label("Message", exact=True)).to_be_disabled()
    # The staff page, reloaded, still knows she is muted.
    second.reload()
    expect(second.locator("#chat-status")).to_have_text("Connected.")
    expect(ana_there.get_by_role("button", name="Mute 15 min")).to_be_hidden()

    ana_there.get_by_role("button", name="Unmute").click()
    expect(second.locator("#moderation-status")).to_have_text("Ana Arias can write again.")
    expect(ana_there.get_by_role("button", name="Mute 15 min")).to_be_visible()
    expect(first.get_by_label("Message", exact=True)).to_be_enabled()
    expect(first.locator("#chat-muted")).to_be_hidden()
    expect(first.locator("#chat-status")).to_have_text("You can write again.")


def test_staff_remove_a_member_whose_page_says_so_and_stays_disconnected(
    new_page: NewPage, asgi_server: str, login: Login, staff: User
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    first, second = new_page(), new_page()
    enter(first, asgi_server, login, ana, room)
    sockets: list[str] = []
    first.on("websocket", lambda socket: sockets.append(socket.url))
    enter(second, asgi_server, login, staff, room)

    ana_there = second.locator("#presence li", has_text="Ana Arias")
    ana_there.get_by_role("button", name="Remove from room").click()
    second.get_by_role("button", name="Yes, remove").click()

    expect(second.locator("#moderation-status")).to_have_text(
        "Ana Arias was removed from the room."
    )
    expect(second.locator("#presence")).not_to_contain_text("Ana Arias")
    expect(first.locator("#chat-status")).to_have_text("A moderator removed you from this room.")
    expect(first.get_by_label("Message", exact=True)).to_be_disabled()
    first.wait_for_timeout(2500)  # longer than the first reconnection delay
    expect(first.locator("#chat-status")).to_have_text("A moderator removed you from this room.")
    assert sockets == []


def test_logging_out_elsewhere_takes_the_room_page_to_the_login_page(
    page: Page, asgi_server: str, login: Login
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    enter(page, asgi_server, login, ana, room)

    other_tab = page.context.new_page()
    other_tab.goto("/rooms/")
    other_tab.locator("details.menu summary").click()
    with other_tab.expect_navigation():
        other_tab.get_by_role("button", name="Log out").click()

    expect(page.locator("#chat-status")).to_have_text("You logged out. Log in again to come back.")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def _member_socket_greeted(page: Page, go: Callable[[], object]) -> None:
    """Do `go` and wait for the `hello` of the member socket it opens."""
    greeted: list[str] = []

    def watch(socket: WebSocket) -> None:
        if socket.url.endswith("/ws/me/"):
            socket.on("framereceived", lambda payload: greeted.append(str(payload)))

    page.on("websocket", watch)
    go()
    page.wait_for_function("() => true")  # lets Playwright's events in
    for _ in range(200):
        if any('"hello"' in frame for frame in greeted):
            break
        page.wait_for_timeout(50)
    page.remove_listener("websocket", watch)
    assert any('"hello"' in frame for frame in greeted), "no hello on the member socket"


def _log_out_in_another_tab(page: Page) -> None:
    other_tab = page.context.new_page()
    other_tab.goto("/")
    other_tab.locator("details.menu summary").click()
    with other_tab.expect_navigation():
        other_tab.get_by_role("button", name="Log out").click()
    other_tab.close()


def test_logging_out_elsewhere_takes_every_page_to_the_login_page_even_one_back_from_history(
    new_full_page: NewPage, asgi_server: str, login: Login, page_problems: PageProblems
) -> None:
    """Through the member socket every page has (a conversation here), and a page restored
    by Back from the browser's cache counts as staying, not as being left. (Debian's full
    Chromium: the headless shell keeps no pages for Back.)"""
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    conversation = direct_conversation_start(starter=ana, other=beto)
    page = new_full_page()
    page.add_init_script(
        "addEventListener('pageshow', (event) => { window.restored = event.persisted; });"
    )
    login(page, asgi_server, ana.email, PASSWORD)

    _member_socket_greeted(page, lambda: page.goto(f"/messages/{conversation.pk}/"))
    _log_out_in_another_tab(page)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    login(page, asgi_server, ana.email, PASSWORD)
    page.goto("/rooms/")
    page.locator("a[href='/privacy/']").first.click()  # as a member leaves a page
    expect(page).to_have_url(re.compile(r"/privacy/$"))
    _member_socket_greeted(page, lambda: page.go_back(wait_until="commit"))
    assert page.evaluate("window.restored") is True  # from the back/forward cache
    _log_out_in_another_tab(page)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    # The browser reports the sockets the cache and the logging out closed as console
    # errors; the pages' scripts raised nothing.
    page_problems.allow()
    assert page_problems.page_errors == []


def test_a_member_with_too_many_tabs_is_told_so_rather_than_reconnecting_forever(
    page: Page, asgi_server: str, login: Login
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    session = signed_in_cookies(asgi_server, ana.email, PASSWORD)["sessionid"]
    headers = {"Origin": asgi_server, "Cookie": f"sessionid={session}"}
    with ExitStack() as sockets:
        for _ in range(MAX_SOCKETS):  # her other tabs and devices
            sockets.enter_context(
                connect(
                    asgi_server.replace("http", "ws") + "/ws/rooms/", additional_headers=headers
                )
            )
        login(page, asgi_server, ana.email, PASSWORD)
        page.goto(f"/rooms/{room.slug}/")

        expect(page.locator("#chat-status")).to_have_text(
            "Too many of your tabs and devices are connected at once. Close some: this page "
            "connects again by itself."
        )
        # The lobby, refused likewise, waits before it tries again, rather than knock
        # every second.
        lobby_sockets: list[str] = []
        page.on("websocket", lambda socket: lobby_sockets.append(socket.url))
        page.goto("/rooms/")
        page.wait_for_timeout(4_000)  # the old loop knocked 4 to 8 times in this while
        assert [url for url in lobby_sockets if url.endswith("/ws/rooms/")] == [
            asgi_server.replace("http", "ws") + "/ws/rooms/"
        ]


def test_the_room_page_with_every_control_passes_axe(
    new_page: NewPage, asgi_server: str, login: Login, axe_check: AxeCheck, staff: User
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    MessageFactory.create_batch(50, room=room, author=ana)
    MessageFactory.create(room=room, author=ana, text="@Sam Staff see https://example.com")
    first, second = new_page(), new_page()
    enter(first, asgi_server, login, ana, room)
    enter(second, asgi_server, login, staff, room)

    post(first, "Mine, editable")
    # Mute and remove: unmute shows once she is muted.
    expect(
        second.locator("#presence li", has_text="Ana Arias").get_by_role("button")
    ).to_have_count(2)
    expect(second.get_by_role("button", name="Load older messages")).to_be_visible()
    for page in (first, second):
        for scheme in SCHEMES:
            page.emulate_media(color_scheme=scheme)
            axe_check(page)

    # With an editor and a confirmation open.
    item_with(first, "Mine, editable").get_by_role("button", name="Edit").click()
    second.locator("#messages > li").last.get_by_role("button", name="Delete").click()
    expect(second.get_by_role("button", name="Yes, delete")).to_be_visible()
    for page in (first, second):
        for scheme in SCHEMES:
            page.emulate_media(color_scheme=scheme)
            axe_check(page)


# Records the live region's state as each message's buttons or reactions appear in it.
LIVE_WHEN_ADDED = """
document.addEventListener("DOMContentLoaded", () => {
  window.liveWhenAdded = [];
  const log = document.getElementById("messages");
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType === 1 && node.matches(".message-actions, .message-reactions")) {
          window.liveWhenAdded.push(log.getAttribute("aria-live"));
        }
      }
    }
  }).observe(log, { childList: true, subtree: true });
});
"""


def test_only_new_messages_are_read_out_not_buttons_or_reaction_counts(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    MessageFactory.create(room=room, author=beto, text="Buenos días")
    first, second = new_page(), new_page()
    first.add_init_script(LIVE_WHEN_ADDED)
    enter(first, asgi_server, login, ana, room)
    enter(second, asgi_server, login, beto, room)

    theirs = item_with(second, "Buenos días")
    theirs.get_by_text("React").click()
    theirs.get_by_role("button", name="👍").first.click()
    expect(item_with(first, "Buenos días").locator(".reaction")).to_contain_text("👍 1")
    # Counts older than those shown (two votes' broadcasts crossing) are dropped: a message
    # sent after them shows they were read.
    greeting = Message.objects.get(text="Buenos días")
    elsewhere(  # Playwright's loop runs in this thread
        async_to_sync(broadcast.chat_reactions),
        message=greeting,
        reactions=[],
        version=0,
        by=beto.pk,
    )
    box = second.get_by_role("textbox", name="Message")
    box.fill("¡Hola!")
    box.press("Enter")
    expect(item_with(first, "¡Hola!")).to_be_visible()
    expect(item_with(first, "Buenos días").locator(".reaction")).to_contain_text("👍 1")

    states = first.evaluate("window.liveWhenAdded")
    assert states and set(states) == {"off"}, states
    expect(first.locator("#messages")).to_have_attribute("aria-live", "polite")

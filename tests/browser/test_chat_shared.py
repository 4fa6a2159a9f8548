"""What room chat and conversations share in the browser: "@" offers the members there, a
reply quotes its message, days are marked in the reader's zone, and a reader who scrolled
back is offered the way to the latest rather than pulled down."""

import re
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from conversations.models import Message as ConversationMessage
from conversations.services import direct_conversation_start, message_post
from rooms.models import Message
from tests.browser.test_conversations import open_with_its_socket
from tests.browser.test_rooms_live import cafeteria
from tests.browser.test_rooms_page import enter, item_with, post
from tests.factories import PASSWORD, MessageFactory, onboarded_member

pytestmark = pytest.mark.browser

NewPage = Callable[..., Page]
Login = Callable[[Page, str, str, str], None]
AxeCheck = Callable[[Page], None]


def test_in_a_room_at_offers_who_is_here_and_a_reply_quotes_its_message(
    new_page: NewPage, asgi_server: str, login: Login, axe_check: AxeCheck
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    onboarded_member("Andrés Absent", email="andres@example.com")  # not in the room
    anas, betos = new_page(), new_page()
    enter(anas, asgi_server, login, ana, room)
    enter(betos, asgi_server, login, beto, room)
    expect(betos.locator("#presence")).to_contain_text("Ana Arias")

    box = betos.get_by_label("Message", exact=True)
    box.press_sequentially("Hola @an")
    choices = betos.get_by_role("listbox", name="Members to mention")
    expect(choices.get_by_role("option")).to_have_text(["Ana Arias"])
    expect(choices.get_by_role("option", name="Ana Arias")).to_have_attribute(
        "aria-selected", "true"
    )
    axe_check(betos)
    box.press("Enter")  # takes the member; it does not send
    expect(choices).to_be_hidden()
    expect(box).to_have_value("Hola @Ana Arias ")
    box.press_sequentially("¿café?")
    box.press("Enter")
    heard = item_with(anas, "¿café?")
    expect(heard).to_have_class(re.compile(r"\bmentions-me\b"))

    # Escape closes the list and leaves the text as typed.
    box.press_sequentially("@b")
    expect(choices).to_be_hidden()  # Beto does not mention himself
    box.fill("")
    box.press_sequentially("@A")
    expect(choices).to_be_visible()
    box.press("Escape")
    expect(choices).to_be_hidden()
    expect(box).to_have_value("@A")
    box.fill("")

    heard.get_by_role("button", name="Reply").click()
    answer = anas.get_by_label("Message", exact=True)
    expect(answer).to_be_focused()
    expect(anas.locator(".replying")).to_contain_text("Replying to Beto Blanco")
    answer.fill("¡Voy!")
    answer.press("Enter")
    expect(anas.locator(".replying")).to_be_hidden()
    for page in (anas, betos):
        quote = item_with(page, "¡Voy!").locator(".message-quote")
        expect(quote).to_contain_text("Beto Blanco")
        expect(quote).to_contain_text("Hola @Ana Arias ¿café?")
    stored = Message.objects.get(text="¡Voy!")
    assert stored.reply_to is not None and stored.reply_to.text == "Hola @Ana Arias ¿café?"


def log_at_end(page: Page) -> bool:
    return bool(
        page.locator("#messages-scroll").evaluate(
            "box => box.scrollHeight - box.scrollTop - box.clientHeight < 80"
        )
    )


def test_days_are_marked_and_a_reader_who_scrolled_back_is_offered_the_latest(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    room = cafeteria()
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    now = timezone.now()
    for i in range(40):
        MessageFactory(room=room, author=beto, text=f"Ayer {i}", created_at=now - timedelta(days=1))
    MessageFactory(room=room, author=beto, text="Hoy, temprano", created_at=now)
    anas, betos = new_page(), new_page()
    enter(anas, asgi_server, login, ana, room)
    enter(betos, asgi_server, login, beto, room)

    separators = anas.locator("#messages > li.day-separator")
    expect(separators).to_have_count(2)
    expect(item_with(anas, "Hoy, temprano")).to_be_visible()
    assert log_at_end(anas)
    jump = anas.get_by_role("button", name="Jump to latest")
    expect(jump).to_be_hidden()

    # At the end, a new message follows on its own; scrolled back, the button appears.
    post(betos, "Primero")
    expect(item_with(anas, "Primero")).to_be_visible()
    assert log_at_end(anas)
    anas.locator("#messages-scroll").evaluate("box => { box.scrollTop = 0; }")
    post(betos, "Segundo")
    expect(jump).to_be_visible()
    expect(item_with(anas, "Segundo")).to_be_attached()
    assert not log_at_end(anas)
    expect(separators).to_have_count(2)  # still today
    jump.click()
    expect(jump).to_be_hidden()
    assert log_at_end(anas)
    expect(anas.get_by_label("Message", exact=True)).to_be_focused()


def test_in_a_conversation_at_offers_its_members_by_keyboard(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    conversation = direct_conversation_start(starter=ana, other=beto)
    anas = new_page()
    login(anas, asgi_server, ana.email, PASSWORD)
    anas.goto(f"/messages/{conversation.pk}/")
    box = anas.get_by_role("textbox", name="Message")
    box.press_sequentially("Gracias @bla")
    option = anas.get_by_role("option", name="Beto Blanco")
    expect(option).to_be_visible()
    box.press("Tab")
    expect(box).to_have_value("Gracias @Beto Blanco ")
    expect(box).to_be_focused()


def test_in_a_conversation_days_follow_the_readers_zone_and_the_latest_is_a_button_away(
    new_page: NewPage, asgi_server: str, login: Login
) -> None:
    """Two messages at 20:00 and 23:30 UTC three days ago: one day in Mexico City (14:00 and
    17:30), two in Madrid (21:00, then 00:30 the next day)."""
    ana = onboarded_member("Ana Arias", email="ana@example.com", time_zone="America/Mexico_City")
    beto = onboarded_member("Beto Blanco", email="beto@example.com", time_zone="Europe/Madrid")
    conversation = direct_conversation_start(starter=ana, other=beto)
    day = (timezone.now() - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    for at, text in (
        (day + timedelta(hours=20), "Tarde"),
        (day + timedelta(hours=23, minutes=30), "Noche"),
    ):
        said, _new = message_post(
            conversation=conversation, author=beto, text=text, client_id=uuid.uuid4()
        )
        ConversationMessage.objects.filter(pk=said.pk).update(created_at=at)
    for i in range(40):
        message_post(
            conversation=conversation, author=beto, text=f"Hoy {i}", client_id=uuid.uuid4()
        )
    anas, betos = new_page(), new_page()
    for page, who in ((anas, ana), (betos, beto)):
        login(page, asgi_server, who.email, PASSWORD)
        page.goto(f"/messages/{conversation.pk}/")

    # Mexico City: that day, then today; Madrid: two days, then today.
    expect(anas.locator(".messages-log > li.day-separator")).to_have_count(2)
    expect(betos.locator(".messages-log > li.day-separator")).to_have_count(3)

    jump = anas.get_by_role("button", name="Jump to latest")
    expect(jump).to_be_hidden()
    anas.locator(".messages-scroll").evaluate("box => { box.scrollTop = 0; }")
    box = betos.get_by_role("textbox", name="Message")
    box.fill("¿Sigues ahí?")
    box.press("Enter")
    expect(jump).to_be_visible()
    jump.click()
    expect(jump).to_be_hidden()
    expect(anas.locator(".messages-log").get_by_text("¿Sigues ahí?")).to_be_in_viewport()
    expect(anas.get_by_role("textbox", name="Message")).to_be_focused()


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_day_drawn_live_reads_as_the_server_draws_it(
    new_page: NewPage, asgi_server: str, login: Login, language: str
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com", language=language)
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    conversation = direct_conversation_start(starter=ana, other=beto)
    said, _new = message_post(
        conversation=conversation, author=beto, text="Hace días", client_id=uuid.uuid4()
    )
    ConversationMessage.objects.filter(pk=said.pk).update(
        created_at=timezone.now() - timedelta(days=3)
    )
    page = new_page(locale="es-ES" if language == "es" else "en-GB")
    login(page, asgi_server, ana.email, PASSWORD)
    page.goto(f"/messages/{conversation.pk}/")
    drawn = page.locator(".messages-log > li.day-separator").first.inner_text()

    # The same message's day, drawn by the script the page uses as messages come in.
    live = page.evaluate(
        """async () => {
          const module = await import("/static/js/room/days.js");
          const time = document.querySelector(".messages-log time[datetime]");
          const log = document.createElement("ol");
          const stamp = `<time datetime="${time.dateTime}"></time>`;
          log.innerHTML = `<li><span class="message-meta">${stamp}</span></li>`;
          const zone = document.querySelector("[data-time-zone]")?.dataset.timeZone;
          module.daySeparators(log, zone)();
          return log.querySelector(".day-separator").textContent;
        }"""
    )

    assert live == drawn


@pytest.mark.parametrize("where", ["room", "conversation"])
def test_reacting_from_the_keyboard_keeps_the_focus_on_the_reaction(
    new_page: NewPage, asgi_server: str, login: Login, where: str
) -> None:
    """Each reaction redraws the message's reactions: the focus stays on the same reaction,
    or on the "React" menu once its choice closes it (or the reaction is gone)."""
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    room = cafeteria()
    conversation = direct_conversation_start(starter=beto, other=ana)
    message_post(conversation=conversation, author=beto, text="¿Café?", client_id=uuid.uuid4())
    anas, betos = new_page(), new_page()
    if where == "room":
        enter(anas, asgi_server, login, ana, room)
        enter(betos, asgi_server, login, beto, room)
        post(betos, "¿Café?")
        mine, theirs = item_with(anas, "¿Café?"), item_with(betos, "¿Café?")
    else:
        for page, who in ((anas, ana), (betos, beto)):
            login(page, asgi_server, who.email, PASSWORD)
            open_with_its_socket(page, f"/messages/{conversation.pk}/")
        mine, theirs = (page.locator(".chat-message", has_text="¿Café?") for page in (anas, betos))

    theirs.get_by_text("React").click()
    theirs.get_by_role("button", name="☕", exact=True).click()
    mine.get_by_role("button", name="☕ 1").press("Enter")
    expect(mine.get_by_role("button", name="☕ 2")).to_be_focused()
    mine.get_by_role("button", name="☕ 2").press("Enter")
    expect(mine.get_by_role("button", name="☕ 1")).to_be_focused()

    menu = mine.locator("summary")
    menu.press("Enter")
    mine.get_by_role("button", name="👍", exact=True).press("Enter")
    expect(mine.get_by_role("button", name="👍 1")).to_be_visible()
    expect(menu).to_be_focused()
    # Among a long log's many "Reply" buttons, each says whose message it answers.
    expect(mine.get_by_role("button", name="Reply")).to_have_accessible_description(
        re.compile(r"^Beto Blanco\b")
    )
    expect(theirs.get_by_role("button", name="Edit")).to_have_accessible_description(
        re.compile(r"^Beto Blanco\b")
    )

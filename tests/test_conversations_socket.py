"""The member socket, /ws/me/, on the Redis channel layer: members converse live across tabs,
read receipts and typing reach the others, the header's counters follow, a reconnect catches
up, and outsiders, blocked members and bad frames get error frames on a socket that stays."""

import asyncio
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conversations.consumers import TYPING_EVERY_SECONDS
from conversations.models import Conversation, Message, Participant
from conversations.services import (
    direct_conversation_start,
    group_create,
    message_delete,
    message_edit,
    message_post,
    reaction_toggle,
)
from coworking.asgi import application
from members.models import User
from notifications.models import Kind
from notifications.services import notify
from tests.conftest import a_fresh_budget_window
from tests.factories import BlockFactory, onboarded_member
from tests.test_members_profile import image_bytes
from tests.test_rooms_socket import ORIGIN

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def member_with_session(name: str) -> tuple[User, str, Client]:
    user = onboarded_member(name, email=f"{name.lower()}@example.com", language="en")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return user, client.cookies["sessionid"].value, client


async def tab(session: str) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    """A page of the member's: its socket, and the `hello` it opened with."""
    communicator = WebsocketCommunicator(
        application,
        "/ws/me/",
        headers=[
            ORIGIN,
            (b"cookie", f"sessionid={session}".encode()),
            (b"accept-language", b"en"),
        ],
    )
    connected, _detail = await communicator.connect(timeout=5)
    assert connected
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return communicator, hello


# Frames a test may let pass while it waits for another (never an error or a goodbye).
PASSING_BY = {
    "counts",
    "read",
    "typing",
    "message.new",
    "message.ack",
    "message.edited",
    "message.deleted",
    "message.reactions",
}


async def next_of(communicator: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    while True:
        frame = await communicator.receive_json_from(timeout=5)
        if frame["type"] == kind:
            return frame
        assert frame["type"] in PASSING_BY, frame


async def trio() -> tuple[Conversation, list[tuple[User, str, Client]]]:
    """Ana, Beto and Carla, each with a session, and the group Ana made of them."""
    people = [await member_with_session(name) for name in ("Ana", "Beto", "Carla")]
    group = await database_sync_to_async(group_create)(
        creator=people[0][0], members=[people[1][0], people[2][0]], title="Trío del café"
    )
    return group, people


def sent(conversation: Conversation, text: str, client_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "message.send",
        "conversation": conversation.pk,
        "text": text,
        "client_id": client_id or str(uuid.uuid4()),
    }


async def test_two_members_converse_live_on_every_tab_and_a_resend_is_stored_once() -> None:
    ana, ana_session, _ = await member_with_session("Ana")
    beto, beto_session, _ = await member_with_session("Beto")
    conversation = await database_sync_to_async(direct_conversation_start)(starter=ana, other=beto)
    ana_tab, hello = await tab(ana_session)
    ana_other_tab, _ = await tab(ana_session)
    beto_tab, beto_hello = await tab(beto_session)
    assert hello["you"] == {"id": ana.pk, "name": "Ana"}
    assert beto_hello["counts"] == {"messages": 0, "notices": 0}

    frame = sent(conversation, "¿Café a las 11? <b>sí</b>")
    await ana_tab.send_json_to(frame)
    # Both reach the sending page, in either order (the ack is direct, the message goes
    # through Redis to every tab).
    first, second = await ana_tab.receive_json_from(5), await ana_tab.receive_json_from(5)
    by_type = {first["type"]: first, second["type"]: second}
    new, ack = by_type["message.new"], by_type["message.ack"]
    assert ack == {
        "type": "message.ack",
        "conversation": conversation.pk,
        "client_id": frame["client_id"],
        "id": new["message"]["id"],
    }
    for other in (ana_other_tab, beto_tab):
        heard = (await next_of(other, "message.new"))["message"]
        assert heard["text"] == "¿Café a las 11? <b>sí</b>"
        assert heard["author"] == {"id": ana.pk, "name": "Ana", "staff": False}
        assert heard["conversation"] == conversation.pk

    await ana_tab.send_json_to(frame)  # the same message again, after a reconnect say
    assert (await next_of(ana_tab, "message.ack"))["id"] == ack["id"]
    assert await beto_tab.receive_nothing(timeout=0.3)
    assert await database_sync_to_async(Message.objects.count)() == 1

    # Beto reads it: Ana's tabs see the receipt, Beto's counters are pushed.
    beto_other_tab, other_hello = await tab(beto_session)
    assert other_hello["counts"]["messages"] == 1
    await beto_tab.send_json_to(
        {"type": "read", "conversation": conversation.pk, "upto": ack["id"]}
    )
    receipt = await next_of(ana_tab, "read")
    assert receipt == {
        "type": "read",
        "conversation": conversation.pk,
        "member": beto.pk,
        "upto": ack["id"],
    }
    assert await next_of(beto_other_tab, "counts") == {
        "type": "counts",
        "messages": 0,
        "notices": 0,
    }
    for communicator in (ana_tab, ana_other_tab, beto_tab, beto_other_tab):
        await communicator.disconnect()


async def test_a_message_posted_over_http_is_pushed_too_and_a_reconnect_catches_up() -> None:
    ana, _ana_session, anas = await member_with_session("Ana")
    beto, beto_session, _ = await member_with_session("Beto")
    conversation = await database_sync_to_async(direct_conversation_start)(starter=ana, other=beto)
    beto_tab, _ = await tab(beto_session)

    posted = await database_sync_to_async(anas.post)(
        f"/messages/{conversation.pk}/", {"text": "Sin JavaScript", "client_id": str(uuid.uuid4())}
    )
    assert posted.status_code == 302
    first = (await next_of(beto_tab, "message.new"))["message"]
    await beto_tab.disconnect()

    # Said while Beto's page was offline.
    for text in ("uno", "dos"):
        await database_sync_to_async(message_post)(
            conversation=conversation, author=ana, text=text, client_id=uuid.uuid4()
        )
    beto_tab, _ = await tab(beto_session)
    await beto_tab.send_json_to(
        {"type": "messages.since", "conversation": conversation.pk, "after": first["id"]}
    )
    caught_up = await next_of(beto_tab, "messages")
    assert [m["text"] for m in caught_up["messages"]] == ["uno", "dos"]
    assert caught_up["has_more"] is False
    await beto_tab.disconnect()


async def test_a_reconnect_brings_what_was_edited_deleted_or_reacted_to_while_away() -> None:
    ana, _ana_session, _ = await member_with_session("Ana")
    beto, beto_session, _ = await member_with_session("Beto")
    conversation = await database_sync_to_async(direct_conversation_start)(starter=ana, other=beto)
    said = [
        (
            await database_sync_to_async(message_post)(
                conversation=conversation, author=ana, text=text, client_id=uuid.uuid4()
            )
        )[0]
        for text in ("El jueves a las 10", "Perdón, otra persona", "Nos vemos")
    ]
    beto_tab, hello = await tab(beto_session)
    await beto_tab.disconnect()

    # While Beto's page was offline.
    await database_sync_to_async(message_edit)(
        message=said[0], editor=ana, text="El jueves a las 11"
    )
    await database_sync_to_async(message_delete)(message=said[1], by=ana)
    await database_sync_to_async(reaction_toggle)(message=said[2], user=ana, emoji="❤️")
    beto_tab, _ = await tab(beto_session)
    catch_up = {"type": "messages.since", "conversation": conversation.pk, "after": said[2].pk}
    await beto_tab.send_json_to({**catch_up, "changed_since": hello["now"]})
    caught_up = await next_of(beto_tab, "messages")
    await beto_tab.send_json_to({**catch_up, "changed_since": 10**20})
    refused = await next_of(beto_tab, "error")

    assert caught_up["messages"] == []
    assert [(m["id"], m["text"], m["deleted"]) for m in caught_up["changed"]] == [
        (said[0].pk, "El jueves a las 11", False),
        (said[1].pk, "", True),
        (said[2].pk, "Nos vemos", False),
    ]
    assert caught_up["changed"][2]["reactions"] == [{"emoji": "❤️", "members": [ana.pk]}]
    assert (refused["code"], refused["about"]) == ("invalid_fields", "messages.since")
    await beto_tab.send_json_to(catch_up)  # the socket stays; without a moment, no changes
    assert "changed" not in await next_of(beto_tab, "messages")
    await beto_tab.disconnect()


async def test_a_message_sent_while_a_page_opens_reaches_it_after_its_hello(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from conversations import consumers

    ana, _ana_session, _ = await member_with_session("Ana")
    beto, beto_session, _ = await member_with_session("Beto")
    conversation = await database_sync_to_async(direct_conversation_start)(starter=ana, other=beto)
    read_hello = consumers._hello

    async def hello_then_a_message(user: User) -> dict[str, Any]:
        # Beto's page has counted his unread messages; Ana writes before it is told.
        hello = await read_hello(user)
        await database_sync_to_async(message_post)(
            conversation=conversation, author=ana, text="¿Café?", client_id=uuid.uuid4()
        )
        return hello

    monkeypatch.setattr(consumers, "_hello", hello_then_a_message)
    beto_tab, hello = await tab(beto_session)

    assert hello["counts"]["messages"] == 0
    assert (await next_of(beto_tab, "message.new"))["message"]["text"] == "¿Café?"
    await beto_tab.disconnect()


async def test_typing_reaches_the_others_once_in_a_while_and_never_the_typist() -> None:
    ana, ana_session, _ = await member_with_session("Ana")
    beto, beto_session, _ = await member_with_session("Beto")
    conversation = await database_sync_to_async(direct_conversation_start)(starter=ana, other=beto)
    ana_tab, _ = await tab(ana_session)
    beto_tab, _ = await tab(beto_session)

    for _ in range(5):
        await ana_tab.send_json_to({"type": "typing", "conversation": conversation.pk})
    typing = await next_of(beto_tab, "typing")
    assert typing == {
        "type": "typing",
        "conversation": conversation.pk,
        "member": {"id": ana.pk, "name": "Ana"},
    }
    assert await beto_tab.receive_nothing(timeout=0.3)
    assert await ana_tab.receive_nothing(timeout=0.1)
    await ana_tab.disconnect()
    await beto_tab.disconnect()


async def test_outsiders_blocked_members_and_bad_frames_get_errors_on_a_socket_that_stays() -> None:
    ana, _ana_session, _ = await member_with_session("Ana")
    beto, beto_session, _ = await member_with_session("Beto")
    _carla, carla_session, _ = await member_with_session("Carla")
    conversation = await database_sync_to_async(direct_conversation_start)(starter=ana, other=beto)
    carla_tab, _ = await tab(carla_session)
    beto_tab, _ = await tab(beto_session)

    frame = sent(conversation, "Me cuelo")
    await carla_tab.send_json_to(frame)
    refused = await next_of(carla_tab, "error")
    assert (refused["code"], refused["client_id"]) == ("not_found", frame["client_id"])
    for bad in (
        {"type": "typing", "conversation": conversation.pk},
        {"type": "messages.since", "conversation": conversation.pk, "after": 0},
        {"type": "read", "conversation": conversation.pk, "upto": 1},
    ):
        await carla_tab.send_json_to(bad)
        assert (await next_of(carla_tab, "error"))["code"] == "not_found"
    for bad in (
        {"type": "message.send", "conversation": "1", "text": "x", "client_id": "no"},
        {"type": "message.send", "conversation": conversation.pk, "text": "a\u0000b"},
        {"type": "read", "conversation": conversation.pk, "upto": True},
    ):
        await carla_tab.send_json_to(bad)
        assert (await next_of(carla_tab, "error"))["code"] == "invalid_fields"

    await database_sync_to_async(BlockFactory.create)(blocker=ana, blocked=beto)
    frame = sent(conversation, "¿Sigues ahí?")
    await beto_tab.send_json_to(frame)
    refused = await next_of(beto_tab, "error")
    assert refused["code"] == "not_found" and refused["client_id"] == frame["client_id"]
    assert await database_sync_to_async(Message.objects.count)() == 0
    await carla_tab.send_json_to({"type": "ping"})
    assert await next_of(carla_tab, "pong") == {"type": "pong"}
    await carla_tab.disconnect()
    await beto_tab.disconnect()


async def answers(page: WebsocketCommunicator, count: int) -> list[dict[str, Any]]:
    """The next `count` acks or errors on `page`, letting other frames pass."""
    got: list[dict[str, Any]] = []
    while len(got) < count:
        frame = await page.receive_json_from(timeout=5)
        if frame["type"] in ("message.ack", "error"):
            got.append(frame)
        else:
            assert frame["type"] in PASSING_BY, frame
    return got


async def test_limits_hold_on_the_member_socket_and_the_budget_is_the_members_across_tabs() -> None:
    """The room sockets' rules (docs/websocket-protocol.md, "Limits"): a frame too large or
    nested too deep gets an error and the socket stays; the `messages` budget (20 per 10 s)
    counts the member's frames on all their tabs, and a refused message names its client id."""
    ana, ana_session, _ = await member_with_session("Ana")
    beto, _beto_session, _ = await member_with_session("Beto")
    conversation = await database_sync_to_async(direct_conversation_start)(starter=ana, other=beto)
    first, _ = await tab(ana_session)
    second, _ = await tab(ana_session)

    await first.send_to(text_data='{"type": "ping", "pad": "' + "x" * 40_000 + '"}')
    assert (await next_of(first, "error"))["code"] == "frame_too_large"
    await first.send_to(text_data='{"type": "ping", "x": ' + "[" * 100 + "]" * 100 + "}")
    assert (await next_of(first, "error"))["code"] == "invalid_json"

    await a_fresh_budget_window()
    frames = [sent(conversation, f"Hola {n}") for n in range(24)]
    for n, frame in enumerate(frames):
        await (first if n % 2 else second).send_json_to(frame)
    replies = await answers(first, 12) + await answers(second, 12)

    refused = [reply for reply in replies if reply["type"] == "error"]
    assert len(refused) == 4 and {reply["code"] for reply in refused} == {"rate_limited"}
    assert {reply["client_id"] for reply in refused} <= {frame["client_id"] for frame in frames}
    assert await database_sync_to_async(Message.objects.count)() == 20
    await second.send_json_to({"type": "ping"})
    assert await next_of(second, "pong") == {"type": "pong"}
    await first.disconnect()
    await second.disconnect()


async def test_the_hourly_cap_counts_the_page_form_and_the_socket_together(settings: Any) -> None:
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "conversation_message": "3/h/user",
    }
    ana, ana_session, ana_client = await member_with_session("Ana")
    beto, _beto_session, _ = await member_with_session("Beto")
    conversation = await database_sync_to_async(direct_conversation_start)(starter=ana, other=beto)
    for text in ("Uno", "Dos"):  # from the page, without the socket
        posted = await database_sync_to_async(ana_client.post)(
            f"/messages/{conversation.pk}/", {"text": text, "client_id": str(uuid.uuid4())}
        )
        assert posted.status_code == 302
    page, _ = await tab(ana_session)

    third = sent(conversation, "Tres")
    await page.send_json_to(third)
    assert (await next_of(page, "message.ack"))["id"]
    fourth = sent(conversation, "Cuatro")
    await page.send_json_to(fourth)
    refused = await next_of(page, "error")

    assert (refused["code"], refused["client_id"]) == ("refused", fourth["client_id"])
    assert refused["message"] == "You are writing very fast. Wait a moment and send it again."
    # A message sent again (its ack lost with a connection) is acked, not refused: refused,
    # the page would put it back to be sent twice.
    await page.send_json_to(third)
    assert (await next_of(page, "message.ack"))["client_id"] == third["client_id"]
    assert await database_sync_to_async(Message.objects.count)() == 3
    await page.send_json_to({"type": "ping"})
    assert await next_of(page, "pong") == {"type": "pong"}
    await page.disconnect()


async def test_in_a_group_a_blocked_authors_messages_do_not_reach_the_blocker() -> None:
    group, people = await trio()
    (ana, ana_session, _), (_beto, beto_session, _), (carla, carla_session, carla_client) = people
    await database_sync_to_async(BlockFactory.create)(blocker=carla, blocked=ana)
    ana_tab, _ = await tab(ana_session)
    beto_tab, _ = await tab(beto_session)
    carla_tab, _ = await tab(carla_session)

    await ana_tab.send_json_to(sent(group, "Hola a los dos"))
    assert (await next_of(ana_tab, "message.ack"))["id"]
    assert (await next_of(beto_tab, "message.new"))["message"]["text"] == "Hola a los dos"
    assert await carla_tab.receive_nothing(timeout=0.3)
    assert (await database_sync_to_async(lambda: Participant.objects.count())()) == 3

    # Beto answers Ana: Carla hears the answer with the quote hidden, on the page too; and
    # Carla cannot answer (so quote) a message of Ana's.
    asked = await database_sync_to_async(Message.objects.get)(text="Hola a los dos")
    await beto_tab.send_json_to({**sent(group, "¡Hola, Ana!"), "reply_to": asked.pk})
    heard = (await next_of(carla_tab, "message.new"))["message"]
    assert heard["reply_to"] == {
        "id": asked.pk,
        "author": None,
        "text": "",
        "deleted": False,
        "hidden": True,
    }
    told = (await next_of(ana_tab, "message.new"))["message"]
    while told["text"] != "¡Hola, Ana!":  # her own first message comes back to her tab first
        told = (await next_of(ana_tab, "message.new"))["message"]
    assert told["reply_to"]["text"] == "Hola a los dos" and not told["reply_to"]["hidden"]
    await carla_tab.send_json_to({**sent(group, "Cotilla"), "reply_to": asked.pk})
    assert (await next_of(carla_tab, "error"))["code"] == "refused"
    await carla_tab.send_json_to({"type": "messages.since", "conversation": group.pk, "after": 0})
    [caught_up] = (await next_of(carla_tab, "messages"))["messages"]
    assert caught_up["reply_to"]["hidden"] and caught_up["reply_to"]["text"] == ""
    page = await database_sync_to_async(carla_client.get)(f"/messages/{group.pk}/")
    assert "Hola a los dos" not in page.content.decode()
    assert "A message you do not see." in page.content.decode()  # her language: English
    for communicator in (ana_tab, beto_tab, carla_tab):
        await communicator.disconnect()


async def test_in_a_group_the_blocker_hears_nothing_of_a_hidden_message_s_changes() -> None:
    group, people = await trio()
    (ana, ana_session, _), (_beto, beto_session, _), (carla, carla_session, _) = people
    await database_sync_to_async(BlockFactory.create)(blocker=carla, blocked=ana)
    hidden, _created = await database_sync_to_async(message_post)(
        conversation=group, author=ana, text="Hola", client_id=uuid.uuid4()
    )
    ana_tab, _ = await tab(ana_session)
    beto_tab, _ = await tab(beto_session)
    carla_tab, _ = await tab(carla_session)

    await beto_tab.send_json_to(
        {"type": "message.react", "conversation": group.pk, "id": hidden.pk, "emoji": "👍"}
    )
    assert (await next_of(ana_tab, "message.reactions"))["id"] == hidden.pk
    await ana_tab.send_json_to(
        {"type": "message.delete", "conversation": group.pk, "id": hidden.pk}
    )
    assert (await next_of(beto_tab, "message.deleted"))["id"] == hidden.pk

    assert await carla_tab.receive_nothing(timeout=0.3)
    for communicator in (ana_tab, beto_tab, carla_tab):
        await communicator.disconnect()


async def test_in_a_group_reactions_leave_out_whom_the_reader_does_not_see() -> None:
    """Carla blocked Ana: Ana's reaction to Beto's message neither counts nor names her on
    Carla's pages, live, caught up or loaded; Beto sees it."""
    group, people = await trio()
    (
        (ana, ana_session, _),
        (beto, beto_session, beto_client),
        (carla, carla_session, carla_client),
    ) = people
    await database_sync_to_async(BlockFactory.create)(blocker=carla, blocked=ana)
    from_beto, _created = await database_sync_to_async(message_post)(
        conversation=group, author=beto, text="¿Café?", client_id=uuid.uuid4()
    )
    ana_tab, _ = await tab(ana_session)
    beto_tab, _ = await tab(beto_session)
    carla_tab, _ = await tab(carla_session)

    await ana_tab.send_json_to(
        {"type": "message.react", "conversation": group.pk, "id": from_beto.pk, "emoji": "☕"}
    )
    told = (await next_of(beto_tab, "message.reactions"))["reactions"]
    assert told == [{"emoji": "☕", "members": [ana.pk]}]
    # Carla hears nothing of Ana's (nothing she sees changed); Beto's edit, then his own
    # reaction, come without Ana's.
    await beto_tab.send_json_to(
        {"type": "message.edit", "conversation": group.pk, "id": from_beto.pk, "text": "¿Té?"}
    )
    assert (await next_of(carla_tab, "message.edited"))["message"]["reactions"] == []
    await beto_tab.send_json_to(
        {"type": "message.react", "conversation": group.pk, "id": from_beto.pk, "emoji": "☕"}
    )
    assert (await next_of(carla_tab, "message.reactions"))["reactions"] == [
        {"emoji": "☕", "members": [beto.pk]}
    ]
    await carla_tab.send_json_to({"type": "messages.since", "conversation": group.pk, "after": 0})
    [caught_up] = (await next_of(carla_tab, "messages"))["messages"]
    assert caught_up["reactions"] == [{"emoji": "☕", "members": [beto.pk]}]
    page = await database_sync_to_async(carla_client.get)(f"/messages/{group.pk}/")
    assert 'class="reaction" aria-pressed="false">☕ 1</button>' in page.content.decode()
    beto_page = await database_sync_to_async(beto_client.get)(f"/messages/{group.pk}/")
    assert 'class="reaction" aria-pressed="true">☕ 2</button>' in beto_page.content.decode()
    for communicator in (ana_tab, beto_tab, carla_tab):
        await communicator.disconnect()


async def test_whoever_leaves_a_group_neither_hears_its_typing_nor_is_heard_typing() -> None:
    group, people = await trio()
    (_ana, ana_session, _), (_beto, beto_session, beto_client), _carla = people
    ana_tab, _ = await tab(ana_session)
    beto_tab, _ = await tab(beto_session)
    for page, other in ((ana_tab, beto_tab), (beto_tab, ana_tab)):
        await page.send_json_to({"type": "typing", "conversation": group.pk})
        await next_of(other, "typing")  # each socket now knows who hears it type

    left = await database_sync_to_async(beto_client.post)(
        f"/messages/{group.pk}/group/", {"action": "leave"}
    )
    assert left.status_code == 302
    for page in (ana_tab, beto_tab):
        await next_of(page, "conversation.changed")
    await asyncio.sleep(TYPING_EVERY_SECONDS)  # each may say "typing" there again
    await ana_tab.send_json_to({"type": "typing", "conversation": group.pk})
    await beto_tab.send_json_to({"type": "typing", "conversation": group.pk})

    assert (await next_of(beto_tab, "error"))["code"] == "not_found"
    assert await beto_tab.receive_nothing(timeout=0.3)
    assert await ana_tab.receive_nothing(timeout=0.3)
    for communicator in (ana_tab, beto_tab):
        await communicator.disconnect()


async def test_the_notifications_counter_follows_new_and_read_notices() -> None:
    beto, beto_session, betos = await member_with_session("Beto")
    beto_tab, hello = await tab(beto_session)
    assert hello["counts"]["notices"] == 0

    await database_sync_to_async(notify)(
        user=beto, kind=Kind.EVENT_CHANGED, key="hello", text="Cambio de hora"
    )
    assert (await next_of(beto_tab, "counts"))["notices"] == 1
    await database_sync_to_async(betos.post)("/notifications/read/")
    assert (await next_of(beto_tab, "counts"))["notices"] == 0
    await beto_tab.disconnect()


async def test_logging_out_closes_the_member_socket_of_that_session() -> None:
    _beto, beto_session, betos = await member_with_session("Beto")
    beto_tab, _ = await tab(beto_session)

    await database_sync_to_async(betos.post)("/accounts/logout/")
    bye = await next_of(beto_tab, "bye")
    assert bye["reason"] == "logged_out"
    assert (await beto_tab.receive_output(timeout=5))["code"] == 4000


async def test_replies_reactions_edits_and_deletions_reach_every_page_and_only_authors_change() -> (
    None
):
    ana, ana_session, _ = await member_with_session("Ana")
    beto, beto_session, betos = await member_with_session("Beto")
    conversation = await database_sync_to_async(direct_conversation_start)(starter=ana, other=beto)
    first, _ = await database_sync_to_async(message_post)(
        conversation=conversation, author=beto, text="¿Café el jueves?", client_id=uuid.uuid4()
    )
    ana_tab, _ = await tab(ana_session)
    beto_tab, _ = await tab(beto_session)

    answer = sent(conversation, "¡Sí! A las 10")
    await ana_tab.send_json_to({**answer, "reply_to": first.pk})
    heard = (await next_of(beto_tab, "message.new"))["message"]
    assert heard["reply_to"] == {
        "id": first.pk,
        "author": "Beto",
        "text": "¿Café el jueves?",
        "deleted": False,
        "hidden": False,
    }

    await beto_tab.send_json_to(
        {"type": "message.react", "conversation": conversation.pk, "id": heard["id"], "emoji": "☕"}
    )
    for page in (ana_tab, beto_tab):
        reactions = await next_of(page, "message.reactions")
        assert reactions["reactions"] == [{"emoji": "☕", "members": [beto.pk]}]
        assert reactions["version"] == 1
    await beto_tab.send_json_to(
        {"type": "message.react", "conversation": conversation.pk, "id": heard["id"], "emoji": "🦄"}
    )
    assert (await next_of(beto_tab, "error"))["code"] == "invalid_fields"

    # Beto cannot edit or delete Ana's message; Ana can.
    await beto_tab.send_json_to(
        {"type": "message.edit", "conversation": conversation.pk, "id": heard["id"], "text": "No"}
    )
    refused = await next_of(beto_tab, "error")
    assert refused["code"] == "refused" and "your own messages" in refused["message"]
    await ana_tab.send_json_to(
        {
            "type": "message.edit",
            "conversation": conversation.pk,
            "id": heard["id"],
            "text": "A las 11",
        }
    )
    edited = (await next_of(beto_tab, "message.edited"))["message"]
    assert edited["text"] == "A las 11" and edited["edited_at"]
    # The page redraws the message whole: its reactions come with it.
    assert edited["reactions"] == [{"emoji": "☕", "members": [beto.pk]}]
    assert edited["reactions_version"] == 1
    await ana_tab.send_json_to(
        {"type": "message.delete", "conversation": conversation.pk, "id": heard["id"]}
    )
    deleted = await next_of(beto_tab, "message.deleted")
    assert deleted == {
        "type": "message.deleted",
        "conversation": conversation.pk,
        "id": heard["id"],
    }

    # Over HTTP too (a page without its script).
    reacted = await database_sync_to_async(betos.post)(
        f"/messages/{conversation.pk}/{first.pk}/react/", {"emoji": "👍"}
    )
    assert reacted.status_code == 302
    assert (await next_of(ana_tab, "message.reactions"))["reactions"][0]["emoji"] == "👍"
    page = (await database_sync_to_async(betos.get)(f"/messages/{conversation.pk}/")).content
    assert "This message was deleted." in page.decode() and "A las 11" not in page.decode()
    for page_socket in (ana_tab, beto_tab):
        await page_socket.disconnect()


async def test_a_file_sent_over_http_reaches_the_other_page_live() -> None:
    ana, _ana_session, anas = await member_with_session("Ana")
    beto, beto_session, _ = await member_with_session("Beto")
    conversation = await database_sync_to_async(direct_conversation_start)(starter=ana, other=beto)
    beto_tab, _ = await tab(beto_session)

    posted = await database_sync_to_async(anas.post)(
        f"/messages/{conversation.pk}/",
        {
            "text": "",
            "client_id": str(uuid.uuid4()),
            "attachment": SimpleUploadedFile("mesa.png", image_bytes("PNG")),
        },
    )
    assert posted.status_code == 302
    heard = (await next_of(beto_tab, "message.new"))["message"]
    assert heard["attachment"]["kind"] == "image"
    assert heard["attachment"]["thumbnail_url"].endswith("/file/?thumbnail=1")
    await beto_tab.disconnect()


async def test_a_socket_that_fails_to_join_leaves_nothing_for_the_sweep_to_keep(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A Redis blip while joining: the socket never opens, and its place among the member's
    # 20 is not kept alive by this process's sweep for as long as it runs.
    from conversations.consumers import MemberConsumer
    from rooms import liveness

    _ana, session, _client = await member_with_session("Ana")
    join_group = MemberConsumer.join_group
    failed: list[str] = []

    async def blip(self: MemberConsumer, group: str) -> None:
        if not failed:
            failed.append(self.channel_name)
            raise ConnectionError("Redis went away")
        await join_group(self, group)

    monkeypatch.setattr(MemberConsumer, "join_group", blip)
    communicator = WebsocketCommunicator(
        application, "/ws/me/", headers=[ORIGIN, (b"cookie", f"sessionid={session}".encode())]
    )
    connected, _detail = await communicator.connect(timeout=5)
    assert not connected
    await communicator.wait(timeout=1)

    assert failed and failed[0] not in liveness._watched
    again, _hello = await tab(session)  # the next page opens as usual
    await again.disconnect()


async def test_a_message_deleted_before_it_was_read_leaves_the_readers_unread_count() -> None:
    group, [(ana, _, _), (_beto, beto_session, _), _carla] = await trio()
    beto_tab, _hello = await tab(beto_session)
    message, _created = await database_sync_to_async(message_post)(
        conversation=group, author=ana, text="Era para otra persona", client_id=uuid.uuid4()
    )
    await next_of(beto_tab, "message.new")

    await database_sync_to_async(message_delete)(message=message, by=ana)
    while (frame := await next_of(beto_tab, "counts"))["messages"] != 0:
        pass
    assert frame == {"type": "counts", "messages": 0, "notices": 0}
    await beto_tab.disconnect()

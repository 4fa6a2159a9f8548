"""Replies in room chat, as in conversations: the answer carries a quote of the message it
answers, live and in history, and an answer to a message that is not there is refused on a
socket that stays."""

import uuid

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from rooms.models import Message
from tests.factories import BlockFactory, MessageFactory, RoomFactory
from tests.test_rooms_reactions import next_of
from tests.test_rooms_socket import join, member_with_session, room, send, settled

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_a_reply_quotes_the_message_it_answers_live_in_history_and_on_the_page() -> None:
    _alice, alice_session = await member_with_session(display_name="Alice")
    bob, bob_session = await member_with_session(display_name="Bob")
    place = await room()
    alice_socket, _ = await join(place, alice_session)
    bob_socket, _ = await join(place, bob_session)
    await settled(alice_socket)
    await settled(bob_socket)
    await alice_socket.send_json_to(send("¿Alguien para un café a las 11?"))
    asked = (await next_of(alice_socket, "chat.ack"))["id"]

    answer = {**send("¡Yo! <b>a las 11</b>"), "reply_to": asked}
    await bob_socket.send_json_to(answer)
    answered = (await next_of(bob_socket, "chat.ack"))["id"]
    heard = (await next_of(alice_socket, "chat.message"))["message"]
    assert heard["id"] == answered
    assert heard["reply_to"] == {
        "id": asked,
        "author": "Alice",
        "text": "¿Alguien para un café a las 11?",
        "deleted": False,
        "hidden": False,
    }

    # An edit keeps the quote.
    await bob_socket.send_json_to({"type": "chat.edit", "id": answered, "text": "¡Yo voy!"})
    edited = (await next_of(alice_socket, "chat.edited"))["message"]
    assert edited["reply_to"]["id"] == asked
    await next_of(bob_socket, "chat.edited")

    # The answered message goes: the answer stays, quoting a deleted message.
    await alice_socket.send_json_to({"type": "chat.delete", "id": asked})
    await next_of(bob_socket, "chat.deleted")
    later, hello = await join(place, alice_session)
    [shown] = [m for m in hello["history"] if m["id"] == answered]
    assert shown["reply_to"] == {
        "id": asked,
        "author": "Alice",
        "text": "",
        "deleted": True,
        "hidden": False,
    }
    await later.disconnect()

    client = Client()
    await database_sync_to_async(client.force_login)(bob)
    page = (await database_sync_to_async(client.get)(f"/rooms/{place.slug}/")).content.decode()
    # Marked with the answered message's id, which live edits and deletions find it by.
    quote = f'<blockquote class="message-quote" data-quotes="{asked}">'
    assert quote + '<span class="quote-author">Alice</span>' in page
    # Spanish first: the quote says the answered message is gone.
    assert '<span class="quote-author">Alice</span> <em>Este mensaje se borró.</em>' in page
    for socket in (alice_socket, bob_socket):
        await socket.disconnect()
    assert await database_sync_to_async(Message.objects.filter(reply_to_id=asked).count)() == 1


async def test_an_answer_to_a_message_elsewhere_or_gone_is_refused_and_the_socket_stays() -> None:
    _alice, alice_session = await member_with_session(display_name="Alice")
    place = await room()
    elsewhere = await database_sync_to_async(MessageFactory.create)(
        room=await database_sync_to_async(RoomFactory.create)(), text="En otra sala"
    )
    socket, _ = await join(place, alice_session)
    await settled(socket)
    for reply_to in (elsewhere.pk, 10**9):
        client_id = uuid.uuid4()
        await socket.send_json_to({**send("Respuesta", client_id), "reply_to": reply_to})
        error = await next_of(socket, "error")
        assert error["code"] == "not_found"
        assert error["client_id"] == str(client_id)
    await socket.send_json_to({**send("Respuesta"), "reply_to": "uno"})
    assert (await next_of(socket, "error"))["code"] == "invalid_fields"

    await socket.send_json_to(send("Sigo aquí"))
    assert (await next_of(socket, "chat.ack"))["id"]
    texts = await database_sync_to_async(list)(
        Message.objects.filter(room=place).values_list("text", flat=True)
    )
    assert texts == ["Sigo aquí"]
    await socket.disconnect()


async def test_a_member_on_either_side_of_a_block_sees_no_quote_of_the_other() -> None:
    alice, alice_session = await member_with_session(display_name="Alice")
    bob, bob_session = await member_with_session(display_name="Bob")
    _carla, carla_session = await member_with_session(display_name="Carla")
    place = await room()
    await database_sync_to_async(BlockFactory.create)(blocker=bob, blocked=alice)
    sockets = {}
    for name, session in (("alice", alice_session), ("bob", bob_session), ("carla", carla_session)):
        sockets[name], _ = await join(place, session)
        await settled(sockets[name])
    await sockets["alice"].send_json_to(send("Mi secreto"))
    asked = (await next_of(sockets["alice"], "chat.ack"))["id"]
    await sockets["carla"].send_json_to({**send("¡Qué bien!"), "reply_to": asked})
    await next_of(sockets["carla"], "chat.ack")

    hidden = {"id": asked, "author": None, "text": "", "deleted": False, "hidden": True}
    assert (await next_of(sockets["bob"], "chat.message"))["message"]["reply_to"] == hidden
    seen = (await next_of(sockets["alice"], "chat.message"))["message"]["reply_to"]
    assert seen["text"] == "Mi secreto" and not seen["hidden"]
    later, hello = await join(place, bob_session)
    assert [m["reply_to"] for m in hello["history"]] == [hidden]
    await sockets["bob"].send_json_to({"type": "history.since", "after_id": 0})
    page = await next_of(sockets["bob"], "history.page")
    assert [m["reply_to"] for m in page["messages"]] == [hidden]
    client = Client()
    await database_sync_to_async(client.force_login)(bob)
    html = (await database_sync_to_async(client.get)(f"/rooms/{place.slug}/")).content.decode()
    assert "Mi secreto" not in html and "Un mensaje que no ves." in html
    # Bob cannot answer (and so quote) Alice's message.
    await sockets["bob"].send_json_to({**send("Eh"), "reply_to": asked})
    assert (await next_of(sockets["bob"], "error"))["code"] == "not_found"
    for socket in (*sockets.values(), later):
        await socket.disconnect()

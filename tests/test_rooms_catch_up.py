"""Catching up without holes (docs/websocket-protocol.md, "Catching up"): a room's messages are
numbered 1, 2, 3... as they commit, and a catch-up page says how far it reaches."""

import threading
import uuid

import pytest
from channels.db import database_sync_to_async
from django.db import connections

from members.models import User
from rooms.models import Message
from rooms.services import message_post, room_enter
from tests.factories import BlockFactory, MessageFactory, RoomFactory, UserFactory
from tests.test_rooms_socket import join, member_with_session, next_of, room, send


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_acks_live_messages_and_pages_carry_the_number_in_the_room() -> None:
    _alice, alice_session = await member_with_session()
    _bob, bob_session = await member_with_session()
    place, elsewhere = await room(), await room()
    await database_sync_to_async(MessageFactory.create_batch)(3, room=elsewhere)
    alice, _ = await join(place, alice_session)
    bob, _ = await join(place, bob_session)

    acks, heard = [], []
    for text in ("Uno", "Dos"):
        await alice.send_json_to(send(text))
        acks.append(await next_of(alice, "chat.ack"))
        heard.append((await next_of(bob, "chat.message"))["message"])
    await bob.send_json_to({"type": "history.since", "after_id": 0})
    page = await next_of(bob, "history.page")

    assert [ack["seq"] for ack in acks] == [1, 2]  # the other room's three count there
    assert [(m["id"], m["seq"]) for m in heard] == [(ack["id"], ack["seq"]) for ack in acks]
    assert [m["seq"] for m in page["messages"]] == [1, 2]
    assert page["upto"] == {"id": acks[1]["id"], "seq": 2}
    await alice.disconnect()
    await bob.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_catch_up_page_reaches_past_a_newest_message_hidden_from_its_reader() -> None:
    alice, alice_session = await member_with_session()
    bob = await database_sync_to_async(UserFactory.create)()
    place = await room()
    said = await database_sync_to_async(MessageFactory.create)(room=place, text="Hola")
    hidden = await database_sync_to_async(MessageFactory.create)(room=place, author=bob)
    await database_sync_to_async(BlockFactory.create)(blocker=alice, blocked=bob)
    reader, _ = await join(place, alice_session)

    await reader.send_json_to({"type": "history.since", "after_id": 0})
    page = await next_of(reader, "history.page")

    assert [m["id"] for m in page["messages"]] == [said.pk]
    # Nothing to wait for: the page covers the hidden message too.
    assert page["upto"] == {"id": hidden.pk, "seq": 2}
    await reader.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_page_with_more_to_come_reaches_its_own_last_message() -> None:
    _alice, session = await member_with_session()
    place = await room()
    await database_sync_to_async(MessageFactory.create_batch)(60, room=place)
    reader, _ = await join(place, session)

    await reader.send_json_to({"type": "history.since", "after_id": 0})
    first = await next_of(reader, "history.page")
    await reader.send_json_to({"type": "history.since", "after_id": first["upto"]["id"]})
    second = await next_of(reader, "history.page")

    assert first["has_more"] is True
    assert first["upto"] == {"id": first["messages"][-1]["id"], "seq": 50}
    assert [m["seq"] for m in second["messages"]] == list(range(51, 61))
    assert (second["has_more"], second["upto"]["seq"]) == (False, 60)
    await reader.disconnect()


@pytest.mark.django_db(transaction=True)
def test_members_writing_at_once_get_consecutive_numbers_in_commit_order() -> None:
    place = RoomFactory.create()
    authors = UserFactory.create_batch(8)
    for author in authors:
        room_enter(room=place, user=author)
    start = threading.Barrier(len(authors))
    failures: list[BaseException] = []

    def write(author: User) -> None:
        try:
            start.wait()
            for n in range(5):
                message_post(room=place, author=author, text=f"{n}", client_id=uuid.uuid4())
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(author,)) for author in authors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    stored = list(Message.objects.filter(room=place).order_by("id").values_list("seq", flat=True))
    # Ids are taken while the room is locked too: seq order is id order, none skipped.
    assert stored == list(range(1, 41))

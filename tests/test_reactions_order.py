"""A burst of reactions on one message (the stage's votes on a question): the changes take
turns on the message's row, each reads the counts the one before left, and each is numbered
in that order, so that a page keeps the latest counts whatever order the broadcasts reach
it in (docs/websocket-protocol.md, "chat.reactions")."""

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from conversations import live
from conversations.models import Message as ConversationMessage
from conversations.services import direct_conversation_start, group_create, message_post
from conversations.services import reaction_toggle as conversation_reaction_toggle
from rooms.models import Message as RoomMessage
from rooms.models import Room
from rooms.services import reaction_toggle as room_reaction_toggle
from tests.factories import MessageFactory, RoomFactory, onboarded_member

pytestmark = pytest.mark.django_db(transaction=True)


def _while_a_change_is_uncommitted(first: Callable[[], Any], second: Callable[[], Any]) -> Any:
    """Run `first` in a transaction that stays open until `second`, in another thread, has
    either finished or is waiting on a lock; then commit it, and return what `second` gave."""
    done = threading.Event()
    release = threading.Event()
    results: dict[str, Any] = {}

    def hold() -> None:
        try:
            with transaction.atomic():
                first()
                done.set()
                release.wait(30)
        finally:
            connection.close()

    def run_second() -> None:
        try:
            results["second"] = second()
        finally:
            connection.close()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert done.wait(30), "the first change never ran"
    racer = threading.Thread(target=run_second, daemon=True)
    racer.start()
    with connection.cursor() as cursor:
        for _attempt in range(3000):
            if not racer.is_alive():
                break
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                break
            time.sleep(0.01)
    release.set()
    for thread in (holder, racer):
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in (holder, racer))
    return results["second"]


def test_two_votes_at_once_on_a_room_message_are_counted_in_turn_and_numbered() -> None:
    alice, bob, carla = (onboarded_member(name) for name in ("Alice", "Bob", "Carla"))
    room = RoomFactory.create(kind=Room.Kind.PERMANENT, name="Formación", slug="formacion")
    question = MessageFactory.create(room=room, author=alice, text="¿Y el audio?", seq=1)
    read_before = RoomMessage.objects.get(pk=question.pk)  # as the admin's change page read it

    reactions, version = _while_a_change_is_uncommitted(
        lambda: room_reaction_toggle(message=question, user=bob, emoji="👍"),
        lambda: room_reaction_toggle(message=question, user=carla, emoji="👍"),
    )

    # The second vote waited for the first and counted it: its counts are the latest.
    assert reactions == [{"emoji": "👍", "members": [bob.pk, carla.pk]}]
    assert version == 2
    read_before.text = "¿Y el audio? (editado en el admin)"
    read_before.save()  # a whole-row save leaves the number as the votes left it
    assert RoomMessage.objects.get(pk=question.pk).reactions_version == 2


def test_two_reactions_at_once_in_a_conversation_are_counted_in_turn_and_numbered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ana, beto, carla = (onboarded_member(name) for name in ("Ana", "Beto", "Carla"))
    direct_conversation_start(starter=ana, other=beto)  # they know each other
    direct_conversation_start(starter=ana, other=carla)
    group = group_create(creator=ana, members=[beto, carla], title="Café")
    message, _created = message_post(
        conversation=group, author=ana, text="¿Mañana a las 10?", client_id=uuid.uuid4()
    )
    sent: list[dict[str, Any]] = []

    async def pushed(**frame: Any) -> None:
        sent.append(frame)

    monkeypatch.setattr(live, "message_reactions", pushed)

    _while_a_change_is_uncommitted(
        lambda: conversation_reaction_toggle(message=message, user=beto, emoji="☕"),
        lambda: conversation_reaction_toggle(message=message, user=carla, emoji="☕"),
    )

    latest = max(sent, key=lambda frame: frame["version"])
    assert [frame["version"] for frame in sent] == [1, 2]
    assert latest["reactions"] == [{"emoji": "☕", "members": [beto.pk, carla.pk]}]
    assert ConversationMessage.objects.get(pk=message.pk).reactions_version == 2

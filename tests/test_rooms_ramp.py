"""A crowd arriving at once (after a restart): their `hello`s share one reading of the room's
presence, and nobody sees more, or less, than they should."""

import asyncio
import json
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from members.models import User
from rooms import broadcast, presence
from rooms.models import Presence, Room
from tests.factories import BlockFactory, RoomFactory, UserFactory
from tests.test_rooms_socket import join, member_with_session, next_of, room, send, settled


@pytest.fixture(autouse=True)
def no_shared_reading() -> Iterator[None]:
    presence._shared.clear()
    presence._batch_heard.clear()
    yield
    presence._shared.clear()
    presence._batch_heard.clear()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """`time.monotonic` as rooms.presence sees it, moved by hand."""
    now = SimpleNamespace(value=1000.0)
    monkeypatch.setattr(presence, "time", SimpleNamespace(monotonic=lambda: now.value))
    return now


def arrive(place: Room, user: User, hidden: set[int] | None = None) -> list[dict[str, Any]]:
    """What a socket's `_enter` does: its presence row, then its `hello`'s list."""
    row = presence.presence_add(room=place, user=user, channel_name=f"test!{user.pk}")
    seen = presence.presence_snapshot_shared(
        room=place, viewer=user, own=row, hidden=hidden or set()
    )
    # What the socket sends is the same list, written once for the arrivals sharing it.
    assert json.loads(seen.text) == seen.entries
    return seen.entries


def ids(entries: list[dict[str, Any]]) -> list[int]:
    return [entry["id"] for entry in entries]


def present(place: Room, name: str) -> User:
    user = UserFactory.create(display_name=name)
    presence.presence_add(room=place, user=user, channel_name=f"earlier!{user.pk}")
    return user


@pytest.mark.django_db(transaction=True)  # arrivals commit: on_commit runs
def test_arrivals_within_the_window_share_one_reading_of_the_room(
    clock: SimpleNamespace, django_assert_num_queries: Any
) -> None:
    place = RoomFactory.create()
    ana = present(place, "Ana")
    ben, cleo = UserFactory.create(display_name="Ben"), UserFactory.create(display_name="Cleo")

    assert ids(arrive(place, ben)) == [ana.pk, ben.pk]
    # Someone arrives through another server process: this one's reading does not know yet
    # (their batched presence.update will say so, a second later).
    dora = present(place, "Dora")
    clock.value += 0.4
    row = presence.presence_add(room=place, user=cleo, channel_name="test!cleo")
    with django_assert_num_queries(0):
        seen_by_cleo = presence.presence_snapshot_shared(
            room=place, viewer=cleo, own=row, hidden=set()
        ).entries

    assert ids(seen_by_cleo) == [ana.pk, ben.pk, cleo.pk]
    clock.value += presence.SHARED_SNAPSHOT_SECONDS
    eve = UserFactory.create(display_name="Eve")
    assert ids(arrive(place, eve)) == [ana.pk, ben.pk, cleo.pk, dora.pk, eve.pk]


@pytest.mark.django_db(transaction=True)
def test_a_member_on_either_side_of_a_block_is_hidden_from_a_shared_reading(
    clock: SimpleNamespace,
) -> None:
    place = RoomFactory.create()
    ana, ben = present(place, "Ana"), present(place, "Ben")
    cleo = UserFactory.create(display_name="Cleo")
    BlockFactory.create(blocker=ana, blocked=cleo)
    dora = UserFactory.create(display_name="Dora")
    assert ids(arrive(place, dora)) == [ana.pk, ben.pk, dora.pk]

    seen_by_cleo = arrive(place, cleo, hidden={ana.pk})
    # Ana arrives again (another tab) within the window and Cleo is in the reading by now.
    seen_by_ana = presence.presence_snapshot_shared(
        room=place,
        viewer=ana,
        own=presence.presence_add(room=place, user=ana, channel_name="test!ana-2"),
        hidden={cleo.pk},
    ).entries

    assert ids(seen_by_cleo) == [ben.pk, cleo.pk, dora.pk]
    assert ids(seen_by_ana) == [ana.pk, ben.pk, dora.pk]
    assert len(presence._shared) == 1  # one reading served all three


@pytest.mark.django_db(transaction=True)
def test_a_reading_taken_while_a_batch_went_out_is_not_shared(
    clock: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    place = RoomFactory.create()
    present(place, "Ana")
    room_entries = presence._room_entries

    def read_while_a_batch_goes_out(**kwargs: Any) -> list[dict[str, Any]]:
        entries = room_entries(**kwargs)
        # The batch of a change this reading may have missed is heard meanwhile.
        clock.value += 0.1
        presence.forget_reading(place.pk)
        return entries

    monkeypatch.setattr(presence, "_room_entries", read_while_a_batch_goes_out)
    arrive(place, UserFactory.create(display_name="Ben"))

    assert place.pk not in presence._shared


@pytest.mark.django_db(transaction=True)
def test_a_failed_arrival_is_never_shown_to_the_next_ones(clock: SimpleNamespace) -> None:
    from django.db import transaction

    place = RoomFactory.create()
    ana = present(place, "Ana")
    ben, cleo = UserFactory.create(display_name="Ben"), UserFactory.create(display_name="Cleo")

    with pytest.raises(RuntimeError), transaction.atomic():
        assert ids(arrive(place, ben)) == [ana.pk, ben.pk]
        raise RuntimeError("the rest of Ben's `_enter` failed")

    assert not Presence.objects.filter(user=ben).exists()
    assert ids(arrive(place, cleo)) == [ana.pk, cleo.pk]


async def ana_and_ben_in_a_room_and_cleo_outside() -> SimpleNamespace:
    """Ana and Ben connected to a room (settled, no shared reading yet); Ana's second tab,
    a fresh reading for the arrivals that follow; Ben's status change right after it."""
    _ana, ana_session = await member_with_session(display_name="Ana")
    ben_user, ben_session = await member_with_session(display_name="Ben")
    _cleo, cleo_session = await member_with_session(display_name="Cleo")
    place = await room()
    ana, _ = await join(place, ana_session)
    ben, _ = await join(place, ben_session)
    await settled(ana)
    presence._shared.clear()
    presence._batch_heard.clear()
    second_tab, _ = await join(place, ana_session)
    await ben.send_json_to({"type": "presence.status", "status": "dnd"})
    return SimpleNamespace(
        place=place, ana=ana, ben=ben, second_tab=second_tab, ben_id=ben_user.pk,
        cleo_session=cleo_session,
    )  # fmt: skip


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_change_after_the_shared_reading_reaches_the_newcomer_in_the_next_update(
    clock: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ben's change waits in its batch until well after Cleo has arrived.
    monkeypatch.setattr(broadcast, "PRESENCE_BATCH_SECONDS", 3.0)
    room_ = await ana_and_ben_in_a_room_and_cleo_outside()
    # Cleo arrives within the window (the clock stands still), so her `hello` is from the
    # reading Ana's second tab took, before Ben's change.
    cleo, hello = await join(room_.place, room_.cleo_session)
    statuses = {m["id"]: m["status"] for m in hello["presence"]}
    assert statuses[room_.ben_id] == "working"

    # Cleo applies the updates as the page does; the batch with Ben's change reaches her.
    update = await next_of(cleo, "presence.update")
    statuses |= {m["id"]: m["status"] for m in update["members"]}
    assert statuses[room_.ben_id] == "dnd"
    for communicator in (room_.ana, room_.ben, room_.second_tab, cleo):
        await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_arrival_after_a_batch_went_out_reads_the_room_again(
    clock: SimpleNamespace,
) -> None:
    """The batch with a change can go out before the next arrival joins the room's group:
    that arrival must not be given the reading from before it."""
    room_ = await ana_and_ben_in_a_room_and_cleo_outside()
    statuses: dict[int, str] = {}
    while statuses.get(room_.ben_id) != "dnd":
        update = await next_of(room_.ana, "presence.update")
        statuses |= {m["id"]: m["status"] for m in update["members"]}
    cleo, hello = await join(room_.place, room_.cleo_session)

    assert {m["id"]: m["status"] for m in hello["presence"]}[room_.ben_id] == "dnd"
    for communicator in (room_.ana, room_.ben, room_.second_tab, cleo):
        await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_message_stored_as_its_senders_socket_drops_still_reaches_the_room(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rooms.consumers import RoomConsumer

    _ana, ana_session = await member_with_session(display_name="Ana")
    _ben, ben_session = await member_with_session(display_name="Ben")
    place = await room()
    ana, _ = await join(place, ana_session)
    ben, _ = await join(place, ben_session)
    await settled(ben)
    send_json = RoomConsumer.send_json

    async def dropped_before_the_ack(self: RoomConsumer, content: Any, close: bool = False) -> None:
        if content.get("type") == "chat.ack":
            raise ConnectionResetError("the sender's socket went during the restart")
        await send_json(self, content, close)

    monkeypatch.setattr(RoomConsumer, "send_json", dropped_before_the_ack)
    await ana.send_json_to(
        {"type": "chat.send", "text": "Sent as the server stops", "client_id": str(uuid.uuid4())}
    )

    message = await next_of(ben, "chat.message")
    assert message["message"]["text"] == "Sent as the server stops"
    monkeypatch.undo()
    for communicator in (ana, ben):
        await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_slow_ack_to_its_sender_lets_no_later_message_overtake_hers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Members catch up after a drop from the newest id they have: one who got a later
    message before an earlier one, and dropped in between, would never see the earlier."""
    from rooms.consumers import RoomConsumer

    ana_user, ana_session = await member_with_session(display_name="Ana")
    _ben, ben_session = await member_with_session(display_name="Ben")
    _cleo, cleo_session = await member_with_session(display_name="Cleo")
    place = await room()
    ana, _ = await join(place, ana_session)
    ben, _ = await join(place, ben_session)
    cleo, _ = await join(place, cleo_session)
    await settled(cleo)
    send_json = RoomConsumer.send_json
    acking_ana = asyncio.Event()

    async def slow_line_to_ana(self: RoomConsumer, content: Any, close: bool = False) -> None:
        if content.get("type") == "chat.ack" and self.user.pk == ana_user.pk:
            acking_ana.set()
            await asyncio.sleep(1)  # her connection is slow
        await send_json(self, content, close)

    monkeypatch.setattr(RoomConsumer, "send_json", slow_line_to_ana)
    await ana.send_json_to(send("first"))
    await asyncio.wait_for(acking_ana.wait(), 10)
    await ben.send_json_to(send("second"))

    first = await next_of(cleo, "chat.message")
    second = await next_of(cleo, "chat.message")
    assert [first["message"]["text"], second["message"]["text"]] == ["first", "second"]
    assert first["message"]["id"] < second["message"]["id"]
    await next_of(ana, "chat.ack")
    monkeypatch.undo()
    for communicator in (ana, ben, cleo):
        await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
def test_an_arrival_reads_and_writes_in_a_fixed_handful_of_queries(
    django_assert_max_num_queries: Any,
) -> None:
    """A thousand members coming back after a restart make a thousand of these, one after
    another on the database thread: each rule reads what it needs once."""
    from rooms.consumers import RoomConsumer, _enter, _room_id
    from tests.factories import MessageFactory

    kinds = RoomConsumer.ROOM_KINDS

    place = RoomFactory.create(private=True)
    regular, newcomer = UserFactory.create(), UserFactory.create()
    place.invitees.add(regular, newcomer)
    for number in range(60):
        MessageFactory.create(room=place, text=f"message {number}")
    BlockFactory.create(blocker=newcomer)
    _enter.func(place.pk, regular, "earlier!1")
    presence._shared.clear()
    presence._batch_heard.clear()

    for user, channel in ((newcomer, "new!1"), (regular, "again!1")):
        # The room's id by its address (its groups are joined before the rest), then:
        # BEGIN, room, participation, blocks, invitation, participation write, presence
        # (the member's other tabs, then the row), the shared presence reading, history
        # with its mentions and reactions, COMMIT.
        with django_assert_max_num_queries(1 + 13):
            room_id = _room_id.func(place.slug, kinds)
            assert room_id is not None
            refusal, joined = _enter.func(room_id, user, channel)
        assert refusal is None and joined is not None
        assert len(json.loads(joined["hello"])["history"]) == 50


def test_the_batch_wait_grows_with_the_crowd_up_to_a_few_seconds() -> None:
    quiet, crowded = broadcast.PRESENCE_BATCH_SECONDS, broadcast.PRESENCE_BATCH_MAX_SECONDS
    assert broadcast.presence_batch_delay(0) == quiet
    assert broadcast.presence_batch_delay(broadcast.PRESENCE_CROWD) == quiet
    assert quiet < broadcast.presence_batch_delay(2 * broadcast.PRESENCE_CROWD) < crowded
    assert broadcast.presence_batch_delay(100_000) == crowded

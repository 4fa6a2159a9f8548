"""Closing a room announces itself: the services that close rooms tell the rooms' sockets,
after the commit, without their callers having to."""

from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from rooms import broadcast, consumers
from rooms.services import room_close, room_member_remove, rooms_close_idle
from tests.factories import RoomFactory, UserFactory
from tests.test_rooms_socket import bye_then_close, join, member_with_session, room


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_closing_a_room_says_bye_to_its_sockets_with_no_second_call() -> None:
    owner, session = await member_with_session()
    place = await room(created_by=owner)
    inside, _hello = await join(place, session)

    assert await database_sync_to_async(room_close)(room=place, by=owner)

    assert await bye_then_close(inside) == ("closed", 4002)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_closing_idle_rooms_says_bye_to_their_sockets_with_no_second_call() -> None:
    _someone, session = await member_with_session()
    place = await room()
    inside, _hello = await join(place, session)
    # The socket came in an hour ago and nobody has been active since.
    later = timezone.now() + timedelta(hours=1)

    closed = await database_sync_to_async(rooms_close_idle)(
        now=later, idle_for=timedelta(minutes=30)
    )

    assert closed == [place.pk]
    assert await bye_then_close(inside) == ("closed", 4002)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", ["closed", "removed"])
async def test_a_socket_arriving_as_its_room_changes_still_hears_of_it(
    change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, session = await member_with_session()
    staff = await database_sync_to_async(UserFactory.create)(is_staff=True, is_superuser=True)
    place = await room(created_by=owner)
    arrive = consumers._enter

    async def arrive_then_change(*args: Any) -> Any:
        # The arrival has read the room open and the member welcome; the room closes, or
        # staff remove the member, before the socket is accepted.
        entered = await arrive(*args)
        if change == "closed":
            await database_sync_to_async(room_close)(room=place, by=owner)
        else:
            await database_sync_to_async(room_member_remove)(room=place, member=owner, by=staff)
            await broadcast.member_removed(room_id=place.pk, user_id=owner.pk)
        return entered

    monkeypatch.setattr(consumers, "_enter", arrive_then_change)
    inside, _hello = await join(place, session)

    assert (await bye_then_close(inside))[0] == change


@pytest.mark.django_db
def test_the_closing_is_announced_once_after_the_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    owner = UserFactory.create()
    place = RoomFactory.create(created_by=owner)

    with django_capture_on_commit_callbacks() as first:
        assert room_close(room=place, by=owner)
    with django_capture_on_commit_callbacks() as second:
        assert not room_close(room=place, by=owner)

    assert len(first) == 1
    assert second == []

"""Closing a room announces itself: the services that close rooms tell the rooms' sockets,
after the commit, without their callers having to."""

from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from rooms.services import room_close, rooms_close_idle
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

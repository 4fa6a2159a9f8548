"""The sweep puts back the presence rows pruned while its process stalled (rooms.presence.
connections_check): after a stall that is every socket of the process, so it takes the same
few queries however many there are, and a room with a capacity gets no more than it holds."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from members.models import User
from rooms.models import Presence, Room
from rooms.presence import connections_check
from tests.factories import RoomFactory, UserFactory

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def sockets(room: Room, count: int) -> dict[str, tuple[int | None, int, str]]:
    """`count` members' sockets in `room` whose presence rows were pruned."""
    users = UserFactory.create_batch(count)
    return {f"inbox!{user.pk}": (room.pk, user.pk, signed_in(user)) for user in users}


def test_putting_back_a_stalled_process_s_rows_takes_the_same_queries_however_many() -> None:
    cafeteria, capped = RoomFactory.create(), RoomFactory.create(capacity=50)
    counts = []
    for count in (2, 6):
        mixed = {**sockets(cafeteria, count), **sockets(capped, count)}
        with CaptureQueriesContext(connection) as queries:
            revoked, restored = connections_check(connections=mixed)
        assert revoked == {} and sorted(restored) == sorted(mixed)
        counts.append(len(queries))

    assert counts[0] == counts[1]
    assert Presence.objects.count() == 16


def test_a_capped_room_gets_back_no_more_than_it_holds_and_a_second_tab_takes_no_place() -> None:
    room = RoomFactory.create(capacity=3)
    here = UserFactory.create()
    Presence.objects.create(room=room, user=here, channel_name="elsewhere!1")
    pruned = sockets(room, 3)
    pruned["inbox!tab"] = (room.pk, here.pk, signed_in(here))

    revoked, restored = connections_check(connections=pruned)

    assert "inbox!tab" in restored
    assert len(restored) == 3 and list(revoked.values()) == ["full"]
    assert Presence.objects.filter(room=room).values("user").distinct().count() == 3


def test_a_socket_whose_room_was_deleted_is_sent_away_as_from_a_closed_room() -> None:
    """Put back, its row would have failed every other room's with it; skipped, the member
    stayed on a page of a room that no longer exists."""
    gone, kept = RoomFactory.create(), RoomFactory.create()
    pruned = {**sockets(gone, 1), **sockets(kept, 1)}
    gone.delete()

    revoked, restored = connections_check(connections=pruned)

    assert list(revoked.values()) == ["closed"]
    assert [Presence.objects.get(channel_name=name).room_id for name in restored] == [kept.pk]

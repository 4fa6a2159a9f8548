"""The lobby and a room's page, as a member's browser fetches them."""

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from members.models import Block, User
from rooms.models import Presence, Room
from rooms.selectors import rooms_open_to
from rooms.services import cafeteria_get
from tests.factories import MessageFactory, RoomFactory, UserFactory, client_for, onboarded_member

pytestmark = pytest.mark.django_db

LOBBY = "/rooms/"


def be_in(room: Room, user: User) -> Presence:
    return Presence.objects.create(room=room, user=user, channel_name=f"c-{room.pk}-{user.pk}")


@pytest.fixture
def as_alice(alice: User) -> Client:
    return client_for(alice)


def test_visitors_are_sent_to_log_in(client: Client) -> None:
    room = RoomFactory.create()
    for url in (LOBBY, f"/rooms/{room.slug}/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_the_lobby_lists_the_cafeteria_first_with_who_is_inside(
    as_alice: Client, bob: User
) -> None:
    carla = onboarded_member("Carla Cano")
    meeting = RoomFactory.create(name="Design crit", slug="design-crit")
    permanent = RoomFactory.create(name="Focus room", slug="focus", kind=Room.Kind.PERMANENT)
    be_in(cafeteria_get(), bob)
    be_in(meeting, carla)
    be_in(meeting, bob)

    html = as_alice.get(LOBBY).content.decode()

    assert html.index("Cafeteria") < html.index(permanent.name) < html.index(meeting.name)
    assert "Bob Bravo" in html and "Carla Cano" in html
    assert "2 people inside" in html and "1 person inside" in html
    assert 'src="/static/js/lobby.js"' in html


def test_a_busy_room_s_card_shows_the_first_twelve_and_counts_the_rest(as_alice: Client) -> None:
    meeting = RoomFactory.create(name="Design crit", slug="design-crit")
    for k in range(14):
        be_in(meeting, onboarded_member(f"Member {k:02d}"))

    html = as_alice.get(LOBBY, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    card = html.split("Design crit")[1]
    assert "14 people inside" in card
    assert "<span>Member 11</span>" in card and "<span>Member 12</span>" not in card
    assert "and 2 more" in card


def test_the_partial_is_just_the_list(as_alice: Client) -> None:
    RoomFactory.create(name="Design crit")
    html = as_alice.get(LOBBY, {"partial": "1"}).content.decode()
    assert "Design crit" in html
    assert "<html" not in html


def test_blocked_members_are_not_shown_inside(as_alice: Client, alice: User, bob: User) -> None:
    Block.objects.create(blocker=bob, blocked=alice)
    be_in(cafeteria_get(), bob)
    be_in(cafeteria_get(), onboarded_member("Carla Cano"))

    html = as_alice.get(LOBBY, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Bob Bravo" not in html and "Carla Cano" in html
    assert "1 person inside" in html


def test_a_private_room_is_hidden_from_outsiders_and_refused(as_alice: Client, alice: User) -> None:
    secret = RoomFactory.create(name="Secret plans", slug="secret", private=True)
    assert "Secret plans" not in as_alice.get(LOBBY).content.decode()
    assert as_alice.get("/rooms/secret/").status_code == 403

    secret.invitees.add(alice)
    assert "Secret plans" in as_alice.get(LOBBY).content.decode()
    assert as_alice.get("/rooms/secret/").status_code == 200


def test_closed_rooms_are_not_listed(as_alice: Client) -> None:
    room = RoomFactory.create(name="Old standup")
    room.close()
    assert "Old standup" not in as_alice.get(LOBBY).content.decode()
    assert as_alice.get(f"/rooms/{room.slug}/").status_code == 403


def test_an_unknown_room_is_404(as_alice: Client) -> None:
    assert as_alice.get("/rooms/no-such-room/").status_code == 404


def test_the_room_page_shows_history_as_plain_text(as_alice: Client) -> None:
    room = RoomFactory.create(name="Design crit", description="Show & tell")
    MessageFactory.create(room=room, text="<script>alert(1)</script>\nsecond line")
    response = as_alice.get(f"/rooms/{room.slug}/")

    html = response.content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\nsecond line" in html
    assert "Show &amp; tell" in html
    for marker in ('id="presence"', 'id="messages"', 'aria-live="polite"', 'id="chat-form"'):
        assert marker in html
    assert '<label for="chat-text">' in html
    # Enter sends: a phone's keyboard shows a "send" key.
    assert re.search(r'<textarea id="chat-text"[^>]* enterkeyhint="send"', html)
    assert f'data-room-slug="{room.slug}"' in html


def test_the_room_page_shows_the_latest_50_messages_oldest_first(as_alice: Client) -> None:
    room = RoomFactory.create()
    messages = MessageFactory.create_batch(55, room=room)
    html = as_alice.get(f"/rooms/{room.slug}/").content.decode()
    assert f'data-id="{messages[4].pk}"' not in html
    assert html.index(f'data-id="{messages[5].pk}"') < html.index(f'data-id="{messages[54].pk}"')


def test_the_lobby_reads_a_fixed_number_of_queries(
    as_alice: Client, django_assert_max_num_queries: Any
) -> None:
    def fill(count: int) -> None:
        for _ in range(count):
            room = RoomFactory.create()
            for _ in range(2):
                be_in(room, onboarded_member("Someone"))

    fill(2)
    as_alice.get(LOBBY)  # Warm up the session and the cache.
    # The header's unread notifications count among them, and who is in focus (one query).
    with django_assert_max_num_queries(14) as few:
        as_alice.get(LOBBY)
    fill(6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert as_alice.get(LOBBY).status_code == 200


@pytest.mark.django_db
def test_the_lobby_reads_the_open_rooms_through_their_index_not_every_room() -> None:
    """Focus blocks' rooms never close, one a block: the lobby, which lists every other
    open room, reads them through a partial index (rooms 0016) rather than the table."""
    member = UserFactory.create()
    RoomFactory.create(name="Sala abierta")
    Room.objects.bulk_create(
        Room(kind=Room.Kind.FOCUS, name=f"Focus {n}", slug=f"focus-{n}") for n in range(500)
    )

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE rooms_room")
        plan = rooms_open_to(user=member).explain()

    assert "room_open_listed" in plan, plan


def test_someone_in_the_room_since_another_day_is_shown_with_that_day(
    as_alice: Client, alice: User, bob: User
) -> None:
    """Drawn by the server (the page's script writes it the same way): "since 08:17" read
    the next morning looked like a time still to come."""
    room = cafeteria_get()
    today, earlier = be_in(room, alice), be_in(room, bob)
    Presence.objects.filter(pk=earlier.pk).update(since=timezone.now() - timedelta(hours=30))
    earlier.refresh_from_db()
    zone = ZoneInfo(alice.time_zone)
    page = as_alice.get(f"/rooms/{room.slug}/").content.decode()

    local = earlier.since.astimezone(zone)
    assert f">{local.day} {local:%b}, {local:%H:%M}</time>" in page
    assert f">{today.since.astimezone(zone):%H:%M}</time>" in page

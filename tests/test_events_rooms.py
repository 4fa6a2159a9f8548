"""An event's room: it opens a few minutes before the start, and its chat stays on the event's
page afterwards."""

import zoneinfo
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from coworking.asgi import application
from events.models import EVENT_ROOM_OPENS_BEFORE, Event
from events.services import (
    event_create,
    event_create_with_room,
    event_update,
    meetup_start,
)
from members.models import Block, User
from rooms.models import Message, Room
from rooms.selectors import messages_between, rooms_open_to
from rooms.services import RoomAccessDenied, cafeteria_get, message_delete, room_can_enter
from tests.factories import (
    EventFactory,
    MessageFactory,
    RoomFactory,
    UserFactory,
    event_details,
    granted,
)

BOGOTA = zoneinfo.ZoneInfo("America/Bogota")
ORIGIN = (b"origin", b"http://127.0.0.1:8000")


def local_time(moment: datetime, zone: zoneinfo.ZoneInfo = BOGOTA) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def page(user: User, url: str) -> Any:
    client = Client()
    client.force_login(user)
    return client.get(url, HTTP_ACCEPT_LANGUAGE="en")


def html_of(user: User, url: str) -> str:
    response = page(user, url)
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def training_in_an_hour(*, by: User, title: str = "Accessible forms") -> Event:
    starts_at = (timezone.now() + timedelta(hours=1)).replace(second=0, microsecond=0)
    return event_create_with_room(
        by=by,
        kind="training",
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        time_zone="Europe/Madrid",
    )


def room_of(event: Event) -> Room:
    assert event.room is not None
    return Room.objects.get(pk=event.room.pk)


# The room opens a few minutes before the start -------------------------------------------


@pytest.fixture
def bob(bob: User) -> User:
    """Bob (tests/conftest.py), living in Bogotá."""
    bob.time_zone = "America/Bogota"
    bob.save(update_fields=["time_zone"])
    return bob


@pytest.mark.django_db
def test_an_event_room_opens_ten_minutes_before_the_start(staff: User) -> None:
    event = training_in_an_hour(by=staff)

    assert room_of(event).opens_at == event.starts_at - timedelta(minutes=10)


@pytest.mark.django_db
def test_before_opening_a_member_is_told_when_it_opens_and_it_is_not_listed(
    staff: User, bob: User
) -> None:
    event = training_in_an_hour(by=staff, title="Accessible forms")
    room = room_of(event)
    assert room.opens_at is not None

    response = page(bob, f"/rooms/{room.slug}/")
    html = response.content.decode()

    assert response.status_code == 200
    assert f"This room opens at {local_time(room.opens_at)} (your time)." in html
    assert 'id="chat-form"' not in html
    assert not room_can_enter(room=room, user=bob)
    assert room not in rooms_open_to(user=bob)
    assert "Accessible forms" not in html_of(bob, "/rooms/")


@pytest.mark.django_db
def test_before_opening_a_private_room_still_refuses_an_outsider(bob: User) -> None:
    room = RoomFactory.create(private=True, opens_at=timezone.now() + timedelta(hours=1))

    assert page(bob, f"/rooms/{room.slug}/").status_code == 403


@pytest.mark.django_db
def test_staff_and_the_creator_may_enter_early_to_prepare(staff: User) -> None:
    creator = UserFactory.create(is_staff=True)
    # Staff who run rooms (the room admin's right to change them); not any staff account.
    other_staff = granted(UserFactory.create(), "rooms.change_room")
    assert not room_can_enter(
        room=room_of(training_in_an_hour(by=creator, title="Otra")),
        user=granted(UserFactory.create(), "events.change_event"),
    )
    event = training_in_an_hour(by=creator, title="Accessible forms")
    room = room_of(event)

    for who in (creator, other_staff):
        assert room_can_enter(room=room, user=who)
        assert 'id="chat-form"' in html_of(who, f"/rooms/{room.slug}/")
        assert room in rooms_open_to(user=who)


@pytest.mark.django_db
def test_after_opening_members_may_enter(staff: User, bob: User) -> None:
    event = training_in_an_hour(by=staff, title="Accessible forms")
    room = room_of(event)
    assert room.opens_at is not None

    with time_machine.travel(room.opens_at + timedelta(seconds=1), tick=False):
        assert room_can_enter(room=room, user=bob)
        assert 'id="chat-form"' in html_of(bob, f"/rooms/{room.slug}/")
        assert "Accessible forms" in html_of(bob, "/rooms/")


@pytest.mark.django_db
def test_a_meetup_starting_now_opens_at_once(bob: User) -> None:
    now = timezone.now()
    event = meetup_start(
        by=UserFactory.create(),
        title="Coffee and code",
        starts_at=now,
        ends_at=now + timedelta(minutes=30),
        time_zone="Europe/Madrid",
    )
    room = room_of(event)

    assert room_can_enter(room=room, user=bob)
    assert 'id="chat-form"' in html_of(bob, f"/rooms/{room.slug}/")


@pytest.mark.django_db
def test_moving_the_event_moves_the_opening(staff: User, bob: User) -> None:
    event = training_in_an_hour(by=staff)
    later = event.starts_at + timedelta(days=1)

    event_update(
        event=event,
        by=staff,
        title=event.title,
        description="",
        starts_at=later,
        ends_at=later + timedelta(hours=1),
        time_zone=event.time_zone,
        capacity=None,
        room=event.room,
    )

    room = room_of(event)
    assert room.opens_at == later - EVENT_ROOM_OPENS_BEFORE
    assert room.last_activity_at >= later
    with time_machine.travel(event.starts_at, tick=False):
        assert not room_can_enter(room=room, user=bob)


@pytest.mark.django_db
def test_the_event_s_room_takes_its_new_title_and_description(staff: User) -> None:
    event = training_in_an_hour(by=staff)

    changes = {"title": "  Precios,   segunda parte ", "description": "Traed vuestras tarifas."}
    event_update(event=event, by=staff, **{**event_details(event), **changes, "room": event.room})

    room = room_of(event)
    assert (room.name, room.description) == ("Precios, segunda parte", "Traed vuestras tarifas.")


@pytest.mark.django_db
def test_moving_an_event_leaves_a_room_it_was_not_made_for_alone(staff: User) -> None:
    starts_at = timezone.now() + timedelta(hours=2)
    event = event_create(
        by=staff,
        kind="training",
        title="In the cafeteria",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        time_zone="Europe/Madrid",
        room=cafeteria_get(),
    )

    event_update(
        event=event,
        by=staff,
        title=event.title,
        description="",
        starts_at=starts_at + timedelta(hours=1),
        ends_at=starts_at + timedelta(hours=2),
        time_zone=event.time_zone,
        capacity=None,
        room=event.room,
    )

    assert cafeteria_get().opens_at is None


@pytest.mark.django_db
def test_the_event_page_says_when_the_room_opens_then_links_to_it(staff: User, bob: User) -> None:
    event = training_in_an_hour(by=staff)
    room = room_of(event)
    assert room.opens_at is not None
    link = f'href="/rooms/{room.slug}/"'

    before = html_of(bob, f"/events/{event.pk}/")
    opens = room.opens_at.astimezone(BOGOTA)
    day = f"{opens:%A} {opens.day} {opens:%B}"
    assert f"The room opens on {day} at {local_time(room.opens_at)} (your time)." in before
    assert link not in before
    assert link in html_of(staff, f"/events/{event.pk}/")  # to prepare

    with time_machine.travel(room.opens_at + timedelta(seconds=1), tick=False):
        after = html_of(bob, f"/events/{event.pk}/")
    assert "The room opens on" not in after
    assert link in after


# The conversation on the event's page ------------------------------------------------------


def past_event(room: Room) -> Event:
    starts_at = (timezone.now() - timedelta(hours=3)).replace(second=0, microsecond=0)
    return EventFactory.create(
        room=room, starts_at=starts_at, ends_at=starts_at + timedelta(hours=1)
    )


def said(room: Room, text: str, at: datetime, **fields: Any) -> Message:
    return MessageFactory.create(room=room, text=text, created_at=at, **fields)


@pytest.mark.django_db
def test_the_event_page_shows_the_conversation_of_its_window_only(bob: User) -> None:
    room = RoomFactory.create()
    event = past_event(room)
    start, end = event.starts_at, event.ends_at
    said(room, "Long before", start - timedelta(minutes=11))
    early = said(room, "Warming up", start - timedelta(minutes=9))
    said(room, "See https://example.com/slides <script>x</script>", start + timedelta(minutes=5))
    author = UserFactory.create()
    gone = said(room, "Oops", start + timedelta(minutes=6), author=author)
    message_delete(message=gone, by=author)
    said(room, "Thanks all", end + timedelta(minutes=59))
    said(room, "Much later", end + timedelta(minutes=61))

    html = html_of(bob, f"/events/{event.pk}/")

    assert "Conversation" in html
    assert "Warming up" in html and "Thanks all" in html
    assert "Long before" not in html and "Much later" not in html
    assert '<a href="https://example.com/slides"' in html
    assert "<script>x" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "This message was deleted." in html
    assert early.author is not None and early.author.name in html
    assert local_time(early.created_at) in html
    assert html.index("Warming up") < html.index("Thanks all")


@pytest.mark.django_db
def test_the_conversation_hides_authors_on_either_side_of_a_block(bob: User) -> None:
    room = RoomFactory.create()
    event = past_event(room)
    blocked, blocker = UserFactory.create(), UserFactory.create()
    Block.objects.create(blocker=bob, blocked=blocked)
    Block.objects.create(blocker=blocker, blocked=bob)
    said(room, "From the blocked", event.starts_at, author=blocked)
    said(room, "From the blocker", event.starts_at, author=blocker)
    said(room, "From a friend", event.starts_at)

    html = html_of(bob, f"/events/{event.pk}/")

    assert "From a friend" in html
    assert "From the blocked" not in html and "From the blocker" not in html


@pytest.mark.django_db
def test_no_conversation_before_the_start(staff: User, bob: User) -> None:
    event = training_in_an_hour(by=staff)
    room = room_of(event)
    said(room, "Setting up", timezone.now(), author=staff)

    html = html_of(bob, f"/events/{event.pk}/")

    assert "Conversation" not in html and "Setting up" not in html


@pytest.mark.django_db
def test_an_outsider_of_a_private_room_sees_nothing_of_it(bob: User) -> None:
    owner = UserFactory.create()
    room = RoomFactory.create(private=True, created_by=owner)
    event = past_event(room)
    said(room, "Members only", event.starts_at, author=owner)

    html = html_of(bob, f"/events/{event.pk}/")
    assert "Conversation" not in html and "Members only" not in html
    with pytest.raises(RoomAccessDenied):
        messages_between(room=room, viewer=bob, start=event.starts_at, end=event.ends_at)

    room.invitees.add(bob)
    assert "Members only" in html_of(bob, f"/events/{event.pk}/")


@pytest.mark.django_db
def test_a_cafeteria_event_keeps_its_conversation(bob: User) -> None:
    event = past_event(cafeteria_get())
    said(event.room, "Cafeteria chat", event.starts_at + timedelta(minutes=1))  # type: ignore[arg-type]

    assert "Cafeteria chat" in html_of(bob, f"/events/{event.pk}/")


@pytest.mark.django_db
def test_the_conversation_takes_the_same_queries_however_long(
    bob: User, django_assert_max_num_queries: Any
) -> None:
    room = RoomFactory.create()
    event = past_event(room)
    client = Client()
    client.force_login(bob)
    url = f"/events/{event.pk}/"

    def talk(count: int) -> None:
        for minute in range(count):
            said(room, f"Line {minute}", event.starts_at + timedelta(minutes=minute))

    talk(2)
    client.get(url)  # Warm up the session.
    with django_assert_max_num_queries(18) as few:
        client.get(url)
    talk(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "Line 19" in client.get(url).content.decode()


@pytest.mark.django_db
def test_messages_between_keeps_to_its_limit(bob: User) -> None:
    room = RoomFactory.create()
    start = timezone.now() - timedelta(hours=1)
    for minute in range(5):
        said(room, f"Line {minute}", start + timedelta(minutes=minute))

    listed = messages_between(
        room=room, viewer=bob, start=start, end=start + timedelta(hours=1), limit=3
    )

    assert [message.text for message in listed] == ["Line 0", "Line 1", "Line 2"]


# The socket --------------------------------------------------------------------------------


@database_sync_to_async
def session_of(user: User) -> str:
    client = Client()
    client.force_login(user)
    return str(client.cookies["sessionid"].value)


async def connect(room: Room, session: str) -> tuple[WebsocketCommunicator, Any]:
    communicator = WebsocketCommunicator(
        application,
        f"/ws/rooms/{room.slug}/",
        headers=[ORIGIN, (b"cookie", f"sessionid={session}".encode())],
    )
    return communicator, await communicator.connect(timeout=5)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_socket_refuses_a_member_before_opening_but_not_the_creator() -> None:
    creator = await database_sync_to_async(UserFactory.create)()
    member = await database_sync_to_async(UserFactory.create)()
    room = await database_sync_to_async(RoomFactory.create)(
        created_by=creator, opens_at=timezone.now() + timedelta(minutes=30)
    )

    refused, (connected, code) = await connect(room, await session_of(member))
    await refused.disconnect()
    assert (connected, code) == (False, 4403)

    accepted, (connected, _subprotocol) = await connect(room, await session_of(creator))
    assert connected
    assert (await accepted.receive_json_from(timeout=5))["type"] == "hello"
    await accepted.disconnect()

    await database_sync_to_async(Room.objects.filter(pk=room.pk).update)(
        opens_at=timezone.now() - timedelta(minutes=1)
    )
    welcome, (connected, _subprotocol) = await connect(room, await session_of(member))
    assert connected
    await welcome.disconnect()

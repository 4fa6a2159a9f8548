"""The focus blocks page over HTTP: the week's blocks in the member's zone, booking and
giving back a seat, dropping in, each a POST with a clear message."""

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone, translation

from focus.models import FocusBlock, Seat
from focus.sessions import session_enter
from members.models import User
from notifications.models import Kind, Notification
from rooms.services import message_post, room_create
from tests.factories import client_for

pytestmark = pytest.mark.django_db

MONDAY_NINE_UTC = datetime.fromisoformat("2026-12-07T09:00:00+00:00")


def page(client: Client) -> str:
    return client.get("/focus/").content.decode()


@time_machine.travel(MONDAY_NINE_UTC - timedelta(hours=2), tick=False)
def test_a_member_books_a_seat_and_gives_it_back(alice: User) -> None:
    block = FocusBlock.objects.create(starts_at=MONDAY_NINE_UTC, title="Power hour", capacity=2)
    client = client_for(alice)

    before = page(client)
    assert "Power hour" in before and "0 of 2 seats taken" in before
    # Alice's zone is Madrid: 9:00 UTC is 10:00 for her, and the page says whose zone.
    assert "Book a seat at 10:00" in before
    assert "Times are in your time zone (Madrid)." in before

    booked = client.post(f"/focus/{block.pk}/book/", follow=True).content.decode()
    assert "Your seat is booked." in booked and "1 of 2 seats taken" in booked
    again = client.post(f"/focus/{block.pk}/book/", follow=True).content.decode()
    assert "You already have a seat in this block." in again
    assert Seat.objects.filter(block=block, user=alice, cancelled_at__isnull=True).count() == 1

    given_back = client.post(f"/focus/{block.pk}/cancel/", follow=True).content.decode()
    assert "Your seat is free for someone else now." in given_back
    assert "0 of 2 seats taken" in given_back


@time_machine.travel(MONDAY_NINE_UTC - timedelta(hours=2), tick=False)
def test_booking_over_an_event_the_member_is_going_to_says_so(alice: User) -> None:
    from events.models import Rsvp
    from tests.factories import EventFactory, RsvpFactory

    block = FocusBlock.objects.create(starts_at=MONDAY_NINE_UTC)
    later = FocusBlock.objects.create(starts_at=MONDAY_NINE_UTC + timedelta(hours=3))
    talk = EventFactory.create(
        starts_at=MONDAY_NINE_UTC + timedelta(minutes=30),
        ends_at=MONDAY_NINE_UTC + timedelta(minutes=90),
    )
    RsvpFactory.create(event=talk, user=alice, status=Rsvp.Status.GOING)
    client = client_for(alice)

    clash = client.post(f"/focus/{block.pk}/book/", follow=True).content.decode()
    assert "You also have an event or a coffee at that time" in clash
    free = client.post(f"/focus/{later.pk}/book/", follow=True).content.decode()
    assert "Your seat is booked. See you there!" in free


@time_machine.travel(MONDAY_NINE_UTC - timedelta(minutes=5), tick=False)
def test_dropping_in_takes_a_seat_in_the_block_about_to_start(alice: User) -> None:
    FocusBlock.objects.create(starts_at=MONDAY_NINE_UTC)
    client = client_for(alice)

    assert "Drop in now" in page(client)
    dropped = client.post("/focus/drop-in/", follow=True).content.decode()

    assert "You dropped in. Welcome!" in dropped
    seat = Seat.objects.get(user=alice)
    assert seat.dropped_in
    # Straight into the block's page.
    assert f'data-socket-path="/ws/focus/focus-{seat.block_id}/"' in dropped


@time_machine.travel(MONDAY_NINE_UTC + timedelta(minutes=25), tick=False)
def test_dropping_in_goes_to_the_member_s_own_seat_in_the_block_about_to_start(
    alice: User,
) -> None:
    FocusBlock.objects.create(starts_at=MONDAY_NINE_UTC)  # running, with room
    booked = FocusBlock.objects.create(starts_at=MONDAY_NINE_UTC + timedelta(minutes=30))
    Seat.objects.create(block=booked, user=alice)

    dropped = client_for(alice).post("/focus/drop-in/", follow=True)

    assert dropped.redirect_chain[-1][0] == f"/focus/{booked.pk}/"
    assert Seat.objects.filter(user=alice).count() == 1  # no second seat mid-block


def test_a_block_that_has_ended_sends_its_members_back_to_the_list(alice: User) -> None:
    block = FocusBlock.objects.create(starts_at=MONDAY_NINE_UTC, minutes=25)
    Seat.objects.create(block=block, user=alice)
    client = client_for(alice)

    with time_machine.travel(MONDAY_NINE_UTC + timedelta(minutes=30), tick=False):
        # Just over: the check-out may still be answered on the page.
        assert client.get(f"/focus/{block.pk}/").status_code == 200
    with time_machine.travel(MONDAY_NINE_UTC + timedelta(hours=2), tick=False):
        gone = client.get(f"/focus/{block.pk}/", follow=True).content.decode()
        assert "This block has ended." in gone
        booked = client.post(f"/focus/{block.pk}/book/", follow=True).content.decode()
        assert "This block has ended." in booked


def test_only_members_by_post(alice: User) -> None:
    block = FocusBlock.objects.create(starts_at=MONDAY_NINE_UTC)
    assert Client().get("/focus/").status_code == 302
    assert client_for(alice).get(f"/focus/{block.pk}/book/").status_code == 405
    assert client_for(alice).post("/focus/999/book/").status_code == 404


def test_the_page_shows_the_moment_and_sends_away_who_has_no_seat(alice: User, bob: User) -> None:
    block = FocusBlock.objects.create(starts_at=timezone.now() + timedelta(minutes=5), minutes=50)
    Seat.objects.create(block=block, user=alice)

    page = client_for(alice).get(f"/focus/{block.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert (
        'data-phase="before"' in body and f'data-socket-path="/ws/focus/focus-{block.pk}/"' in body
    )

    refused = client_for(bob).get(f"/focus/{block.pk}/", follow=True)
    assert "You have no seat in this block." in refused.content.decode()
    assert Client().get(f"/focus/{block.pk}/").status_code == 302


def test_a_member_s_room_named_after_a_block_leaves_the_block_s_page_working(
    alice: User, bob: User
) -> None:
    block = FocusBlock.objects.create(starts_at=timezone.now() + timedelta(minutes=5), minutes=50)
    Seat.objects.create(block=block, user=alice)
    taken = room_create(creator=bob, name=f"Focus {block.pk}")  # a room's slug is its name's
    assert taken.slug == f"focus-{block.pk}"

    page = client_for(alice).get(f"/focus/{block.pk}/")

    assert page.status_code == 200
    block.refresh_from_db()
    assert block.room is not None and block.room != taken
    assert f'data-socket-path="/ws/focus/{block.room.slug}/"' in page.content.decode()


def test_the_block_s_chat_shows_as_much_history_as_a_room_s_and_offers_the_rest(
    alice: User,
) -> None:
    block = FocusBlock.objects.create(starts_at=timezone.now() + timedelta(minutes=5), minutes=50)
    Seat.objects.create(block=block, user=alice)
    room, _seat = session_enter(block=block, user=alice)
    for n in range(60):
        message_post(room=room, author=alice, text=f"Línea {n}", client_id=uuid.uuid4())

    body = client_for(alice).get(f"/focus/{block.pk}/").content.decode()

    assert "Línea 10<" in body and "Línea 9<" not in body  # the latest 50
    assert '<p class="load-older">' in body  # the older ten a click away


def test_the_moment_is_computed_from_the_stored_start_across_the_phases_and_a_long_drop(
    alice: User, bob: User
) -> None:
    from focus.sessions import seat_arrive, session_state

    block = FocusBlock.objects.create(starts_at=MONDAY_NINE_UTC, minutes=50)
    for member in (alice, bob):
        Seat.objects.create(block=block, user=member)
    expected = [
        (timedelta(minutes=-5), "before", MONDAY_NINE_UTC),
        (timedelta(minutes=1), "check_in", MONDAY_NINE_UTC + timedelta(minutes=3)),
        (timedelta(minutes=3), "work", MONDAY_NINE_UTC + timedelta(minutes=47)),
        (timedelta(minutes=46, seconds=59), "work", MONDAY_NINE_UTC + timedelta(minutes=47)),
        (timedelta(minutes=47), "check_out", MONDAY_NINE_UTC + timedelta(minutes=50)),
        (timedelta(minutes=50), "over", None),
    ]
    for offset, phase, ends_at in expected:
        with time_machine.travel(MONDAY_NINE_UTC + offset, tick=False):
            state = session_state(block=block, seat=None, now=timezone.now(), hidden=())
        assert state["phase"] == phase, offset
        assert state["ends_at"] == (ends_at.isoformat() if ends_at else None), offset

    with time_machine.travel(MONDAY_NINE_UTC + timedelta(minutes=1), tick=False):
        arrival = seat_arrive(block=block, user=alice)
        assert arrival.seat is not None and arrival.seat.table == 1
        seat_arrive(block=block, user=bob)
    # Alice's connection drops for two minutes in the work: she keeps her seat and table,
    # and her page comes back to the same countdown.
    with time_machine.travel(MONDAY_NINE_UTC + timedelta(minutes=12), tick=False):
        back = seat_arrive(block=block, user=alice)
        state = session_state(block=block, seat=back.seat, now=timezone.now(), hidden=())
    assert not back.seated_late and state["table"] == 1
    assert state["phase"] == "work"
    assert state["ends_at"] == (MONDAY_NINE_UTC + timedelta(minutes=47)).isoformat()
    assert {mate["user"]["id"] for mate in state["tablemates"]} == {alice.pk, bob.pk}


SATURDAY_LATE_UTC = datetime.fromisoformat("2026-12-05T22:00:00+00:00")


@pytest.mark.parametrize(
    ("language", "shown"),
    [("es", "sábado 5 de diciembre, 23:00"), ("en", "Saturday 5 December, 23:00")],
)
@time_machine.travel(SATURDAY_LATE_UTC - timedelta(hours=10), tick=False)
def test_the_list_writes_the_day_in_the_members_language_and_zone(
    alice: User, language: str, shown: str
) -> None:
    FocusBlock.objects.create(starts_at=SATURDAY_LATE_UTC)
    client = client_for(alice)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    alice.language = language
    alice.save(update_fields=["language"])

    assert f">{shown}</time>" in page(client)


@pytest.mark.parametrize(
    ("language", "shown"),
    [("es", "viernes 1 de enero de 2027, 10:00"), ("en", "Friday 1 January 2027, 10:00")],
)
@time_machine.travel("2026-12-30T12:00:00+00:00", tick=False)
def test_a_block_in_the_next_year_says_the_year(alice: User, language: str, shown: str) -> None:
    FocusBlock.objects.create(starts_at=datetime.fromisoformat("2027-01-01T09:00:00+00:00"))
    client = client_for(alice)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    alice.language = language
    alice.save(update_fields=["language"])

    assert f">{shown}</time>" in page(client)


def test_the_list_brings_its_own_styles(alice: User) -> None:
    listed = page(client_for(alice))

    assert "css/focus." in listed
    assert 'class="focus-list card-list"' in listed and "event-list" not in listed


def test_links_into_a_block_s_chat_lead_to_the_block_s_page(
    alice: User, bob: User, django_capture_on_commit_callbacks: Any
) -> None:
    """A mention in the block's chat, and reporting one of its messages, lead to the block's
    page: its room has no page of its own."""
    User.objects.filter(pk=alice.pk).update(language="en")
    block = FocusBlock.objects.create(starts_at=timezone.now() - timedelta(minutes=5))
    for member in (bob, alice):
        Seat.objects.create(block=block, user=member)
        with translation.override("es"):
            room, _seat = session_enter(block=block, user=member)
    block_page = f"/focus/{block.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        message, _created = message_post(
            room=room, author=bob, text=f"@{alice.display_name} ¿te vale?", client_id=uuid.uuid4()
        )
    notice = Notification.objects.get(user=alice, kind=Kind.MENTION)
    assert notice.url == block_page
    # The room was opened by a page in Spanish; Alice reads its name in her language.
    assert "mentioned you in “Focus session”" in notice.text

    alices = client_for(alice)
    response = alices.get(f"/rooms/{room.slug}/")
    assert (response.status_code, response["Location"]) == (302, block_page)
    report = f"/rooms/{room.slug}/messages/{message.pk}/report/"
    assert f'href="{block_page}"' in alices.get(report).content.decode()  # Cancel
    reported = alices.post(report, {"reason": "spam", "details": "Publicidad en la mesa."})
    assert (reported.status_code, reported["Location"]) == (302, block_page)
    # A room whose block is gone sends to the blocks' list.
    block.delete()
    assert alices.get(f"/rooms/{room.slug}/")["Location"] == "/focus/"


def test_with_no_block_scheduled_members_are_sent_to_the_cafeteria_and_staff_to_schedule(
    alice: User, staff: User
) -> None:
    """A new community, before anyone has set up a power hour."""
    members_page = client_for(alice).get("/focus/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No focus blocks this week yet." in members_page
    assert (
        "The team schedules them; until then, come and work alongside others in the "
        '<a href="/rooms/cafeteria/">cafeteria</a>.' in members_page
    )
    assert "/admin/focus/focusseries/add/" not in members_page

    staff_page = client_for(staff).get("/focus/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<a href="/admin/focus/focusseries/add/">Schedule a power hour series</a>' in staff_page

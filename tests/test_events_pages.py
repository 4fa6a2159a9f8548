"""The events pages: lists, an event's page, answering, starting and organising events."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from events import services
from events.errors import MEETUPS_PER_DAY, EventOver
from events.models import Event, Rsvp
from events.rsvps import rsvp_set
from events.services import event_cancel
from members.models import User
from rooms.models import Room
from rooms.services import cafeteria_get, rooms_close_idle
from tests.factories import (
    BlockFactory,
    EventFactory,
    RoomFactory,
    RsvpFactory,
    UserFactory,
    event_details,
    onboarded_member,
)

pytestmark = pytest.mark.django_db

LIST = "/events/"
MEETUP = "/events/new/meetup/"
NEW = "/events/new/"


def page_of(client: Client, url: str, **params: Any) -> str:
    response = client.get(url, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def post(client: Client, url: str, data: dict[str, Any], **kwargs: Any) -> Any:
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE="en", **kwargs)


def logged_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def cancelled(**fields: Any) -> Event:
    event = EventFactory.create(**fields)
    event_cancel(event=event, by=event.host)
    return event


@pytest.fixture
def as_alice(client: Client, alice: User) -> Client:
    return logged_in(client, alice)


# Lists ------------------------------------------------------------------------------------


def test_visitors_are_sent_to_log_in(client: Client) -> None:
    event = EventFactory.create()
    for url in (LIST, MEETUP, NEW, f"/events/{event.pk}/", f"/events/{event.pk}/event.ics"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/")
    response = client.post(f"/events/{event.pk}/rsvp/", {"status": "going"})
    assert response.status_code == 302
    assert not Rsvp.objects.exists()


def test_a_visitor_sent_to_log_in_is_told_why_and_how_to_join(client: Client) -> None:
    sent = client.get(LIST, follow=True, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    plain = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert "Inicia sesión para ver esta página." in sent
    assert 'href="/accounts/signup/?next=/events/"' in sent
    assert "Inicia sesión para ver esta página." not in plain


def test_upcoming_marks_what_is_starting_now_and_leaves_out_the_rest(as_alice: Client) -> None:
    now = timezone.now()
    EventFactory.create(
        title="Live coffee", starts_at=now - timedelta(minutes=10), ends_at=now + timedelta(hours=1)
    )
    EventFactory.create(title="Tomorrow talk")
    EventFactory.create(
        title="Yesterday chat",
        starts_at=now - timedelta(days=1),
        ends_at=now - timedelta(hours=23),
    )
    cancelled(title="Called off")

    html = page_of(as_alice, LIST)

    assert "Live coffee" in html and "Tomorrow talk" in html
    assert "Yesterday chat" not in html and "Called off" not in html
    # Every event carries the flag for a page left open (static/js/site.js), shown on one.
    shown = '">Starting now'
    assert html.count(shown) == 1 and html.count(" hidden>Starting now") == 1
    assert html.index("Live coffee") < html.index(shown) < html.index("Tomorrow talk")
    assert '<a href="/events/" aria-current="page">Upcoming</a>' in html


def test_past_events_show_how_many_went(as_alice: Client, bob: User) -> None:
    now = timezone.now()
    past = EventFactory.create(
        title="Old talk",
        starts_at=now - timedelta(days=2),
        ends_at=now - timedelta(days=2, hours=-1),
    )
    RsvpFactory.create(event=past, user=bob)
    RsvpFactory.create(event=past, status=Rsvp.Status.MAYBE)
    EventFactory.create(title="Future talk")

    html = page_of(as_alice, LIST, show="past")

    assert "Old talk" in html and "Future talk" not in html
    assert "1 member went" in html


def test_upcoming_events_count_only_who_is_going(as_alice: Client, bob: User) -> None:
    talk = EventFactory.create(title="Busy talk")
    RsvpFactory.create(event=talk, user=bob)
    RsvpFactory.create(event=talk)
    RsvpFactory.create(event=talk, status=Rsvp.Status.MAYBE)
    EventFactory.create(title="Quiet talk")

    html = page_of(as_alice, LIST)

    assert "2 members going" in html.split("Busy talk")[1].split("Quiet talk")[0]
    assert "0 members going" in html.split("Quiet talk")[1]


def test_mine_lists_what_i_host_or_answered_and_says_my_answer(
    as_alice: Client, alice: User
) -> None:
    EventFactory.create(title="Hosted by Alice", host=alice)
    RsvpFactory.create(event=EventFactory.create(title="Alice goes"), user=alice)
    RsvpFactory.create(event=EventFactory.create(title="Alice maybe"), user=alice, status="maybe")
    RsvpFactory.create(
        event=EventFactory.create(title="Alice waits"), user=alice, status="waitlisted", position=1
    )
    RsvpFactory.create(
        event=EventFactory.create(title="Alice said no"), user=alice, status="not_going"
    )
    EventFactory.create(title="Someone else event")

    html = page_of(as_alice, LIST, show="mine")

    cards = {card.split("</a>")[0].split(">")[-1]: card for card in html.split("event-card")[1:]}
    assert set(cards) == {"Hosted by Alice", "Alice goes", "Alice maybe", "Alice waits"}
    assert "You are going" in cards["Alice goes"]
    assert "You said maybe" in cards["Alice maybe"]
    assert "You are on the waiting list" in cards["Alice waits"]
    assert "event-answer" not in cards["Hosted by Alice"]


def test_a_long_list_goes_on_over_pages(as_alice: Client) -> None:
    now = timezone.now()
    for days in range(1, 53):
        EventFactory.create(
            title=f"Talk {days:02d} days ago",
            starts_at=now - timedelta(days=days),
            ends_at=now - timedelta(days=days, hours=-1),
        )

    first = page_of(as_alice, LIST, show="past")
    second = page_of(as_alice, LIST, show="past", page="2")

    assert "Talk 01 days ago" in first and "Talk 50 days ago" in first
    assert "Talk 51 days ago" not in first and "Talk 52 days ago" in second
    assert 'href="?show=past&amp;page=2" rel="next"' in first
    assert 'href="?show=past&amp;page=1" rel="prev"' in second


@pytest.mark.parametrize("show", ["upcoming", "past", "mine"])
def test_lists_take_the_same_queries_however_many_events(
    as_alice: Client, alice: User, show: str, django_assert_max_num_queries: Any
) -> None:
    now = timezone.now()

    def make_events() -> None:
        room = RoomFactory.create()
        for days in (-3, 2):
            event = EventFactory.create(
                host=alice,
                room=room,
                starts_at=now + timedelta(days=days),
                ends_at=now + timedelta(days=days, hours=1),
            )
            RsvpFactory.create(event=event, user=alice)
            RsvpFactory.create(event=event)

    make_events()
    page_of(as_alice, LIST, show=show)  # Warm up the session.
    with django_assert_max_num_queries(11) as few:
        page_of(as_alice, LIST, show=show)
    for _ in range(4):
        make_events()
    with django_assert_max_num_queries(len(few.captured_queries)):
        page_of(as_alice, LIST, show=show)


# An event's page ----------------------------------------------------------------------------


def test_the_viewer_sees_their_time_and_the_organisers(client: Client) -> None:
    viewer = UserFactory.create(time_zone="America/Mexico_City")
    # 17:00 UTC on a winter day: 18:00 in Madrid, 11:00 in Mexico City.
    starts_at = datetime(2030, 1, 15, 17, 0, tzinfo=UTC)
    event = EventFactory.create(
        starts_at=starts_at, ends_at=starts_at + timedelta(hours=1), time_zone="Europe/Madrid"
    )

    html = page_of(logged_in(client, viewer), f"/events/{event.pk}/")

    assert "Your time (Mexico City)" in html
    assert "Tuesday 15 January 2030, 11:00</time>–<time" in html
    assert "Organiser’s time (Madrid)" in html
    assert "Tuesday 15 January 2030, 18:00</time>" in html


def test_the_organisers_zone_is_not_repeated_for_a_viewer_in_it(as_alice: Client) -> None:
    event = EventFactory.create(time_zone="Europe/Madrid")
    html = page_of(as_alice, f"/events/{event.pk}/")
    assert "Your time (Madrid)" in html
    assert "Organiser" not in html


def test_the_event_page_shows_host_seats_room_and_calendar_link(as_alice: Client) -> None:
    host = UserFactory.create(display_name="Hugo Host")
    room = RoomFactory.create(name="Portfolio room", slug="portfolio")
    event = EventFactory.create(
        host=host, room=room, capacity=3, description="<b>Bring</b> work\nand questions"
    )
    RsvpFactory.create(event=event)

    html = page_of(as_alice, f"/events/{event.pk}/")

    assert "Hugo Host" in html and "Spontaneous meetup" in html
    assert "1 member going" in html and "2 seats left of 3" in html
    assert 'href="/rooms/portfolio/"' in html
    assert f'href="/events/{event.pk}/event.ics"' in html
    assert "&lt;b&gt;Bring&lt;/b&gt; work<br>and questions" in html
    assert "<b>Bring</b>" not in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'value="going"' in html and 'value="maybe"' in html and 'value="not_going"' in html


def test_an_unknown_event_is_not_found(as_alice: Client) -> None:
    assert as_alice.get("/events/999999/").status_code == 404


# Answering ----------------------------------------------------------------------------------


def test_answers_take_seats_fill_the_waiting_list_and_promote(
    client: Client, alice: User, bob: User
) -> None:
    event = EventFactory.create(capacity=1)
    url = f"/events/{event.pk}/"

    html = post(logged_in(client, alice), f"{url}rsvp/", {"status": "going"}, follow=True)
    assert "You are going" in html.content.decode()
    assert "Your answer: Going." in html.content.decode()
    assert "0 seats left of 1" in html.content.decode()

    html = post(logged_in(client, bob), f"{url}rsvp/", {"status": "going"}, follow=True)
    page = html.content.decode()
    assert "you are on the waiting list, at position 1" in page
    assert "1 member on the waiting list" in page

    response = post(logged_in(client, alice), f"{url}rsvp/", {"status": "not_going"}, follow=True)
    page = response.content.decode()
    assert "Noted: you are not going." in page
    assert "Your seat went to 1 member from the waiting list; we told them." in page
    assert Rsvp.objects.get(event=event, user=bob).status == Rsvp.Status.GOING

    page = page_of(logged_in(client, bob), url)
    assert "Your answer: Going." in page and "Cancel my RSVP" in page


def waitlisted_behind(event: Event, *names: str) -> list[Client]:
    """Members called `names` answer going to the full `event`, in that order; their clients."""
    clients = []
    for name in names:
        member = logged_in(Client(), UserFactory.create(display_name=name))
        post(member, f"/events/{event.pk}/rsvp/", {"status": "going"})
        clients.append(member)
    return clients


def test_when_the_first_in_the_queue_cancels_the_others_move_up(
    as_alice: Client, alice: User
) -> None:
    event = EventFactory.create(capacity=1)
    url = f"/events/{event.pk}/"
    rsvp_set(event=event, user=alice, status=Rsvp.Status.GOING)
    bruno, carla, dani = waitlisted_behind(event, "Bruno", "Carla", "Dani")
    assert "at position 3." in page_of(dani, url)

    post(bruno, f"{url}rsvp/", {"status": "not_going"})

    assert "You are on the waiting list, at position 1." in page_of(carla, url)
    assert "You are on the waiting list, at position 2." in page_of(dani, url)
    joined = post(bruno, f"{url}rsvp/", {"status": "going"}, follow=True).content.decode()
    assert "you are on the waiting list, at position 3." in joined
    assert "You are on the waiting list, at position 3." in joined


def test_when_a_seat_frees_up_the_rest_of_the_queue_moves_up(as_alice: Client, alice: User) -> None:
    event = EventFactory.create(capacity=1)
    url = f"/events/{event.pk}/"
    rsvp_set(event=event, user=alice, status=Rsvp.Status.GOING)
    bruno, carla, dani = waitlisted_behind(event, "Bruno", "Carla", "Dani")

    post(as_alice, f"{url}rsvp/", {"status": "not_going"})

    assert "Your answer: Going." in page_of(bruno, url)
    assert "You are on the waiting list, at position 1." in page_of(carla, url)
    assert "You are on the waiting list, at position 2." in page_of(dani, url)


def test_an_answer_must_be_one_of_the_three(as_alice: Client) -> None:
    event = EventFactory.create()
    response = post(as_alice, f"/events/{event.pk}/rsvp/", {"status": "waitlisted"}, follow=True)
    assert "Answer going, maybe or not going." in response.content.decode()
    assert not Rsvp.objects.exists()


def test_rsvp_is_post_only(as_alice: Client) -> None:
    event = EventFactory.create()
    assert as_alice.get(f"/events/{event.pk}/rsvp/").status_code == 405


def test_a_cancelled_event_says_so_and_refuses_answers(as_alice: Client) -> None:
    event = cancelled()

    html = page_of(as_alice, f"/events/{event.pk}/")
    assert "This event was cancelled." in html
    assert f'action="/events/{event.pk}/rsvp/"' not in html

    response = post(as_alice, f"/events/{event.pk}/rsvp/", {"status": "going"}, follow=True)
    assert "This event was cancelled." in response.content.decode()
    assert not Rsvp.objects.exists()


def test_a_cancelled_event_offers_nothing_to_join_prepare_or_add_to_a_calendar(
    client: Client, alice: User, bob: User
) -> None:
    soon = timezone.now() + timedelta(days=1)
    room = RoomFactory.create(
        slug="coffee-room", created_by=alice, opens_at=soon - timedelta(minutes=10)
    )
    event = EventFactory.create(
        host=alice, created_by=alice, room=room, starts_at=soon, ends_at=soon + timedelta(hours=1)
    )
    RsvpFactory.create(event=event, user=alice, status=Rsvp.Status.GOING)
    event_cancel(event=event, by=alice)

    for viewer in (alice, bob):
        html = page_of(logged_in(client, viewer), f"/events/{event.pk}/")
        assert "This event was cancelled." in html
        assert "The room opens on" not in html and "Go in now to prepare" not in html
        assert "/rooms/coffee-room/" not in html
        assert "event.ics" not in html and "Add to calendar" not in html
        assert "member going" not in html and "You host this event" not in html
        assert f"/events/{event.pk}/edit/" not in html


def test_a_cancelled_event_cannot_be_changed(client: Client, alice: User) -> None:
    event = cancelled(host=alice, created_by=alice)
    logged_in(client, alice)
    url = f"/events/{event.pk}/edit/"

    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert response.redirect_chain == [(f"/events/{event.pk}/", 302)]
    assert "This event was cancelled, so it can no longer be changed." in response.content.decode()

    response = post(client, url, {"title": "Back on"})
    assert response.status_code == 302 and response["Location"] == f"/events/{event.pk}/"
    event.refresh_from_db()
    assert event.title != "Back on"


def test_answering_an_event_that_ended_shows_one_notice(as_alice: Client) -> None:
    now = timezone.now()
    event = EventFactory.create(
        starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1)
    )

    response = post(as_alice, f"/events/{event.pk}/rsvp/", {"status": "going"}, follow=True)

    html = response.content.decode()
    assert html.count("This event has ended.") == 1
    assert "This event is over." not in html
    assert not Rsvp.objects.exists()


def test_an_ended_talk_speaks_in_the_past_and_leads_to_its_room_not_the_stage(
    as_alice: Client, alice: User
) -> None:
    now = timezone.now()
    event = EventFactory.create(
        kind=Event.Kind.TALK,
        room=RoomFactory.create(name="Pricing", slug="pricing"),
        capacity=10,
        starts_at=now - timedelta(hours=2),
        ends_at=now - timedelta(hours=1),
    )
    RsvpFactory.create(event=event, user=alice)

    html = page_of(as_alice, f"/events/{event.pk}/")

    assert "Who came" in html and "Who is coming" not in html
    assert "1 member had said they were coming" in html and "member going" not in html
    assert "seats left" not in html and "Your answer" not in html
    assert "/stage/" not in html and 'href="/rooms/pricing/"' in html
    assert "Nobody wrote anything in the room during the event." in html


def test_an_event_under_way_says_nobody_has_written_yet(as_alice: Client) -> None:
    now = timezone.now()
    event = EventFactory.create(
        room=RoomFactory.create(slug="now-on"),
        starts_at=now - timedelta(minutes=10),
        ends_at=now + timedelta(hours=1),
    )

    html = page_of(as_alice, f"/events/{event.pk}/")

    assert "Nobody has written in the room yet." in html
    assert "during the event" not in html and "Who is coming" in html


# Calendar -----------------------------------------------------------------------------------


def test_the_calendar_file_carries_the_event(as_alice: Client, settings: Any) -> None:
    room = RoomFactory.create(slug="talk-room")
    starts_at = datetime(2030, 1, 15, 17, 0, tzinfo=UTC)
    event = EventFactory.create(
        title="Talk: time zones",
        room=room,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        time_zone="Europe/Madrid",
    )

    response = as_alice.get(f"/events/{event.pk}/event.ics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"] == 'attachment; filename="talk-time-zones.ics"'
    calendar = icalendar.Calendar.from_ical(response.content)
    (vevent,) = calendar.walk("VEVENT")
    assert str(vevent["UID"]) == str(event.uid)
    assert str(vevent["SUMMARY"]) == "Talk: time zones"
    assert vevent["DTSTART"].params["TZID"] == "Europe/Madrid"
    assert vevent.decoded("DTSTART") == starts_at
    assert vevent.decoded("DTSTART").hour == 18
    assert str(vevent["URL"]) == f"{settings.SITE_URL}/rooms/talk-room/"


# Spontaneous meetups ------------------------------------------------------------------------


def test_a_member_starts_a_meetup_now_in_a_room_of_its_own(as_alice: Client, alice: User) -> None:
    assert "Start a meetup" in page_of(as_alice, MEETUP)
    minute_before = timezone.now().replace(second=0, microsecond=0)

    response = post(
        as_alice,
        MEETUP,
        {
            "title": "Coffee & code",
            "description": "Pair on anything",
            "when": "now",
            "duration": "60",
        },
    )

    event = Event.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/events/{event.pk}/"
    assert event.kind == Event.Kind.MEETUP and event.host == alice
    assert event.time_zone == alice.time_zone
    assert event.ends_at - event.starts_at == timedelta(minutes=60)
    # "Now" is the current minute: up to a minute ago, a second ago at hh:mm:59.
    assert minute_before <= event.starts_at <= timezone.now()
    assert event.room is not None
    assert event.room.name == "Coffee & code"
    assert event.room.kind == Room.Kind.MEMBER and not event.room.private
    assert event.room.created_by == alice


def test_a_meetup_later_today_keeps_its_room_open_until_it_starts(as_alice: Client) -> None:
    # 15:00 in Madrid, Alice's zone: later today is 17:00.
    with time_machine.travel(datetime(2030, 1, 15, 14, 0, tzinfo=UTC), tick=False):
        post(as_alice, MEETUP, {"title": "Later", "when": "later", "duration": "90"})

    event = Event.objects.get()
    assert event.room is not None
    assert event.ends_at - event.starts_at == timedelta(minutes=90)
    assert event.room.last_activity_at >= event.starts_at


def test_later_today_is_refused_late_in_the_evening_rather_than_starting_now(
    as_alice: Client,
) -> None:
    # 22:30 in Madrid, Alice's zone: the next full hour an hour away is tomorrow.
    with time_machine.travel(datetime(2030, 1, 15, 21, 30, tzinfo=UTC), tick=False):
        response = post(as_alice, MEETUP, {"title": "Late", "when": "later", "duration": "30"})

    assert response.status_code == 400
    assert (
        "There is no later hour left today: choose “Now” or “At a time I choose”."
        in response.content.decode()
    )
    assert not Event.objects.exists() and not Room.objects.filter(kind="member").exists()


def test_the_time_zone_help_does_not_place_the_times_above_it(client: Client, staff: User) -> None:
    html = page_of(logged_in(client, staff), NEW)

    assert html.index('name="time_zone"') < html.index('name="starts_at"')
    assert "The start and end times are in this zone." in html
    assert "above" not in html


def test_a_meetup_at_a_chosen_time_is_read_in_the_members_zone(client: Client) -> None:
    member = UserFactory.create(time_zone="America/Mexico_City")
    post(
        logged_in(client, member),
        MEETUP,
        {
            "title": "Evening chat",
            "when": "custom",
            "starts_at": "2030-01-15T19:30",
            "duration": "30",
        },
    )

    event = Event.objects.get()
    assert event.starts_at == datetime(2030, 1, 16, 1, 30, tzinfo=UTC)
    assert event.time_zone == "America/Mexico_City"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"title": "  ", "when": "now", "duration": "30"}, "This field is required."),
        ({"title": "Chat", "when": "custom", "duration": "30"}, "Choose when the meetup starts."),
        (
            {"title": "Chat", "when": "custom", "starts_at": "2020-01-01T10:00", "duration": "30"},
            "An event cannot start in the past.",
        ),
        ({"title": "Chat", "when": "now", "duration": "45"}, "Select a valid choice."),
        (
            {"title": "Chat", "when": "custom", "starts_at": "9999-12-31T23:50", "duration": "30"},
            "Choose a date between 2000 and 2099.",
        ),
        # Alice's clocks (Madrid) jump from 02:00 to 03:00 that night.
        (
            {"title": "Chat", "when": "custom", "starts_at": "2030-03-31T02:30", "duration": "30"},
            "The clocks skip this time in Madrid",
        ),
    ],
)
def test_a_bad_meetup_is_shown_again_with_its_error(
    as_alice: Client, data: dict[str, str], error: str
) -> None:
    response = post(as_alice, MEETUP, {**data, "description": "Keep me"})

    assert response.status_code == 400
    html = response.content.decode()
    assert error in html
    assert "Keep me" in html
    assert not Event.objects.exists() and not Room.objects.filter(kind="member").exists()


def test_an_inactive_member_cannot_start_a_meetup(client: Client) -> None:
    gone = UserFactory.create(is_active=False)
    client.force_login(gone)
    response = post(client, MEETUP, {"title": "Chat", "when": "now", "duration": "30"})
    assert response.status_code in (302, 400)
    assert not Event.objects.exists()


# Staff events -------------------------------------------------------------------------------


def staff_event(**overrides: str) -> dict[str, str]:
    return {
        "kind": "talk",
        "title": "Pricing your work",
        "description": "An open talk.",
        "starts_at": "2030-03-10T18:00",
        "ends_at": "2030-03-10T19:30",
        "time_zone": "America/Mexico_City",
        "capacity": "20",
        "room": "new",
        **overrides,
    }


def test_only_staff_may_organise_events(as_alice: Client, alice: User) -> None:
    assert as_alice.get(NEW).status_code == 403
    response = post(as_alice, NEW, {**staff_event(), "host": alice.email})
    assert response.status_code == 403
    assert not Event.objects.exists()
    assert "Organise an event" not in page_of(as_alice, LIST)


def test_staff_organise_a_talk_in_a_room_of_its_own(
    client: Client, staff: User, alice: User
) -> None:
    logged_in(client, staff)
    html = page_of(client, NEW)
    assert f'name="host" value="{staff.email}"' in html
    assert '<option value="Europe/Madrid" selected>' in html

    response = post(client, NEW, {**staff_event(), "host": alice.email})

    event = Event.objects.get()
    assert response["Location"] == f"/events/{event.pk}/"
    assert event.kind == "talk" and event.host == alice and event.created_by == staff
    # 18:00 in Mexico City (UTC-6) is midnight UTC.
    assert event.starts_at == datetime(2030, 3, 11, 0, 0, tzinfo=UTC)
    assert event.ends_at == datetime(2030, 3, 11, 1, 30, tzinfo=UTC)
    assert event.time_zone == "America/Mexico_City" and event.capacity == 20
    assert event.room is not None and event.room.name == "Pricing your work"
    # It lasts as long as the talk, then closes once idle like a member's room: past talks
    # do not fill the lobby. Cancelling the talk closes it at once.
    assert event.room.kind == Room.Kind.MEMBER and event.room.last_activity_at == event.ends_at
    idle = settings.ROOMS_IDLE_CLOSE_AFTER
    assert rooms_close_idle(now=event.ends_at + idle - timedelta(minutes=1), idle_for=idle) == []
    assert rooms_close_idle(now=event.ends_at + idle + timedelta(minutes=1), idle_for=idle) == [
        event.room.pk
    ]
    post(client, NEW, {**staff_event(title="Cancelled talk"), "host": alice.email})
    cancelled = Event.objects.get(title="Cancelled talk")
    assert client.post(f"/events/{cancelled.pk}/cancel/").status_code == 302
    assert cancelled.room is not None
    cancelled.room.refresh_from_db()
    assert cancelled.room.closed_at is not None
    assert "Cancelled talk" not in page_of(client, "/rooms/")
    # A room other events still take place in stays open when one of them is cancelled.
    shared = EventFactory.create(created_by=staff, host=staff, room=event.room)
    event.room.closed_at = None
    event.room.save()
    event_cancel(event=event, by=staff)
    event.room.refresh_from_db()
    assert event.room.closed_at is None and shared.room == event.room


def test_a_host_is_named_by_email_and_an_unknown_one_is_refused(
    client: Client, staff: User, alice: User
) -> None:
    logged_in(client, staff)

    response = post(client, NEW, {**staff_event(), "host": "nadie@example.com"})

    assert response.status_code == 400
    assert "No active member has this email address." in response.content.decode()
    assert not Event.objects.exists()
    post(client, NEW, {**staff_event(), "host": alice.email.upper()})
    assert Event.objects.get().host == alice


def test_staff_may_hold_an_event_in_the_cafeteria(client: Client, staff: User) -> None:
    logged_in(client, staff)
    post(client, NEW, {**staff_event(room="cafeteria", capacity=""), "host": staff.email})

    event = Event.objects.get()
    assert event.room == cafeteria_get() and event.capacity is None


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"ends_at": "2030-03-10T17:00"}, "An event must end after it starts."),
        (
            {"starts_at": "2020-03-10T18:00", "ends_at": "2020-03-10T19:00"},
            "An event cannot start in the past.",
        ),
        ({"time_zone": "Mars/Olympus_Mons"}, "Select a valid choice."),
        ({"capacity": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"starts_at": "tomorrow"}, "Enter a valid date/time."),
        # Summer time starts in Madrid at 02:00 that day: 02:30 is never on the clocks.
        (
            {
                "starts_at": "2030-03-31T02:30",
                "ends_at": "2030-03-31T03:30",
                "time_zone": "Europe/Madrid",
            },
            "The clocks skip this time in Madrid (summer time starts): choose another.",
        ),
        ({"starts_at": "0001-01-01T00:00"}, "Choose a date between 2000 and 2099."),
        ({"ends_at": "9999-12-31T23:50"}, "Choose a date between 2000 and 2099."),
        ({"capacity": "99999999999999999999"}, "Ensure this value is less than or equal to"),
    ],
)
def test_bad_staff_events_are_shown_again_with_errors_and_values(
    client: Client, staff: User, overrides: dict[str, str], error: str
) -> None:
    logged_in(client, staff)
    response = post(client, NEW, {**staff_event(**overrides), "host": staff.email})

    assert response.status_code == 400
    html = response.content.decode()
    assert error in html
    assert 'value="Pricing your work"' in html and "An open talk." in html
    assert not Event.objects.exists() and not Room.objects.exclude(kind="cafeteria").exists()


def test_an_event_that_is_over_can_no_longer_be_changed(
    client: Client, alice: User, django_capture_on_commit_callbacks: Any
) -> None:
    now = timezone.now()
    event = EventFactory.create(
        host=alice, starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1)
    )
    logged_in(client, alice)

    assert "Change the event" not in page_of(client, f"/events/{event.pk}/")
    response = client.get(f"/events/{event.pk}/edit/", follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "This event is over, so it can no longer be changed." in response.content.decode()
    with pytest.raises(EventOver), django_capture_on_commit_callbacks(execute=True):
        services.event_update(event=event, by=alice, **{**event_details(event), "capacity": 9})
    event.refresh_from_db()
    assert event.capacity != 9


def test_the_host_changes_an_event_but_not_below_its_attendance(
    client: Client, alice: User, bob: User
) -> None:
    event = EventFactory.create(host=alice, capacity=5, time_zone="Europe/Madrid")
    RsvpFactory.create_batch(2, event=event)
    url = f"/events/{event.pk}/edit/"
    logged_in(client, alice)
    form = page_of(client, url)
    local = event.starts_at.astimezone(timezone.get_fixed_timezone(0))
    assert 'value="Europe/Madrid" selected' in form
    assert event.title in form and local.strftime("%Y-%m-%d") in form

    data = {
        "title": "Renamed",
        "description": "",
        "starts_at": "2030-05-05T10:00",
        "ends_at": "2030-05-05T11:00",
        "time_zone": "Europe/Madrid",
        "capacity": "1",
    }
    response = post(client, url, data)
    assert response.status_code == 400
    assert "More members are already going than that capacity allows." in response.content.decode()
    assert 'value="Renamed"' in response.content.decode()

    response = post(client, url, {**data, "capacity": "2"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.title == "Renamed" and event.capacity == 2
    assert event.starts_at == datetime(2030, 5, 5, 8, 0, tzinfo=UTC)

    logged_in(client, bob)
    assert client.get(url).status_code == 403
    assert post(client, url, {**data, "title": "Hijacked"}).status_code == 403
    event.refresh_from_db()
    assert event.title == "Renamed"


def test_edits_beyond_the_rate_limit_wait_and_keep_what_was_typed(
    client: Client, alice: User, settings: Any
) -> None:
    """Each edit emails everyone who answered: a host cannot turn that into a stream."""
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "event_edit": "1/h/user"}
    event = EventFactory.create(host=alice, time_zone="Europe/Madrid")
    url = f"/events/{event.pk}/edit/"
    logged_in(client, alice)
    data = {
        "title": "Once",
        "description": "",
        "starts_at": "2030-05-05T10:00",
        "ends_at": "2030-05-05T11:00",
        "time_zone": "Europe/Madrid",
        "capacity": "",
    }
    assert post(client, url, data).status_code == 302
    response = post(client, url, {**data, "title": "Twice"})
    assert response.status_code == 400
    assert "You have changed this event many times." in response.content.decode()
    assert 'value="Twice"' in response.content.decode()
    event.refresh_from_db()
    assert event.title == "Once"


# The dashboard ------------------------------------------------------------------------------


def test_the_dashboard_lists_the_next_three_events_in_my_zone(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    viewer = UserFactory.create(time_zone="America/Mexico_City")
    logged_in(client, viewer)
    assert "No events coming up" in page_of(client, "/")

    first = datetime(2030, 1, 15, 17, 0, tzinfo=UTC)
    events = [
        EventFactory.create(
            title=f"Session {n}",
            starts_at=first + timedelta(days=n),
            ends_at=first + timedelta(days=n, hours=1),
        )
        for n in range(4)
    ]
    cancelled(title="Called off")

    with django_assert_max_num_queries(16):
        html = page_of(client, "/")

    assert "No events coming up" not in html
    assert "Session 0" in html and "Session 2" in html
    assert "Session 3" not in html and "Called off" not in html
    assert f'href="/events/{events[0].pk}/"' in html
    assert "Tue 15 Jan, 11:00" in html


def test_a_member_starts_at_most_five_meetups_a_day(as_alice: Client, alice: User) -> None:
    fields = {"description": "", "when": "now", "duration": "30"}
    for n in range(MEETUPS_PER_DAY):
        assert post(as_alice, MEETUP, {"title": f"Meetup {n}", **fields}).status_code == 302

    response = post(as_alice, MEETUP, {"title": "One more", **fields})

    assert response.status_code == 400
    assert "meetups in the last 24 hours" in response.content.decode()
    assert not Event.objects.filter(title="One more").exists()
    assert not Room.objects.filter(name="One more").exists()


def test_a_host_on_either_side_of_a_block_is_still_named_but_not_linked(
    client: Client, alice: User
) -> None:
    # Left out of "who is coming" while the page names the host, the block would show.
    host = onboarded_member("Hugo Anfitrión", email="hugo@example.com")
    event = EventFactory.create(host=host)
    RsvpFactory.create(event=event, user=host, status=Rsvp.Status.GOING)
    BlockFactory.create(blocker=host, blocked=alice)

    html = page_of(logged_in(client, alice), f"/events/{event.pk}/")

    going = html.split('class="event-attendees"', 1)[1].split("</ul>", 1)[0]
    assert "Hugo Anfitrión" in going
    assert "and 1 more" not in html
    assert f'href="/members/{host.pk}/"' not in html


def test_a_title_edit_leaves_an_event_in_the_repeated_hour_where_it_was(
    as_alice: Client, alice: User
) -> None:
    """02:00 in Madrid on 31 October 2027 comes twice; this event is at the second (01:00
    UTC): the form shows "02:00", and saving it as shown must not move it to the first."""
    starts = datetime(2027, 10, 31, 1, 0, tzinfo=UTC)
    event = EventFactory.create(
        host=alice,
        created_by=alice,
        time_zone="Europe/Madrid",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
    )
    shown = page_of(as_alice, f"/events/{event.pk}/edit/")
    assert 'value="2027-10-31T02:00"' in shown

    with time_machine.travel(starts - timedelta(days=3)):
        response = post(
            as_alice,
            f"/events/{event.pk}/edit/",
            {
                "title": "Charla, con otro título",
                "description": event.description,
                "starts_at": "2027-10-31T02:00",
                "ends_at": "2027-10-31T03:00",
                "time_zone": "Europe/Madrid",
                "capacity": "",
            },
        )

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.title == "Charla, con otro título"
    assert (event.starts_at, event.ends_at) == (starts, starts + timedelta(hours=1))


def test_an_event_s_time_moves_a_few_times_a_day_each_move_emailing_everyone_going(
    client: Client, alice: User, bob: User
) -> None:
    """Within the edits allowed, a host could move a meetup 30 times an hour: each move
    emails everyone going, who cannot turn those emails off. Other edits go on."""
    event = EventFactory.create(host=alice, time_zone="Europe/Madrid")
    RsvpFactory.create(event=event, user=bob, status=Rsvp.Status.GOING)
    url = f"/events/{event.pk}/edit/"
    logged_in(client, alice)
    data = {
        "title": "Café",
        "description": "",
        "ends_at": "2030-05-05T11:00",
        "time_zone": "Europe/Madrid",
        "capacity": "",
    }
    for hour in ("07", "08"):
        moved = post(client, url, {**data, "starts_at": f"2030-05-05T{hour}:00"})
        assert moved.status_code == 302
    # A move the event refuses (a title of nothing readable) costs none of the three.
    unreadable = post(client, url, {**data, "starts_at": "2030-05-05T09:00", "title": "\u200b"})
    assert unreadable.status_code == 400
    assert post(client, url, {**data, "starts_at": "2030-05-05T09:00"}).status_code == 302

    refused = post(client, url, {**data, "starts_at": "2030-05-05T10:00"})
    assert refused.status_code == 400
    assert "time has changed several times today" in refused.content.decode()
    event.refresh_from_db()
    assert event.starts_at.astimezone(ZoneInfo("Europe/Madrid")).hour == 9
    renamed = post(client, url, {**data, "starts_at": "2030-05-05T09:00", "title": "Té"})
    assert renamed.status_code == 302

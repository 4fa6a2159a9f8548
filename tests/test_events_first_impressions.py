"""What a new member saw on the events pages and found confusing (issue 17, point 8): the
description headed like a profile's "about me", a meetup for tomorrow announced as on, the
host left out of those going, no list of who goes, and meetups outliving their host's
account."""

import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from events.models import Event, Rsvp
from events.series import series_extend
from events.services import meetup_defaults, meetup_start
from members.models import User
from members.privacy import account_delete
from tests.conftest import SmtpSink
from tests.factories import (
    PASSWORD,
    BlockFactory,
    EventFactory,
    EventSeriesFactory,
    RsvpFactory,
    UserFactory,
    client_for,
    onboarded_member,
)

pytestmark = pytest.mark.django_db

LIST = "/events/"
MEETUP = "/events/new/meetup/"
MEXICO = zoneinfo.ZoneInfo("America/Mexico_City")


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def in_spanish(user: User) -> Client:
    client = client_for(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"
    return client


def tomorrows_meetup(host: User, **fields: Any) -> Event:
    starts_at = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    values: dict[str, Any] = {
        "title": "Portfolio coffee",
        "description": "Show one piece of work you are proud of.",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=1),
        "time_zone": host.time_zone,
    }
    values.update(fields)
    return meetup_start(by=host, **values)


def attendee_list(html: str) -> str:
    """The list of who is going on an event's page ("" when there is none)."""
    found = re.search(r'<ul class="event-attendees".*?</ul>', html, re.S)
    return found.group(0) if found else ""


def profile_link(member: User) -> str:
    return f'<a href="/members/{member.pk}/">{member.name}</a>'


# The description's heading --------------------------------------------------------------------


def test_the_description_is_headed_as_the_events_not_as_a_profiles_about_me(
    alice: User, bob: User
) -> None:
    event = tomorrows_meetup(alice)

    english = page(client_for(bob), event.get_absolute_url())
    spanish = page(in_spanish(bob), event.get_absolute_url())

    # "About" is the profile's heading, "Sobre mí" in Spanish: never an event's.
    assert "Sobre mí" not in spanish
    assert '<h2 id="about-title">About this event</h2>' in english
    assert "Show one piece of work you are proud of." in english


# "On" only when it is ---------------------------------------------------------------------------


def test_a_meetup_for_tomorrow_is_announced_for_its_day_not_as_on() -> None:
    member = onboarded_member("Mateo Mora", email="mateo@example.com", time_zone=MEXICO.key)
    tomorrow = timezone.now().astimezone(MEXICO) + timedelta(days=1)
    data = {
        "title": "Evening chat",
        "when": "custom",
        "starts_at": f"{tomorrow:%Y-%m-%d}T19:30",
        "duration": "30",
    }

    english = client_for(member).post(MEETUP, data, follow=True).content.decode()
    spanish = in_spanish(member).post(MEETUP, data, follow=True).content.decode()

    assert "Your meetup is on" not in english and "open for everyone" not in english
    day = f"{tomorrow:%A} {tomorrow.day} {tomorrow:%B}"
    assert (
        f"Your meetup is planned for {day} at 19:30 (your time). Its room opens 10 minutes before."
    ) in english
    assert f"The room opens on {day} at 19:20 (your time)." in english
    assert "en marcha" not in spanish


def test_a_meetup_starting_now_is_announced_as_on(alice: User) -> None:
    response = client_for(alice).post(
        MEETUP, {"title": "Coffee now", "when": "now", "duration": "30"}, follow=True
    )

    assert "Your meetup is on. Its room is open for everyone." in response.content.decode()


def test_later_today_starts_on_a_full_hour_of_the_members_own_clock() -> None:
    # 10:00 UTC is 15:30 in Kolkata (UTC+5:30): later today is 17:00 there.
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

    later = meetup_defaults(time_zone="Asia/Kolkata", start="later", now=now)

    assert later.starts_at == datetime(2026, 11, 24, 11, 30, tzinfo=UTC)
    assert later.starts_at.astimezone(zoneinfo.ZoneInfo("Asia/Kolkata")).minute == 0


# The host is going ---------------------------------------------------------------------------


def test_the_host_goes_to_their_event_in_one_of_its_seats(
    staff: User, alice: User, bob: User, outsider: User
) -> None:
    client_for(staff).post(
        "/events/new/",
        {
            "kind": "talk",
            "title": "Pricing your work",
            "starts_at": "2030-03-10T18:00",
            "ends_at": "2030-03-10T19:30",
            "time_zone": "America/Mexico_City",
            "capacity": "2",
            "room": "new",
            "host": alice.email,
        },
    )
    event = Event.objects.get()
    url = event.get_absolute_url()

    html = page(client_for(bob), url)
    assert "1 member going" in html and "1 seat left of 2" in html
    assert "1 member going" in page(client_for(bob), LIST)

    client_for(bob).post(f"{url}rsvp/", {"status": "going"})
    response = client_for(outsider).post(f"{url}rsvp/", {"status": "going"}, follow=True)

    assert "you are on the waiting list, at position 1" in response.content.decode()
    assert dict(event.rsvps.values_list("user__display_name", "status")) == {
        "Alice Arias": "going",
        "Bob Bravo": "going",
        "Carol Cruz": "waitlisted",
    }
    assert "2 members going" in page(client_for(bob), url)


def test_the_host_cannot_answer_otherwise_and_is_offered_no_answer(alice: User) -> None:
    event = tomorrows_meetup(alice)
    url = event.get_absolute_url()

    response = client_for(alice).post(f"{url}rsvp/", {"status": "not_going"}, follow=True)

    html = response.content.decode()
    assert "You host this event, so you are going. If it cannot take place" in html
    assert Rsvp.objects.get(event=event, user=alice).status == Rsvp.Status.GOING
    assert "You host this event, so you are going." in html
    assert 'name="status"' not in html
    assert "Cancel this event" in html


def test_each_occurrence_of_a_series_seats_its_host(staff: User) -> None:
    series = EventSeriesFactory.create(host=staff, capacity=10)

    created = series_extend(series=series, until=series.starts_on + timedelta(weeks=3))

    assert created
    for event in created:
        assert list(event.rsvps.values_list("user", "status")) == [(staff.pk, "going")]


def test_a_series_whose_host_left_or_was_suspended_seats_nobody_for_them(
    staff: User, alice: User
) -> None:
    gone = EventSeriesFactory.create(host=alice, capacity=10)
    suspended = EventSeriesFactory.create(host=staff, capacity=10)
    account_delete(user=alice)
    User.objects.filter(pk=staff.pk).update(is_active=False)

    for series in (gone, suspended):
        series.refresh_from_db()
        created = series_extend(series=series, until=series.starts_on + timedelta(weeks=3))
        assert created
        assert not Rsvp.objects.filter(event__in=created).exists()
    assert gone.host is None  # the deleted account no longer hosts it


def test_a_new_host_chosen_in_the_admin_gets_a_seat(staff: User, alice: User, bob: User) -> None:
    event = tomorrows_meetup(alice)
    admin = client_for(staff)
    form = page(admin, f"/admin/events/event/{event.pk}/change/")
    # The answers are read elsewhere (a link), not edited in this form.
    assert 'name="rsvps-TOTAL_FORMS"' not in form
    # The time, room, seats and cancelling change on the event's page, which tells people.
    assert f'href="/events/{event.pk}/edit/"' in form
    assert 'name="starts_at_0"' not in form and 'name="cancelled_at_0"' not in form
    starts = event.starts_at.astimezone(zoneinfo.ZoneInfo("Europe/Madrid"))
    ends = event.ends_at.astimezone(zoneinfo.ZoneInfo("Europe/Madrid"))

    response = admin.post(
        f"/admin/events/event/{event.pk}/change/",
        {
            "kind": event.kind,
            "title": event.title,
            "description": event.description,
            "host": str(bob.pk),
            "created_by": str(alice.pk),
            "starts_at_0": f"{starts:%Y-%m-%d}",
            "starts_at_1": f"{starts:%H:%M:%S}",
            "ends_at_0": f"{ends:%Y-%m-%d}",
            "ends_at_1": f"{ends:%H:%M:%S}",
            "time_zone": event.time_zone,
            "capacity": "",
            "room": str(event.room_id),
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert dict(event.rsvps.values_list("user", "status")) == {
        alice.pk: "going",
        bob.pk: "going",
    }


# Who is going -------------------------------------------------------------------------------


def test_the_event_page_lists_who_is_going_as_their_privacy_allows(
    alice: User, bob: User, outsider: User
) -> None:
    event = tomorrows_meetup(alice)
    hidden = onboarded_member("Hugo Hidden", email="hugo@example.com")
    hidden.profile.visible_in_directory = False
    hidden.profile.save()
    blocked = onboarded_member("Bea Blocked", email="bea@example.com")
    BlockFactory.create(blocker=outsider, blocked=blocked)
    blocker = onboarded_member("Blas Blocker", email="blas@example.com")
    BlockFactory.create(blocker=blocker, blocked=outsider)
    unfinished = UserFactory.create(display_name="Nora Newcomer")
    for member in (bob, hidden, blocked, blocker, unfinished):
        RsvpFactory.create(event=event, user=member)
    RsvpFactory.create(event=event, status=Rsvp.Status.MAYBE, user=onboarded_member("Mia Maybe"))

    html = page(client_for(outsider), event.get_absolute_url())
    listed = attendee_list(html)

    assert "6 members going" in html
    assert listed.index(profile_link(alice)) < listed.index(profile_link(bob))
    assert "(host)" in listed
    for name in ("Hugo", "Bea", "Blas", "Nora", "Mia", "Carol"):
        assert name not in listed, name
    assert "and 4 more" in html
    # Whoever hides still sees themselves, and a block hides both ways.
    assert 'Hugo Hidden</a> <span class="muted">(you)</span>' in attendee_list(
        page(client_for(hidden), event.get_absolute_url())
    )
    assert "Carol" not in attendee_list(page(client_for(blocker), event.get_absolute_url()))


def test_the_attendee_list_takes_the_same_queries_however_many_go(
    alice: User, bob: User, django_assert_max_num_queries: Any
) -> None:
    event = tomorrows_meetup(alice)
    client = client_for(bob)
    url = event.get_absolute_url()
    page(client, url)  # Warm up the session.

    with django_assert_max_num_queries(30) as few:
        page(client, url)
    for number in range(12):
        RsvpFactory.create(event=event, user=onboarded_member(f"Guest {number}"))

    with django_assert_max_num_queries(len(few.captured_queries)):
        html = page(client, url)
    assert "Guest 11" in attendee_list(html)


# A meetup goes with its host's account ------------------------------------------------------


def test_a_meetup_whose_host_deletes_their_account_is_cancelled_and_those_going_told(
    alice: User,
    bob: User,
    staff: User,
    smtp: SmtpSink,
    django_capture_on_commit_callbacks: Any,
) -> None:
    bob.language = "en"
    bob.save(update_fields=["language"])
    meetup = tomorrows_meetup(alice)
    RsvpFactory.create(event=meetup, user=bob, announced_sequence=meetup.sequence)
    talk = EventFactory.create(title="Staff talk", kind=Event.Kind.TALK, host=alice)
    RsvpFactory.create(event=talk, user=alice)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/members/me/delete/", {"password": PASSWORD})

    assert response.status_code == 302
    meetup.refresh_from_db()
    assert meetup.is_cancelled
    listing = page(client_for(bob), LIST)
    assert "Portfolio coffee" not in listing
    assert "Staff talk" in listing  # staff's own, to find another host for
    assert "This event was cancelled." in page(client_for(bob), meetup.get_absolute_url())
    email = smtp.wait_for("bob@example.com")
    assert str(email["Subject"]) == "Cancelled: Portfolio coffee"
    assert not talk.rsvps.exists()  # her seat at the talk went back
    assert len(smtp.messages) == 1

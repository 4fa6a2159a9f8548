"""A member's private calendar feed (a secret, revocable URL), and cancelling an event from
its page."""

from datetime import timedelta
from typing import Any

import icalendar
import pytest
from django.test import Client
from django.utils import timezone

from events.feeds import calendar_feed_get_or_create
from events.models import CalendarFeed, Event, Rsvp
from members.models import User
from tests.conftest import SmtpSink
from tests.factories import EventFactory, RsvpFactory

pytestmark = pytest.mark.django_db

ROTATE = "/events/calendar/rotate/"


@pytest.fixture
def alice(alice: User) -> User:
    """Alice (tests/conftest.py), reading the site in English."""
    alice.language = "en"
    alice.save(update_fields=["language"])
    return alice


def feed_url(user: User) -> str:
    return calendar_feed_get_or_create(user=user).get_absolute_url()


def going(event: Event, user: User, status: str = Rsvp.Status.GOING) -> Rsvp:
    return RsvpFactory.create(event=event, user=user, status=status)


def summaries(client: Client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    calendar = icalendar.Calendar.from_ical(response.content)
    return sorted(str(vevent["SUMMARY"]) for vevent in calendar.walk("VEVENT"))


# The feed ------------------------------------------------------------------------------------


def test_the_feed_has_the_events_the_member_goes_to_or_hosts_and_no_others(
    client: Client, alice: User, bob: User
) -> None:
    going(EventFactory.create(title="Going"), alice)
    going(EventFactory.create(title="Maybe"), alice, Rsvp.Status.MAYBE)
    going(EventFactory.create(title="Not going"), alice, Rsvp.Status.NOT_GOING)
    going(EventFactory.create(title="Bob's"), bob)
    EventFactory.create(title="Hosting", host=alice)
    EventFactory.create(title="Someone else's")
    now = timezone.now()
    going(
        EventFactory.create(
            title="Last week",
            starts_at=now - timedelta(days=7),
            ends_at=now - timedelta(days=7) + timedelta(hours=1),
        ),
        alice,
    )
    going(
        EventFactory.create(
            title="Long ago",
            starts_at=now - timedelta(days=60),
            ends_at=now - timedelta(days=60) + timedelta(hours=1),
        ),
        alice,
    )

    response = client.get(feed_url(alice))  # no login: calendar programs have none

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=300"
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["X-WR-CALNAME"]).endswith(" events")
    assert sorted(str(e["SUMMARY"]) for e in calendar.walk("VEVENT")) == [
        "Going",
        "Hosting",
        "Last week",
    ]


def test_a_cancelled_event_stays_in_the_feed_marked_cancelled(client: Client, alice: User) -> None:
    event = EventFactory.create(title="Called off", host=alice, cancelled_at=timezone.now())
    calendar = icalendar.Calendar.from_ical(client.get(feed_url(alice)).content)
    (vevent,) = calendar.walk("VEVENT")
    assert str(vevent["UID"]) == str(event.uid)
    assert str(vevent["STATUS"]) == "CANCELLED"


def test_an_unknown_token_is_not_found(client: Client, alice: User) -> None:
    calendar_feed_get_or_create(user=alice)
    assert client.get("/events/calendar/not-the-token.ics").status_code == 404


def test_the_feed_of_an_inactive_or_deleted_member_is_not_found(
    client: Client, alice: User, bob: User
) -> None:
    ana_url, ben_url = feed_url(alice), feed_url(bob)
    User.objects.filter(pk=alice.pk).update(is_active=False)
    User.objects.filter(pk=bob.pk).update(deleted_at=timezone.now())
    assert client.get(ana_url).status_code == 404
    assert client.get(ben_url).status_code == 404


def test_the_feed_takes_the_same_queries_for_many_events(
    client: Client, alice: User, django_assert_max_num_queries: Any
) -> None:
    for _ in range(15):
        going(EventFactory.create(), alice)
    url = feed_url(alice)
    # The feed, its events, the coffee meetings the member agreed on and their members.
    with django_assert_max_num_queries(4):
        assert len(summaries(client, url)) == 15


# Making a new link -----------------------------------------------------------------------


def test_the_mine_tab_shows_the_absolute_feed_url_to_its_member_only(
    client: Client, alice: User, settings: Any
) -> None:
    settings.SITE_URL = "https://cowork.example"
    client.force_login(alice)
    page = client.get("/events/", {"show": "mine"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    token = CalendarFeed.objects.get(user=alice).token
    assert "Your calendar feed" in page
    assert f'value="https://cowork.example/events/calendar/{token}.ics"' in page
    assert "readonly" in page
    upcoming = client.get("/events/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Your calendar feed" not in upcoming


def test_a_new_link_revokes_the_old_one(client: Client, alice: User) -> None:
    old = feed_url(alice)
    client.force_login(alice)

    response = client.post(ROTATE)

    assert response.status_code == 302
    assert response["Location"] == "/events/?show=mine"
    new = CalendarFeed.objects.get(user=alice).get_absolute_url()
    assert new != old
    client.logout()
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_making_a_new_link_needs_a_login_and_a_post(client: Client, alice: User) -> None:
    old = feed_url(alice)
    response = client.post(ROTATE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    client.force_login(alice)
    assert client.get(ROTATE).status_code == 405
    assert CalendarFeed.objects.get(user=alice).get_absolute_url() == old


# Cancelling an event ---------------------------------------------------------------------


def test_the_host_cancels_after_confirming_and_attendees_are_emailed(
    client: Client, alice: User, bob: User, smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    event = EventFactory.create(title="Taller", host=alice)
    going(event, bob)
    client.force_login(alice)
    page = client.get(f"/events/{event.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Cancel this event" in page
    assert "Yes, cancel it" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/events/{event.pk}/cancel/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 302
    assert response["Location"] == f"/events/{event.pk}/"
    event.refresh_from_db()
    assert event.is_cancelled
    message = smtp.wait_for(bob.email)
    assert "Taller" in str(message["Subject"])
    page = client.get(f"/events/{event.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The event is cancelled." in page
    assert "Cancel this event" not in page


def test_staff_can_cancel_any_event(client: Client, staff: User) -> None:
    event = EventFactory.create()
    client.force_login(staff)
    assert client.post(f"/events/{event.pk}/cancel/").status_code == 302
    event.refresh_from_db()
    assert event.is_cancelled


def test_an_outsider_cannot_cancel_nor_sees_the_button(client: Client, bob: User) -> None:
    event = EventFactory.create()
    going(event, bob)
    client.force_login(bob)
    page = client.get(f"/events/{event.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Cancel this event" not in page
    assert client.post(f"/events/{event.pk}/cancel/").status_code == 403
    event.refresh_from_db()
    assert not event.is_cancelled


def test_cancelling_needs_a_post_and_a_login(client: Client, alice: User) -> None:
    event = EventFactory.create(host=alice)
    response = client.post(f"/events/{event.pk}/cancel/")
    assert response["Location"].startswith("/accounts/login/")
    client.force_login(alice)
    assert client.get(f"/events/{event.pk}/cancel/").status_code == 405
    event.refresh_from_db()
    assert not event.is_cancelled

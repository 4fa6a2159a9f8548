"""Calendar files, parsed back with `icalendar` and read field by field."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.conf import settings

from events import services
from events.ics import calendar_ics, event_ics
from events.models import Event
from members.models import User
from tests.factories import EventFactory, RoomFactory

pytestmark = pytest.mark.django_db

SITE = "https://coworking.example"
# Madrid is on CET (UTC+1) in December: 18:00 UTC is 19:00 there.
STARTS = datetime(2030, 12, 4, 18, 0, tzinfo=UTC)


def parsed(data: bytes) -> icalendar.Calendar:
    assert data.startswith(b"BEGIN:VCALENDAR\r\n")
    return icalendar.Calendar.from_ical(data)


def only_event(calendar: icalendar.Calendar) -> icalendar.Component:
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return events[0]


@pytest.fixture
def event(staff: User) -> Event:
    return EventFactory.create(
        kind=Event.Kind.TALK,
        title="Pricing your freelance work",
        description="An open talk.\nQuestions welcome.",
        host=staff,
        starts_at=STARTS,
        ends_at=STARTS + timedelta(minutes=90),
        room=RoomFactory.create(slug="pricing-talk"),
    )


def test_an_event_file_has_every_field_calendars_need(event: Event) -> None:
    calendar = parsed(event_ics(event=event, site_url=SITE))

    assert str(calendar["PRODID"]) == f"-//{settings.SITE_NAME}//Calendar//EN"
    assert str(calendar["VERSION"]) == "2.0"
    vevent = only_event(calendar)
    assert str(vevent["UID"]) == str(event.uid)
    assert vevent.decoded("DTSTAMP").tzinfo is not None
    assert vevent["DTSTART"].params["TZID"] == "Europe/Madrid"
    assert vevent["DTEND"].params["TZID"] == "Europe/Madrid"
    assert vevent["DTSTART"].to_ical() == b"20301204T190000"  # local time, with its TZID
    assert vevent.decoded("DTSTART") == STARTS
    assert vevent.decoded("DTEND") == STARTS + timedelta(minutes=90)
    assert str(vevent["SUMMARY"]) == "Pricing your freelance work"
    assert str(vevent["DESCRIPTION"]) == "An open talk.\nQuestions welcome."
    assert str(vevent["URL"]) == f"{SITE}/rooms/pricing-talk/"
    assert vevent.decoded("SEQUENCE") == 0
    assert str(vevent["STATUS"]) == "CONFIRMED"
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Madrid"
    assert {sub.name for sub in zone.subcomponents} == {"STANDARD", "DAYLIGHT"}


def test_an_event_without_a_room_links_to_the_site(staff: User) -> None:
    event = EventFactory.create(host=staff, starts_at=STARTS, description="")

    vevent = only_event(parsed(event_ics(event=event, site_url=SITE)))

    assert str(vevent["URL"]) == f"{SITE}/"
    assert "DESCRIPTION" not in vevent and "LOCATION" not in vevent


def test_an_update_keeps_the_uid_and_raises_the_sequence(event: Event, staff: User) -> None:
    before = only_event(parsed(event_ics(event=event, site_url=SITE)))

    updated = services.event_update(
        event=event,
        by=staff,
        title=event.title,
        description=event.description,
        starts_at=STARTS + timedelta(days=1),
        ends_at=STARTS + timedelta(days=1, hours=1),
        time_zone="America/Santiago",
        capacity=None,
        room=event.room,
        now=STARTS - timedelta(days=7),
    )
    calendar = parsed(event_ics(event=updated, site_url=SITE))
    after = only_event(calendar)

    assert str(after["UID"]) == str(before["UID"])
    assert after.decoded("SEQUENCE") == before.decoded("SEQUENCE") + 1 == 1
    assert after["DTSTART"].params["TZID"] == "America/Santiago"
    # December is summer in Chile: UTC-3.
    assert after["DTSTART"].to_ical() == b"20301205T150000"
    assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == ["America/Santiago"]


def test_a_cancelled_event_says_so_with_a_higher_sequence(event: Event, staff: User) -> None:
    services.event_cancel(event=event, by=staff)

    vevent = only_event(parsed(event_ics(event=event, site_url=SITE)))

    assert str(vevent["STATUS"]) == "CANCELLED"
    assert vevent.decoded("SEQUENCE") == 1
    assert str(vevent["UID"]) == str(event.uid)


def test_a_feed_holds_every_event_and_each_zone_once(event: Event, staff: User) -> None:
    santiago = EventFactory.create(
        host=staff, starts_at=STARTS, time_zone="America/Santiago", title="Café"
    )
    madrid_again = EventFactory.create(host=staff, starts_at=STARTS + timedelta(days=7))

    calendar = parsed(
        calendar_ics(events=[event, santiago, madrid_again], site_url=SITE, name="My events")
    )

    assert str(calendar["X-WR-CALNAME"]) == "My events"
    assert [str(vevent["UID"]) for vevent in calendar.walk("VEVENT")] == [
        str(event.uid),
        str(santiago.uid),
        str(madrid_again.uid),
    ]
    assert [str(vevent["SUMMARY"]) for vevent in calendar.walk("VEVENT")][1] == "Café"
    assert sorted(str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")) == [
        "America/Santiago",
        "Europe/Madrid",
    ]


def test_an_empty_feed_is_still_a_valid_calendar() -> None:
    calendar = parsed(calendar_ics(events=[], site_url=SITE, name="My events"))
    assert calendar.walk("VEVENT") == [] and str(calendar["VERSION"]) == "2.0"
    # One component at least (RFC 5545 3.6), which strict importers insist on.
    assert [zone["TZID"] for zone in calendar.walk("VTIMEZONE")] == [settings.TIME_ZONE]


def test_an_event_in_the_hour_the_clocks_repeat_is_read_back_at_its_own_time(
    staff: User,
) -> None:
    """19:00 in Mexico City on Saturday 30 October 2027 is 02:00 on Sunday in Madrid the
    second time round (clocks go back at 03:00): a time with a TZID names the first."""
    starts = datetime(2027, 10, 31, 1, 0, tzinfo=UTC)
    staff.time_zone = "Europe/Madrid"
    staff.save()
    event = EventFactory.create(host=staff, starts_at=starts, ends_at=starts + timedelta(hours=1))

    entry = only_event(parsed(event_ics(event=event, site_url=SITE)))

    assert entry.decoded("DTSTART") == starts
    assert entry.decoded("DTEND") == starts + timedelta(hours=1)


def test_the_file_s_own_zone_rules_reach_an_event_decades_ahead(staff: User) -> None:
    """Calendars that read the VTIMEZONE rather than their own zone database must find
    summer time in a 2040 event's July (icalendar's default rules stop at 2038)."""
    summer_2040 = datetime(2040, 7, 10, 16, 0, tzinfo=UTC)  # 18:00 in Madrid (UTC+2)
    event = EventFactory.create(
        host=staff, starts_at=summer_2040, ends_at=summer_2040 + timedelta(hours=1)
    )

    [zone] = parsed(event_ics(event=event, site_url=SITE)).walk("VTIMEZONE")
    from_the_file = zone.to_tz(lookup_tzid=False)  # type: ignore[attr-defined]

    assert datetime(2040, 7, 10, 18, 0, tzinfo=from_the_file).utcoffset() == timedelta(hours=2)
    assert datetime(2040, 12, 10, 18, 0, tzinfo=from_the_file).utcoffset() == timedelta(hours=1)

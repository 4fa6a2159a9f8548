"""Stays in rooms: recorded when a member's last connection goes, summed per hour for the
staff dashboard, and counted as an event's attendance."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from coworking.asgi import application
from events.models import Event, Rsvp
from events.selectors import events_past
from events.tasks import events_wrap_up_tick
from rooms.models import HourlyUsage, Presence, Visit
from rooms.presence import PRESENCE_TTL, presence_add, presence_prune, presence_remove
from rooms.services import cafeteria_get
from tests.factories import EventFactory, RoomFactory, UserFactory

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
T0 = datetime(2026, 3, 4, 9, 40, tzinfo=UTC)


def usage(room_id: int) -> dict[int, int]:
    return {
        row.hour.hour: row.seconds
        for row in HourlyUsage.objects.filter(room_id=room_id).order_by("hour")
    }


@pytest.mark.django_db
def test_a_stay_over_two_tabs_is_one_visit_from_the_first_tab_to_the_last() -> None:
    place = RoomFactory.create()
    ana = UserFactory.create()
    presence_add(room=place, user=ana, channel_name="tab-1", now=T0)
    Presence.objects.update(heartbeat_at=T0 + timedelta(minutes=30))  # the sweep's touch
    presence_add(room=place, user=ana, channel_name="tab-2", now=T0 + timedelta(minutes=30))

    presence_remove(channel_name="tab-1", now=T0 + timedelta(minutes=40))
    assert not Visit.objects.exists()  # still here in the other tab

    presence_remove(channel_name="tab-2", now=T0 + timedelta(minutes=90))
    visit = Visit.objects.get()
    assert (visit.user, visit.started_at, visit.ended_at) == (ana, T0, T0 + timedelta(minutes=90))
    # 9:40–11:10 UTC: 20 minutes at 9h, a whole hour at 10h, 10 minutes at 11h.
    assert usage(place.pk) == {9: 20 * 60, 10: 3600, 11: 10 * 60}


@pytest.mark.django_db
def test_hours_add_up_over_members_and_a_second_goodbye_records_nothing() -> None:
    place = RoomFactory.create()
    ana, ben = UserFactory.create_batch(2)
    presence_add(room=place, user=ana, channel_name="ana", now=T0)
    presence_add(room=place, user=ben, channel_name="ben", now=T0 + timedelta(minutes=5))

    assert presence_remove(channel_name="ana", now=T0 + timedelta(minutes=15))
    assert presence_remove(channel_name="ben", now=T0 + timedelta(minutes=15))
    assert not presence_remove(channel_name="ben", now=T0 + timedelta(minutes=20))

    assert Visit.objects.count() == 2
    assert usage(place.pk) == {9: 15 * 60 + 10 * 60}


@pytest.mark.django_db
def test_a_dead_process_s_members_end_their_visit_at_their_last_heartbeat() -> None:
    place = RoomFactory.create()
    ana = UserFactory.create()
    presence_add(room=place, user=ana, channel_name="stalled", now=T0)
    Presence.objects.update(heartbeat_at=T0 + timedelta(minutes=12))

    presence_prune(now=T0 + timedelta(minutes=12) + PRESENCE_TTL + timedelta(seconds=1))
    presence_prune(now=T0 + timedelta(minutes=13) + PRESENCE_TTL)

    visit = Visit.objects.get()
    assert visit.ended_at == T0 + timedelta(minutes=12)
    assert usage(place.pk) == {9: 12 * 60}


@pytest.mark.django_db
def test_a_dead_process_s_crowd_is_recorded_in_queries_that_do_not_grow_with_it() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    place = RoomFactory.create()
    crowd = UserFactory.create_batch(12)
    for k, member in enumerate(crowd):
        presence_add(room=place, user=member, channel_name=f"dead-{k}", now=T0)
    Presence.objects.update(heartbeat_at=T0 + timedelta(minutes=30))
    # One of them already recorded (a tab that closed at the same moment, say).
    Visit.objects.create(
        room=place, user=crowd[0], started_at=T0, ended_at=T0 + timedelta(minutes=30)
    )
    HourlyUsage.objects.create(room=place, hour=T0.replace(minute=0), seconds=20 * 60)
    HourlyUsage.objects.create(
        room=place, hour=T0.replace(minute=0) + timedelta(hours=1), seconds=10 * 60
    )

    later = T0 + timedelta(minutes=30) + PRESENCE_TTL + timedelta(seconds=1)
    presence_prune(now=later)
    assert Visit.objects.count() == 12
    # 9:40–10:10 for each of the twelve, counted once each.
    assert usage(place.pk) == {9: 12 * 20 * 60, 10: 12 * 10 * 60}

    others = UserFactory.create_batch(12)
    for k, member in enumerate(others):
        presence_add(room=place, user=member, channel_name=f"dead-again-{k}", now=later)
    Presence.objects.update(heartbeat_at=later)
    with CaptureQueriesContext(connection) as queries:
        presence_prune(now=later + PRESENCE_TTL + timedelta(seconds=1))
    assert Visit.objects.count() == 24
    assert len(queries.captured_queries) < 12


# Through the real socket --------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_leaving_a_room_by_its_socket_records_the_visit() -> None:
    def member_session() -> tuple[int, str, str]:
        user = UserFactory.create()
        place = RoomFactory.create()
        client = Client()
        client.force_login(user)
        return user.pk, client.cookies["sessionid"].value, place.slug

    user_id, session, slug = await database_sync_to_async(member_session)()
    communicator = WebsocketCommunicator(
        application,
        f"/ws/rooms/{slug}/",
        headers=[ORIGIN, (b"cookie", f"sessionid={session}".encode())],
    )
    assert (await communicator.connect(timeout=5))[0]
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    await communicator.disconnect()

    visits = await database_sync_to_async(list)(Visit.objects.values_list("user_id", "room__slug"))
    assert visits == [(user_id, slug)]


# Event attendance ---------------------------------------------------------------------


def event_in(room_id: int, *, starts_at: datetime) -> Event:
    return EventFactory.create(
        room_id=room_id, starts_at=starts_at, ends_at=starts_at + timedelta(hours=1)
    )


@pytest.mark.django_db
def test_an_event_s_attendance_is_who_was_in_its_room_while_it_ran() -> None:
    place = RoomFactory.create()
    early, on_time, still_there, too_late, earlier_day = UserFactory.create_batch(5)
    start = T0 + timedelta(days=1)
    event = event_in(place.pk, starts_at=start)
    Rsvp.objects.create(event=event, user=early, status=Rsvp.Status.GOING)
    Rsvp.objects.create(event=event, user=too_late, status=Rsvp.Status.GOING)
    stays = {
        early: (start - timedelta(minutes=8), start + timedelta(minutes=20)),
        on_time: (start + timedelta(minutes=5), start + timedelta(minutes=50)),
        too_late: (start + timedelta(hours=2), start + timedelta(hours=3)),
        earlier_day: (start - timedelta(days=1), start - timedelta(days=1, minutes=-30)),
    }
    for member, (came, went) in stays.items():
        presence_add(room=place, user=member, channel_name=f"c{member.pk}", now=came)
        presence_remove(channel_name=f"c{member.pk}", now=went)
    presence_add(room=place, user=still_there, channel_name="here", now=start)

    with time_machine.travel(start + timedelta(hours=1, minutes=1), tick=False):
        assert events_wrap_up_tick() == 1
        event.refresh_from_db()
        assert event.attendance_count == 3
        assert events_past().get(pk=event.pk).attendance == 3


@pytest.mark.django_db
def test_in_the_cafeteria_only_those_who_answered_count_as_attendance() -> None:
    cafeteria = cafeteria_get()
    going, maybe, just_working = UserFactory.create_batch(3)
    start = timezone.now() - timedelta(hours=1, minutes=2)
    event = event_in(cafeteria.pk, starts_at=start)
    Rsvp.objects.create(event=event, user=going, status=Rsvp.Status.GOING)
    Rsvp.objects.create(event=event, user=maybe, status=Rsvp.Status.MAYBE)
    for member in (going, maybe, just_working):
        presence_add(room=cafeteria, user=member, channel_name=f"c{member.pk}", now=start)

    assert events_wrap_up_tick() == 1

    event.refresh_from_db()
    assert event.attendance_count == 2


@pytest.mark.django_db
def test_the_page_of_an_ended_event_invites_to_the_cafeteria_and_shows_attendance() -> None:
    viewer = UserFactory.create()
    event = EventFactory.create(
        room=RoomFactory.create(),
        starts_at=timezone.now() - timedelta(hours=2),
        ends_at=timezone.now() - timedelta(hours=1),
        attendance_count=4,
    )
    client = Client()
    client.force_login(viewer)

    html = client.get(f"/events/{event.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "This event has ended." in html
    assert 'href="/rooms/cafeteria/"' in html
    assert "4 members were in the room" in html

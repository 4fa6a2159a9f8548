"""Events: who may organise what, validation, RSVPs with a waiting list under concurrency, the
promotion email, weekly series across daylight-saving changes, and the lists."""

import threading
import time as time_module
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import icalendar
import pytest
from django.db import connection
from django.utils import timezone

from events import errors, rsvps, selectors, services, tasks
from events.models import Event, EventError, EventSeries, Rsvp
from events.series import series_extend
from members.models import User
from members.privacy import account_delete, account_export
from members.services import member_reinstate, member_suspend
from rooms.models import Room
from tests.conftest import SmtpSink
from tests.factories import (
    EventFactory,
    EventSeriesFactory,
    RoomFactory,
    RsvpFactory,
    UserFactory,
    client_for,
    event_details,
)

# Tuesday 2026-11-24, 10:00 UTC (11:00 in Madrid).
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
MADRID = zoneinfo.ZoneInfo("Europe/Madrid")


@pytest.fixture
def bob(bob: User) -> User:
    """Bob (tests/conftest.py), reading his email in English."""
    bob.language = "en"
    bob.save(update_fields=["language"])
    return bob


@pytest.fixture
def carla() -> User:
    return UserFactory.create(display_name="Carla", email="carla@example.com")


def meetup(by: User, **fields: Any) -> Event:
    values: dict[str, Any] = {
        "kind": Event.Kind.MEETUP,
        "title": "Coffee and code",
        "starts_at": NOW + timedelta(hours=2),
        "ends_at": NOW + timedelta(hours=3),
        "time_zone": "Europe/Madrid",
        "now": NOW,
    }
    values.update(fields)
    return services.event_create(by=by, **values)


def full_event(capacity: int, *goers: User) -> Event:
    event = EventFactory.create(capacity=capacity, starts_at=NOW + timedelta(days=1))
    for user in goers:
        rsvps.rsvp_set(event=event, user=user, status=Rsvp.Status.GOING, now=NOW)
    return event


def statuses(event: Event) -> dict[str, tuple[str, int | None]]:
    return {
        rsvp.user.display_name: (rsvp.status, rsvp.position)
        for rsvp in event.rsvps.select_related("user")
    }


# creating ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_member_starts_a_meetup_now_with_the_suggested_times(alice: User) -> None:
    times = services.meetup_defaults(time_zone="Europe/Madrid", now=NOW + timedelta(seconds=42))

    event = meetup(alice, starts_at=times.starts_at, ends_at=times.ends_at)

    assert (event.starts_at, event.ends_at) == (NOW, NOW + timedelta(minutes=30))
    assert event.host == alice and event.created_by == alice
    assert event.sequence == 0 and event.uid is not None


@pytest.mark.django_db
def test_later_today_is_a_full_hour_ahead_and_never_tomorrow() -> None:
    later = services.meetup_defaults(
        time_zone="Europe/Madrid", start="later", duration=timedelta(hours=1), now=NOW
    )
    assert (later.starts_at, later.ends_at) == (NOW + timedelta(hours=2), NOW + timedelta(hours=3))

    # 22:30 in Madrid: two hours on is tomorrow there, so no later hour is left today.
    late = datetime(2026, 11, 24, 21, 30, tzinfo=UTC)
    with pytest.raises(errors.NoLaterHourToday):
        services.meetup_defaults(time_zone="Europe/Madrid", start="later", now=late)


@pytest.mark.parametrize(
    ("now", "starts_at"),
    [
        # 01:30 in Madrid as the clocks skip 02:00-03:00: 04:00 CEST, not 03:00 (30 min).
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 3, 29, 2, 0, tzinfo=UTC)),
        # 01:30 as they go back at 03:00: the second 02:00, not 03:00 (2 h 30 away).
        (datetime(2026, 10, 24, 23, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 0, tzinfo=UTC)),
    ],
)
def test_later_today_is_between_one_and_two_hours_away_when_the_clocks_change(
    now: datetime, starts_at: datetime
) -> None:
    later = services.meetup_defaults(time_zone="Europe/Madrid", start="later", now=now)

    assert later.starts_at == starts_at
    assert timedelta(hours=1) <= later.starts_at - now <= timedelta(hours=2)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [Event.Kind.TRAINING, Event.Kind.TALK])
def test_a_member_cannot_organise_a_training_or_a_talk(alice: User, kind: str) -> None:
    with pytest.raises(errors.StaffOnly):
        meetup(alice, kind=kind)
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_staff_organise_a_training_hosted_by_a_member_in_a_room(staff: User, alice: User) -> None:
    room = RoomFactory.create(kind=Room.Kind.PERMANENT)

    event = meetup(staff, kind=Event.Kind.TRAINING, host=alice, room=room, capacity=10)

    assert (event.host, event.created_by, event.room, event.capacity) == (alice, staff, room, 10)


@pytest.mark.django_db
@pytest.mark.parametrize("fields", [{"is_active": False}, {"deleted_at": NOW}])
def test_an_inactive_or_former_member_cannot_organise(fields: dict[str, Any]) -> None:
    outsider = UserFactory.create(**fields)
    with pytest.raises(errors.NotAllowed):
        meetup(outsider)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"ends_at": NOW + timedelta(hours=2)}, errors.EndsBeforeStart),
        ({"ends_at": NOW + timedelta(hours=1)}, errors.EndsBeforeStart),
        # One zone object, two wall clocks an hour apart, one moment: summer time starts.
        (
            {
                "starts_at": datetime(2027, 3, 28, 2, 30, tzinfo=MADRID),
                "ends_at": datetime(2027, 3, 28, 3, 30, tzinfo=MADRID),
            },
            errors.EndsBeforeStart,
        ),
        (
            {"starts_at": NOW - timedelta(minutes=10), "ends_at": NOW + timedelta(minutes=20)},
            errors.StartsInPast,
        ),
        ({"time_zone": "Europe/Atlantis"}, errors.InvalidTimeZone),
        ({"capacity": 0}, errors.CapacityTooLow),
        ({"title": "   "}, errors.TitleRequired),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(
    alice: User, fields: dict[str, Any], error: type[EventError]
) -> None:
    with pytest.raises(error) as raised:
        meetup(alice, **fields)
    assert str(raised.value) == str(error.default_message)
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_a_meetup_cannot_be_held_in_a_closed_room(alice: User) -> None:
    room = RoomFactory.create(closed_at=NOW)
    with pytest.raises(errors.RoomClosed):
        meetup(alice, room=room)


# changing and cancelling ------------------------------------------------------------------


@pytest.mark.django_db
def test_calendar_changes_bump_the_sequence_and_capacity_alone_does_not(alice: User) -> None:
    event = meetup(alice)
    details: dict[str, Any] = {**event_details(event), "now": NOW}

    event = services.event_update(event=event, by=alice, **{**details, "capacity": 5})
    assert (event.capacity, event.sequence) == (5, 0)

    later = {"starts_at": NOW + timedelta(hours=4), "ends_at": NOW + timedelta(hours=5)}
    event = services.event_update(event=event, by=alice, **{**details, **later, "capacity": 5})
    assert event.sequence == 1

    event = services.event_update(event=event, by=alice, **{**details, **later, "title": "Tea"})
    assert (event.title, event.sequence) == ("Tea", 2)
    assert Event.objects.get(pk=event.pk).sequence == 2


@pytest.mark.django_db
def test_capacity_cannot_drop_below_the_members_going(alice: User, bob: User, carla: User) -> None:
    event = full_event(3, alice, bob)

    with pytest.raises(errors.CapacityBelowAttendance):
        services.event_update(
            event=event,
            by=event.host,  # type: ignore[arg-type]
            title=event.title,
            description=event.description,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            time_zone=event.time_zone,
            capacity=1,
            room=None,
            now=NOW,
        )
    assert Event.objects.get(pk=event.pk).capacity == 3


@pytest.mark.django_db
def test_more_seats_go_to_the_waiting_list_in_order(
    alice: User, bob: User, carla: User, django_capture_on_commit_callbacks: Any
) -> None:
    event = full_event(1, alice, bob, carla)

    with django_capture_on_commit_callbacks() as callbacks:
        services.event_update(
            event=event,
            by=event.host,  # type: ignore[arg-type]
            title=event.title,
            description=event.description,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            time_zone=event.time_zone,
            capacity=2,
            room=None,
            now=NOW,
        )

    assert statuses(event) == {
        "Alice Arias": ("going", None),
        "Bob Bravo": ("going", None),
        "Carla": ("waitlisted", 2),
    }
    assert len(callbacks) == 1  # Bob's promotion email


@pytest.mark.django_db
def test_an_outsider_cannot_change_or_cancel_someone_elses_event(alice: User, bob: User) -> None:
    event = meetup(alice)
    with pytest.raises(errors.NotAllowed):
        services.event_cancel(event=event, by=bob)
    with pytest.raises(errors.NotAllowed):
        services.event_update(
            event=event,
            by=bob,
            title="Mine now",
            description="",
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            time_zone=event.time_zone,
            capacity=None,
            room=None,
        )
    assert Event.objects.get(pk=event.pk).title == "Coffee and code"


@pytest.mark.django_db
def test_cancelling_once_bumps_the_sequence_and_closes_rsvps(alice: User, bob: User) -> None:
    event = meetup(alice)

    assert services.event_cancel(event=event, by=alice, now=NOW) is True
    assert services.event_cancel(event=event, by=alice, now=NOW) is False
    assert (event.cancelled_at, event.sequence) == (NOW, 1)
    with pytest.raises(errors.EventCancelled):
        rsvps.rsvp_set(event=event, user=bob, status=Rsvp.Status.GOING, now=NOW)


@pytest.mark.django_db
def test_staff_may_cancel_any_event(staff: User, alice: User) -> None:
    assert services.event_cancel(event=meetup(alice), by=staff, now=NOW) is True


# RSVPs and the waiting list ---------------------------------------------------------------


@pytest.mark.django_db
def test_going_to_a_full_event_joins_the_waiting_list_at_the_end(
    alice: User, bob: User, carla: User
) -> None:
    event = full_event(1, alice, bob, carla)

    assert statuses(event) == {
        "Alice Arias": ("going", None),
        "Bob Bravo": ("waitlisted", 1),
        "Carla": ("waitlisted", 2),
    }
    again = rsvps.rsvp_set(event=event, user=bob, status=Rsvp.Status.GOING, now=NOW)
    assert (again.rsvp.status, again.rsvp.position) == ("waitlisted", 1)


@pytest.mark.django_db
def test_an_unknown_answer_or_an_ended_event_is_refused(alice: User) -> None:
    event = full_event(2)
    with pytest.raises(errors.InvalidAnswer):
        rsvps.rsvp_set(event=event, user=alice, status=Rsvp.Status.WAITLISTED, now=NOW)
    with pytest.raises(errors.EventOver):
        rsvps.rsvp_set(
            event=event, user=alice, status=Rsvp.Status.GOING, now=event.ends_at + timedelta(1)
        )
    assert not Rsvp.objects.exists()


@pytest.mark.django_db
def test_an_inactive_member_cannot_answer() -> None:
    outsider = UserFactory.create(is_active=False)
    with pytest.raises(errors.NotAllowed):
        rsvps.rsvp_set(event=full_event(2), user=outsider, status="going", now=NOW)


@pytest.mark.django_db
def test_a_freed_seat_goes_to_the_first_in_line_who_is_emailed_once(
    alice: User,
    bob: User,
    carla: User,
    smtp: SmtpSink,
    django_capture_on_commit_callbacks: Any,
) -> None:
    event = full_event(1, alice, bob, carla)

    with django_capture_on_commit_callbacks(execute=True):
        change = rsvps.rsvp_set(event=event, user=alice, status=Rsvp.Status.MAYBE, now=NOW)

    assert [rsvp.user for rsvp in change.promoted] == [bob]
    assert statuses(event) == {
        "Alice Arias": ("maybe", None),
        "Bob Bravo": ("going", None),
        "Carla": ("waitlisted", 2),
    }
    email = smtp.wait_for("bob@example.com")
    assert str(email["Subject"]) == f"You have a seat at {event.title}"
    text = email.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "no longer on the waiting list" in text
    attachment = next(part for part in email.iter_attachments())
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    assert str(calendar.walk("VEVENT")[0]["UID"]) == str(event.uid)

    # A redelivered task sends nothing more.
    rsvp = change.promoted[0]
    tasks.rsvp_promoted_notify.delay(rsvp.pk)
    tasks.rsvp_promoted_notify(rsvp.pk)
    assert len(smtp.messages) == 1
    assert Rsvp.objects.get(pk=rsvp.pk).promotion_emailed_at is not None


@pytest.mark.django_db
def test_not_going_frees_the_seat_too_and_maybe_never_takes_one(
    alice: User, bob: User, carla: User, django_capture_on_commit_callbacks: Any
) -> None:
    event = full_event(1, alice, bob)
    rsvps.rsvp_set(event=event, user=carla, status=Rsvp.Status.MAYBE, now=NOW)

    with django_capture_on_commit_callbacks() as callbacks:
        change = rsvps.rsvp_set(event=event, user=alice, status=Rsvp.Status.NOT_GOING, now=NOW)

    assert [rsvp.user for rsvp in change.promoted] == [bob]
    assert statuses(event)["Carla"] == ("maybe", None)
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_no_email_when_the_promoted_member_gave_the_seat_up_before_it_went(
    alice: User, bob: User, smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    event = full_event(1, alice, bob)
    with django_capture_on_commit_callbacks() as callbacks:
        change = rsvps.rsvp_set(event=event, user=alice, status=Rsvp.Status.MAYBE, now=NOW)
    rsvps.rsvp_set(event=event, user=bob, status=Rsvp.Status.NOT_GOING, now=NOW)

    for callback in callbacks:
        callback()

    assert change.promoted and smtp.messages == []


@pytest.mark.django_db
def test_releasing_a_former_members_seat_seats_the_next_in_line_after_commit(
    alice: User, bob: User, carla: User, django_capture_on_commit_callbacks: Any
) -> None:
    event = full_event(1, alice, bob, carla)
    User.objects.filter(pk=alice.pk).update(is_active=False, deleted_at=NOW)
    seat = Rsvp.objects.get(user=alice)

    with django_capture_on_commit_callbacks() as callbacks:
        change = rsvps.rsvp_release(rsvp=seat, now=NOW)
        assert callbacks == []  # the notice waits for the commit

    assert change.rsvp.status == Rsvp.Status.NOT_GOING
    assert [rsvp.user for rsvp in change.promoted] == [bob]
    assert statuses(event) == {
        "Alice Arias": ("not_going", None),
        "Bob Bravo": ("going", None),
        "Carla": ("waitlisted", 2),
    }
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_releasing_a_waiting_place_or_a_maybe_promotes_nobody(
    alice: User, bob: User, carla: User, django_capture_on_commit_callbacks: Any
) -> None:
    event = full_event(1, alice, bob)
    rsvps.rsvp_set(event=event, user=carla, status=Rsvp.Status.MAYBE, now=NOW)

    with django_capture_on_commit_callbacks() as callbacks:
        for user in (bob, carla):
            change = rsvps.rsvp_release(rsvp=Rsvp.objects.get(user=user), now=NOW)
            assert (change.rsvp.status, change.promoted) == (Rsvp.Status.NOT_GOING, [])

    assert statuses(event)["Alice Arias"] == ("going", None)
    assert callbacks == []


@pytest.mark.django_db
def test_places_in_the_waiting_list_close_up_when_those_ahead_leave(
    alice: User, bob: User, carla: User
) -> None:
    event = EventFactory.create(capacity=1)
    dani, eva = UserFactory.create(display_name="Dani"), UserFactory.create(display_name="Eva")
    for user in (alice, bob, carla, dani, eva):
        rsvps.rsvp_set(event=event, user=user, status=Rsvp.Status.GOING)

    rsvps.rsvp_set(event=event, user=alice, status=Rsvp.Status.NOT_GOING)  # Bob gets the seat
    account_delete(user=carla)  # the next in the queue goes

    places = {
        user.display_name: selectors.waitlist_place(rsvp=Rsvp.objects.get(user=user))
        for user in (bob, dani, eva)
    }
    assert places == {"Bob Bravo": None, "Dani": 1, "Eva": 2}
    [exported] = account_export(user=eva)["events"]["rsvps"]
    assert exported["waiting_list_position"] == 2


@pytest.mark.django_db
def test_a_suspended_member_s_seats_and_meetups_go_and_the_queue_skips_them(
    staff: User, alice: User, bob: User, carla: User
) -> None:
    talk = EventFactory.create(capacity=1)
    meetup = EventFactory.create(kind="meetup", host=bob, created_by=bob)
    rsvps.rsvp_set(event=meetup, user=bob, status=Rsvp.Status.GOING)
    for user in (bob, alice, carla):  # Bob has the seat; Alice, then Carla, wait
        rsvps.rsvp_set(event=talk, user=user, status=Rsvp.Status.GOING)
    User.objects.filter(pk=alice.pk).update(is_active=False)  # suspended before

    member_suspend(user=bob, by=staff)

    meetup.refresh_from_db()
    assert meetup.is_cancelled  # a meetup does not go on without its host
    seats = {name: status for name, (status, _place) in statuses(talk).items()}
    assert seats == {"Bob Bravo": "not_going", "Alice Arias": "waitlisted", "Carla": "going"}


@pytest.mark.django_db
def test_releasing_leaves_past_and_cancelled_events_as_they_were(
    staff: User, alice: User, bob: User, django_capture_on_commit_callbacks: Any
) -> None:
    event = full_event(1, alice, bob)
    seat = Rsvp.objects.get(user=alice)

    with django_capture_on_commit_callbacks() as callbacks:
        over = rsvps.rsvp_release(rsvp=seat, now=event.ends_at)
        services.event_cancel(event=event, by=staff, now=NOW)
        cancelled = rsvps.rsvp_release(rsvp=seat, now=NOW)

    assert over.promoted == cancelled.promoted == []
    assert statuses(event) == {"Alice Arias": ("going", None), "Bob Bravo": ("waitlisted", 1)}
    assert len(callbacks) == 1  # the cancellation's announcement only


@pytest.mark.django_db(transaction=True)
def test_two_members_taking_the_last_seat_at_once_get_one_seat_and_one_waiting_place(
    alice: User, bob: User, carla: User
) -> None:
    event = full_event(2, alice)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def take_seat(user: User) -> None:
        try:
            barrier.wait()
            rsvps.rsvp_set(event=event, user=user, status=Rsvp.Status.GOING, now=NOW)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=take_seat, args=(user,)) for user in (bob, carla)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    seats = sorted(status for status, _ in statuses(event).values())
    assert seats == ["going", "going", "waitlisted"]
    assert Rsvp.objects.get(status=Rsvp.Status.WAITLISTED).position == 1


def waits_for(thread: threading.Thread, backends: dict[str, int], waiter: str, holder: str) -> bool:
    """Whether `thread` comes to wait on a lock that `holder`'s transaction holds (True) or
    ends without ever waiting for it (False). `backends` has each one's PostgreSQL process
    id, once their connection is open."""
    deadline = time_module.monotonic() + 30  # a safety net for a hung run, not a measure
    with connection.cursor() as cursor:
        while thread.is_alive() and time_module.monotonic() < deadline:
            if waiter in backends:
                cursor.execute(
                    "SELECT %s = ANY(pg_blocking_pids(%s))", [backends[holder], backends[waiter]]
                )
                if cursor.fetchone()[0]:
                    return True
            # PostgreSQL tells nobody when a process starts waiting: ask again.
            time_module.sleep(0.01)
    return False


@pytest.mark.django_db(transaction=True)
def test_asking_for_the_last_seat_while_it_is_being_taken_waits_and_joins_the_waiting_list(
    alice: User, bob: User, carla: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = full_event(2, alice)
    answer = rsvps._rsvp_answer
    seat_written, let_go = threading.Event(), threading.Event()

    def answer_then_hold(**kwargs: Any) -> rsvps.RsvpChange:
        change = answer(**kwargs)
        if kwargs["rsvp"].user_id == bob.pk:
            # Bob's seat is written but not committed yet, the event's lock still held.
            seat_written.set()
            let_go.wait(timeout=60)
        return change

    monkeypatch.setattr(rsvps, "_rsvp_answer", answer_then_hold)
    errors: list[BaseException] = []
    backends: dict[str, int] = {}

    def take_seat(user: User) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backends[user.display_name] = cursor.fetchone()[0]
            rsvps.rsvp_set(event=event, user=user, status=Rsvp.Status.GOING, now=NOW)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    bobs = threading.Thread(target=take_seat, args=(bob,))
    carlas = threading.Thread(target=take_seat, args=(carla,))
    bobs.start()
    try:
        assert seat_written.wait(timeout=30)
        carlas.start()
        # Carla asks while Bob's answer is still open: she must wait for it to end, not
        # count the seats without it.
        carla_waited = waits_for(carlas, backends, waiter="Carla", holder="Bob Bravo")
    finally:
        let_go.set()
        bobs.join()
        if carlas.ident is not None:  # started
            carlas.join()

    assert errors == []
    assert carla_waited, "Carla's answer did not wait for Bob's to end"
    assert statuses(event) == {
        "Alice Arias": ("going", None),
        "Bob Bravo": ("going", None),
        "Carla": ("waitlisted", 1),
    }


# weekly series ----------------------------------------------------------------------------


def local_starts(events: list[Event], zone: str) -> set[time]:
    return {event.starts_at.astimezone(zoneinfo.ZoneInfo(zone)).time() for event in events}


@pytest.mark.django_db
def test_a_madrid_series_stays_at_six_pm_across_both_european_changes(staff: User) -> None:
    series = EventSeriesFactory.create(
        host=staff,
        weekdays=[6],  # Sundays, the days the clocks change
        local_start=time(18, 0),
        starts_on=date(2026, 10, 18),
        until=date(2027, 4, 4),
    )

    made = series_extend(
        series=series, until=date(2027, 4, 4), now=datetime(2026, 10, 1, tzinfo=UTC)
    )

    by_day = {event.starts_at.date(): event.starts_at.hour for event in made}
    assert by_day[date(2026, 10, 18)] == 16  # CEST, UTC+2
    assert by_day[date(2026, 10, 25)] == 17  # the last Sunday of October: CET, UTC+1
    assert by_day[date(2027, 3, 21)] == 17
    assert by_day[date(2027, 3, 28)] == 16  # the last Sunday of March: CEST again
    assert local_starts(made, "Europe/Madrid") == {time(18, 0)}
    assert {event.duration for event in made} == {timedelta(hours=1)}
    assert {(event.series, event.kind, event.host) for event in made} == {
        (series, "training", staff)
    }


@pytest.mark.django_db
def test_a_santiago_series_keeps_its_local_time_across_chiles_changes(staff: User) -> None:
    series = EventSeriesFactory.create(
        weekdays=[2],  # Wednesdays
        local_start=time(19, 30),
        time_zone="America/Santiago",
        starts_on=date(2027, 3, 24),
        until=date(2027, 9, 15),
    )

    made = series_extend(
        series=series, until=date(2027, 9, 15), now=datetime(2027, 3, 1, tzinfo=UTC)
    )

    utc_times = {event.starts_at.date(): event.starts_at.time() for event in made}
    assert utc_times[date(2027, 3, 31)] == time(22, 30)  # summer time, UTC-3
    assert utc_times[date(2027, 4, 7)] == time(23, 30)  # from the first Sunday of April, UTC-4
    assert utc_times[date(2027, 9, 8)] == time(22, 30)  # from the first Sunday of September
    assert local_starts(made, "America/Santiago") == {time(19, 30)}
    assert {event.time_zone for event in made} == {"America/Santiago"}


@pytest.mark.django_db
def test_extending_a_series_twice_creates_nothing_more_and_skips_the_past() -> None:
    series = EventSeriesFactory.create(
        weekdays=[0, 2],  # Mondays and Wednesdays
        local_start=time(9, 0),
        starts_on=date(2026, 11, 16),
        until=date(2026, 12, 2),
    )

    first = series_extend(series=series, until=date(2027, 1, 31), now=NOW)
    again = series_extend(series=series, until=date(2027, 1, 31), now=NOW)

    # Not Monday 16, Wednesday 18 nor Monday 23 (past); nothing after the series' last day.
    assert [event.starts_at.date() for event in first] == [
        date(2026, 11, 25),
        date(2026, 11, 30),
        date(2026, 12, 2),
    ]
    assert again == []
    assert series.events.count() == 3


def wednesdays_at_six(host: User, *, until: date, **fields: Any) -> tuple[EventSeries, list[Event]]:
    """A weekly series on Wednesdays at 18:00 in Madrid from 25 November 2026 until `until`,
    and the events it makes."""
    series = EventSeriesFactory.create(
        host=host,
        weekdays=[2],
        local_start=time(18, 0),
        starts_on=date(2026, 11, 25),
        until=until,
        **fields,
    )
    return series, series_extend(series=series, until=until, now=NOW)


@pytest.mark.django_db
def test_a_moved_or_cancelled_occurrence_is_not_made_again(staff: User) -> None:
    series, (first, second, third, *_rest) = wednesdays_at_six(staff, until=date(2026, 12, 30))
    later = first.starts_at + timedelta(hours=1)
    services.event_update(
        event=first,
        by=staff,
        **{**event_details(first), "starts_at": later, "ends_at": later + timedelta(hours=1)},
        now=NOW,
    )
    services.event_update(
        event=second,
        by=staff,
        **{
            **event_details(second),
            "starts_at": second.starts_at + timedelta(days=1),
            "ends_at": second.ends_at + timedelta(days=1),
        },
        now=NOW,
    )
    services.event_cancel(event=third, by=staff, now=NOW)

    assert series_extend(series=series, until=date(2026, 12, 30), now=NOW) == []
    assert series.events.count() == 6  # 25 Nov to 30 Dec, one each Wednesday


@pytest.mark.django_db
def test_a_series_changed_by_staff_moves_its_coming_occurrences_and_cancels_the_days_it_lost(
    staff: User, smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    """Wednesdays 18:00 become Thursdays 19:00 ending sooner: the Wednesdays still to come
    are cancelled, one moved by hand too (and those going told), and the new Thursdays are
    made; no week has two sessions."""
    series, wednesdays = wednesdays_at_six(staff, until=date(2026, 12, 30))
    moved_by_hand = wednesdays[1]
    later = moved_by_hand.starts_at + timedelta(hours=1)
    services.event_update(
        event=moved_by_hand,
        by=staff,
        **{
            **event_details(moved_by_hand),
            "starts_at": later,
            "ends_at": later + timedelta(1 / 24),
        },
        now=NOW,
    )
    ana = UserFactory.create(email="ana@example.com", language="en")
    RsvpFactory.create(event=wednesdays[0], user=ana, status=Rsvp.Status.GOING)
    before = type(series).objects.get(pk=series.pk)
    series.weekdays, series.local_start, series.until = [3], time(19, 0), date(2026, 12, 17)
    series.save()

    with django_capture_on_commit_callbacks(execute=True):
        applied = services.series_apply(series=series, before=before, by=staff, now=NOW)
    made = series_extend(series=series, until=date(2026, 12, 30), now=NOW)

    assert (applied.updated, applied.cancelled, applied.refused) == (0, 6, [])
    assert [event.starts_at.date() for event in made] == [
        date(2026, 11, 26),
        date(2026, 12, 3),
        date(2026, 12, 10),
        date(2026, 12, 17),
    ]
    assert all(event.starts_at.astimezone(MADRID).hour == 19 for event in made)
    assert not series.events.filter(
        cancelled_at__isnull=True, starts_at__date__gt=date(2026, 12, 18)
    )
    told = smtp.wait_for("ana@example.com")
    assert "cancelled" in str(told["Subject"]).lower()


@pytest.mark.django_db
def test_a_series_changed_by_staff_takes_its_coming_occurrences_to_the_new_hour(
    staff: User,
) -> None:
    series, (first, *others) = wednesdays_at_six(staff, until=date(2026, 12, 9))
    by_hand = first.starts_at + timedelta(hours=2)  # one moved on its own stays where it is
    services.event_update(
        event=first,
        by=staff,
        **{**event_details(first), "starts_at": by_hand, "ends_at": by_hand + timedelta(hours=1)},
        now=NOW,
    )
    before = type(series).objects.get(pk=series.pk)
    series.local_start, series.title = time(17, 30), "Python, los miércoles"
    series.save()

    applied = services.series_apply(series=series, before=before, by=staff, now=NOW)

    assert (applied.updated, applied.cancelled) == (1 + len(others), 0)
    for event in series.events.exclude(pk=first.pk):
        local = event.starts_at.astimezone(MADRID)
        assert (local.hour, local.minute, event.title) == (17, 30, "Python, los miércoles")
    # The one moved by hand keeps its own time, and takes the new title.
    kept = series.events.get(pk=first.pk)
    assert (kept.starts_at, kept.title) == (by_hand, "Python, los miércoles")


@pytest.mark.django_db
def test_a_series_change_leaves_what_staff_set_on_one_occurrence(staff: User) -> None:
    """Its own room and capacity stay when the series changes something else (its last
    day), and nobody is told of a change that did not happen."""
    series, (first, *_others) = wednesdays_at_six(staff, until=date(2026, 12, 9), capacity=10)
    big_room = RoomFactory.create(kind=Room.Kind.PERMANENT, name="Grande", slug="grande")
    services.event_update(
        event=first,
        by=staff,
        **{**event_details(first), "capacity": 40, "room": big_room},
        now=NOW,
    )
    before = type(series).objects.get(pk=series.pk)
    series.until = date(2026, 12, 30)
    series.save()

    applied = services.series_apply(series=series, before=before, by=staff, now=NOW)

    assert (applied.updated, applied.cancelled) == (0, 0)
    first.refresh_from_db()
    assert (first.capacity, first.room) == (40, big_room)
    assert series_extend(series=series, until=date(2026, 12, 9), now=NOW) == []


@pytest.mark.django_db
def test_saving_a_series_in_the_admin_applies_it_to_its_coming_occurrences(staff: User) -> None:
    series = EventSeriesFactory.create(host=staff, weekdays=[2], local_start=time(18, 0))
    made = series_extend(series=series, until=series.starts_on + timedelta(weeks=4))
    page = f"/admin/events/eventseries/{series.pk}/change/"
    client = client_for(staff)
    form = client.get(page).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}

    saved = client.post(page, {**data, "local_start": "19:00"}, follow=True)

    assert f"Coming occurrences: {len(made)} changed, 0 cancelled" in saved.content.decode()
    coming = series.events.filter(starts_at__gt=timezone.now())
    assert {event.starts_at.astimezone(MADRID).hour for event in coming} == {19}


@pytest.mark.django_db
def test_a_meetup_series_makes_none_for_its_host_while_suspended(alice: User, staff: User) -> None:
    """The suspension cancelled the meetups made; the series waits for the host to be back."""
    series = EventSeriesFactory.create(
        kind=Event.Kind.MEETUP, host=alice, created_by=staff, weekdays=[2], local_start=time(18, 0)
    )
    before = series_extend(series=series, until=series.starts_on + timedelta(weeks=2))
    member_suspend(user=alice, by=staff)

    assert series_extend(series=series, until=series.starts_on + timedelta(weeks=6)) == []
    assert not series.events.filter(cancelled_at__isnull=True).exists()
    member_reinstate(user=alice)
    assert len(series_extend(series=series, until=series.starts_on + timedelta(weeks=6))) > 0
    assert before


# lists ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_lists_show_upcoming_past_and_mine_in_one_query_each(
    alice: User, bob: User, django_assert_num_queries: Any
) -> None:
    room = RoomFactory.create()
    live = EventFactory.create(
        title="Live", starts_at=NOW - timedelta(minutes=10), host=alice, room=room
    )
    soon = EventFactory.create(title="Soon", starts_at=NOW + timedelta(hours=1), room=room)
    later = EventFactory.create(title="Later", starts_at=NOW + timedelta(days=2))
    EventFactory.create(title="Called off", starts_at=NOW + timedelta(hours=3), cancelled_at=NOW)
    done = EventFactory.create(title="Done", starts_at=NOW - timedelta(days=1))
    for user in (alice, bob):
        rsvps.rsvp_set(event=soon, user=user, status=Rsvp.Status.GOING, now=NOW)
    Rsvp.objects.create(event=done, user=alice, status=Rsvp.Status.GOING)
    Rsvp.objects.create(event=done, user=bob, status=Rsvp.Status.MAYBE)
    rsvps.rsvp_set(event=later, user=bob, status=Rsvp.Status.MAYBE, now=NOW)

    with django_assert_num_queries(1):
        upcoming = [
            (e.title, e.starting_now, e.going_count, e.host and e.host.name, e.room and e.room.name)
            for e in selectors.events_upcoming(now=NOW)
        ]
    with django_assert_num_queries(1):
        past = [(e.title, e.attendance) for e in selectors.events_past(now=NOW)]
    with django_assert_num_queries(1):
        mine = [e.title for e in selectors.events_mine(user=alice, now=NOW)]

    assert [(title, now, going) for title, now, going, *_ in upcoming] == [
        ("Live", True, 0),
        ("Soon", False, 2),
        ("Later", False, 0),
    ]
    assert upcoming[0][3:] == ("Alice Arias", room.name)
    assert past == [("Done", 1)]
    assert mine == ["Live", "Soon"]
    # Answering maybe (or waiting for a seat) puts an event among one's own too.
    assert [(e.title, e.my_status) for e in selectors.events_mine(user=bob, now=NOW)] == [
        ("Soon", "going"),
        ("Later", "maybe"),
    ]
    assert live.is_starting_now(now=NOW) and not soon.is_starting_now(now=NOW)

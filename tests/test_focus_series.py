"""Power hours (docs/focus.md, "Calendar, reminders and power hours"): a weekly series makes
its next four weeks of blocks at its wall-clock time in its zone, right across the
daylight-saving changes; running it again makes nothing twice; staff who save a series in
the admin see its blocks at once, and an edit moves the blocks nobody booked."""

import threading
import time as time_module
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, connection

from focus import tasks
from focus.models import FocusBlock, FocusSeries, Seat
from focus.series import SERIES_HORIZON, series_apply, series_extend
from members.models import User
from tests.factories import UserFactory, client_for

pytestmark = pytest.mark.django_db

MADRID = ZoneInfo("Europe/Madrid")


def power_hour(**fields: Any) -> FocusSeries:
    values: dict[str, Any] = {
        "title": "Power hour",
        "weekday": FocusSeries.Weekday.MONDAY,
        "local_time": time(10, 0),
        "time_zone": "Europe/Madrid",
        "minutes": 50,
        "capacity": 24,
        "starts_on": date(2026, 1, 1),
    }
    return FocusSeries.objects.create(**{**values, **fields})


def starts(series: FocusSeries) -> list[datetime]:
    return list(series.blocks.order_by("starts_at").values_list("starts_at", flat=True))


def test_a_madrid_morning_stays_at_ten_across_the_late_march_change() -> None:
    # Summer time begins on Sunday 28 March 2027: 10:00 in Madrid is 09:00 UTC before, 08:00 after.
    series = power_hour()
    now = datetime(2027, 3, 14, 12, 0, tzinfo=UTC)  # a Sunday

    assert series_extend(now=now) == 4

    assert starts(series) == [
        datetime(2027, 3, 15, 9, 0, tzinfo=UTC),
        datetime(2027, 3, 22, 9, 0, tzinfo=UTC),
        datetime(2027, 3, 29, 8, 0, tzinfo=UTC),
        datetime(2027, 4, 5, 8, 0, tzinfo=UTC),
    ]
    for block in series.blocks.all():
        local = block.starts_at.astimezone(MADRID)
        assert (local.weekday(), local.time()) == (0, time(10, 0))
        assert (block.title, block.minutes, block.capacity) == ("Power hour", 50, 24)


def test_an_evening_series_moves_an_hour_in_utc_across_the_late_october_change() -> None:
    # Winter time begins on Sunday 25 October 2026.
    series = power_hour(weekday=FocusSeries.Weekday.THURSDAY, local_time=time(18, 30), minutes=25)
    now = datetime(2026, 10, 20, 7, 0, tzinfo=UTC)

    assert series_extend(now=now) == 4
    assert starts(series) == [
        datetime(2026, 10, 22, 16, 30, tzinfo=UTC),
        datetime(2026, 10, 29, 17, 30, tzinfo=UTC),
        datetime(2026, 11, 5, 17, 30, tzinfo=UTC),
        datetime(2026, 11, 12, 17, 30, tzinfo=UTC),
    ]
    # Mexico City keeps no summer time: the same UTC hour all year.
    mexico = power_hour(time_zone="America/Mexico_City", local_time=time(9, 0))
    series_extend(now=now, series=mexico)
    assert {moment.time() for moment in starts(mexico)} == {time(15, 0)}


def test_extending_again_makes_nothing_twice_and_keeps_within_the_series_days() -> None:
    series = power_hour(starts_on=date(2026, 12, 8), ends_on=date(2026, 12, 28))
    power_hour(title="Over", ends_on=date(2026, 11, 30))
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    assert series_extend(now=now) == 3  # Mondays 14, 21 and 28 December
    assert series_extend(now=now) == 0
    assert series_extend(now=now + timedelta(days=1)) == 0
    assert FocusBlock.objects.count() == 3
    assert [moment.date() for moment in starts(series)] == [
        date(2026, 12, 14),
        date(2026, 12, 21),
        date(2026, 12, 28),
    ]
    # The constraint holds whoever makes blocks: the same start twice is refused.
    with pytest.raises(IntegrityError):
        FocusBlock.objects.create(series=series, starts_at=starts(series)[0])


def test_the_daily_tick_keeps_four_weeks_ahead_and_leaves_cancelled_blocks_cancelled() -> None:
    series = power_hour()
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # a Tuesday
    with time_machine.travel(now, tick=False):
        assert tasks.focus_series_extend_tick() == 4
    first = series.blocks.order_by("starts_at").first()
    assert first is not None
    FocusBlock.objects.filter(pk=first.pk).update(cancelled_at=now)

    with time_machine.travel(now + timedelta(days=7), tick=False):
        assert tasks.focus_series_extend_tick() == 1  # one more Monday came into the horizon
    assert series.blocks.count() == 5
    first.refresh_from_db()
    assert first.cancelled_at == now
    latest = starts(series)[-1]
    assert latest <= now + timedelta(days=7) + SERIES_HORIZON


def admin_series_form(**fields: Any) -> dict[str, Any]:
    values = {
        "title": "Morning power hour",
        "weekday": 2,
        "local_time": "09:30",
        "time_zone": "Europe/Madrid",
        "minutes": 50,
        "capacity": 30,
        "starts_on": "2026-12-01",
        "ends_on": "",
        "created_by": "",
    }
    return {**values, **fields}


def test_staff_saving_a_series_in_the_admin_see_its_first_weeks_at_once(staff: User) -> None:
    admin = client_for(staff)
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    with time_machine.travel(now, tick=False):
        response = admin.post("/admin/focus/focusseries/add/", admin_series_form(), follow=True)

    assert "4 blocks made for the coming weeks." in response.content.decode()
    series = FocusSeries.objects.get()
    assert series.created_by == staff
    assert starts(series) == [datetime(2026, 12, day, 8, 30, tzinfo=UTC) for day in (2, 9, 16, 23)]


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("local_time", "09:15", "Power hours start on the hour or the half hour."),
        ("time_zone", "Mars/Olympus_Mons", "is not a known time zone."),
        ("time_zone", "Asia/Kathmandu", "is not a whole number of half hours"),
        ("ends_on", "2026-11-30", "The last day cannot be before the first."),
    ],
)
def test_the_admin_refuses_a_series_that_cannot_make_blocks(
    staff: User, field: str, value: str, error: str
) -> None:
    response = client_for(staff).post(
        "/admin/focus/focusseries/add/", admin_series_form(**{field: value})
    )

    assert response.status_code == 200
    assert error in response.content.decode()
    assert response.context["adminform"].form.errors[field]
    assert not FocusSeries.objects.exists()
    assert not FocusBlock.objects.exists()


def test_editing_a_series_moves_its_unbooked_blocks_and_leaves_booked_ones(staff: User) -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        client_for(staff).post("/admin/focus/focusseries/add/", admin_series_form())
    series = FocusSeries.objects.get()
    booked_block = series.blocks.order_by("starts_at")[1]
    booked = Seat.objects.create(block=booked_block, user=UserFactory.create(), booked_at=now)
    given_back = series.blocks.order_by("starts_at")[2]
    Seat.objects.create(block=given_back, user=UserFactory.create(), cancelled_at=now)

    with time_machine.travel(now + timedelta(hours=1), tick=False):
        response = client_for(staff).post(
            f"/admin/focus/focusseries/{series.pk}/change/",
            admin_series_form(local_time="11:00", minutes=75),
        )
    assert response.status_code == 302

    blocks = list(series.blocks.order_by("starts_at"))
    assert [(block.starts_at, block.minutes) for block in blocks] == [
        (datetime(2026, 12, 2, 10, 0, tzinfo=UTC), 75),
        (datetime(2026, 12, 9, 8, 30, tzinfo=UTC), 50),  # booked: left as it was
        (datetime(2026, 12, 9, 10, 0, tzinfo=UTC), 75),
        (datetime(2026, 12, 16, 10, 0, tzinfo=UTC), 75),
        (datetime(2026, 12, 23, 10, 0, tzinfo=UTC), 75),
    ]
    assert booked.block in blocks
    # Applying the same settings again changes nothing.
    series.refresh_from_db()
    assert series_apply(series=series, now=now + timedelta(hours=2)) == 0
    assert series.blocks.count() == 5


def test_the_demo_has_a_weekly_power_hour_and_blocks_near_now() -> None:
    from demo.data import STAFF_EMAIL
    from demo.seed import demo_seed

    now = datetime(2026, 12, 1, 11, 10, tzinfo=UTC)  # a Tuesday
    demo_seed(now=now)
    counts = (FocusSeries.objects.count(), FocusBlock.objects.count(), Seat.objects.count())
    demo_seed(now=now + timedelta(minutes=20))  # seeded again: nothing twice

    assert (FocusSeries.objects.count(), FocusBlock.objects.count(), Seat.objects.count()) == (
        counts
    )
    series = FocusSeries.objects.get()
    assert series.created_by is not None and series.created_by.email == STAFF_EMAIL
    # Wednesdays at 10:00 in Madrid (09:00 UTC in winter), four weeks ahead.
    assert starts(series) == [datetime(2026, 12, day, 9, 0, tzinfo=UTC) for day in (2, 9, 16, 23)]
    near = FocusBlock.objects.filter(series=None).order_by("starts_at")
    assert [block.starts_at for block in near] == [
        datetime(2026, 12, 1, 11, 30, tzinfo=UTC),
        datetime(2026, 12, 1, 13, 30, tzinfo=UTC),
        datetime(2026, 12, 2, 11, 30, tzinfo=UTC),
    ]
    assert all(block.seats.count() == 5 for block in near)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("edit", ["minutes", "weekday"])
def test_a_block_booked_while_staff_save_its_series_is_left_as_it_was(
    edit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from focus import services

    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    series = power_hour()
    series_extend(now=now, series=series)
    block = series.blocks.order_by("starts_at").first()
    assert block is not None
    FocusSeries.objects.filter(pk=series.pk).update(
        **({"minutes": 25} if edit == "minutes" else {"weekday": FocusSeries.Weekday.TUESDAY})
    )
    series.refresh_from_db()
    staff_saving: list[threading.Thread] = []
    failures: list[BaseException] = []
    queue = services._calendar_queue

    def booked_then_staff_save(seats: Any) -> None:
        # The booking holds its block's row, its seat written but not committed, as staff
        # save the series: their change waits for the booking, then must see its seat.
        queue(seats)
        staff_saving.append(
            threading.Thread(target=closing(series_apply, failures), args=(series, now))
        )
        staff_saving[0].start()
        waiting_on_a_lock(deadline=time_module.monotonic() + 10)

    monkeypatch.setattr(services, "_calendar_queue", booked_then_staff_save)
    with time_machine.travel(now, tick=False):
        services.seat_book(block=block, user=UserFactory.create())
    staff_saving[0].join(timeout=30)

    assert failures == []  # moving the block would have failed on its seat at commit
    kept = FocusBlock.objects.get(pk=block.pk)
    assert (kept.starts_at, kept.minutes) == (block.starts_at, 50)
    assert kept.seats.count() == 1


def closing(apply: Any, failures: list[BaseException]) -> Any:
    def run(series: FocusSeries, now: datetime) -> None:
        try:
            apply(series=series, now=now)
        except Exception as failure:
            failures.append(failure)
        finally:
            connection.close()

    return run


def waiting_on_a_lock(*, deadline: float) -> None:
    """Return once another connection of this database waits on a row lock."""
    with connection.cursor() as cursor:
        while time_module.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            (waiting,) = cursor.fetchone()
            if waiting:
                return
            time_module.sleep(0.02)
    raise AssertionError("the staff's save never waited on the booking")

"""The dashboard's stored days (dashboard.models.DailyFigures): counted from the source rows by
community day, rewritten whole and idempotently, kept fresh by the five-minute and hourly ticks."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.metrics import Period
from dashboard.models import DailyFigures
from dashboard.selectors import stored_days
from dashboard.services import daily_figures_refresh
from dashboard.tasks import daily_figures_tick
from events.models import Event
from members.models import User
from rooms.models import HourlyUsage
from rooms.services import cafeteria_get
from tests.factories import EventFactory, RsvpFactory, UserFactory

# Wednesday 18 March 2026, 13:00 in Madrid.
NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _madrid(settings: Any) -> Any:
    settings.TIME_ZONE = "Europe/Madrid"
    with time_machine.travel(NOW, tick=False):
        yield


def figures(day: str) -> dict[str, Any]:
    stored = DailyFigures.objects.get(day=day)
    return {
        field.name: getattr(stored, field.name)
        for field in DailyFigures._meta.fields
        if field.name != "computed_at"
    }


@pytest.fixture
def history(db: None) -> dict[str, Any]:
    """Three members, one of them since 100 days; an hour in the cafeteria; an event with two
    going."""
    old = UserFactory.create(date_joined=NOW - timedelta(days=100), last_seen_at=NOW)
    others = UserFactory.create_batch(2, date_joined=NOW - timedelta(hours=2))
    HourlyUsage.objects.create(
        room=cafeteria_get(), hour=datetime(2026, 3, 17, 8, tzinfo=UTC), seconds=3600
    )
    event = EventFactory.create(
        host=old,
        starts_at=NOW - timedelta(days=1, hours=3),
        ends_at=NOW - timedelta(days=1, hours=2),
        attendance_count=3,
    )
    for member in others:
        RsvpFactory.create(event=event, user=member, status="going")
    return {"old": old}


def test_each_day_holds_what_happened_on_it_in_the_community_zone(
    history: dict[str, Any],
) -> None:
    assert daily_figures_refresh(now=NOW, days=365) == 365

    assert DailyFigures.objects.count() == 365
    today, yesterday = figures("2026-03-18"), figures("2026-03-17")
    assert today["joined"] == 2 and yesterday["joined"] == 0
    assert figures("2025-12-08")["joined"] == 1  # 100 days ago
    # 08:00 UTC is 09:00 in Madrid.
    assert yesterday["room_seconds"]["cafeteria"][9] == 3600
    assert sum(yesterday["room_seconds"]["cafeteria"]) == 3600
    assert (yesterday["events"], yesterday["events_going"], yesterday["events_attended"]) == (
        1,
        2,
        3,
    )
    assert (today["members"], today["active_7"], today["active_30"]) == (3, 1, 1)
    # Only today holds the figures of a moment; days counted afterwards have none.
    assert yesterday["members"] is None


def test_a_second_count_changes_nothing_but_the_time(history: dict[str, Any]) -> None:
    daily_figures_refresh(now=NOW, days=30)
    before = {day: figures(day) for day in ("2026-03-18", "2026-03-17", "2026-02-17")}

    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        daily_figures_tick.delay(days=30)

    assert {day: figures(day) for day in before} == before
    assert DailyFigures.objects.count() == 30
    assert DailyFigures.objects.get(day="2026-03-18").computed_at == NOW + timedelta(minutes=5)


def test_the_hourly_count_reaches_the_days_the_five_minute_one_leaves(
    history: dict[str, Any],
) -> None:
    daily_figures_refresh(now=NOW, days=365)
    old: User = history["old"]
    old.deleted_at = NOW  # a member who joined 100 days ago deletes their account
    old.save(update_fields=["deleted_at"])

    daily_figures_tick.delay()  # today and yesterday
    assert figures("2025-12-08")["joined"] == 1
    assert figures("2026-03-18")["members"] == 2

    daily_figures_tick.delay(days=365)
    assert figures("2025-12-08")["joined"] == 0


def test_a_past_day_keeps_the_figures_of_its_last_count(history: dict[str, Any]) -> None:
    daily_figures_refresh(now=NOW, days=2)
    UserFactory.create(date_joined=NOW + timedelta(days=1))

    daily_figures_refresh(now=NOW + timedelta(days=1), days=2)

    assert figures("2026-03-18")["members"] == 3
    assert figures("2026-03-19")["members"] == 4
    assert (figures("2026-03-18")["joined"], figures("2026-03-19")["joined"]) == (2, 1)


def test_an_event_that_ends_after_midnight_counts_on_the_day_it_started(db: None) -> None:
    # 23:30 to 00:30 in Madrid (UTC+1).
    starts = datetime(2026, 3, 18, 22, 30, tzinfo=UTC)
    EventFactory.create(starts_at=starts, ends_at=starts + timedelta(hours=1))

    daily_figures_refresh(now=starts + timedelta(minutes=40), days=2)  # 00:10: not over
    assert figures("2026-03-18")["events"] == 0
    daily_figures_refresh(now=starts + timedelta(minutes=70), days=2)  # 00:40
    assert figures("2026-03-18")["events"] == 1
    assert figures("2026-03-19")["events"] == 0
    assert Event.objects.count() == 1


def test_a_count_takes_as_many_queries_for_a_year_as_for_two_days(
    history: dict[str, Any],
) -> None:
    counts = []
    for days in (2, 365):
        with CaptureQueriesContext(connection) as captured:
            daily_figures_refresh(now=NOW, days=days)
        counts.append(len(captured))

    assert counts[0] == counts[1]


def test_a_day_counted_before_it_ended_is_counted_again_by_the_page(
    history: dict[str, Any],
) -> None:
    """No beat for three days: the page's visit on the 18th at 13:00 left that day half
    counted, and the next visit, three days later, counts it again whole."""
    period = Period.ending(NOW, days=30)
    stored_days(period)
    late = NOW + timedelta(hours=8)  # 21:00 in Madrid, after the count
    UserFactory.create(date_joined=late)

    later = NOW + timedelta(days=3)
    with time_machine.travel(later, tick=False):
        days = stored_days(Period.ending(later, days=30))

    assert {d.day.isoformat(): d.joined for d in days}["2026-03-18"] == 3
    assert days[-1].members == 4

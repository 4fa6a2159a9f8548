"""The staff dashboard's focus figures (docs/focus.md, "No-shows, streaks and the
dashboard"): blocks and members who came per day, the fill rate, the no-show rate and the
hours people work together, in the community's zone, in two queries whatever the history."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache

from dashboard import metrics
from dashboard.metrics import Period
from focus.models import FocusBlock, Seat
from members.models import User
from tests.factories import UserFactory, client_for

pytestmark = pytest.mark.django_db

# A Wednesday in March: Madrid is UTC+1 until the end of the month.
NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen(settings: Any) -> Any:
    settings.TIME_ZONE = "Europe/Madrid"
    with time_machine.travel(NOW, tick=False):
        yield


def block(starts_at: datetime, *, capacity: int, wrapped: bool = True, **fields: Any) -> FocusBlock:
    ends_at = starts_at + timedelta(minutes=50)
    return FocusBlock.objects.create(
        starts_at=starts_at,
        capacity=capacity,
        wrapped_at=ends_at if wrapped else None,
        **fields,
    )


def seats(focus_block: FocusBlock, *kinds: str) -> None:
    """One seat per kind: `came`, `missed` (never arrived), `free` (given back a day
    before) or `late` (given back 5 minutes before: a no-show)."""
    starts = focus_block.starts_at
    for kind in kinds:
        Seat.objects.create(
            block=focus_block,
            user=UserFactory.create(),
            arrived_at=starts if kind == "came" else None,
            no_show=kind in ("missed", "late"),
            cancelled_at={
                "free": starts - timedelta(days=1),
                "late": starts - timedelta(minutes=5),
            }.get(kind),
        )


def seed(scale: int = 1) -> None:
    for week in range(scale):
        back = timedelta(weeks=week)
        # Sunday 15 March, 9:00 in Madrid.
        seats(
            block(datetime(2026, 3, 15, 8, 0, tzinfo=UTC) - back, capacity=4),
            "came",
            "came",
            "missed",
            "free",
            "late",
        )
        # Monday 16 March, 18:00 in Madrid.
        seats(block(datetime(2026, 3, 16, 17, 0, tzinfo=UTC) - back, capacity=2), "came", "came")
        # Tuesday 17 March, 0:30 in Madrid (still Monday in UTC).
        seats(block(datetime(2026, 3, 16, 23, 30, tzinfo=UTC) - back, capacity=4), "came")
    # Now on (12:30 in Madrid), not wrapped up yet: it fills seats, no no-shows counted yet.
    seats(block(datetime(2026, 3, 18, 11, 30, tzinfo=UTC), capacity=10, wrapped=False), "came")
    # Cancelled, and before the period: left out.
    seats(
        block(datetime(2026, 3, 10, 8, 0, tzinfo=UTC), capacity=8, cancelled_at=NOW),
        "came",
        "missed",
    )
    seats(block(NOW - timedelta(days=40), capacity=8), "came", "missed")


def test_the_focus_figures(django_assert_num_queries: Any) -> None:
    seed()

    with django_assert_num_queries(2):
        stats = metrics.focus(Period.ending(NOW, days=30))

    assert (stats.blocks, stats.attended) == (4, 6)
    # Seats kept of the seats offered by the blocks held.
    assert (stats.booked, stats.capacity) == (7, 20)
    assert stats.fill_rate == pytest.approx(7 / 20)
    # Of the seats still held 15 minutes before the start of blocks that ended: the one
    # who never came and the one who gave it back late.
    assert (stats.no_shows, stats.expected) == (2, 7)
    assert stats.no_show_rate == pytest.approx(2 / 7)
    days = {b.day.isoformat(): (b.blocks, b.attended) for b in stats.buckets if b.blocks}
    assert days == {
        "2026-03-15": (1, 2),
        "2026-03-16": (1, 2),
        "2026-03-17": (1, 1),
        "2026-03-18": (1, 1),
    }
    assert stats.by_hour == {9: 2, 18: 2, 0: 1, 12: 1}


def test_nothing_held_reads_as_no_rate(db: None) -> None:
    stats = metrics.focus(Period.ending(NOW, days=30))

    assert (stats.blocks, stats.fill_rate, stats.no_show_rate, stats.by_hour) == (0, None, None, {})
    assert len(stats.buckets) == 30  # today and the 29 days before it


def test_more_history_takes_no_more_queries(django_assert_num_queries: Any) -> None:
    seed(scale=3)

    with django_assert_num_queries(2):
        stats = metrics.focus(Period.ending(NOW, days=90))

    # Three weeks of three blocks, the one on now, and the one 40 days ago.
    assert stats.blocks == 3 * 3 + 2
    assert all(b.day.weekday() == 0 for b in stats.buckets)  # by week past 31 days


def test_staff_see_the_focus_section(staff: User, django_assert_max_num_queries: Any) -> None:
    seed()
    client = client_for(staff)
    client.get("/staff/")  # the hourly last-seen write happens on the first visit only
    cache.clear()  # the figures of a period are cached for a few minutes

    with django_assert_max_num_queries(22):
        response = client.get("/staff/?days=30")

    sections = {section.key: section for section in response.context["dashboard"].sections}
    headlines = {h.label: (h.value, h.note) for h in sections["focus"].headlines}
    assert headlines["Blocks held"] == ("4", "")
    assert headlines["Fill rate"] == ("35%", "7 of 20 seats booked")
    assert headlines["No-show rate"] == ("29%", "2 of 7 seats of ended blocks")
    html = response.content.decode()
    assert '<title id="focus-sessions-title">Focus sessions per day</title>' in html
    assert '<title id="focus-hours-title">When members work together</title>' in html
    # The hours' table: two members came to a block starting at 9:00 in Madrid.
    hours = next(c for c in sections["focus"].charts if c.key == "focus-hours")
    assert hours.rows[9] == ["09", "2"] and hours.rows[0] == ["00", "1"]

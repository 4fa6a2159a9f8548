"""Events at the size of a community that has held them for years: the events list's tabs,
a member's calendar feed and an event's conversation in the cafeteria, on 20,300 events
(300 to come), a million RSVPs and a million cafeteria messages in PostgreSQL. Each read
is timed as the page makes it (the selector, its rows fetched), its queries counted.

`run()` recreates the scratch database `coworking_bench_events`, migrates it, then runs
this module as a separate process (`python -m bench.bench_events`), like the directory's
benchmark.
"""

import os
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bench.quick import sized
from bench.scratch import scratch_run

TITLE = "Events at scale (20,300 events, a million RSVPs, a million cafeteria messages)"
DATABASE_URL = os.environ.get(
    "BENCH_EVENTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coworking_bench_events"
)
MEMBERS = 1_000
PAST_EVENTS = sized(20_000, 2_000)
UPCOMING_EVENTS = 300
GOING_PER_EVENT = 50
MESSAGES = sized(1_000_000, 100_000)
CALLS = sized(20, 3)


def run() -> str:
    return scratch_run(module="bench.bench_events", database_url=DATABASE_URL, env={})


def _load() -> float:
    """Members, events every six hours (the last 300 still to come), 50 going to each, and
    a year of cafeteria messages, one every half minute. Returns the seconds it took."""
    from django.db import connection
    from django.utils import timezone

    from events.models import Event
    from members.models import User
    from rooms.services import cafeteria_get

    started = time.perf_counter()
    now = timezone.now()
    members = User.objects.bulk_create(
        User(email=f"member{k}@bench.example", display_name=f"Member {k:04d}")
        for k in range(MEMBERS)
    )
    host = members[0]
    Event.objects.bulk_create(
        (
            Event(
                title=f"Event {k}",
                host=host,
                created_by=host,
                starts_at=now + timedelta(hours=6 * (UPCOMING_EVENTS - k)),
                ends_at=now + timedelta(hours=6 * (UPCOMING_EVENTS - k) + 1),
            )
            for k in range(PAST_EVENTS + UPCOMING_EVENTS)
        ),
        batch_size=2_000,
    )
    cafeteria = cafeteria_get()
    with connection.cursor() as cursor:
        # 50 different members an event: k * 17 modulo 1,000 never repeats for k < 50.
        cursor.execute(
            "INSERT INTO events_rsvp (event_id, user_id, status, announced_sequence, "
            "calendar_held, created_at, updated_at) "
            "SELECT e.id, m.ids[1 + (e.id * 37 + k * 17) %% %s], 'going', 0, false, now(), "
            "now() "
            "FROM events_event e, generate_series(0, %s) k, "
            "(SELECT array_agg(id ORDER BY id) AS ids FROM members_user "
            "WHERE email LIKE '%%@bench.example') m",
            [MEMBERS, GOING_PER_EVENT - 1],
        )
        cursor.execute(
            "INSERT INTO rooms_message (text, created_at, author_id, room_id, seq, is_question) "
            "SELECT 'hola ' || g, now() - interval '365 days' + g * (interval '365 days' / %s), "
            "%s + g %% %s, %s, g, false FROM generate_series(1, %s) g",
            [MESSAGES, host.pk, MEMBERS, cafeteria.pk, MESSAGES],
        )
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def _timed(call: Callable[[], Any]) -> tuple[float, float, int, int]:
    """Median and p95 ms over `CALLS` calls after one to warm up, the queries of one call,
    and how many rows it gave."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        rows = len(call())
    times = []
    for _ in range(CALLS):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return statistics.median(times), p95, len(queries.captured_queries), rows


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coworking.settings")
    django.setup()
    from django.utils import timezone

    from events.selectors import events_in_feed, events_mine, events_past, events_upcoming
    from events.views import LISTED_EVENTS
    from members.models import User
    from rooms.selectors import messages_between
    from rooms.services import cafeteria_get

    loaded = _load()
    member = User.objects.get(email="member5@bench.example")
    cafeteria = cafeteria_get()
    # An event in the cafeteria half a year ago: its conversation page's read.
    start = timezone.now() - timedelta(days=180)
    reads: list[tuple[str, Callable[[], Any]]] = [
        ("events list, upcoming", lambda: list(events_upcoming()[:LISTED_EVENTS])),
        ("events list, past", lambda: list(events_past()[:LISTED_EVENTS])),
        ("events list, mine", lambda: list(events_mine(user=member)[:LISTED_EVENTS])),
        ("calendar feed", lambda: list(events_in_feed(user=member))),
        (
            "an event's conversation in the cafeteria (3 hours, half a year ago)",
            lambda: messages_between(
                room=cafeteria, viewer=member, start=start, end=start + timedelta(hours=3)
            ),
        ),
    ]
    lines = [
        f"Loaded {MEMBERS:,} members, {PAST_EVENTS + UPCOMING_EVENTS:,} events "
        f"({UPCOMING_EVENTS} to come), {GOING_PER_EVENT} going to each and {MESSAGES:,} "
        f"cafeteria messages over a year in {loaded:.0f} s. Each read: the selector as the "
        f"page calls it, its rows fetched, {CALLS} calls after one to warm up.",
        "",
        "| read | queries | rows | median ms | p95 ms |",
        "|---|---|---|---|---|",
    ]
    for label, call in reads:
        median, p95, queries, rows = _timed(call)
        lines.append(f"| {label} | {queries} | {rows} | {median:.1f} | {p95:.1f} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

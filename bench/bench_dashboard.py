"""The staff dashboard on a community of 100,000 members with a year of history, in
PostgreSQL: the page's render time and query count for each period, and each metric alone.

`run()` recreates the scratch database `coworking_bench_dashboard`, migrates it, then runs
this module as a separate process (`python -m bench.bench_dashboard`) so that Django is set
up against that database whatever else the benchmark runner has loaded. Members are loaded
with COPY from model instances (so new columns get their defaults); the history, which is
bigger, is generated inside PostgreSQL with generate_series.
"""

import os
import random
import statistics
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.quick import sized
from bench.scratch import copy_rows, scratch_run

ROOT = Path(__file__).resolve().parent.parent
TITLE = "Staff dashboard (100,000 members, a year of history)"
DATABASE_URL = os.environ.get(
    "BENCH_DASHBOARD_DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/coworking_bench_dashboard",
)
MEMBERS = sized(100_000, 2_000)
OPTED_IN = sized(60_000, 1_200)
ROUNDS = 26  # every two weeks for a year
SEATS_PER_ROUND = sized(40_000, 800)
MEETING_ROOMS = 20
EVENTS_PER_WEEK = 5
SUBSCRIBERS = sized(30_000, 600)
RUNS = sized(5, 1)
SEED = 20260101
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def run() -> str:
    return scratch_run(
        module="bench.bench_dashboard",
        database_url=DATABASE_URL,
        # DEBUG on only so that templates find static files without collectstatic.
        env={"DEBUG": "1", "ALLOWED_HOSTS": "testserver"},
    )


# --- The worker process: Django set up against the scratch database ----------------------


def _sql(statement: str, params: Iterable[Any] = ()) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))


def _populate(rng: random.Random) -> dict[str, float]:
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection

    from events.models import Event, Rsvp
    from matching.apps import COMMUNITY_SLUG
    from matching.models import Participation, Programme
    from members.models import User
    from rooms.models import Room
    from rooms.services import cafeteria_get

    timings: dict[str, float] = {}
    started = time.monotonic()
    year_ago = NOW - timedelta(days=365)

    def member(pk: int) -> User:
        # Two years of sign-ups, more of them lately; 45% seen in the last month.
        joined = NOW - timedelta(days=730 * rng.random() ** 1.5, seconds=rng.randrange(86_400))
        seen = (
            NOW - timedelta(days=30 * rng.random())
            if rng.random() < 0.45
            else (joined + timedelta(days=1) if rng.random() < 0.5 else None)
        )
        return User(
            pk=pk,
            email=f"member{pk}@example.com",
            password="!",
            display_name=f"Member {pk}",
            date_joined=joined,
            last_seen_at=seen if seen is None or seen <= NOW else NOW,
            is_active=rng.random() > 0.01,
        )

    staff = User(
        pk=MEMBERS + 1, email="staff@example.com", password="!", is_staff=True, date_joined=year_ago
    )
    copy_rows(User, [*(member(pk) for pk in range(1, MEMBERS + 1)), staff])
    programme = Programme.objects.get(slug=COMMUNITY_SLUG)
    copy_rows(
        Participation,
        (
            Participation(
                pk=pk,
                programme_id=programme.pk,
                user_id=pk,
                opted_in=True,
                paused_until=None,
                auto_paused=pk % 50 == 0,
                updated_at=year_ago,
            )
            for pk in range(1, OPTED_IN + 1)
        ),
    )
    timings["members"] = time.monotonic() - started

    started = time.monotonic()
    for number in range(ROUNDS):
        scheduled = NOW - timedelta(days=14 * number + 1)
        _sql(
            "INSERT INTO matching_round (programme_id, scheduled_for, created_at, eligible_count,"
            " total_score) VALUES (%s, %s, %s, %s, 0)",
            [programme.pk, scheduled, scheduled, SEATS_PER_ROUND],
        )
        _sql(
            "INSERT INTO matching_group (round_id, score, breakdown) "
            "SELECT currval('matching_round_id_seq'), 1.0, '{}'::jsonb "
            "FROM generate_series(1, %s)",
            [SEATS_PER_ROUND // 2],
        )
        # Seat i sits in the round's i/2-th group; members rotate so rounds differ.
        _sql(
            "INSERT INTO matching_groupmember (group_id, round_id, user_id, intro_sent_at,"
            " intro_attempts, follow_up_sent_at, answer, answered_at) "
            "SELECT first.id + i / 2, first.round_id, 1 + (i + %s) %% %s, %s, 1, NULL,"
            " CASE WHEN random() < 0.45 THEN 'met' WHEN random() < 0.3 THEN 'not_yet'"
            " ELSE '' END, NULL "
            "FROM generate_series(0, %s - 1) AS i, "
            "(SELECT min(id) AS id, min(round_id) AS round_id FROM matching_group"
            " WHERE round_id = currval('matching_round_id_seq')) AS first",
            [number * 7919, OPTED_IN, scheduled, SEATS_PER_ROUND],
        )
    timings["rounds"] = time.monotonic() - started

    started = time.monotonic()
    cafeteria = cafeteria_get()
    rooms = Room.objects.bulk_create(
        [
            Room(kind=Room.Kind.PERMANENT, name=f"Room {n}", slug=f"room-{n}")
            for n in range(MEETING_ROOMS)
        ]
    )
    # Busy working hours on weekdays, a trickle at night and at weekends.
    _sql(
        "INSERT INTO rooms_hourlyusage (room_id, hour, seconds) "
        "SELECT room.id, hours.hour, (3600 * (CASE WHEN EXTRACT(ISODOW FROM hours.hour) < 6"
        " AND EXTRACT(HOUR FROM hours.hour) BETWEEN 7 AND 17 THEN 40 ELSE 3 END)"
        " * random())::int + 60 "
        "FROM generate_series(%s::timestamptz, %s::timestamptz, '1 hour') AS hours(hour),"
        " (SELECT id FROM rooms_room) AS room "
        "WHERE room.id = %s OR random() < 0.3",
        [year_ago.replace(minute=0), NOW.replace(minute=0), cafeteria.pk],
    )
    timings["rooms"] = time.monotonic() - started

    started = time.monotonic()
    events = []
    for week in range(52):
        for day in range(EVENTS_PER_WEEK):
            starts = NOW - timedelta(weeks=week, days=day, hours=rng.randrange(0, 6))
            events.append(
                Event(
                    kind="meetup",
                    title=f"Event {week}-{day}",
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=1),
                    room=rooms[day % MEETING_ROOMS],
                    cancelled_at=starts - timedelta(days=1) if rng.random() < 0.05 else None,
                    attendance_count=rng.randrange(5, 80) if starts < NOW else None,
                )
            )
    Event.objects.bulk_create(events, batch_size=1_000)
    rsvps = [
        Rsvp(event=event, user_id=user_id, status="going", created_at=event.starts_at)
        for event in events
        for user_id in rng.sample(range(1, MEMBERS + 1), rng.randrange(10, 150))
    ]
    Rsvp.objects.bulk_create(rsvps, batch_size=5_000)
    timings["events"] = time.monotonic() - started

    started = time.monotonic()
    subscribers = []
    if apps.is_installed("newsletter"):
        from newsletter.models import Subscriber

        for pk in range(1, SUBSCRIBERS + 1):
            confirmed = NOW - timedelta(days=730 * rng.random())
            left = rng.random() < 0.15
            subscribers.append(
                Subscriber(
                    pk=pk,
                    email=f"reader{pk}@example.com",
                    status="unsubscribed" if left else "confirmed",
                    consent_source="site_form",
                    created_at=confirmed,
                    requested_at=confirmed,
                    confirmed_at=confirmed,
                    unsubscribed_at=confirmed + (NOW - confirmed) * rng.random() if left else None,
                )
            )
        copy_rows(Subscriber, subscribers)
    timings["newsletter"] = time.monotonic() - started

    with connection.cursor() as cursor:
        models: list[Any] = [User, Participation, *(type(s) for s in subscribers[:1])]
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
        cursor.execute("ANALYZE")
    return timings


def _rounds_queryset(period: Any) -> Any:
    from dashboard import metrics

    # The query metrics.rounds runs, as a queryset to explain.
    return metrics.rounds_queryset(period)


def _median_ms(action: Callable[[], Any]) -> float:
    action()  # warm-up
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def _worker() -> str:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coworking.settings")
    django.setup()
    import time_machine
    from django.db import connection
    from django.test import Client

    from dashboard import metrics
    from dashboard.models import DailyFigures
    from dashboard.selectors import STALE_AFTER, stored_days
    from dashboard.services import daily_figures_refresh, round_figures_refresh
    from events.models import Rsvp
    from matching.models import GroupMember
    from members.models import User
    from rooms.models import HourlyUsage

    rng = random.Random(SEED)
    load = _populate(rng)
    today = NOW.date()
    # What the hourly beat (dashboard.tasks.round_figures_tick) has done by NOW.
    started = time.monotonic()
    stored = round_figures_refresh(now=NOW)
    load[f"figures of {stored} settled rounds"] = time.monotonic() - started
    sizes = {
        "members": User.objects.count(),
        "seats": GroupMember.objects.count(),
        "hourly usage rows": HourlyUsage.objects.count(),
        "RSVPs": Rsvp.objects.count(),
    }
    if metrics.newsletter_installed():
        from newsletter.models import Subscriber

        sizes["newsletter subscribers"] = Subscriber.objects.count()
    with time_machine.travel(NOW, tick=False):
        # What beat does: every day of a year each hour, today and yesterday every 5 minutes.
        refresh_ms = {}
        for days in (365, 2):

            def refresh(days: int = days) -> None:
                daily_figures_refresh(now=NOW, days=days)

            refresh_ms[days] = _median_ms(refresh)
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(User.objects.get(email="staff@example.com"))
        client.get("/staff/", secure=True)
        page_rows = []
        for days in (30, 90, 365):
            url = f"/staff/?days={days}"
            executed: list[str] = []

            def count(execute: Any, sql: str, *args: Any, log: list[str] = executed) -> Any:
                log.append(sql)
                return execute(sql, *args)

            with connection.execute_wrapper(count):
                response = client.get(url, secure=True)
            assert response.status_code == 200, response.status_code

            def read_stored(url: str = url) -> None:
                client.get(url, secure=True)

            stored_ms = _median_ms(read_stored)

            def stale(url: str = url) -> None:
                # Beat is late: the page counts today and yesterday itself.
                DailyFigures.objects.filter(day=today).update(
                    computed_at=NOW - STALE_AFTER - timedelta(seconds=1)
                )
                client.get(url, secure=True)

            stale_ms = _median_ms(stale)
            page_rows.append(
                f"| {days} days | {len(executed)} | {stored_ms:.0f} | {stale_ms:.0f} |"
            )

        period = metrics.Period.ending(NOW, days=365)
        days_stored = stored_days(period)
        metric_rows = []
        for name, action in (
            ("stored_days", lambda: stored_days(period)),
            ("members", lambda: metrics.members(period, days_stored)),
            ("pairing_opt_in", lambda: metrics.pairing_opt_in(days_stored[-1])),
            ("rounds", lambda: metrics.rounds(period)),
            ("focus", lambda: metrics.focus(period)),
            ("room_use", lambda: metrics.room_use(days_stored)),
            ("events", lambda: metrics.events(period, days_stored)),
            *(
                [("newsletter", lambda: metrics.newsletter(period, days_stored))]
                if metrics.newsletter_installed()
                else []
            ),
        ):
            metric_rows.append(f"| `{name}` | {_median_ms(action):.1f} |")

        rounds_plan = _rounds_queryset(period).explain(analyze=True)
    loaded = ", ".join(f"{count:,} {what}" for what, count in sizes.items())
    seconds = ", ".join(f"{what} {value:.0f} s" for what, value in load.items())
    return "\n".join(
        [
            f"Loaded {loaded} ({seconds}). {ROUNDS} fortnightly rounds of "
            f"{SEATS_PER_ROUND:,} seats, a cafeteria and {MEETING_ROOMS} meeting rooms used "
            f"every hour of a year, {EVENTS_PER_WEEK} events a week with 10–150 RSVPs, "
            f"{SUBSCRIBERS:,} newsletter addresses.\n",
            f"Counting the stored days (dashboard.services.daily_figures_refresh, median of "
            f"{RUNS}): a year, as beat does every hour, {refresh_ms[365]:.0f} ms; today and "
            f"yesterday, as beat does every five minutes, {refresh_ms[2]:.0f} ms.\n",
            f"The whole page through Django's test client (session, middleware, templates), "
            f"median of {RUNS} after a warm-up, nothing cached: reading the stored days that "
            f"beat keeps, and when today's count is older than "
            f"{STALE_AFTER.total_seconds() / 60:.0f} minutes (beat late), counting today and "
            f"yesterday first:\n",
            "| period | queries | median ms | median ms, beat late |",
            "|---|---|---|---|",
            *page_rows,
            "\nEach part alone over 365 days (`stored_days` reads the year's rows; the others "
            "turn them into figures, but for `rounds` and `focus`, counted at each visit):\n",
            "| metric | median ms |",
            "|---|---|",
            *metric_rows,
            "\nPlan of the rounds query (365 days): stored figures for the settled rounds, the "
            "others counted from their seats:\n",
            "```",
            rounds_plan,
            "```",
        ]
    )


if __name__ == "__main__":
    print(_worker())

"""The embedded default runs the beat schedule inside the web process (core/scheduler.py)."""

import contextlib
import json
import logging
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings
from django.core.cache import cache
from websockets.sync.client import connect

from core.health import HEARTBEAT_KEY
from core.scheduler import Scheduler
from coworking.celery import app
from rooms.models import CAFETERIA_SLUG
from tests.conftest import ROOT, clean_env, embedded_site, manage, signed_in_cookies

NOW = datetime(2026, 3, 4, 9, 40, 30, tzinfo=UTC)

SEED = """
import json
from tests.factories import PASSWORD, UserFactory, onboarded_member
watcher = onboarded_member("Vera Vigil", email="vera@example.com")
gone = UserFactory.create()
print(json.dumps({"email": watcher.email, "password": PASSWORD, "gone": gone.pk}))
"""

# A connection of `gone`'s that vanished an hour ago without a goodbye.
VANISHED = """
from datetime import timedelta
from django.utils import timezone
from rooms.models import CAFETERIA_SLUG, Presence, Room
Presence.objects.create(
    room=Room.objects.get(slug=CAFETERIA_SLUG),
    user_id={gone},
    channel_name="specific.gone!1",
    heartbeat_at=timezone.now() - timedelta(hours=1),
)
"""


@pytest.mark.django_db(transaction=True)  # the scheduler closes connections, as a worker does
def test_a_task_runs_each_time_its_crontab_comes_round_and_not_before() -> None:
    every_minute = {"heartbeat": {"task": "core.tasks.worker_heartbeat", "schedule": crontab()}}
    with time_machine.travel(NOW, tick=False) as clock:
        scheduler = Scheduler(app=app, schedule=every_minute)

        assert scheduler.tick() == pytest.approx(30, abs=1)
        assert cache.get(HEARTBEAT_KEY) is None

        clock.move_to(NOW.replace(minute=41, second=0))
        scheduler.tick()
        assert cache.get(HEARTBEAT_KEY) == "2026-03-04T09:41:00+00:00"

        clock.shift(timedelta(seconds=59))
        scheduler.tick()
        assert cache.get(HEARTBEAT_KEY) == "2026-03-04T09:41:00+00:00"

        clock.shift(timedelta(seconds=1))
        scheduler.tick()
        assert cache.get(HEARTBEAT_KEY) == "2026-03-04T09:42:00+00:00"


@pytest.mark.django_db(transaction=True)  # the scheduler closes connections, as a worker does
def test_every_entry_of_the_beat_schedule_runs_inline_without_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with time_machine.travel(NOW, tick=False) as clock:
        scheduler = Scheduler(app=app, schedule=settings.CELERY_BEAT_SCHEDULE)
        clock.shift(timedelta(days=1))  # past every entry's next time, the daily ones too

        with caplog.at_level(logging.DEBUG, logger="core.scheduler"):
            scheduler.tick()

    said = "\n".join(record.getMessage() for record in caplog.records)
    ran = {name for name in settings.CELERY_BEAT_SCHEDULE if f"running {name} (" in said}
    assert ran == set(settings.CELERY_BEAT_SCHEDULE)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_make_run_runs_the_schedule_once_and_its_broadcasts_reach_the_sockets(
    tmp_path: Path, embedded_database: Path
) -> None:
    """`make run`'s server (runserver, autoreloader included) with no worker and no beat:
    someone in the cafeteria sees a member whose connection vanished leave at the next
    presence prune (every 15 s), broadcast through the in-memory channel layer."""
    runserver = [sys.executable, "manage.py", "runserver", "127.0.0.1:{port}"]
    with embedded_site(tmp_path, embedded_database, command=runserver) as (port, env):
        seeded = json.loads(manage(env, "shell", "-c", SEED).splitlines()[-1])
        base = f"http://127.0.0.1:{port}"
        session = signed_in_cookies(base, seeded["email"], seeded["password"])["sessionid"]
        with connect(
            f"ws://127.0.0.1:{port}/ws/rooms/{CAFETERIA_SLUG}/",
            additional_headers={"Origin": base, "Cookie": f"sessionid={session}"},
            open_timeout=60,
        ) as socket:
            assert json.loads(socket.recv(timeout=60))["type"] == "hello"
            manage(env, "shell", "-c", VANISHED.format(gone=seeded["gone"]))
            left: list[int] = []
            deadline = time.monotonic() + 120
            while seeded["gone"] not in left:
                assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                with contextlib.suppress(TimeoutError):
                    frame = json.loads(socket.recv(timeout=1))
                    if frame["type"] == "presence.update":
                        left.extend(frame["left"])

    log = (tmp_path / "server.log").read_text()
    assert log.count("running the beat schedule in this process") == 1, log


def test_a_second_web_process_without_redis_is_refused_rather_than_a_second_site(
    tmp_path: Path,
) -> None:
    """Each would keep its own sockets, cache and schedule: members on one never hear those
    on the other, and every tick runs twice."""
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'site.sqlite3'}", WEB_CONCURRENCY="2")

    refused = subprocess.run(
        [sys.executable, "-c", "import coworking.asgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    alone = subprocess.run(
        [sys.executable, "-c", "import coworking.asgi"],
        cwd=ROOT,
        env={**env, "WEB_CONCURRENCY": "1"},
        capture_output=True,
        text=True,
    )

    assert refused.returncode != 0
    assert "WEB_CONCURRENCY is above 1 without REDIS_URL" in refused.stderr
    assert alone.returncode == 0, alone.stderr

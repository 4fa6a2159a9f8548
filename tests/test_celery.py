"""Celery wiring: a real worker process takes a task from Redis and runs it."""

import subprocess
import time

import pytest
from django.conf import settings
from django.core.cache import cache
from kombu.exceptions import EncodeError

from core.health import HEARTBEAT_KEY
from core.tasks import worker_heartbeat
from coworking.celery import app


def test_task_arguments_travel_as_json_so_python_objects_are_refused_when_sent() -> None:
    # Tasks take ids (and other plain values), never pickled objects a worker would run.
    app.conf.task_always_eager = False
    try:
        with pytest.raises(EncodeError):
            app.send_task("core.tasks.worker_heartbeat", args=[object()])
    finally:
        app.conf.task_always_eager = True


def test_every_beat_entry_names_a_registered_task() -> None:
    app.loader.import_default_modules()  # the apps' tasks modules, as a worker loads them

    unknown = [
        name for name, entry in app.conf.beat_schedule.items() if entry["task"] not in app.tasks
    ]

    assert unknown == []
    # The reminders routed beside the ticks name tasks that exist (a renamed one would wait
    # behind every email again, and expire there).
    assert [name for name in settings.ON_THE_MINUTE if name not in app.tasks] == []
    assert app.amqp.router.route({}, "events.tasks.reminder_send")["queue"].name == "ticks"


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_sent_through_redis(
    celery_worker: subprocess.Popen[bytes], client
) -> None:
    assert client.get("/healthz").json()["worker_last_seen"] is None
    # A tick, in the ticks' own queue: a worker started without -Q reads it too.
    assert app.amqp.router.route({}, worker_heartbeat.name)["queue"].name == "ticks"

    worker_heartbeat.delay()

    deadline = time.monotonic() + 30
    while cache.get(HEARTBEAT_KEY) is None and time.monotonic() < deadline:
        assert celery_worker.poll() is None, "the worker died"
        time.sleep(0.2)
    assert cache.get(HEARTBEAT_KEY) is not None
    assert client.get("/healthz").json()["worker_last_seen"] == cache.get(HEARTBEAT_KEY)

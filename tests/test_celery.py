"""Celery wiring: a real worker process takes a task from Redis and runs it."""

import subprocess
import time

import pytest
from django.core.cache import cache

from core.health import HEARTBEAT_KEY
from core.tasks import worker_heartbeat
from coworking.celery import app


def test_the_configuration_is_safe_for_redelivery() -> None:
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert conf.broker_transport_options["visibility_timeout"] >= 2 * 3600
    assert conf.beat_schedule["worker-heartbeat"]["task"] == "core.tasks.worker_heartbeat"


def test_every_beat_entry_names_a_registered_task() -> None:
    app.loader.import_default_modules()  # the apps' tasks modules, as a worker loads them

    unknown = [
        name for name, entry in app.conf.beat_schedule.items() if entry["task"] not in app.tasks
    ]

    assert unknown == []


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_sent_through_redis(
    celery_worker: subprocess.Popen[bytes], client
) -> None:
    assert client.get("/healthz").json()["worker_last_seen"] is None

    worker_heartbeat.delay()

    deadline = time.monotonic() + 30
    while cache.get(HEARTBEAT_KEY) is None and time.monotonic() < deadline:
        assert celery_worker.poll() is None, "the worker died"
        time.sleep(0.2)
    assert cache.get(HEARTBEAT_KEY) is not None
    assert client.get("/healthz").json()["worker_last_seen"] == cache.get(HEARTBEAT_KEY)

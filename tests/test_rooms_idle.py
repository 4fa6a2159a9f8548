"""Member-made rooms close themselves once idle: the beat task, its setting, its broadcast."""

import asyncio
import json
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from celery.schedules import crontab
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone

from rooms.broadcast import room_group
from rooms.models import Room
from rooms.services import cafeteria_get, room_enter
from rooms.tasks import rooms_close_idle_tick
from tests.conftest import ROOT
from tests.factories import MessageFactory, RoomFactory, UserFactory

IDLE = timedelta(minutes=30)


def quiet_for(duration: timedelta, **kwargs: Any) -> Room:
    return RoomFactory.create(last_activity_at=timezone.now() - duration, **kwargs)


@pytest.fixture(autouse=True)
def _idle_after(settings: Any) -> None:
    settings.ROOMS_IDLE_CLOSE_AFTER = IDLE


@pytest.mark.django_db
def test_idle_member_rooms_close_and_others_stay_open() -> None:
    idle = quiet_for(IDLE + timedelta(minutes=1))
    busy = quiet_for(IDLE - timedelta(minutes=1))
    permanent = quiet_for(timedelta(days=3), kind=Room.Kind.PERMANENT)
    Room.objects.filter(kind=Room.Kind.CAFETERIA).update(
        last_activity_at=timezone.now() - timedelta(days=3)
    )

    assert rooms_close_idle_tick.delay().get() == 1

    assert not Room.objects.get(pk=idle.pk).is_open
    assert Room.objects.get(pk=busy.pk).is_open
    assert Room.objects.get(pk=permanent.pk).is_open
    assert cafeteria_get().is_open


@pytest.mark.django_db
def test_a_second_run_closes_nothing_again() -> None:
    idle = quiet_for(timedelta(hours=2))

    assert rooms_close_idle_tick() == 1
    closed_at = Room.objects.get(pk=idle.pk).closed_at
    assert rooms_close_idle_tick() == 0

    assert Room.objects.get(pk=idle.pk).closed_at == closed_at


@pytest.mark.django_db
def test_a_room_with_someone_inside_stays_open() -> None:
    room = quiet_for(timedelta(hours=2))
    # What every presence heartbeat of a connected member does.
    room_enter(room=room, user=UserFactory.create())

    assert rooms_close_idle_tick() == 0
    assert Room.objects.get(pk=room.pk).is_open


@pytest.mark.django_db
def test_the_history_stays_after_closing() -> None:
    room = quiet_for(timedelta(hours=2))
    message = MessageFactory.create(room=room)
    Room.objects.filter(pk=room.pk).update(last_activity_at=timezone.now() - timedelta(hours=2))

    rooms_close_idle_tick()

    assert Room.objects.get(pk=room.pk).messages.get() == message


def test_beat_runs_the_task_every_five_minutes() -> None:
    entry = next(
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "rooms.tasks.rooms_close_idle_tick"
    )
    assert entry["schedule"] == crontab(minute="*/5")


@pytest.mark.parametrize(("env", "minutes"), [({}, 30), ({"ROOMS_IDLE_CLOSE_MINUTES": "45"}, 45)])
def test_the_idle_time_comes_from_the_environment(env: dict[str, str], minutes: int) -> None:
    script = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.ROOMS_IDLE_CLOSE_AFTER.total_seconds()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "coworking.settings", "PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == minutes * 60


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_closing_tells_the_rooms_sockets_once() -> None:
    idle = await database_sync_to_async(quiet_for)(timedelta(hours=2))
    busy = await database_sync_to_async(quiet_for)(timedelta(minutes=1))
    layer = get_channel_layer()
    assert layer is not None
    listener = await layer.new_channel()
    await layer.group_add(room_group(idle.pk), listener)
    await layer.group_add(room_group(busy.pk), listener)

    # As the worker runs it: a plain synchronous call, broadcasting after its commit.
    assert await database_sync_to_async(rooms_close_idle_tick)() == 1
    assert await asyncio.wait_for(layer.receive(listener), timeout=5) == {
        "type": "room.closed",
        "fanout_group": room_group(idle.pk),
    }

    assert await database_sync_to_async(rooms_close_idle_tick)() == 0
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(layer.receive(listener), timeout=0.5)

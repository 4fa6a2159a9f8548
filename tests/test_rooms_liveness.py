"""Each process's sweep over its room sockets (rooms/liveness.py) outlives a bad round."""

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from django.db import OperationalError

from rooms import liveness

# The sweep's database helper closes stale connections before each round (Channels'
# `database_sync_to_async`), which touches a connection an earlier test left in the thread.
pytestmark = [pytest.mark.asyncio, pytest.mark.django_db]

CHANNEL = "specific.test!sweep"


async def test_a_failed_sweep_is_logged_and_the_next_round_still_runs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    loop = asyncio.get_running_loop()
    swept_again = asyncio.Event()
    rounds = 0

    def connections_check(*, connections: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
        nonlocal rounds
        rounds += 1
        if rounds == 1:
            raise OperationalError("the database restarted")
        loop.call_soon_threadsafe(swept_again.set)  # called in the database thread
        return {}, []

    monkeypatch.setattr(liveness, "connections_check", connections_check)
    monkeypatch.setattr(liveness, "TOUCH_INTERVAL", timedelta(milliseconds=1))
    liveness.watch(CHANNEL, liveness.Watched(room_id=1, user_id=1, session_key=""))
    sweeping = liveness._task
    assert sweeping is not None
    next_round = asyncio.ensure_future(swept_again.wait())
    try:
        # Whichever comes first: a second round, or the loop ending.
        await asyncio.wait({sweeping, next_round}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    finally:
        next_round.cancel()
        liveness.forget(CHANNEL)

    assert swept_again.is_set()
    failures = [r for r in caplog.records if r.name == "rooms.liveness" and r.exc_info]
    assert len(failures) == 1
    assert failures[0].levelno == logging.ERROR


async def test_a_slice_that_fails_leaves_the_others_swept_and_a_socket_gone_meanwhile_alone(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    first, second, third = (f"{CHANNEL}{n}" for n in range(3))
    checked: list[list[str]] = []

    def connections_check(*, connections: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
        checked.append(list(connections))
        if first in connections:
            # The second socket closes while the first slice is checked.
            liveness.forget(second)
            raise OperationalError("the database restarted")
        return {}, []

    monkeypatch.setattr(liveness, "connections_check", connections_check)
    monkeypatch.setattr(liveness, "SWEEP_SLICE", 1)
    for n, name in enumerate((first, second, third)):
        liveness._watched[name] = liveness.Watched(room_id=1, user_id=n + 1, session_key="")
    try:
        await liveness.sweep()
    finally:
        for name in (first, second, third):
            liveness.forget(name)

    assert checked == [[first], [third]]  # the second socket was gone: no row put back
    failures = [r for r in caplog.records if r.name == "rooms.liveness" and r.exc_info]
    assert len(failures) == 1

"""Readiness checks for /healthz: each talks to the real service and reports how it went."""

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

HEARTBEAT_KEY = "core:worker-heartbeat"
CHANNEL_LAYER_TIMEOUT = 2.0


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    ms: float
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"ok": self.ok, "ms": round(self.ms, 1)}
        if self.error:
            data["error"] = self.error
        return data


async def _timed(check: Callable[[], Awaitable[None]]) -> CheckResult:
    started = time.perf_counter()
    try:
        await check()
    except Exception as exc:  # any failure of the service is a failed check, not a 500
        return CheckResult(False, (time.perf_counter() - started) * 1000, type(exc).__name__)
    return CheckResult(True, (time.perf_counter() - started) * 1000)


@sync_to_async
def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


@sync_to_async
def _cache() -> None:
    key = f"core:healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value just written")
    cache.delete(key)


async def _channel_layer() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    # On the pub/sub layer a message to a channel nobody subscribes to is lost, so subscribe
    # (new_channel) before sending.
    channel = await layer.new_channel(prefix="healthz.")
    await layer.send(channel, {"type": "healthz.ping"})
    message = await asyncio.wait_for(layer.receive(channel), CHANNEL_LAYER_TIMEOUT)
    # A cancelled receive is the layer's only way to drop a channel's subscription.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(layer.receive(channel), 0)
    if message.get("type") != "healthz.ping":
        raise RuntimeError("channel layer returned another message")


async def run_checks() -> dict[str, CheckResult]:
    return {
        "database": await _timed(_database),
        "cache": await _timed(_cache),
        "channel_layer": await _timed(_channel_layer),
    }


@sync_to_async
def worker_last_seen() -> str | None:
    """ISO time of the last Celery worker heartbeat, or None when no worker has reported."""
    try:
        return cache.get(HEARTBEAT_KEY)
    except Exception:
        return None


def record_worker_heartbeat() -> str:
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now

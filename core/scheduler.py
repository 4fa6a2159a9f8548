"""The beat schedule inside the web process, for the embedded default.

Without Redis there is no worker and no `celery beat`: tasks run inline where they are
called. So that periodic work happens there too (rounds, reminders, follow-ups, digests,
presence pruning), the web server runs CELERY_BEAT_SCHEDULE itself with this scheduler.
Deployments with Redis run `celery beat` instead and never start it (coworking/asgi.py).
"""

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from celery import Celery, Task
from celery.schedules import BaseSchedule, maybe_schedule
from django.db import close_old_connections

logger = logging.getLogger(__name__)

# The longest the scheduler sleeps without looking at the schedule again.
MAX_SLEEP_SECONDS = 60.0


@dataclass
class Entry:
    """One entry of the schedule: which task, when, and when it last ran."""

    name: str
    task: Task
    schedule: BaseSchedule
    last_run_at: datetime
    args: Sequence[Any] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


class Scheduler:
    """Runs each entry of a Celery beat schedule when its own schedule object (interval,
    crontab) says it is due, as beat would: the first run comes one interval (or the next
    crontab time) after start. Tasks are sent with `apply_async`, which runs them inline
    when tasks are eager (the embedded default)."""

    def __init__(self, *, app: Celery, schedule: Mapping[str, Mapping[str, Any]]) -> None:
        # Each app's tasks module, as a worker imports them; an unknown task fails here, at
        # start, rather than silently at its first tick.
        app.autodiscover_tasks(force=True)
        started = app.now()
        self.entries = [
            Entry(
                name=name,
                task=app.tasks[spec["task"]],
                schedule=maybe_schedule(spec["schedule"], app=app),
                last_run_at=started,
                args=spec.get("args", ()),
                kwargs=spec.get("kwargs", {}),
            )
            for name, spec in schedule.items()
        ]

    def tick(self) -> float:
        """Run every entry that is due, one after the other, in this thread; return the
        seconds until the next look. A task that raises is logged and the others still run."""
        wait = MAX_SLEEP_SECONDS
        for entry in self.entries:
            # Whether it is due, and in how many seconds to ask again.
            due, seconds = entry.schedule.is_due(entry.last_run_at)
            if due:
                entry.last_run_at = entry.schedule.now()
                self._run(entry)
            wait = min(wait, float(seconds))
        return max(wait, 0.0)

    def _run(self, entry: Entry) -> None:
        logger.debug("Scheduler: running %s (%s)", entry.name, entry.task.name)
        # Like a worker, start and end each task on a fresh database connection.
        close_old_connections()
        try:
            entry.task.apply_async(args=entry.args, kwargs=entry.kwargs)
        except Exception:
            logger.exception("Scheduler: %s failed", entry.name)
        finally:
            close_old_connections()

    async def run_forever(self) -> None:
        """Tick forever on the running event loop. Each tick runs in a worker thread (so the
        server goes on serving), from which broadcasts come back to this loop: the one where
        the sockets wait, as the in-memory channel layer needs."""
        logger.info("Scheduler: running the beat schedule in this process")
        tick = sync_to_async(self.tick, thread_sensitive=False)
        while True:
            try:
                wait = await tick()
            except Exception:  # a bug in a schedule must not stop every other entry for good
                logger.exception("Scheduler: tick failed")
                wait = MAX_SLEEP_SECONDS
            await asyncio.sleep(wait)


class StartsScheduler:
    """ASGI middleware that starts `scheduler` on the server's event loop when the first
    connection (HTTP or WebSocket) arrives. Neither `runserver` nor our uvicorn command sends
    the lifespan events, and the loop does not run yet when the application is imported."""

    def __init__(self, application: Any, *, scheduler: Scheduler) -> None:
        self.application = application
        self.scheduler = scheduler
        self.running: asyncio.Task[None] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.running is None:
            # Kept here: the event loop holds its tasks only weakly.
            self.running = asyncio.get_running_loop().create_task(self.scheduler.run_forever())
        await self.application(scope, receive, send)

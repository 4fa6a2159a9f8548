"""Broadcasts to a crowd's sockets handed out by one loop per process (docs/channel-layer.md,
"One loop per process").

Channels gives each socket its group messages through the socket's own queue: per socket
and message, a queue put, a wake-up of the socket's task, an `asyncio.wait` over two fresh
tasks, then the handler. With 1,000 sockets in the cafeteria at 10 messages a second, that
machinery took most of a web process's CPU. Here a group joined with `crowd=True` is
joined once per process (and event loop) by a relay channel of its own; one reader task
takes each message from it and runs every local socket's handler straight away, as an
eager task: a handler that only writes its frame (nearly all of them) finishes there and
then, without being scheduled.

A handler that must wait (the database, a slow client whose buffer is full) carries on as a
task of its own, and that socket's next events wait in its backlog, so each socket still
handles its events one at a time and in order, and nobody else waits for it. A socket's
events also wait until it has finished connecting (its `hello` goes first), and stop once
it is going. Every socket gets the same event dict: handlers only read it.
"""

import asyncio
import logging
import weakref
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from channels.exceptions import StopConsumer

logger = logging.getLogger(__name__)


class Listener(Protocol):
    """What a socket offers the relay (rooms.sockets.base.MemberSocket)."""

    channel_name: str
    fanout_backlog: deque[dict[str, Any]] | None
    fanout_gone: bool

    def dispatch(self, message: dict[str, Any]) -> Coroutine[Any, Any, None]: ...


@dataclass
class _Group:
    """One group's relay in one event loop: its channel, reader and local sockets."""

    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    # Why subscribing failed (the first socket's join raised): those waiting fail too.
    failed: BaseException | None = None
    channel: str = ""
    reader: asyncio.Task[None] | None = None
    listeners: dict[str, Listener] = field(default_factory=dict)


# Per event loop (tests run several, one after the other), the groups relayed in it.
_loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Group]] = (
    weakref.WeakKeyDictionary()
)


def _groups() -> dict[str, _Group]:
    loop = asyncio.get_running_loop()
    groups = _loops.get(loop)
    if groups is None:
        groups = _loops[loop] = {}
    return groups


async def join(layer: Any, group: str, listener: Listener, *, hold: bool) -> None:
    """Add `listener` to `group`; the first socket of the process subscribes its relay.
    Returns once the relay hears the group. `hold`: keep the listener's events until
    `resume(listener)` (while its connection is being set up)."""
    if hold and listener.fanout_backlog is None:
        listener.fanout_backlog = deque()
    groups = _groups()
    relay = groups.get(group)
    if relay is None:
        relay = groups[group] = _Group()
        relay.listeners[listener.channel_name] = listener
        try:
            relay.channel = await layer.new_channel("fanout.")
            await layer.group_add(group, relay.channel)
        except BaseException as exc:
            if groups.get(group) is relay:
                del groups[group]
            relay.failed = exc
            relay.subscribed.set()
            raise
        relay.reader = asyncio.get_running_loop().create_task(_read(layer, group, relay))
        relay.subscribed.set()
        return
    relay.listeners[listener.channel_name] = listener
    await relay.subscribed.wait()
    if relay.failed is not None:
        relay.listeners.pop(listener.channel_name, None)
        raise ConnectionError(f"could not hear {group}") from relay.failed


def local_count(group: str) -> int:
    """How many of this process's sockets (in this event loop) hear `group`."""
    relay = _groups().get(group)
    return len(relay.listeners) if relay is not None else 0


async def leave(layer: Any, group: str, listener: Listener) -> None:
    """Take `listener` out of `group`; the last socket of the process unsubscribes."""
    groups = _groups()
    relay = groups.get(group)
    if relay is None or relay.listeners.pop(listener.channel_name, None) is None:
        return
    if relay.listeners:
        return
    # Gone from the table first: a socket joining meanwhile starts a relay of its own.
    del groups[group]
    await relay.subscribed.wait()
    if relay.reader is not None:
        relay.reader.cancel()
    await layer.group_discard(group, relay.channel)


async def _read(layer: Any, group: str, relay: _Group) -> None:
    while True:
        try:
            message = await layer.receive(relay.channel)
        except asyncio.CancelledError:
            raise
        except Exception:
            # A message that could not be read (the layer's connection, a bad payload) is
            # lost to this process, as it would have been to each socket; the group is not.
            logger.exception("Relay of %s could not read a message", group)
            await asyncio.sleep(1)
            continue
        for listener in list(relay.listeners.values()):
            try:
                deliver(listener, message)
            except Exception:
                logger.exception("Relaying %s to %s failed", group, listener.channel_name)


def deliver(listener: Listener, message: dict[str, Any]) -> None:
    """Run the listener's handler for `message` now, or after the events before it."""
    if listener.fanout_gone:
        return
    if listener.fanout_backlog is not None:
        listener.fanout_backlog.append(message)
        return
    _run(listener, message)


def resume(listener: Listener) -> None:
    """The listener is ready (connected, or done with an event that had to wait): handle
    what waited meanwhile, in order."""
    backlog = listener.fanout_backlog
    listener.fanout_backlog = None
    while backlog and not listener.fanout_gone:
        if not _run(listener, backlog.popleft()):
            # That one waits: the rest wait behind it, with what comes in meanwhile.
            assert listener.fanout_backlog is not None
            listener.fanout_backlog.extendleft(reversed(backlog))
            return


def _run(listener: Listener, message: dict[str, Any]) -> bool:
    """Handle one event; True if it is done, else the listener is busy until it is."""
    task = asyncio.eager_task_factory(asyncio.get_running_loop(), listener.dispatch(message))
    if task.done():
        _settle(task)
        return True
    listener.fanout_backlog = deque()

    def finished(task: asyncio.Task[None]) -> None:
        _settle(task)
        resume(listener)

    task.add_done_callback(finished)
    return False


def _settle(task: asyncio.Task[None]) -> None:
    # The socket's dispatch logs its handlers' failures; what is left is the socket stopping
    # (no trace needed) or a fault of the dispatch itself (a handler missing: logged).
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None and not isinstance(exc, StopConsumer):
        logger.error("A relayed event failed", exc_info=exc)

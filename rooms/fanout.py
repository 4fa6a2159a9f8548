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

A socket has no channel of its own either. What is meant for one socket (the liveness sweep,
a call's signalling) or for one member's sockets (their groups: a logout, a removal, a
private message, their focus table) comes to one channel of the process, its inbox, and
one reader hands it on by the same rules. A socket's `channel_name` is its address there
(`<inbox channel>!<token>`); `send` reaches it from any process. Every group message names
its group (`group_send`), which is how the inbox knows whose it is. Channels' channel per
socket cost a queue, a task and a Redis subscription each: 4 KiB a socket
(docs/benchmarks.md, "Room sockets", sixth session).
"""

import asyncio
import logging
import uuid
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from channels.exceptions import StopConsumer

logger = logging.getLogger(__name__)

# The keys the inbox reads in a message: the socket it is for, or the group it was sent to.
TO_KEY = "fanout_to"
GROUP_KEY = "fanout_group"


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
            relay.channel, relay.reader = await _reading(
                layer, "fanout.", lambda channel: _read(layer, channel, group, relay)
            )
            await layer.group_add(group, relay.channel)
        except BaseException as exc:
            if groups.get(group) is relay:
                del groups[group]
            if relay.reader is not None:
                relay.reader.cancel()
            relay.failed = exc
            relay.subscribed.set()
            raise
        relay.subscribed.set()
        return
    relay.listeners[listener.channel_name] = listener
    await relay.subscribed.wait()
    if relay.failed is not None:
        relay.listeners.pop(listener.channel_name, None)
        raise ConnectionError(f"could not hear {group}") from relay.failed


async def _reading(
    layer: Any, prefix: str, read: Callable[[str], Coroutine[Any, Any, None]]
) -> tuple[str, asyncio.Task[None]]:
    """A new channel of the layer, and `read(channel)` started as its reader."""
    channel = await layer.new_channel(prefix)
    reader = asyncio.get_running_loop().create_task(read(channel))
    # Let the reader start waiting on its channel: the layer unsubscribes a channel as a
    # waiting receive is cancelled, not when a reader is cancelled before it ever ran.
    try:
        await asyncio.sleep(0)
    except BaseException:
        reader.cancel()  # the caller, cancelled here, never gets it to cancel
        raise
    return channel, reader


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


async def _received(layer: Any, channel: str, reader: str) -> AsyncIterator[dict[str, Any]]:
    """Each message of `channel`, for as long as its reader runs."""
    while True:
        try:
            message = await layer.receive(channel)
        except asyncio.CancelledError:
            raise
        except Exception:
            # A message that could not be read (the layer's connection, a bad payload) is
            # lost to this process, as it would have been to each socket; the reader is not.
            logger.exception("%s could not read a message", reader)
            await asyncio.sleep(1)
            continue
        yield message


async def _read(layer: Any, channel: str, group: str, relay: _Group) -> None:
    async for message in _received(layer, channel, f"The relay of {group}"):
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


# The process's inbox ---------------------------------------------------------------------


@dataclass
class _Inbox:
    """One event loop's inbox: its channel, its reader, its sockets and their groups."""

    ready: asyncio.Event = field(default_factory=asyncio.Event)
    failed: BaseException | None = None
    closed: bool = False
    layer: Any = None
    channel: str = ""
    reader: asyncio.Task[None] | None = None
    # {token: socket}, {group: tokens of the sockets that hear it}, {token: its groups}
    sockets: dict[str, Listener] = field(default_factory=dict)
    groups: dict[str, set[str]] = field(default_factory=dict)
    groups_of: dict[str, set[str]] = field(default_factory=dict)
    # The groups the inbox's channel is in on the layer, changed one at a time and in order;
    # and those whose leave failed, maybe half-way: the pub/sub layer forgets the channel
    # before Redis unsubscribes. They are joined again before use, and left again by `tidy`.
    heard: set[str] = field(default_factory=set)
    unsure: set[str] = field(default_factory=set)
    changing: asyncio.Lock = field(default_factory=asyncio.Lock)


_inboxes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Inbox] = weakref.WeakKeyDictionary()
# Groups left in the background (after a socket failed to leave them), kept from the
# collector until done.
_leaving: set[asyncio.Task[None]] = set()


async def _open_inbox(layer: Any) -> _Inbox:
    loop = asyncio.get_running_loop()
    inbox = _inboxes.get(loop)
    if inbox is None:
        inbox = _inboxes[loop] = _Inbox(layer=layer)
        try:
            inbox.channel, inbox.reader = await _reading(
                layer, "inbox.", lambda channel: _read_inbox(layer, channel, inbox)
            )
        except BaseException as exc:
            if _inboxes.get(loop) is inbox:
                del _inboxes[loop]
            inbox.failed = exc
            inbox.ready.set()
            raise
        inbox.ready.set()
        return inbox
    await inbox.ready.wait()
    if inbox.failed is not None:
        raise ConnectionError("could not open the process's inbox") from inbox.failed
    return inbox


async def register(layer: Any, listener: Listener) -> str:
    """Give `listener` its place in the process's inbox, holding its events until
    `resume(listener)`; returns its address (its `channel_name`)."""
    if listener.fanout_backlog is None:
        listener.fanout_backlog = deque()
    while True:
        inbox = await _open_inbox(layer)
        if not inbox.closed:  # its last socket may have gone while this one waited
            break
    token = uuid.uuid4().hex
    inbox.sockets[token] = listener
    return f"{inbox.channel}!{token}"


def unregister(listener: Listener) -> None:
    """Take `listener` out of the inbox (after it has left its groups); the last socket
    out closes the inbox."""
    inbox, token = _place(listener)
    if inbox is None or inbox.sockets.pop(token, None) is None:
        return
    # Its groups were left first (`stop_hearing`); after a failure, forget it here too.
    # Groups the inbox still hears for no one are left by `tidy` (the liveness sweep).
    for group in inbox.groups_of.pop(token, ()):
        tokens = inbox.groups.get(group)
        if tokens is not None:
            tokens.discard(token)
            if not tokens:
                del inbox.groups[group]
    if inbox.sockets:
        return
    inbox.closed = True
    del _inboxes[asyncio.get_running_loop()]
    if inbox.reader is not None:
        inbox.reader.cancel()  # its reading channel unsubscribes as it is cancelled
    if inbox.heard:
        _in_background(_discard(inbox.layer, inbox.channel, list(inbox.heard)))
        inbox.heard.clear()


def _in_background(coroutine: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(coroutine)
    _leaving.add(task)
    task.add_done_callback(_leaving.discard)


async def tidy() -> None:
    """Leave the groups the inbox still hears for no socket: a leave that failed (Redis
    away for a moment) is tried again here, by each liveness sweep."""
    inbox = _inboxes.get(asyncio.get_running_loop())
    if inbox is None:
        return
    for group in [group for group in inbox.heard | inbox.unsure if group not in inbox.groups]:
        try:
            await _settle_group(inbox.layer, inbox, group)
        except Exception:
            logger.exception("The inbox could not leave %s", group)


async def _discard(layer: Any, channel: str, groups: list[str]) -> None:
    for group in groups:
        try:
            await layer.group_discard(group, channel)
        except Exception:
            logger.exception("The closed inbox could not leave %s", group)


def _place(listener: Listener) -> tuple[_Inbox | None, str]:
    inbox = _inboxes.get(asyncio.get_running_loop())
    channel, _, token = listener.channel_name.rpartition("!")
    if inbox is None or inbox.channel != channel:
        return None, token
    return inbox, token


async def hear(layer: Any, group: str, listener: Listener) -> None:
    """`listener` hears `group` through the inbox (the groups of one member, not a crowd's:
    those have relays of their own, `join`)."""
    inbox, token = _place(listener)
    if inbox is None:
        raise RuntimeError(f"{listener.channel_name} is not in this process's inbox")
    inbox.groups.setdefault(group, set()).add(token)
    inbox.groups_of.setdefault(token, set()).add(group)
    try:
        await _settle_group(layer, inbox, group)
    except BaseException:
        await stop_hearing(layer, group, listener)
        raise


async def stop_hearing(layer: Any, group: str, listener: Listener) -> None:
    inbox, token = _place(listener)
    if inbox is None:
        return
    tokens = inbox.groups.get(group)
    if tokens is not None:
        tokens.discard(token)
        if not tokens:
            del inbox.groups[group]
    inbox.groups_of.get(token, set()).discard(group)
    await _settle_group(layer, inbox, group)


async def _settle_group(layer: Any, inbox: _Inbox, group: str) -> None:
    """Put the inbox's channel in `group` on the layer, or out of it, as its sockets now
    need; one change at a time, so that a join and a leave crossing end as they should."""
    async with inbox.changing:
        if inbox.closed:
            return
        if group in inbox.groups:
            if group not in inbox.heard:
                await layer.group_add(group, inbox.channel)
                inbox.heard.add(group)
                inbox.unsure.discard(group)
        elif group in inbox.heard or group in inbox.unsure:
            again = group in inbox.unsure
            inbox.heard.discard(group)
            inbox.unsure.add(group)
            if again:  # the layer may have forgotten the channel: it leaves only what it has
                await layer.group_add(group, inbox.channel)
            await layer.group_discard(group, inbox.channel)
            inbox.unsure.discard(group)


async def send(layer: Any, address: str, event: dict[str, Any]) -> None:
    """Send `event` to the socket at `address` (its `channel_name`), in whatever process."""
    channel, _, token = address.rpartition("!")
    await layer.send(channel, {**event, TO_KEY: token})


async def group_send(layer: Any, group: str, event: dict[str, Any]) -> None:
    """Send `event` to `group`, naming the group for the inboxes that hear it."""
    await layer.group_send(group, {**event, GROUP_KEY: group})


async def _read_inbox(layer: Any, channel: str, inbox: _Inbox) -> None:
    async for message in _received(layer, channel, "The process's inbox"):
        token = message.get(TO_KEY)
        if token is not None:
            listener = inbox.sockets.get(token)
            listeners = [listener] if listener is not None else []
        elif GROUP_KEY in message:
            tokens = inbox.groups.get(message[GROUP_KEY], ())
            listeners = [inbox.sockets[t] for t in tokens if t in inbox.sockets]
        else:
            logger.error("A message of type %r reached the inbox for no one", message.get("type"))
            continue
        for listener in listeners:
            try:
                deliver(listener, message)
            except Exception:
                logger.exception(
                    "Handing %r to %s failed", message.get("type"), listener.channel_name
                )

"""The process's relay for crowd groups (rooms/fanout.py), on the real Redis pub/sub layer:
each group reaches the process once, every local socket hears each event once and in order,
a socket that must wait holds up only itself, and a connecting socket hears nothing before
it is ready."""

import asyncio
import subprocess
import sys
from collections import deque
from typing import Any

import pytest
from channels.layers import get_channel_layer

from rooms import fanout
from rooms.sockets import limits
from tests.conftest import ROOT, clean_env


class Socket:
    """A listener as the relay sees it: records what it handles; `wait_on` makes one
    event's handling wait (the database, a full buffer) until released."""

    def __init__(self, name: str) -> None:
        self.channel_name = name
        self.fanout_backlog: deque[dict[str, Any]] | None = None
        self.fanout_gone = False
        self.handled: list[int] = []
        self.wait_on: dict[int, asyncio.Event] = {}

    async def dispatch(self, message: dict[str, Any]) -> None:
        gate = self.wait_on.get(message["n"])
        if gate is not None:
            await gate.wait()
        self.handled.append(message["n"])


async def _until(condition: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.mark.asyncio
async def test_each_socket_hears_each_event_once_and_in_order() -> None:
    layer = get_channel_layer()
    sockets = [Socket(f"s{i}") for i in range(3)]
    for socket in sockets:
        await fanout.join(layer, "room_fanout_1", socket, hold=False)

    for n in range(1, 6):
        await layer.group_send("room_fanout_1", {"type": "chat.message", "n": n})

    await _until(lambda: all(len(s.handled) == 5 for s in sockets))
    await asyncio.sleep(0.1)
    assert [s.handled for s in sockets] == [[1, 2, 3, 4, 5]] * 3
    for socket in sockets:
        await fanout.leave(layer, "room_fanout_1", socket)


@pytest.mark.asyncio
async def test_a_socket_that_must_wait_holds_up_only_itself_and_keeps_its_order() -> None:
    layer = get_channel_layer()
    slow, quick = Socket("slow"), Socket("quick")
    gate = slow.wait_on[2] = asyncio.Event()
    for socket in (slow, quick):
        await fanout.join(layer, "room_fanout_2", socket, hold=False)

    for n in range(1, 5):
        await layer.group_send("room_fanout_2", {"type": "chat.message", "n": n})

    await _until(lambda: quick.handled == [1, 2, 3, 4])
    assert slow.handled == [1]
    gate.set()
    await _until(lambda: slow.handled == [1, 2, 3, 4])
    for socket in (slow, quick):
        await fanout.leave(layer, "room_fanout_2", socket)


@pytest.mark.asyncio
async def test_a_connecting_socket_hears_nothing_until_it_is_ready() -> None:
    layer = get_channel_layer()
    socket = Socket("connecting")
    await fanout.join(layer, "room_fanout_3", socket, hold=True)

    await layer.group_send("room_fanout_3", {"type": "chat.message", "n": 1})
    await layer.group_send("room_fanout_3", {"type": "chat.message", "n": 2})
    await _until(lambda: socket.fanout_backlog is not None and len(socket.fanout_backlog) == 2)
    assert socket.handled == []

    fanout.resume(socket)
    assert socket.handled == [1, 2]
    await layer.group_send("room_fanout_3", {"type": "chat.message", "n": 3})
    await _until(lambda: socket.handled == [1, 2, 3])
    await fanout.leave(layer, "room_fanout_3", socket)


@pytest.mark.asyncio
async def test_the_last_socket_out_unsubscribes_and_a_new_one_gets_a_fresh_relay() -> None:
    layer = get_channel_layer()
    first = Socket("first")
    await fanout.join(layer, "room_fanout_4", first, hold=False)
    await fanout.leave(layer, "room_fanout_4", first)

    await layer.group_send("room_fanout_4", {"type": "chat.message", "n": 1})
    second = Socket("second")
    await fanout.join(layer, "room_fanout_4", second, hold=False)
    await layer.group_send("room_fanout_4", {"type": "chat.message", "n": 2})

    await _until(lambda: second.handled == [2])
    await asyncio.sleep(0.1)
    assert first.handled == []
    assert second.handled == [2]
    await fanout.leave(layer, "room_fanout_4", second)


@pytest.mark.asyncio
async def test_a_socket_that_is_going_hears_nothing_more_even_what_waited() -> None:
    layer = get_channel_layer()
    going, staying = Socket("going"), Socket("staying")
    gate = going.wait_on[1] = asyncio.Event()
    for socket in (going, staying):
        await fanout.join(layer, "room_fanout_5", socket, hold=False)

    for n in (1, 2, 3):
        await layer.group_send("room_fanout_5", {"type": "chat.message", "n": n})
    await _until(lambda: staying.handled == [1, 2, 3])
    going.fanout_gone = True  # its websocket.disconnect came
    gate.set()
    await layer.group_send("room_fanout_5", {"type": "chat.message", "n": 4})

    await _until(lambda: staying.handled == [1, 2, 3, 4])
    await asyncio.sleep(0.1)
    assert going.handled == [1]
    for socket in (going, staying):
        await fanout.leave(layer, "room_fanout_5", socket)


class FailingToSubscribe:
    """The real layer, whose next `group_add` fails after a moment (Redis going away while
    a crowd arrives)."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.layer, name)

    async def group_add(self, group: str, channel: str) -> None:
        await asyncio.sleep(0.1)
        raise ConnectionError("Redis went away")


@pytest.mark.asyncio
async def test_sockets_waiting_on_a_subscription_that_failed_fail_too_and_the_next_try_works() -> (
    None
):
    layer = get_channel_layer()
    first, second = Socket("first"), Socket("second")
    failing = FailingToSubscribe(layer)

    async with asyncio.timeout(5):  # a waiter left hanging would hang its socket's connect
        results = await asyncio.gather(
            fanout.join(failing, "room_fanout_6", first, hold=False),
            fanout.join(failing, "room_fanout_6", second, hold=False),
            return_exceptions=True,
        )

    assert [type(r) for r in results] == [ConnectionError, ConnectionError]
    third = Socket("third")
    await fanout.join(layer, "room_fanout_6", third, hold=False)
    await layer.group_send("room_fanout_6", {"type": "chat.message", "n": 1})
    await _until(lambda: third.handled == [1])
    await fanout.leave(layer, "room_fanout_6", third)


# The process's inbox: what is meant for one socket, or for one member's sockets -----------


async def _registered(layer: Any, *names: str) -> list[Socket]:
    sockets = [Socket(name) for name in names]
    for socket in sockets:
        socket.channel_name = await fanout.register(layer, socket)
        fanout.resume(socket)  # connected
    return sockets


@pytest.mark.asyncio
async def test_a_message_sent_to_a_sockets_address_reaches_that_socket_alone() -> None:
    layer = get_channel_layer()
    ana, ben = await _registered(layer, "ana", "ben")
    assert ana.channel_name.rpartition("!")[0] == ben.channel_name.rpartition("!")[0]

    for n in (1, 2, 3):
        await fanout.send(layer, ana.channel_name, {"type": "access.revoked", "n": n})
    await fanout.send(layer, ben.channel_name, {"type": "access.revoked", "n": 9})

    await _until(lambda: ana.handled == [1, 2, 3] and ben.handled == [9])
    await asyncio.sleep(0.1)
    assert (ana.handled, ben.handled) == ([1, 2, 3], [9])
    for socket in (ana, ben):
        fanout.unregister(socket)


@pytest.mark.asyncio
async def test_a_members_group_reaches_each_of_their_sockets_once_and_no_one_else() -> None:
    layer = get_channel_layer()
    tab_1, tab_2, other = await _registered(layer, "tab-1", "tab-2", "other")
    for socket in (tab_1, tab_2):
        await fanout.hear(layer, "user_inbox_1", socket)
    await fanout.hear(layer, "user_inbox_2", other)

    await fanout.group_send(layer, "user_inbox_1", {"type": "session.ended", "n": 1})
    await _until(lambda: tab_2.handled == [1])
    await fanout.stop_hearing(layer, "user_inbox_1", tab_2)
    await fanout.group_send(layer, "user_inbox_1", {"type": "session.ended", "n": 2})

    await _until(lambda: tab_1.handled == [1, 2])
    await asyncio.sleep(0.1)
    assert (tab_1.handled, tab_2.handled, other.handled) == ([1, 2], [1], [])
    await fanout.stop_hearing(layer, "user_inbox_1", tab_1)
    await fanout.stop_hearing(layer, "user_inbox_2", other)
    for socket in (tab_1, tab_2, other):
        fanout.unregister(socket)


@pytest.mark.asyncio
async def test_a_join_and_a_leave_crossing_leave_the_group_heard() -> None:
    """The last socket of a member leaving while another of theirs arrives: the inbox stays
    in the group (the layer's join and leave are not left to race)."""
    layer = get_channel_layer()
    going, coming = await _registered(layer, "going", "coming")
    await fanout.hear(layer, "user_inbox_3", going)

    await asyncio.gather(
        fanout.stop_hearing(layer, "user_inbox_3", going),
        fanout.hear(layer, "user_inbox_3", coming),
    )
    await fanout.group_send(layer, "user_inbox_3", {"type": "session.ended", "n": 1})

    await _until(lambda: coming.handled == [1])
    assert going.handled == []
    await fanout.stop_hearing(layer, "user_inbox_3", coming)
    for socket in (going, coming):
        fanout.unregister(socket)


@pytest.mark.asyncio
async def test_a_connecting_socket_hears_its_inbox_only_once_it_is_ready() -> None:
    layer = get_channel_layer()
    socket = Socket("connecting")
    socket.channel_name = await fanout.register(layer, socket)
    await fanout.hear(layer, "user_inbox_4", socket)

    await fanout.group_send(layer, "user_inbox_4", {"type": "session.ended", "n": 1})
    await fanout.send(layer, socket.channel_name, {"type": "access.revoked", "n": 2})
    await _until(lambda: socket.fanout_backlog is not None and len(socket.fanout_backlog) == 2)
    assert socket.handled == []

    fanout.resume(socket)
    assert socket.handled == [1, 2]
    await fanout.stop_hearing(layer, "user_inbox_4", socket)
    fanout.unregister(socket)


@pytest.mark.asyncio
async def test_a_message_for_no_one_is_logged_and_the_inbox_reads_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    layer = get_channel_layer()
    (socket,) = await _registered(layer, "reader")
    inbox = socket.channel_name.rpartition("!")[0]

    await layer.send(inbox, {"type": "session.ended", "n": 1})  # neither address nor group
    await fanout.send(layer, f"{inbox}!gone", {"type": "access.revoked", "n": 2})
    await fanout.send(layer, socket.channel_name, {"type": "access.revoked", "n": 3})

    await _until(lambda: socket.handled == [3])
    assert "reached the inbox for no one" in caplog.text
    fanout.unregister(socket)


@pytest.mark.asyncio
async def test_the_last_socket_out_closes_the_inbox_and_the_next_gets_a_fresh_one() -> None:
    layer = get_channel_layer()
    (first,) = await _registered(layer, "first")
    await fanout.hear(layer, "user_inbox_5", first)
    await fanout.stop_hearing(layer, "user_inbox_5", first)
    fanout.unregister(first)

    (second,) = await _registered(layer, "second")
    assert second.channel_name.rpartition("!")[0] != first.channel_name.rpartition("!")[0]
    await fanout.send(layer, first.channel_name, {"type": "access.revoked", "n": 1})
    await fanout.send(layer, second.channel_name, {"type": "access.revoked", "n": 2})

    await _until(lambda: second.handled == [2])
    assert first.handled == []
    client = limits.shared_redis()
    assert client is not None
    old = first.channel_name.rpartition("!")[0]
    async with asyncio.timeout(5):  # unsubscribed as its reader ends, a moment after
        while await client.pubsub_numsub(old) != [(old.encode(), 0)]:
            await asyncio.sleep(0.01)
    fanout.unregister(second)


class SlowToJoin:
    """The real layer, whose joins take a moment to reach Redis (a reconnection, a busy
    server)."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.layer, name)

    async def group_add(self, group: str, channel: str) -> None:
        await asyncio.sleep(0.05)
        await self.layer.group_add(group, channel)


@pytest.mark.asyncio
async def test_a_socket_gone_as_it_joins_leaves_its_group_unheard_in_redis() -> None:
    """Joining and leaving at once (a tab closed as it opens) ends with the process's inbox
    out of the group in Redis too, not subscribed to it for nobody."""
    layer = SlowToJoin(get_channel_layer())
    (socket,) = await _registered(layer, "blink")
    client = limits.shared_redis()
    assert client is not None
    group = "user_inbox_6"
    redis_channel = f"{layer.prefix}__group__{group}"

    await asyncio.gather(
        fanout.hear(layer, group, socket), fanout.stop_hearing(layer, group, socket)
    )

    assert await client.pubsub_numsub(redis_channel) == [(redis_channel.encode(), 0)]
    fanout.unregister(socket)


class FailingToLeaveOnce:
    """The real layer, whose first leave fails half-way as the pub/sub layer's does when
    Redis is away for a moment: the channel is out of the layer's own list of the group,
    and Redis still has the process subscribed."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.failed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.layer, name)

    async def group_discard(self, group: str, channel: str) -> None:
        if not self.failed:
            self.failed = True
            self.layer.groups[self.layer._get_group_channel_name(group)].discard(channel)
            raise ConnectionError("Redis away")
        await self.layer.group_discard(group, channel)


@pytest.mark.asyncio
async def test_a_leave_that_failed_is_tried_again_by_the_sweeps_tidy() -> None:
    layer = FailingToLeaveOnce(get_channel_layer())
    going, staying = await _registered(layer, "going", "staying")
    group = "user_inbox_7"
    redis_channel = f"{layer.prefix}__group__{group}"
    await fanout.hear(layer, group, going)
    with pytest.raises(ConnectionError):
        await fanout.stop_hearing(layer, group, going)
    fanout.unregister(going)
    client = limits.shared_redis()
    assert client is not None
    assert await client.pubsub_numsub(redis_channel) == [(redis_channel.encode(), 1)]

    await fanout.tidy()

    assert await client.pubsub_numsub(redis_channel) == [(redis_channel.encode(), 0)]
    fanout.unregister(staying)


@pytest.mark.asyncio
async def test_a_member_back_after_a_failed_leave_hears_their_group() -> None:
    """Their last tab closed as Redis blinked, and they reload before the next sweep."""
    layer = FailingToLeaveOnce(get_channel_layer())
    going, staying = await _registered(layer, "going", "staying")
    group = "user_inbox_8"
    await fanout.hear(layer, group, going)
    with pytest.raises(ConnectionError):
        await fanout.stop_hearing(layer, group, going)
    fanout.unregister(going)

    (back,) = await _registered(layer, "back")
    await fanout.hear(layer, group, back)
    await fanout.group_send(layer, group, {"type": "session.ended", "n": 1})

    await _until(lambda: back.handled == [1])
    await fanout.stop_hearing(layer, group, back)
    for socket in (staying, back):
        fanout.unregister(socket)


EMBEDDED_INBOX = """
import asyncio, collections, django
django.setup()
from channels.layers import get_channel_layer
from rooms import fanout

class Socket:
    fanout_backlog = None
    fanout_gone = False
    def __init__(self):
        self.handled = []
    async def dispatch(self, message):
        self.handled.append(message["n"])

async def main():
    layer = get_channel_layer()
    socket = Socket()
    socket.channel_name = await fanout.register(layer, socket)
    fanout.resume(socket)
    await fanout.hear(layer, "user_1", socket)
    for n in range(300):  # a sweep's revocations, all at once
        await fanout.send(layer, socket.channel_name, {"type": "access.revoked", "n": n})
    await fanout.group_send(layer, "user_1", {"type": "session.ended", "n": 300})
    async with asyncio.timeout(5):
        while len(socket.handled) < 301:
            await asyncio.sleep(0.01)
    print(socket.handled == list(range(301)))

asyncio.run(main())
"""


def test_the_embedded_default_inbox_takes_a_sweeps_worth_at_once() -> None:
    """Without Redis (`make run`), Channels' in-memory layer: its channel names have a "!"
    already, and its channels hold 100 messages unless told otherwise."""
    result = subprocess.run(
        [sys.executable, "-c", EMBEDDED_INBOX],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True"


@pytest.mark.asyncio
async def test_a_crowd_joined_and_left_at_once_leaves_no_subscription_behind() -> None:
    """A socket that joins a room and goes at once (a tab closed as it opens): the relay's
    reader, cancelled as the last socket leaves, unsubscribes its channel in Redis."""
    layer = get_channel_layer()
    socket = Socket("blink")
    await fanout.join(layer, "room_fanout_9", socket, hold=False)
    channel = fanout._groups()["room_fanout_9"].channel
    await fanout.leave(layer, "room_fanout_9", socket)

    client = limits.shared_redis()
    assert client is not None
    async with asyncio.timeout(5):
        while await client.pubsub_numsub(channel) != [(channel.encode(), 0)]:
            await asyncio.sleep(0.01)

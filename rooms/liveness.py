"""This server process's member sockets (rooms and lobby), looked after together every
`TOUCH_INTERVAL`.

One sweep, a trip to the database per `SWEEP_SLICE` of them, instead of work on every
client ping:
- their presence rows are touched (so the rows of a process that died go stale and are
  pruned) and their rooms kept active (so a room with people inside never closes as idle);
- their places among their members' sockets (rooms.sockets.limits) are renewed;
- a row pruned while the process stalled is put back, and its socket told so;
- sockets whose session ended or whose password changed, whose account closed, whose member
  was removed or uninvited, or whose room closed without a broadcast reaching them (another
  process's missed message) are told to say goodbye.
Pushed kicks (rooms.broadcast) are immediate; the sweep bounds how late a missed one is.
"""

import asyncio
import logging
from dataclasses import dataclass

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from core.memory import release_free_memory
from rooms import broadcast, fanout
from rooms.presence import TOUCH_INTERVAL, connections_check, presence_remove
from rooms.sockets import limits

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Watched:
    room_id: int | None  # None: a lobby socket
    user_id: int
    session_key: str


_watched: dict[str, Watched] = {}
_task: asyncio.Task[None] | None = None
# After this many sockets have arrived since the last trim (a crowd), the next sweep hands
# the memory their arrivals used and freed back to the system (core.memory).
TRIM_AFTER_ARRIVALS = 50
_arrived = 0
# Sockets looked after per trip to the database. The trip runs on the thread that every
# socket's database call in the process shares (Channels' `database_sync_to_async`), so a
# chat message sent meanwhile waits behind it: with 2,500 sockets in one trip, the messages
# of a 5,000-member room waited a second or more at every sweep (bench_rooms_scale).
SWEEP_SLICE = 250


def watch(channel_name: str, watched: Watched) -> None:
    global _task, _arrived
    _watched[channel_name] = watched
    _arrived += 1
    loop = asyncio.get_running_loop()
    if _task is None or _task.done() or _task.get_loop() is not loop:
        _task = loop.create_task(_sweep_forever())


def forget(channel_name: str) -> None:
    global _task
    _watched.pop(channel_name, None)
    if not _watched and _task is not None:
        _task.cancel()
        _task = None


async def _sweep_forever() -> None:
    while True:
        await asyncio.sleep(TOUCH_INTERVAL.total_seconds())
        try:
            await sweep()
        except Exception:
            # Each round covers every socket, so the next one makes up for this one; ending
            # the loop instead would let this process's presence rows go stale and be pruned.
            logger.exception("Liveness sweep failed; trying again in %s", TOUCH_INTERVAL)


async def sweep() -> None:
    """One round over this process's sockets (the loop runs it; tests call it directly)."""
    global _arrived
    if _arrived >= TRIM_AFTER_ARRIVALS:
        _arrived = 0
        await asyncio.get_running_loop().run_in_executor(None, release_free_memory)
    names = list(_watched)
    for start in range(0, len(names), SWEEP_SLICE):
        # The later slices come seconds after the round began: sockets gone meanwhile have
        # had their row deleted and their place given back, and must not get them again.
        watched = {
            name: _watched[name] for name in names[start : start + SWEEP_SLICE] if name in _watched
        }
        if not watched:
            continue
        try:
            await _sweep_slice(watched)
        except Exception:
            # The other slices' sockets still need their rows touched and places renewed.
            logger.exception("Liveness sweep failed for %s sockets", len(watched))
    await fanout.tidy()


async def _sweep_slice(watched: dict[str, Watched]) -> None:
    revoked, restored = await database_sync_to_async(connections_check)(
        connections={
            name: (item.room_id, item.user_id, item.session_key) for name, item in watched.items()
        }
    )
    # As above, for the sockets that went while their slice was being checked.
    claims = [(item.user_id, name) for name, item in watched.items() if name in _watched]
    await limits.sockets_renew(claims=claims)
    layer = get_channel_layer()
    assert layer is not None
    for name, reason in revoked.items():
        await fanout.send(layer, name, {"type": "access.revoked", "reason": reason})
    # A socket that closed while this round was reading had its row deleted, and this round
    # may have put it back: take it away again, or it would linger as a ghost until pruned.
    closed = [name for name in restored if name not in _watched]
    for name in closed:
        await database_sync_to_async(presence_remove)(channel_name=name)
    restored = [name for name in restored if name in _watched]
    for name in restored:
        await fanout.send(layer, name, {"type": "presence.restored"})
        room_id = watched[name].room_id
        assert room_id is not None  # only room sockets have presence rows
        broadcast.presence_mark(room_id=room_id, user_id=watched[name].user_id)

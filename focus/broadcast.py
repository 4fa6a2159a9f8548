"""Every push to a focus table's sockets (group `focus_<block>_<table>`, on every server
process) goes through here: a tablemate's goal or outcome, a latecomer sitting down, a
tablemate leaving (docs/websocket-protocol.md, "The focus socket").

Consumers await them once their database helper has returned; services send them with
`rooms.broadcast.on_commit(...)`, so nobody hears of a change that was rolled back.
"""

from typing import Any

from rooms.broadcast import group_send
from rooms.encoding import encode


def table_group(block_id: int, table: int) -> str:
    return f"focus_{block_id}_{table}"


async def _send(block_id: int, table: int, frame: dict[str, Any]) -> None:
    event = {"type": frame["type"], "frame": encode(frame)}
    await group_send(table_group(block_id, table), event)


async def mate_changed(*, block_id: int, table: int, mate: dict[str, Any]) -> None:
    """A tablemate's goal or outcome changed, or they just sat down at the table: `mate` as
    `focus.sessions.Tablemate.data()` gives it."""
    await _send(block_id, table, {"type": "focus.mate", **mate})


async def mate_left(*, block_id: int, table: int, user_id: int) -> None:
    """The member gave back their seat: their table's pages take them off."""
    await _send(block_id, table, {"type": "focus.mate_left", "user": {"id": user_id}})

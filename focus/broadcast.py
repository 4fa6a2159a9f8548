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


async def _send(block_id: int, table: int, frame: dict[str, Any], **event_fields: Any) -> None:
    event = {"type": frame["type"], "frame": encode(frame), **event_fields}
    await group_send(table_group(block_id, table), event)


async def mate_changed(*, block_id: int, table: int, mate: dict[str, Any]) -> None:
    """A tablemate's goal or outcome changed, or they just sat down at the table: `mate` as
    `focus.sessions.Tablemate.data()` gives it."""
    await _send(block_id, table, {"type": "focus.mate", **mate}, about=mate["user"]["id"])


async def mate_left(*, block_id: int, table: int, user_id: int) -> None:
    """The member gave back their seat: their table's pages take them off."""
    await _send(
        block_id, table, {"type": "focus.mate_left", "user": {"id": user_id}}, about=user_id
    )


async def mate_moved(
    *,
    block_id: int,
    from_table: int,
    mover: dict[str, Any],
    to_table: int,
    mates: list[dict[str, Any]],
) -> None:
    """A block made at their table moved `mover` (as `Tablemate.data()` gives it) to
    another table (focus.sessions.tables_part). The old table's pages take them off; their
    own pages, in the old table's group too, move to the new table with `mates`, its
    people; the new table hears of them as of a latecomer."""
    await _send(
        block_id,
        from_table,
        {"type": "focus.moved", "user": {"id": mover["user"]["id"]}},
        user_id=mover["user"]["id"],
        left=encode({"type": "focus.mate_left", "user": {"id": mover["user"]["id"]}}),
        to_table=to_table,
        seated=encode({"type": "focus.table", "table": to_table, "mates": mates}),
    )
    await mate_changed(block_id=block_id, table=to_table, mate=mover)

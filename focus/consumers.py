"""A focus block's socket (docs/websocket-protocol.md, "Focus sessions"): the block room's
socket, with its chat, presence and the table's call, plus the ritual's frames.

The clock is the server's, and no process keeps it: each socket computes the block's next
phase change from the stored start (focus.ritual) and, at that moment, tells its page. A
socket that reconnects, or a process that restarted, computes the same moments. At the
start, the first socket of each process asks for the tables (drawn once for everyone:
focus.sessions.tables_draw) and every socket of that process is given its own table from
that one answer.
"""

import asyncio
import logging
from collections.abc import Collection
from datetime import datetime
from typing import Any, ClassVar

from channels.db import database_sync_to_async
from django.utils import timezone

from focus import broadcast, sessions
from focus.broadcast import table_group
from focus.models import GOAL_MAX_LENGTH, FocusBlock, FocusError, Seat
from focus.ritual import Phase, moment_at
from focus.services import seat_goal_set
from members.models import User
from rooms.consumers import RoomConsumer
from rooms.models import Room
from rooms.services import room_writing_check
from rooms.sockets.base import CLOSE_UNKNOWN_ROOM, Handler, MemberSocket
from rooms.sockets.frames import FrameError

logger = logging.getLogger(__name__)

# A goal frame longer than this is refused before it is read (the goal itself is 280).
GOAL_FRAME_MAX = 4 * GOAL_MAX_LENGTH


@database_sync_to_async
def _arrive(room_id: int, user: User) -> tuple[FocusBlock, sessions.Arrival] | None:
    block = FocusBlock.objects.filter(room_id=room_id).first()
    if block is None:
        return None
    return block, sessions.seat_arrive(block=block, user=user)


@database_sync_to_async
def _state(block: FocusBlock, seat: Seat | None, hidden: Collection[int]) -> dict[str, Any]:
    return sessions.session_state(block=block, seat=seat, now=timezone.now(), hidden=hidden)


@database_sync_to_async
def _mates_among(block: FocusBlock, user: User, user_ids: Collection[int]) -> list[int]:
    return sessions.mates_among(block=block, user=user, user_ids=user_ids)


@database_sync_to_async
def _arrival_of(block: FocusBlock, user: User) -> sessions.Arrival:
    return sessions.seat_arrive(block=block, user=user)


@database_sync_to_async
def _goal(seat_id: int, goal: str) -> Seat:
    seat = Seat.objects.select_related("block", "user").get(pk=seat_id)
    if seat.cancelled_at is not None:
        raise sessions.NoSeat
    if seat.block.ends_at <= timezone.now():
        raise sessions.BlockOver
    # Tablemates read it live: muted in the block's room, a member writes no goal either.
    if seat.block.room_id is not None:
        room_writing_check(room_id=seat.block.room_id, user=seat.user)
    return seat_goal_set(seat=seat, goal=goal)


@database_sync_to_async
def _outcome(seat_id: int, outcome: str) -> Seat:
    seat = Seat.objects.select_related("block", "user").get(pk=seat_id)
    if seat.cancelled_at is not None:
        raise sessions.NoSeat
    return sessions.seat_outcome_set(seat=seat, outcome=outcome)


@database_sync_to_async
def _draw(block: FocusBlock) -> dict[int, list[dict[str, Any]]]:
    """Every table's people, by table number (one answer for all of a process's sockets)."""
    sessions.tables_draw(block=block)
    return {
        table: [mate.data() for mate in mates]
        for table, mates in sessions.tables_seated(block=block).items()
    }


# The tables of each block, drawn once per process at its start (by the first socket whose
# timer fires), for every socket of this process to read its own from.
_draws: dict[int, asyncio.Task[dict[int, list[dict[str, Any]]]]] = {}


def _tables_of(block: FocusBlock) -> asyncio.Task[dict[int, list[dict[str, Any]]]]:
    task = _draws.get(block.pk)
    if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
        task = _draws[block.pk] = asyncio.ensure_future(_draw(block))
        # Forgotten once the block is over; a late socket then asks the database itself.
        asyncio.get_running_loop().call_later(
            max(0.0, (block.ends_at - timezone.now()).total_seconds()) + 60,
            _draws.pop,
            block.pk,
            None,
        )
    return task


def _refusing(handler: Handler) -> Handler:
    """A focus refusal answers as an error frame with its own code and message."""

    async def refusing(self: MemberSocket, content: dict[str, Any]) -> None:
        try:
            await handler(self, content)
        except FocusError as exc:
            await self.refuse(exc.code, str(exc), about=content)

    return refusing


# WebSocket's "internal error": the page's socket reconnects after it, as after any drop.
CLOSE_SERVER_FAILURE = 1011


class FocusFrames(MemberSocket):
    block: FocusBlock | None = None
    seat: Seat | None = None
    clock: asyncio.Task[None] | None = None

    def focus_start(self, block: FocusBlock, seat: Seat | None) -> None:
        self.block, self.seat = block, seat
        self.clock = asyncio.ensure_future(self._run_clock())

    def focus_stop(self) -> None:
        if self.clock is not None:
            self.clock.cancel()
            self.clock = None

    async def _run_clock(self) -> None:
        """Tell the page each phase change at its moment, until the block is over. A failure
        is logged, told to the page, and closes the socket as a server failure (1011, not a
        goodbye): the page connects again, and its new socket's clock starts over from the
        server's moment. Without the close, nothing would ever move the page on."""
        try:
            await self._tick_phases()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Focus clock of %s failed", self.channel_name)
            await self.send_error("server_error")
            await self.close(code=CLOSE_SERVER_FAILURE)

    async def _tick_phases(self) -> None:
        assert self.block is not None
        block = self.block
        at = timezone.now()
        if self.seat is not None and self.seat.arrived_at is None:
            # A page open since long before the start: here when arrivals begin to count,
            # so it is at a table when the tables are drawn.
            counts_from = block.starts_at - sessions.ARRIVE_FROM
            while (wait := (counts_from - timezone.now()).total_seconds()) > 0:
                await asyncio.sleep(wait)
            if timezone.now() < block.ends_at:
                arrival = await _arrival_of(block, self.user)
                self.seat = arrival.seat or self.seat
        while True:
            boundary = moment_at(block.starts_at, block.minutes, at).ends_at
            if boundary is None:
                return
            # Event loops' timers may fire a little early (uvloop's by a millisecond): wait
            # out the rest, and go on from the boundary itself, so no change is told twice.
            while (left := (boundary - timezone.now()).total_seconds()) > 0:
                await asyncio.sleep(left)
            await self._phase_changed(boundary)
            at = boundary

    async def _phase_changed(self, at: datetime) -> None:
        assert self.block is not None
        block = self.block
        moment = moment_at(block.starts_at, block.minutes, at)
        await self.send_json(
            {
                "type": "focus.phase",
                "phase": str(moment.phase),
                "ends_at": moment.ends_at.isoformat() if moment.ends_at else None,
                "now": timezone.now().isoformat(),
            }
        )
        if moment.phase == Phase.CHECK_IN and self.seat is not None:
            # Shielded: this page closing mid-draw must not cancel the draw the process's
            # other pages wait on.
            tables = await asyncio.shield(_tables_of(block))
            # The one answer says every table's people: this member's table is read from it.
            for number, mates in tables.items():
                if any(mate["user"]["id"] == self.user.pk for mate in mates):
                    self.seat.table = number
                    await self._seated(mates)

    async def _seated(self, mates: list[dict[str, Any]]) -> None:
        """Tell the page its table, and hear of its tablemates from now on."""
        assert self.block is not None and self.seat is not None
        if self.seat.table is None:
            # Not arrived when the tables were drawn: seated on arrival instead.
            return
        await self.join_group(table_group(self.block.pk, self.seat.table))
        await self.send_json({"type": "focus.table", "table": self.seat.table, "mates": mates})

    async def _my_seat(self) -> Seat:
        if self.block is None:
            raise FrameError("unknown_type")
        if self.seat is None:
            raise sessions.NoSeat
        return self.seat

    async def _tell_table(self, seat: Seat) -> None:
        if seat.table is None or self.block is None:
            return
        await broadcast.mate_changed(
            block_id=self.block.pk, table=seat.table, mate=sessions.Tablemate.of(seat).data()
        )

    async def on_goal(self, content: dict[str, Any]) -> None:
        goal = content.get("goal")
        if not isinstance(goal, str) or len(goal) > GOAL_FRAME_MAX:
            raise FrameError("invalid_fields")
        # Written and told to the table, as a chat message is: the same budget.
        await self.spend("chat")
        seat = await _goal((await self._my_seat()).pk, goal)
        self.seat = seat
        await self.send_json({"type": "focus.saved", "goal": seat.goal, "outcome": seat.outcome})
        await self._tell_table(seat)

    async def on_outcome(self, content: dict[str, Any]) -> None:
        outcome = content.get("outcome")
        if not isinstance(outcome, str):
            raise FrameError("invalid_fields")
        await self.spend("chat")
        seat = await _outcome((await self._my_seat()).pk, outcome)
        self.seat = seat
        await self.send_json({"type": "focus.saved", "goal": seat.goal, "outcome": seat.outcome})
        await self._tell_table(seat)

    async def on_call_join(self, content: dict[str, Any]) -> None:
        """The table's call: the member's own table, whatever the page asked for."""
        seat = await self._my_seat()
        if seat.table is None:
            raise sessions.NoTableYet
        await super().on_call_join({**content, "table": seat.table})  # type: ignore[misc]

    HANDLERS: ClassVar[dict[str, Handler]] = {
        "focus.goal": _refusing(on_goal),
        "focus.outcome": _refusing(on_outcome),
        "call.join": _refusing(on_call_join),
    }

    # Group events (focus.broadcast): a tablemate's goal or outcome, a latecomer at the
    # table, a tablemate who gave back their seat.

    async def focus_mate(self, event: dict[str, Any]) -> None:
        # A tablemate blocked after the block's end (no longer moved apart: the hour of
        # outcomes) is no longer heard of.
        if event.get("about") in self.blocked:
            return
        await self.send(text_data=event["frame"])

    focus_mate_left = focus_mate


class FocusConsumer(FocusFrames, RoomConsumer):
    """One member's connection to a focus block's page."""

    ROOM_KINDS: ClassVar[frozenset[str]] = frozenset({Room.Kind.FOCUS})

    HANDLERS: ClassVar[dict[str, Handler]] = {
        **RoomConsumer.HANDLERS,
        **FocusFrames.HANDLERS,
    }

    def gets_up_after_a_block(self) -> bool:
        # Until the block's end, focus moves the blocker to another table instead (told
        # `moved`, focus.sessions.tables_part); in the hour after it, nobody is moved, and
        # the table's call is like a room's.
        return self.block is None or timezone.now() >= self.block.ends_at

    async def access_check(self, event: dict[str, Any]) -> None:
        """A block made in the hour after the end, between two at one table: the page takes
        the other off at once. (Before the end the blocker moves instead, and each page
        hears of it as of any move: focus.sessions.tables_part.) Only about a tablemate:
        anyone else would learn who blocked them."""
        before = self.blocked
        await super().access_check(event)
        newly = set(self.blocked) - set(before)
        if self.closing or not newly or self.block is None or not self.gets_up_after_a_block():
            return
        for user_id in await _mates_among(self.block, self.user, newly):
            await self.send_json({"type": "focus.mate_left", "user": {"id": user_id}})

    async def connect(self) -> None:
        await super().connect()
        if self.room is None or not self.joined:
            return
        arrived = await _arrive(self.room.pk, self.user)
        if arrived is None:  # not a focus block's room
            await self.close(code=CLOSE_UNKNOWN_ROOM)
            return
        block, arrival = arrived
        seat = arrival.seat
        if seat is not None and seat.table is not None:
            # The table is heard before its people are read for `focus.hello`: a
            # tablemate's goal set meanwhile follows the greeting.
            await self.join_group(table_group(block.pk, seat.table))
        state = await _state(block, seat, self.blocked)
        self.focus_start(block, seat)
        await self.send_json({"type": "focus.hello", **state})
        if seat is not None and seat.table is not None and arrival.seated_late:
            await self._tell_table(await _seat_with_user(seat.pk))

    async def disconnect(self, code: int) -> None:
        self.focus_stop()
        await super().disconnect(code)

    async def focus_moved(self, event: dict[str, Any]) -> None:
        """A block made at this table moved one of its people to another (focus.broadcast.
        mate_moved). The others take them off. Their own pages move with them: the new
        table's group and people, and out of the old table's call (the page says so; the
        new table's call is theirs to join)."""
        if event["user_id"] != self.user.pk or self.block is None or self.seat is None:
            await self.send(text_data=event["left"])
            return
        if self.seat.table is not None:
            await self.leave_group(table_group(self.block.pk, self.seat.table))
        self.seat.table = event["to_table"]
        await self.join_group(table_group(self.block.pk, event["to_table"]))
        if self.table is not None:
            await self.call_depart()
            await self.send_json({"type": "call.left", "reason": "moved"})
        await self.send(text_data=event["seated"])


@database_sync_to_async
def _seat_with_user(seat_id: int) -> Seat:
    return Seat.objects.select_related("user").get(pk=seat_id)

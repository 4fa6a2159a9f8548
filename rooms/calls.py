"""Calls: who sits at which table of a room, and whom a connection may signal.

A call is a table. A meeting room has one, number 1; the cafeteria has as many as people
start, numbered from 1, each existing while somebody sits at it. A seat is a connection's
`Presence` row with `table` set, and the row's id is the connection's peer id. The media
flows between the browsers (a mesh, docs/calls.md); the server only hands signalling frames
from one peer to another at the same table (docs/websocket-protocol.md, "Calls").

Taking a seat locks the room's row, so seats in a room are handed out one at a time and the
cap (`CALL_MAX_PARTICIPANTS`) holds however many people click "Join" at once. Leaving takes
the same lock, so a newcomer's list of peers and the goodbyes the others hear agree.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Block, User
from members.services import blocked_user_ids
from rooms.models import Presence, Room, RoomError
from rooms.presence import PRESENCE_TTL, presence_add

MEETING_ROOM_TABLE = 1
# PositiveSmallIntegerField's ceiling: more cafeteria tables than anyone will ever start.
TABLE_MAX = 32767


class CallFull(RoomError):
    code = "call_full"
    default_message = _("This call is full.")


class AlreadyInCall(RoomError):
    code = "already_in_call"
    default_message = _("You are already in a call in this room (perhaps in another tab).")


class NoTable(RoomError):
    code = "no_table"
    default_message = _("Nobody sits at this table any more.")


class BlockedAtTable(RoomError):
    code = "blocked_at_table"
    default_message = _("You cannot sit at this table.")


class JoiningTooOften(RoomError):
    code = "joining_too_often"
    default_message = _("You joined calls too often just now. Wait a few seconds and try again.")


class NotInCall(RoomError):
    code = "not_in_call"
    default_message = _("You are not in a call.")


class NoPeer(RoomError):
    code = "no_peer"
    default_message = _("This participant is not in your call.")


@dataclass(frozen=True)
class Peer:
    """One connection in a call, as the others see it."""

    peer: int
    user_id: int
    name: str
    audio: bool
    video: bool
    screen: bool
    channel_name: str

    def data(self) -> dict[str, Any]:
        return {
            "peer": self.peer,
            "user": {"id": self.user_id, "name": self.name},
            "audio": self.audio,
            "video": self.video,
            "screen": self.screen,
        }


@dataclass(frozen=True)
class Departure:
    """A connection that left a table, and the channels of those still sitting there."""

    peer: int
    room_id: int
    user_id: int
    table: int
    channel_name: str
    remaining: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Seat:
    """Where `call_join` seated a connection: its table, itself, the others already there,
    and the member's other connection it replaced, if asked to."""

    table: int
    me: Peer
    peers: list[Peer]
    replaced: list[Departure]


def _live(*, now: datetime) -> QuerySet[Presence]:
    return Presence.objects.filter(heartbeat_at__gte=now - PRESENCE_TTL)


def _peer(row: Presence) -> Peer:
    return Peer(
        peer=row.pk,
        user_id=row.user_id,
        name=row.user.name,
        audio=row.audio,
        video=row.video,
        screen=row.screen,
        channel_name=row.channel_name,
    )


def _lock(room_id: int) -> None:
    Room.objects.select_for_update().filter(pk=room_id).values_list("pk").first()


def _remaining(*, room_id: int, table: int, now: datetime) -> list[str]:
    return list(
        _live(now=now).filter(room_id=room_id, table=table).values_list("channel_name", flat=True)
    )


_SEAT_FIELDS = ("pk", "room_id", "user_id", "table", "channel_name")


def _vacate(seat: dict[str, Any], *, now: datetime) -> Departure | None:
    """Clear a seat (`_SEAT_FIELDS` values), if it is still that one, and say who must hear."""
    cleared = Presence.objects.filter(pk=seat["pk"], table=seat["table"]).update(
        table=None, audio=False, video=False, screen=False
    )
    if not cleared:
        return None
    return Departure(
        peer=seat["pk"],
        room_id=seat["room_id"],
        user_id=seat["user_id"],
        table=seat["table"],
        channel_name=seat["channel_name"],
        remaining=_remaining(room_id=seat["room_id"], table=seat["table"], now=now),
    )


def _table_number(*, room: Room, table: int | None, occupied: set[int]) -> int:
    if room.kind == Room.Kind.FOCUS:
        # A focus block's tables are drawn by the block; its socket names the member's.
        if table is None:
            raise NoTable
        return table
    if not room.is_cafeteria:
        if table not in (None, MEETING_ROOM_TABLE):
            raise NoTable
        return MEETING_ROOM_TABLE
    if table is None:
        # Start a table: the lowest number nobody sits at.
        return min(set(range(1, len(occupied) + 2)) - occupied)
    if table not in occupied:
        raise NoTable
    return table


@transaction.atomic
def call_join(
    *,
    room: Room,
    user: User,
    channel_name: str,
    table: int | None,
    audio: bool,
    video: bool,
    replace: bool = False,
    now: datetime | None = None,
) -> Seat:
    """Seat the connection `channel_name` at `table` (None: the meeting room's call, or a new
    cafeteria table). Raises AlreadyInCall (this connection, or another of the member's in
    this room unless `replace`), NoTable, CallFull or BlockedAtTable (someone on either side
    of a block with `user` sits there).

    Locks the room's row until the transaction ends. With `replace`, the member's other
    seats in this room are vacated: `Seat.replaced` says whom to tell.
    """
    now = now or timezone.now()
    _lock(room.pk)
    me = Presence.objects.filter(channel_name=channel_name, room=room).first()
    if me is None:
        # Pruned while the connection stalled; it is evidently back.
        me = presence_add(room=room, user=user, channel_name=channel_name, now=now)
    if me.table is not None:
        raise AlreadyInCall
    seated = _live(now=now).filter(room=room, table__isnull=False).exclude(pk=me.pk)
    mine = list(seated.filter(user=user).values(*_SEAT_FIELDS))
    if mine and not replace:
        raise AlreadyInCall
    occupied = {number for number in seated.values_list("table", flat=True) if number}
    number = _table_number(room=room, table=table, occupied=occupied)
    others = list(
        seated.filter(table=number).exclude(user=user).select_related("user").order_by("pk")
    )
    if len(others) >= settings.CALL_MAX_PARTICIPANTS:
        raise CallFull
    if blocked_user_ids(user=user) & {row.user_id for row in others}:
        raise BlockedAtTable
    replaced = [d for row in mine if (d := _vacate(row, now=now)) is not None]
    Presence.objects.filter(pk=me.pk).update(table=number, audio=audio, video=video, screen=False)
    return Seat(
        table=number,
        me=Peer(
            peer=me.pk,
            user_id=user.pk,
            name=user.name,
            audio=audio,
            video=video,
            screen=False,
            channel_name=channel_name,
        ),
        peers=[_peer(row) for row in others],
        replaced=replaced,
    )


@transaction.atomic
def call_leave(*, channel_name: str, now: datetime | None = None) -> Departure | None:
    """Vacate the connection's seat. None when it sat nowhere. Locks the room's row."""
    now = now or timezone.now()
    seat = (
        Presence.objects.filter(channel_name=channel_name, table__isnull=False)
        .values(*_SEAT_FIELDS)
        .first()
    )
    if seat is None:
        return None
    _lock(seat["room_id"])
    return _vacate(seat, now=now)


def call_prune(*, now: datetime) -> list[Departure]:
    """Vacate the seats of connections not touched for `PRESENCE_TTL` (their server process
    died), before `rooms.presence.presence_prune` deletes their rows. Idempotent: a seat is
    cleared by a conditional UPDATE, so a second run finds nothing to tell."""
    stale = Presence.objects.filter(heartbeat_at__lt=now - PRESENCE_TTL, table__isnull=False)
    departures = []
    for seat in stale.values(*_SEAT_FIELDS):
        departure = _vacate(seat, now=now)
        if departure is not None:
            departures.append(departure)
    return departures


def blocks_someone_at_its_table(*, channel_name: str, user_id: int) -> bool:
    """Whether the member blocked someone sitting at this connection's table: a block made
    while both sat there, after which the blocker gets up (`call.left` `blocked`)."""
    seat = (
        Presence.objects.filter(channel_name=channel_name, table__isnull=False)
        .values("room_id", "table")
        .first()
    )
    if seat is None:
        return False
    others = Presence.objects.filter(room_id=seat["room_id"], table=seat["table"]).exclude(
        channel_name=channel_name
    )
    return Block.objects.filter(
        blocker_id=user_id, blocked_id__in=others.values("user_id")
    ).exists()


def call_target(*, channel_name: str, peer: int) -> tuple[int, int, str]:
    """Check that the connection sits at a table and `peer` sits at the same one (another
    connection, same room). Returns `(sender's peer id, table, peer's channel name)`; raises
    NotInCall or NoPeer. One query."""
    rows = {
        row["pk"]: row
        for row in Presence.objects.filter(Q(channel_name=channel_name) | Q(pk=peer)).values(
            "pk", "room_id", "table", "channel_name"
        )
    }
    mine = next((row for row in rows.values() if row["channel_name"] == channel_name), None)
    if mine is None or mine["table"] is None:
        raise NotInCall
    target = rows.get(peer)
    if (
        target is None
        or target is mine
        or target["room_id"] != mine["room_id"]
        or target["table"] != mine["table"]
    ):
        raise NoPeer
    return mine["pk"], mine["table"], target["channel_name"]


def call_media(
    *, channel_name: str, audio: bool, video: bool, screen: bool, now: datetime | None = None
) -> tuple[int, int, list[str]]:
    """Record what the connection sends now. Returns its peer id, its table and the channels
    of the others at that table; raises NotInCall."""
    row = Presence.objects.filter(channel_name=channel_name, table__isnull=False).first()
    if row is None or row.table is None:
        raise NotInCall
    Presence.objects.filter(pk=row.pk).update(audio=audio, video=video, screen=screen)
    remaining = _remaining(room_id=row.room_id, table=row.table, now=now or timezone.now())
    return row.pk, row.table, [name for name in remaining if name != channel_name]

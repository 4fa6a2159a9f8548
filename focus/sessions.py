"""A focus block while it is on (docs/focus.md, "The session"): its room, who arrived, the
tables drawn at the start, and what each table shares (goals, how it went).

The block's room is a private room of kind `focus`: its presence and chat are the rooms
app's, and each table is one of its calls. Members with a seat are its invitees. The tables
are drawn once, by whoever asks first when the block starts (a socket's timer or the beat's
tick), among those who arrived; later arrivals sit at the table with most room that blocks
allow. Everything here is computed from stored rows and times, so a reconnect or a restart
finds the same state.
"""

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.access import staff_may
from focus import broadcast
from focus.models import FocusBlock, FocusError, Seat
from focus.ritual import Phase, moment_at
from focus.services import BlockCancelled, BlockOver
from focus.tables import TABLE_SIZE, Sitter, tables_assign
from matching.models import GroupMember
from members.models import Block, Language, User
from rooms import rights
from rooms.broadcast import on_commit as broadcast_on_commit
from rooms.models import FOCUS_ROOM_NAME, Room

# A member's page counts as arriving from this long before the start.
ARRIVE_FROM = timedelta(minutes=10)
# How it went may be said until this long after the end.
OUTCOME_UNTIL = timedelta(hours=1)


class NoSeat(FocusError):
    code = "no_seat"
    default_message = _("You have no seat in this block.")


class NoTableYet(FocusError):
    code = "no_table_yet"
    default_message = _("Your table is given when the block starts.")


class NotYet(FocusError):
    code = "not_yet"
    default_message = _("You can say how it went at the check-out.")


def block_page_of_room(room: Room) -> str:
    """The page of the block whose room this is (rooms.pages); the blocks' list if the block
    is gone."""
    block_id = FocusBlock.objects.filter(room=room).values_list("pk", flat=True).first()
    return reverse("focus:session", args=[block_id]) if block_id else reverse("focus:blocks")


def room_slug(block: FocusBlock) -> str:
    return f"focus-{block.pk}"


@transaction.atomic
def block_room(*, block: FocusBlock) -> Room:
    """The block's room, made at the first need (under the block's row lock, so two first
    visitors make one room)."""
    locked = FocusBlock.objects.select_for_update(no_key=True).get(pk=block.pk)
    if locked.room_id is not None:
        block.room_id = locked.room_id
        return Room.objects.get(pk=locked.room_id)
    slug = room_slug(block)
    if Room.objects.filter(slug=slug).exists():
        # A member's room named "Focus 12" has it (a room's slug comes from its name): the
        # page and the socket go by the room, whatever its slug.
        slug = f"{slug}-{secrets.token_hex(3)}"
    room = Room.objects.create(
        kind=Room.Kind.FOCUS, name=(block.title or FOCUS_ROOM_NAME)[:80], slug=slug, private=True
    )
    FocusBlock.objects.filter(pk=block.pk).update(room=room)
    block.room = room
    return room


def seat_of(*, block: FocusBlock, user: User) -> Seat | None:
    return Seat.objects.filter(block=block, user=user, cancelled_at__isnull=True).first()


def session_enter(*, block: FocusBlock, user: User) -> tuple[Room, Seat | None]:
    """Open the block's room to a member with a seat (staff who may read rooms come in
    without one, to look after it: its room is private). Raises NoSeat, BlockCancelled."""
    if block.cancelled_at is not None:
        raise BlockCancelled
    seat = seat_of(block=block, user=user)
    if seat is None and not staff_may(user, rights.READ):
        raise NoSeat
    room = block_room(block=block)
    if seat is not None:
        room.invitees.add(user)
    return room, seat


@dataclass(frozen=True)
class Tablemate:
    user_id: int
    name: str
    goal: str
    outcome: str

    @classmethod
    def of(cls, seat: Seat) -> "Tablemate":
        return cls(user_id=seat.user_id, name=seat.user.name, goal=seat.goal, outcome=seat.outcome)

    def data(self) -> dict[str, Any]:
        return {
            "user": {"id": self.user_id, "name": self.name},
            "goal": self.goal,
            "outcome": self.outcome,
        }


def _sitters(seats: list[Seat]) -> tuple[list[Sitter], set[tuple[int, int]], set[tuple[int, int]]]:
    ids = [seat.user_id for seat in seats]
    spoken: dict[int, set[str]] = {i: set() for i in ids}
    through = Language.profiles.through.objects.filter(profile__user_id__in=ids)
    for user_id, code in through.values_list("profile__user_id", "language_id"):
        spoken[user_id].add(code)
    blocked = set(
        Block.objects.filter(blocker_id__in=ids, blocked_id__in=ids).values_list(
            "blocker_id", "blocked_id"
        )
    )
    groups: dict[int, list[int]] = {}
    for group_id, user_id in GroupMember.objects.filter(user_id__in=ids).values_list(
        "group_id", "user_id"
    ):
        groups.setdefault(group_id, []).append(user_id)
    known = {(a, b) for members in groups.values() for a in members for b in members if a < b}
    # Nobody speaks nothing: a member with no languages listed shares the community's.
    sitters = [Sitter(id=i, languages=frozenset(spoken[i] or {"es"})) for i in ids]
    return sitters, blocked, known


def tables_draw(*, block: FocusBlock, now: datetime | None = None) -> dict[int, int]:
    """The tables, drawn once when the block starts, among the members who arrived: a map
    from member id to table number. Later calls return the same map (plus late arrivals).
    Before the start it draws nothing and returns {}."""
    now = now or timezone.now()
    if now < block.starts_at:
        return {}
    with transaction.atomic():
        locked = FocusBlock.objects.select_for_update(no_key=True).get(pk=block.pk)
        if locked.tables_at is None:
            arrived = list(
                Seat.objects.filter(
                    block=block, cancelled_at__isnull=True, arrived_at__isnull=False
                ).order_by("pk")
            )
            sitters, blocked, known = _sitters(arrived)
            tables = tables_assign(sitters, blocked=blocked, known=known)
            for number, members in enumerate(tables, start=1):
                Seat.objects.filter(
                    block=block, cancelled_at__isnull=True, user_id__in=members
                ).update(table=number)
            FocusBlock.objects.filter(pk=block.pk).update(tables_at=now)
            block.tables_at = now
    seated = Seat.objects.filter(block=block, cancelled_at__isnull=True, table__isnull=False)
    return {
        user_id: table
        for user_id, table in seated.values_list("user_id", "table").order_by("user_id")
        if table is not None
    }


def _table_for_latecomer(*, block: FocusBlock, seat: Seat) -> int:
    """The table with most room (the lowest number on a tie) where nobody blocks the
    latecomer either way; a new table when none has room. Also where a member moved away
    from a block made at their table sits (`tables_part`)."""
    sitting: dict[int, list[int]] = {}
    for user_id, table in tables_draw(block=block).items():
        sitting.setdefault(table, []).append(user_id)
    blocked = set(
        Block.objects.filter(Q(blocker_id=seat.user_id) | Q(blocked_id=seat.user_id)).values_list(
            "blocker_id", "blocked_id"
        )
    )
    shunned = {a for a, b in blocked} | {b for a, b in blocked}
    fits = [
        (len(members), number)
        for number, members in sitting.items()
        if len(members) < TABLE_SIZE and not shunned & set(members)
    ]
    if fits:
        return min(fits)[1]
    return max(sitting, default=0) + 1


def tables_part(*, blocker: User, blocked: User, now: datetime | None = None) -> int:
    """A block made while both sit at one table of a block that is on: the blocker sits at
    another table, chosen as for a latecomer, away from the blocked member's goals and call.
    The blocker moves, not the blocked member, who is never told of a block: to them and
    the others, the blocker left the table, as someone giving back their seat does. Once
    committed, the old table's pages take the blocker off, the blocker's own pages move to
    the new table (leaving the old table's call), and the new table hears of them. Locks the
    block's row, as seating does. Returns how many moved."""
    now = now or timezone.now()
    seats = Seat.objects.filter(
        user=blocker,
        cancelled_at__isnull=True,
        table__isnull=False,
        block__starts_at__lte=now,
        block__starts_at__gt=now - timedelta(minutes=max(FocusBlock.Length.values)),
    ).select_related("block", "user")
    moved = 0
    for seat in seats:
        if seat.block.ends_at <= now:
            continue
        with transaction.atomic():
            FocusBlock.objects.select_for_update(no_key=True).get(pk=seat.block_id)
            seat.refresh_from_db(fields=["table"])
            together = Seat.objects.filter(
                block_id=seat.block_id, user=blocked, cancelled_at__isnull=True, table=seat.table
            )
            if seat.table is None or not together.exists():
                continue
            old = seat.table
            seat.table = _table_for_latecomer(block=seat.block, seat=seat)
            seat.save(update_fields=["table"])
            broadcast_on_commit(
                broadcast.mate_moved,
                block_id=seat.block_id,
                from_table=old,
                mover=Tablemate.of(seat).data(),
                to_table=seat.table,
                mates=[mate.data() for mate in tablemates(block=seat.block, table=seat.table)],
            )
            moved += 1
    return moved


def tables_part_after_block(sender: Any, blocker: User, blocked: User, **kwargs: Any) -> None:
    """`members.signals.member_blocked`."""
    tables_part(blocker=blocker, blocked=blocked)


@dataclass(frozen=True)
class Arrival:
    seat: Seat | None
    # Given a table on this arrival, after the others sat down: the table must hear of it.
    seated_late: bool = False


def seat_arrive(*, block: FocusBlock, user: User, now: datetime | None = None) -> Arrival:
    """The member's page opened while the block is on (or about to be): record the first
    arrival and, once the block has started, seat them (drawing the tables if nobody has
    yet). No seat for staff who have none. Locks the block's row when seating."""
    now = now or timezone.now()
    seat = seat_of(block=block, user=user)
    if seat is None:
        return Arrival(None)
    if not block.starts_at - ARRIVE_FROM <= now < block.ends_at:
        return Arrival(seat)
    if seat.arrived_at is None:
        Seat.objects.filter(pk=seat.pk, arrived_at__isnull=True).update(arrived_at=now)
        seat.arrived_at = now
    if seat.table is None and now >= block.starts_at:
        # The first to arrive after the start, when no page was there to draw the tables
        # at its moment, draws them now.
        tables_draw(block=block, now=now)
        with transaction.atomic():
            FocusBlock.objects.select_for_update(no_key=True).get(pk=block.pk)
            seat.refresh_from_db(fields=["table"])
            if seat.table is None:
                seat.table = _table_for_latecomer(block=block, seat=seat)
                seat.save(update_fields=["table"])
                return Arrival(seat, seated_late=True)
    return Arrival(seat)


def tablemates(*, block: FocusBlock, table: int, hidden: Collection[int] = ()) -> list[Tablemate]:
    """The table's people, but those in `hidden` (the reader's blocks)."""
    seats = Seat.objects.filter(block=block, cancelled_at__isnull=True, table=table).exclude(
        user_id__in=hidden
    )
    return [Tablemate.of(seat) for seat in seats.select_related("user").order_by("pk")]


def mates_among(*, block: FocusBlock, user: User, user_ids: Collection[int]) -> list[int]:
    """Those of `user_ids` at the member's table in the block, in id order."""
    table = (
        Seat.objects.filter(block=block, user=user, cancelled_at__isnull=True)
        .values_list("table", flat=True)
        .first()
    )
    if table is None:
        return []
    return sorted(
        Seat.objects.filter(
            block=block, table=table, cancelled_at__isnull=True, user_id__in=user_ids
        ).values_list("user_id", flat=True)
    )


def tables_seated(*, block: FocusBlock) -> dict[int, list[Tablemate]]:
    """Every table's people, by table number, in one query."""
    tables: dict[int, list[Tablemate]] = {}
    seats = Seat.objects.filter(block=block, cancelled_at__isnull=True, table__isnull=False)
    for seat in seats.select_related("user").order_by("pk"):
        tables.setdefault(seat.table or 0, []).append(Tablemate.of(seat))
    return tables


def seat_outcome_set(*, seat: Seat, outcome: str, now: datetime | None = None) -> Seat:
    """How it went (done, partly, not), said from the check-out until an hour after."""
    now = now or timezone.now()
    if outcome not in Seat.Outcome.values:
        raise FocusError(str(_("Choose done, partly or not this time.")))
    block = seat.block
    if moment_at(block.starts_at, block.minutes, now).phase in (Phase.BEFORE, Phase.CHECK_IN):
        raise NotYet
    if now >= block.ends_at + OUTCOME_UNTIL:
        raise BlockOver
    seat.outcome = outcome
    seat.save(update_fields=["outcome"])
    return seat


def session_state(
    *,
    block: FocusBlock,
    seat: Seat | None,
    now: datetime,
    hidden: Collection[int],
) -> dict[str, Any]:
    """What a page needs to show the block: the phase, when it ends, the server's clock
    (pages count down against it, not their own), and the member's table but `hidden`
    (whom the member does not see: their blocks, as the page's request or socket read
    them)."""
    moment = moment_at(block.starts_at, block.minutes, now)
    table = seat.table if seat is not None else None
    return {
        "phase": str(moment.phase),
        "ends_at": moment.ends_at.isoformat() if moment.ends_at else None,
        "now": now.isoformat(),
        "block": {
            "id": block.pk,
            "starts_at": block.starts_at.isoformat(),
            "ends_at": block.ends_at.isoformat(),
            "minutes": block.minutes,
        },
        "table": table,
        # Blocks made at the table before its end moved the blocker apart (tables_part);
        # one made after it, while outcomes are still told, hides the other from here on.
        "tablemates": (
            [mate.data() for mate in tablemates(block=block, table=table, hidden=hidden)]
            if table
            else []
        ),
        "goal": seat.goal if seat else "",
        "outcome": seat.outcome if seat else "",
    }

"""Who is in a room right now: one `Presence` row per open connection, so it holds across
tabs and server processes.

A row lives while its connection does. A clean or detected disconnect (the ASGI server pings
every socket and drops one that stops answering: a closed laptop) deletes it at once; each
server process also touches the rows of its open connections every `TOUCH_INTERVAL`, so the
rows of a process that died stop being touched and `presence_prune` deletes them after
`PRESENCE_TTL`. Whichever way a member vanishes, they are gone from the list within a minute.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from members.models import User
from members.services import blocked_user_ids
from rooms.models import Presence, Room

TOUCH_INTERVAL = timedelta(seconds=10)
# Three missed touches: the process holding the connection is gone. With a prune every
# `PRUNE_INTERVAL`, a dead process's members are gone within TTL + PRUNE_INTERVAL = 45 s.
PRESENCE_TTL = timedelta(seconds=30)
PRUNE_INTERVAL = timedelta(seconds=15)


def _live(*, now: datetime) -> Any:
    return Presence.objects.filter(heartbeat_at__gte=now - PRESENCE_TTL)


def presence_add(
    *, room: Room, user: User, channel_name: str, now: datetime | None = None
) -> Presence:
    """Record a connection. A new tab takes the status the member already shows here."""
    now = now or timezone.now()
    current = (
        _live(now=now)
        .filter(room=room, user=user)
        .exclude(channel_name=channel_name)
        .order_by("-since")
        .first()
    )
    presence, _created = Presence.objects.update_or_create(
        channel_name=channel_name,
        defaults={
            "room": room,
            "user": user,
            "status": current.status if current else Presence.Status.WORKING,
            "since": current.since if current else now,
            "heartbeat_at": now,
        },
    )
    return presence


def presence_heartbeat(*, channel_name: str, now: datetime | None = None) -> bool:
    """False when the row is gone (pruned while the connection slept): add it again."""
    now = now or timezone.now()
    return bool(Presence.objects.filter(channel_name=channel_name).update(heartbeat_at=now))


@transaction.atomic
def presence_set_status(*, room: Room, user: User, status: str, now: datetime | None = None) -> int:
    """Set the member's status in `room` on every one of their connections there."""
    if status not in Presence.Status.values:
        raise ValueError(f"Unknown presence status {status!r}.")
    now = now or timezone.now()
    return (
        Presence.objects.filter(room=room, user=user)
        .exclude(status=status)
        .update(status=status, since=now)
    )


def presence_touch(*, channel_names: Iterable[str], now: datetime | None = None) -> int:
    """Keep this process's open connections alive, and their rooms active (so rooms with
    people inside never close as idle). Returns how many connections were touched."""
    names = list(channel_names)
    if not names:
        return 0
    now = now or timezone.now()
    rows = Presence.objects.filter(channel_name__in=names)
    room_ids = set(rows.values_list("room_id", flat=True))
    Room.objects.filter(pk__in=room_ids, last_activity_at__lt=now).update(last_activity_at=now)
    return rows.update(heartbeat_at=now)


def presence_remove(*, channel_name: str) -> bool:
    deleted, _rows = Presence.objects.filter(channel_name=channel_name).delete()
    return bool(deleted)


def presence_prune(*, now: datetime) -> dict[int, set[int]]:
    """Delete the rows of connections not touched for `PRESENCE_TTL`. Returns, per room whose
    presence changed, the members concerned. Idempotent: a second run deletes nothing."""
    stale = Presence.objects.filter(heartbeat_at__lt=now - PRESENCE_TTL)
    changed: dict[int, set[int]] = {}
    for room_id, user_id in stale.values_list("room_id", "user_id"):
        changed.setdefault(room_id, set()).add(user_id)
    if changed:
        stale.delete()
    return changed


def _entry(row: Presence, *, table: int | None) -> dict[str, Any]:
    return {
        "id": row.user_id,
        "name": row.user.name,
        "status": row.status,
        "since": row.since.isoformat(),
        "table": table,
    }


def _by_member(rows: Iterable[Presence]) -> list[dict[str, Any]]:
    """One entry per member from their connections' rows (oldest status change first): the
    latest status change wins, and the table of the connection in a call, if any."""
    latest: dict[int, Presence] = {}
    tables: dict[int, int] = {}
    for row in rows:
        latest[row.user_id] = row
        if row.table is not None:
            tables[row.user_id] = row.table
    return [_entry(row, table=tables.get(user_id)) for user_id, row in latest.items()]


def presence_entries(
    *, room_id: int, user_ids: Iterable[int], now: datetime | None = None
) -> tuple[list[dict[str, Any]], list[int]]:
    """The current presence of `user_ids` in a room, for a `presence.update`: the entries of
    those still here and the ids of those who left. Unfiltered: each socket hides blocks."""
    now = now or timezone.now()
    wanted = set(user_ids)
    rows = (
        _live(now=now)
        .filter(room_id=room_id, user_id__in=wanted)
        .select_related("user")
        .order_by("since")
    )
    members = _by_member(rows)
    return members, sorted(wanted - {member["id"] for member in members})


def presence_snapshot(
    *, room: Room, viewer: User, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The members present in `room` as `viewer` may see them (nobody on either side of a
    block with them), one entry per member however many tabs they have open, by name."""
    now = now or timezone.now()
    hidden = blocked_user_ids(user=viewer)
    rows = (
        _live(now=now)
        .filter(room=room)
        .exclude(user_id__in=hidden)
        .select_related("user")
        .order_by("since")
    )
    return sorted(_by_member(rows), key=lambda member: (str(member["name"]).lower(), member["id"]))


def present_by_room(
    *, viewer: User, rooms: Iterable[Room], now: datetime | None = None
) -> dict[int, list[User]]:
    """The members present in each of `rooms` as `viewer` may see them, by name, one entry
    per member: `{room_id: [user, ...]}` (profiles loaded, for avatars). A fixed number of
    queries however many rooms: the viewer's blocks, then the live presence rows."""
    now = now or timezone.now()
    room_ids = [room.pk for room in rooms]
    hidden = blocked_user_ids(user=viewer)
    rows = (
        _live(now=now)
        .filter(room_id__in=room_ids)
        .exclude(user_id__in=hidden)
        .select_related("user__profile")
    )
    present: dict[int, dict[int, User]] = {room_id: {} for room_id in room_ids}
    for row in rows:
        present[row.room_id][row.user_id] = row.user
    return {
        room_id: sorted(users.values(), key=lambda user: (user.name.lower(), user.pk))
        for room_id, users in present.items()
    }


def room_is_full(*, room: Room, user: User, now: datetime | None = None) -> bool:
    """Would `user` coming in exceed the room's capacity? A member already here (another
    tab) never makes it fuller."""
    if room.capacity is None:
        return False
    here = _live(now=now or timezone.now()).filter(room=room)
    if here.filter(user=user).exists():
        return False
    return here.values("user_id").distinct().count() >= room.capacity

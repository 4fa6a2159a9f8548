"""Who is in a room right now: one `Presence` row per open connection, kept alive by the
client's heartbeat (`ping`), so it holds across tabs, server processes and abrupt disconnects.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from members.models import User
from members.services import blocked_user_ids
from rooms.models import Presence, Room

HEARTBEAT_INTERVAL = timedelta(seconds=20)
# Three missed heartbeats: the connection is gone even if it never said goodbye.
PRESENCE_TTL = timedelta(seconds=60)


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


def presence_remove(*, channel_name: str) -> bool:
    deleted, _rows = Presence.objects.filter(channel_name=channel_name).delete()
    return bool(deleted)


def presence_prune(*, now: datetime) -> set[int]:
    """Delete the rows of connections without a heartbeat for `PRESENCE_TTL`. Returns the ids
    of the rooms whose presence changed. Idempotent: a second run finds nothing to delete."""
    stale = Presence.objects.filter(heartbeat_at__lt=now - PRESENCE_TTL)
    room_ids = set(stale.values_list("room_id", flat=True))
    if room_ids:
        stale.delete()
    return room_ids


def presence_snapshot(
    *, room: Room, viewer: User, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The members present in `room` as `viewer` may see them (nobody on either side of a
    block with them), one entry per member however many tabs they have open, by name."""
    now = now or timezone.now()
    hidden = blocked_user_ids(user=viewer)
    members: dict[int, Presence] = {}
    rows = (
        _live(now=now)
        .filter(room=room)
        .exclude(user_id__in=hidden)
        .select_related("user")
        .order_by("since")
    )
    for row in rows:
        # The latest status change wins.
        members[row.user_id] = row
    return sorted(
        (
            {
                "id": row.user_id,
                "name": row.user.name,
                "status": row.status,
                "since": row.since.isoformat(),
            }
            for row in members.values()
        ),
        key=lambda member: (str(member["name"]).lower(), member["id"]),
    )


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

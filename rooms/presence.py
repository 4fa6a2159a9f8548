"""Who is in a room right now: one `Presence` row per open connection, so it holds across
tabs and server processes.

A row lives while its connection does. A clean or detected disconnect (the ASGI server pings
every socket and drops one that stops answering: a closed laptop) deletes it at once; each
server process also touches the rows of its open connections every `TOUCH_INTERVAL`, so the
rows of a process that died stop being touched and `presence_prune` deletes them after
`PRESENCE_TTL`. Whichever way a member vanishes, they are gone from the list within a minute.
"""

import bisect
import hashlib
import heapq
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from core.access import staff_holding
from members.models import Block, User
from members.search import normalise
from members.services import blocked_user_ids
from rooms import rights
from rooms.encoding import encode
from rooms.models import Presence, Room, RoomParticipation
from rooms.visits import visits_close

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
    row = Presence(
        channel_name=channel_name,
        room=room,
        user=user,
        status=current.status if current else Presence.Status.WORKING,
        since=current.since if current else now,
        connected_at=current.connected_at if current else now,
        heartbeat_at=now,
    )
    # One upsert (a thousand members arriving make a thousand of these).
    (presence,) = Presence.objects.bulk_create(
        [row],
        update_conflicts=True,
        unique_fields=["channel_name"],
        update_fields=["room", "user", "status", "since", "connected_at", "heartbeat_at"],
    )
    return presence


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


def signed_in(*, session_data: dict[str, Any], user: User) -> bool:
    """Does this decoded session still log `user` in? Not once the password changed (the
    session's hash of it no longer matches: Django's own rule for HTTP requests)."""
    if session_data.get(SESSION_KEY) != str(user.pk):
        return False
    stored = session_data.get(HASH_SESSION_KEY)
    if not isinstance(stored, str):
        return False
    if constant_time_compare(stored, user.get_session_auth_hash()):
        return True
    # Sessions signed before a SECRET_KEY rotation stay valid, as they do over HTTP (Django's
    # own helper for this, which django-stubs does not list).
    return any(
        constant_time_compare(stored, user._get_session_auth_hash(secret=secret))  # type: ignore[attr-defined]
        for secret in settings.SECRET_KEY_FALLBACKS
    )


# The sessions the sweeps found still signing their member in, with a digest of all that
# decided it and when: {session_key: (digest, monotonic time)}. Decoding and checking 2,500
# sessions took most of a sweep's CPU (and the sweep runs beside the process's sockets), and
# what decides does not change between sweeps unless the member logs in again or changes
# their password, or the secret keys change: each of those changes the digest. An entry
# not seen for two sweeps (its sockets are gone) is dropped.
_signed_in_before: dict[str, tuple[bytes, float]] = {}
_signed_in_pruned_at = 0.0


def _signed_in_digest(user: User, session_data: str) -> bytes:
    decided_by = (
        user.pk,
        user.password,
        session_data,
        settings.SECRET_KEY,
        tuple(settings.SECRET_KEY_FALLBACKS),
    )
    return hashlib.blake2b(repr(decided_by).encode(), digest_size=16).digest()


def _signed_in_forget_old(now: float) -> None:
    global _signed_in_before, _signed_in_pruned_at
    horizon = 2 * TOUCH_INTERVAL.total_seconds()
    if now - _signed_in_pruned_at >= horizon:
        _signed_in_pruned_at = now
        _signed_in_before = {
            key: seen for key, seen in list(_signed_in_before.items()) if now - seen[1] < horizon
        }


def connections_check(
    *, connections: Mapping[str, tuple[int | None, int, str]], now: datetime | None = None
) -> tuple[dict[str, str], list[str]]:
    """Look after one server process's sockets: `{channel_name: (room_id, user_id,
    session_key)}`, room_id None for a lobby socket. Touches their presence rows and keeps
    their rooms active, puts back the rows pruned meanwhile, and finds the sockets that must
    go. A fixed number of queries however many sockets (a few more for each room with a
    capacity whose rows were pruned). Returns ({channel_name: reason},
    [channel names put back]), the reasons being `account`, `logged_out`, `password`,
    `closed`, `removed`, `no_access` or `full` (a row to put back in a room filled since)."""
    if not connections:
        return {}, []
    now = now or timezone.now()
    in_rooms = {name: item for name, item in connections.items() if item[0] is not None}
    room_ids = {room_id for room_id, _user, _key in in_rooms.values() if room_id is not None}
    user_ids = {user_id for _room, user_id, _key in connections.values()}
    keys = {key for _room, _user, key in connections.values() if key}

    rows = Presence.objects.filter(channel_name__in=list(in_rooms))
    present = set(rows.values_list("channel_name", flat=True))
    rows.update(heartbeat_at=now)
    Room.objects.filter(pk__in=room_ids, last_activity_at__lt=now).update(last_activity_at=now)

    sessions = dict(
        Session.objects.filter(session_key__in=keys, expire_date__gt=now).values_list(
            "session_key", "session_data"
        )
    )
    store = SessionStore()
    users = {
        user.pk: user
        for user in User.objects.filter(pk__in=user_ids).only(
            "pk", "password", "is_active", "is_staff", "deleted_at"
        )
    }
    uninvited = _uninvited(connections=in_rooms.values(), users=users)
    rooms = {
        pk: (closed_at, capacity)
        for pk, closed_at, capacity in Room.objects.filter(pk__in=room_ids).values_list(
            "pk", "closed_at", "capacity"
        )
    }
    # A room deleted meanwhile (the admin) is as closed as one closed.
    closed_rooms = {pk for pk in room_ids if pk not in rooms or rooms[pk][0] is not None}
    removed = set(
        RoomParticipation.objects.filter(
            room_id__in=room_ids, user_id__in=user_ids, removed_at__isnull=False
        ).values_list("room_id", "user_id")
    )

    checked_at = time.monotonic()
    _signed_in_forget_old(checked_at)
    revoked: dict[str, str] = {}
    restored: list[str] = []
    pruned: dict[int, list[tuple[str, int]]] = {}
    for name, (room_id, user_id, key) in connections.items():
        user = users.get(user_id)
        if user is None or not user.account_is_open:
            revoked[name] = "account"
            continue
        if key not in sessions:
            revoked[name] = "logged_out"
            continue
        digest = _signed_in_digest(user, sessions[key])
        seen = _signed_in_before.get(key)
        checked_before = seen is not None and seen[0] == digest
        if not checked_before and not signed_in(
            session_data=store.decode(sessions[key]), user=user
        ):
            _signed_in_before.pop(key, None)
            revoked[name] = "password"
            continue
        _signed_in_before[key] = (digest, checked_at)
        if room_id is None:
            continue
        if room_id in closed_rooms:
            revoked[name] = "closed"
        elif (room_id, user_id) in removed:
            revoked[name] = "removed"
        elif (room_id, user_id) in uninvited:
            revoked[name] = "no_access"
        elif name not in present:
            pruned.setdefault(room_id, []).append((name, user_id))
    if pruned:
        capacities = {room_id: rooms[room_id][1] for room_id in pruned}
        restored, full = _presences_restore(pruned=pruned, capacities=capacities, now=now)
        revoked.update(dict.fromkeys(full, "full"))
    return revoked, restored


def _presences_restore(
    *,
    pruned: dict[int, list[tuple[str, int]]],
    capacities: dict[int, int | None],
    now: datetime,
) -> tuple[list[str], list[str]]:
    """Put back the presence rows pruned meanwhile (their process stalled past the TTL):
    {room_id: [(channel_name, user_id)]}, with each room's capacity as read. Returns
    (channel names put back, channel names their room had no place for).

    A room with a capacity may have filled up in between (others let in on other processes,
    to the places the prune freed): its rows go back while there is a place, a member
    already there (another tab) taking none, in a transaction of its own that holds the
    room's lock as arrivals do (rooms.consumers._enter_now), one room at a time: two
    processes back from the same stall never wait on each other's rooms. The rest go back in
    one insert. After a stall that is every socket of the process: a few queries a capped
    room, one for the rest. A room deleted meanwhile gets nothing back (its sockets hear
    that it closed at the next sweep)."""
    back: list[str] = []
    full: list[str] = []
    free = [
        (room_id, name, user_id)
        for room_id, connections in pruned.items()
        if capacities[room_id] is None
        for name, user_id in connections
    ]
    for room_id, connections in pruned.items():
        if capacities[room_id] is None:
            continue
        with transaction.atomic():
            capacity = (
                Room.objects.select_for_update()
                .filter(pk=room_id)
                .values_list("capacity", flat=True)
                .first()
            )
            if capacity is None:  # deleted, or its capacity lifted: put back with the rest
                free += [(room_id, name, user_id) for name, user_id in connections]
                continue
            here = set(_live(now=now).filter(room_id=room_id).values_list("user_id", flat=True))
            rows = []
            for name, user_id in connections:
                if user_id in here or len(here) < capacity:
                    here.add(user_id)
                    rows.append((room_id, name, user_id))
                else:
                    full.append(name)
            _presences_insert(rows, now=now)
            back += [name for _room, name, _user in rows]
    # Only into rooms there still are: the insert would fail whole on one deleted meanwhile.
    there = set(Room.objects.filter(pk__in={r for r, _n, _u in free}).values_list("pk", flat=True))
    rows = [row for row in free if row[0] in there]
    try:
        with transaction.atomic():
            _presences_insert(rows, now=now)
    except IntegrityError:  # a room deleted in the instant between: the next sweep puts back
        return back, full
    return back + [name for _room, name, _user in rows], full


def _presences_insert(rows: list[tuple[int, str, int]], *, now: datetime) -> None:
    Presence.objects.bulk_create(
        [
            Presence(
                room_id=room_id,
                user_id=user_id,
                channel_name=name,
                since=now,
                connected_at=now,
                heartbeat_at=now,
            )
            for room_id, name, user_id in rows
        ],
        # Put back meanwhile by the socket itself (a status change): it stands.
        ignore_conflicts=True,
    )


def _uninvited(
    *, connections: Iterable[tuple[int | None, int, str]], users: Mapping[int, User]
) -> set[tuple[int, int]]:
    """The (room_id, user_id) of these connections to private rooms that are no longer
    allowed in: taken off the invitation list, or on either side of a block with the room's
    creator (rooms.services.room_can_enter's rule, in bulk)."""
    pairs: set[tuple[int, int]] = {
        (room_id, user_id) for room_id, user_id, _key in connections if room_id is not None
    }
    private = dict(
        Room.objects.filter(pk__in={room_id for room_id, _user in pairs}, private=True)
        .exclude(kind=Room.Kind.CAFETERIA)
        .values_list("pk", "created_by_id")
    )
    staff = [user_id for user_id, user in users.items() if user.is_staff]
    readers = staff_holding(rights.READ, staff) if staff else set()
    concerned = {
        (room_id, user_id)
        for room_id, user_id in pairs
        if room_id in private and user_id != private[room_id] and user_id not in readers
    }
    if not concerned:
        return set()
    member_ids = {user_id for _room, user_id in concerned}
    creator_ids = {private[room_id] for room_id, _user in concerned}
    invited = set(
        Room.invitees.through.objects.filter(
            room_id__in={room_id for room_id, _user in concerned}, user_id__in=member_ids
        ).values_list("room_id", "user_id")
    )
    blocks = Block.objects.filter(
        Q(blocker_id__in=creator_ids, blocked_id__in=member_ids)
        | Q(blocker_id__in=member_ids, blocked_id__in=creator_ids)
    ).values_list("blocker_id", "blocked_id")
    blocked = {frozenset(pair) for pair in blocks}
    return {
        (room_id, user_id)
        for room_id, user_id in concerned
        if (room_id, user_id) not in invited or frozenset((user_id, private[room_id])) in blocked
    }


def presence_remove(*, channel_name: str, now: datetime | None = None) -> bool:
    """Forget a connection that closed; its member's last one in the room ends a visit."""
    now = now or timezone.now()
    rows = Presence.objects.filter(channel_name=channel_name)
    gone = list(rows.values_list("room_id", "user_id", "connected_at"))
    deleted, _rows = rows.delete()
    if deleted:
        visits_close(gone=[(room_id, user_id, since, now) for room_id, user_id, since in gone])
    return bool(deleted)


def presence_prune(*, now: datetime) -> dict[int, set[int]]:
    """Delete the rows of connections not touched for `PRESENCE_TTL`. Returns, per room whose
    presence changed, the members concerned. Idempotent: a second run deletes nothing."""
    stale = Presence.objects.filter(heartbeat_at__lt=now - PRESENCE_TTL)
    changed: dict[int, set[int]] = {}
    gone = list(stale.values_list("pk", "room_id", "user_id", "connected_at", "heartbeat_at"))
    for _pk, room_id, user_id, _since, _seen in gone:
        changed.setdefault(room_id, set()).add(user_id)
    if gone:
        # By id: a row touched since it was read is alive after all and stays.
        Presence.objects.filter(
            pk__in=[row[0] for row in gone], heartbeat_at__lt=now - PRESENCE_TTL
        ).delete()
        visits_close(gone=[row[1:] for row in gone])
    return changed


# What a presence entry is made of, read as plain values: a full cafeteria's `hello` reads a
# thousand of these every half second, and whole rows (two models each, their signals,
# the garbage they leave) took 40 % of a web process's CPU while 2,500 members arrived.
ENTRY_COLUMNS = (
    "user_id",
    "status",
    "since",
    "table",
    "user__display_name",
    "user__first_name",
    "user__last_name",
    "user__deleted_at",
)
EntryRow = tuple[int, str, datetime, int | None, str, str, str, datetime | None]


def _entry(row: EntryRow, *, table: int | None) -> dict[str, Any]:
    user_id, status, since, _own_table, display_name, first, last, deleted_at = row
    return {
        "id": user_id,
        "name": User.name_of(display_name, first, last, deleted_at),
        "status": status,
        "since": since.isoformat(),
        "table": table,
    }


def _by_member(rows: Iterable[EntryRow]) -> list[dict[str, Any]]:
    """One entry per member from their connections' rows (`ENTRY_COLUMNS`, oldest status
    change first): the latest status change wins, and the table of the connection in a
    call, if any."""
    latest: dict[int, EntryRow] = {}
    tables: dict[int, int] = {}
    for row in rows:
        latest[row[0]] = row
        if row[3] is not None:
            tables[row[0]] = row[3]
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
        .order_by("since")
        .values_list(*ENTRY_COLUMNS)
    )
    members = _by_member(rows)
    return members, sorted(wanted - {member["id"] for member in members})


def _room_entries(
    *, room_id: int, now: datetime, exclude_channel: str = ""
) -> list[dict[str, Any]]:
    rows = (
        _live(now=now)
        .filter(room_id=room_id)
        .exclude(channel_name=exclude_channel)
        .order_by("since")
        .values_list(*ENTRY_COLUMNS)
    )
    return sorted(_by_member(rows), key=_by_name)


def _by_name(member: dict[str, Any]) -> tuple[str, int]:
    return normalise(str(member["name"])), member["id"]


# Arrivals within this many seconds of each other share one reading of the room's presence
# (per process): 1,000 members coming back after a restart would otherwise each read all the
# others, a quadratic ramp. A change made after the reading reaches its readers in a
# `presence.update` batch, and the process forgets the reading as soon as it hears a batch
# for the room (`forget_reading`, from every socket's handler): so an arrival is given a
# reading only while no batch has gone out since it was taken, and it joins the room's
# group right after, from when it hears the batches itself. What is left is the moment
# between an arrival's reading and its joining, as it was without sharing.
SHARED_SNAPSHOT_SECONDS = 0.5


@dataclass(frozen=True)
class _Reading:
    """A room's presence as read at `at` (`time.monotonic()`): the entries by name, and each
    entry's JSON text by member id, written once for all the arrivals sharing the reading.
    Never changed once stored, only replaced: a reader may hold on to it."""

    # Encoding a 3,000-member list for each `hello` took a fifth of the event loop's time
    # in a crowd's arrival.
    at: float
    entries: list[dict[str, Any]]
    texts: dict[int, str]

    def with_entry(self, entry: dict[str, Any]) -> "_Reading":
        entries = [each for each in self.entries if each["id"] != entry["id"]]
        bisect.insort(entries, entry, key=_by_name)
        return _Reading(self.at, entries, {**self.texts, entry["id"]: encode(entry)})


# {room_id: its latest reading}.
_shared: dict[int, _Reading] = {}
# Arrivals run on several threads (rooms.consumers.ARRIVAL_THREADS).
_shared_lock = threading.Lock()


def _shared_reading(*, room_id: int, own_channel: str) -> _Reading:
    read_at = time.monotonic()
    cached = _shared.get(room_id)
    if cached is not None and read_at - cached.at < SHARED_SNAPSHOT_SECONDS:
        return cached
    # Without the reader's own row, not committed yet: nobody else may be shown an arrival
    # whose transaction could still fail. It joins the reading once committed (below).
    entries = _room_entries(room_id=room_id, now=timezone.now(), exclude_channel=own_channel)
    reading = _Reading(read_at, entries, {entry["id"]: encode(entry) for entry in entries})
    with _shared_lock:
        if len(_shared) > 1000:  # rooms come and go: forget the stale ones
            for key, stale in list(_shared.items()):
                if read_at - stale.at >= SHARED_SNAPSHOT_SECONDS:
                    del _shared[key]
            _batch_heard.clear()
        # A batch heard while this reading was being taken may be missing from it; and a
        # reading taken meanwhile on another thread is newer.
        newer = _shared.get(room_id)
        if _batch_heard.get(room_id, 0.0) < read_at and (newer is None or newer.at < read_at):
            _shared[room_id] = reading
    return reading


# {room_id: time.monotonic() when this process last heard a presence batch for it}.
_batch_heard: dict[int, float] = {}


def forget_reading(room_id: int) -> None:
    """A presence batch for the room went out: the next arrival reads the room again."""
    _batch_heard[room_id] = time.monotonic()
    if room_id in _shared:  # every socket of the room calls this; the first one forgets
        with _shared_lock:
            _shared.pop(room_id, None)


def _shared_add(*, room_id: int, read_at: float, entry: dict[str, Any]) -> None:
    """An arrival sharing the reading `read_at` is committed: later ones see it too."""
    with _shared_lock:
        cached = _shared.get(room_id)
        if cached is None or cached.at != read_at:
            # A newer reading has it already, or was taken on another thread before this
            # commit: then the arrival's batched announcement reaches its readers.
            return
        _shared[room_id] = cached.with_entry(entry)


def presence_snapshot(
    *,
    room: Room,
    viewer: User,
    hidden: set[int] | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The members present in `room` as `viewer` may see them (nobody on either side of a
    block with them, `hidden`, read when not given), one entry per member however many tabs
    they have open, by name. Read now: for pages."""
    hidden = blocked_user_ids(user=viewer) if hidden is None else hidden
    entries = _room_entries(room_id=room.pk, now=now or timezone.now())
    return [entry for entry in entries if entry["id"] not in hidden]


@dataclass(frozen=True)
class SharedSnapshot:
    """What `hello` says of the room's presence: the entries, and the same list as JSON."""

    entries: list[dict[str, Any]]
    text: str


def presence_snapshot_shared(
    *, room: Room, viewer: User, own: Presence, hidden: set[int]
) -> SharedSnapshot:
    """`presence_snapshot` for a socket's `hello` (`hidden`: the viewer's blocks, either
    way), from a reading of the room shared with the arrivals of the last
    `SHARED_SNAPSHOT_SECONDS` in this process. The socket must join the room's group right
    after, to hear the changes made since the reading (see `SHARED_SNAPSHOT_SECONDS`).
    `own` is the viewer's new presence row: the viewer always sees themselves."""
    reading = _shared_reading(room_id=room.pk, own_channel=own.channel_name)
    entries = [entry for entry in reading.entries if entry["id"] not in hidden]
    own_text = ""
    if viewer.pk not in reading.texts:
        own_entry = {
            "id": viewer.pk,
            "name": viewer.name,
            "status": own.status,
            "since": own.since.isoformat(),
            "table": None,
        }
        bisect.insort(entries, own_entry, key=_by_name)
        own_text = encode(own_entry)
        transaction.on_commit(
            partial(_shared_add, room_id=room.pk, read_at=reading.at, entry=own_entry)
        )
    # Every entry is the reading's but the viewer's own, when new.
    text = ",".join(reading.texts.get(entry["id"], own_text) for entry in entries)
    return SharedSnapshot(entries, f"[{text}]")


def does_not_disturb(user_id: int, now: datetime) -> bool:
    """Is the member, in any room now, showing "Do not disturb" or "In a call", or sitting at
    a table's call? Their devices stay silent meanwhile (`notifications.push.busy`)."""
    busy = Q(status__in=[Presence.Status.DND, Presence.Status.CALL]) | Q(table__isnull=False)
    return _live(now=now).filter(busy, user_id=user_id).exists()


def is_present(*, room_id: int, user_id: int, now: datetime | None = None) -> bool:
    """Is the member in the room now, in any tab?"""
    return _live(now=now or timezone.now()).filter(room_id=room_id, user_id=user_id).exists()


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
        room_id: sorted(users.values(), key=lambda user: (normalise(user.name), user.pk))
        for room_id, users in present.items()
    }


@dataclass(frozen=True)
class Glance:
    """A room at a glance: how many members are in it and the first few by name."""

    count: int
    faces: list[User]  # profiles loaded, for avatars

    @property
    def more(self) -> int:
        """Those present beyond the faces shown."""
        return self.count - len(self.faces)


def present_glances(
    *, viewer: User, rooms: Iterable[Room], faces: int, now: datetime | None = None
) -> dict[int, Glance]:
    """Each of `rooms` at a glance as `viewer` may see it (nobody on either side of a block
    with them, no closed account): `{room_id: Glance}`, with at most `faces` faces each.
    Three queries, however many rooms and people."""
    # For cards on the lobby and every member's home page: the crowd is read as names only
    # and whole rows are loaded for the faces alone. Loading everyone (`present_by_room`)
    # took 75 ms of the home page with 1,000 people in the cafeteria, the names 5 ms.
    room_ids = [room.pk for room in rooms]
    hidden = blocked_user_ids(user=viewer)
    rows = (
        _live(now=now or timezone.now())
        .filter(room_id__in=room_ids, user__deleted_at__isnull=True)
        .exclude(user_id__in=hidden)
        .values_list(
            "room_id",
            "user_id",
            "user__display_name",
            "user__first_name",
            "user__last_name",
        )
    )
    # One entry per member, however many tabs they have open.
    names: dict[int, dict[int, str]] = {room_id: {} for room_id in room_ids}
    for room_id, user_id, *columns in rows:
        names[room_id][user_id] = normalise(User.name_of(*columns))
    first = {room_id: _first_by_name(people, faces) for room_id, people in names.items()}
    wanted = {pk for pks in first.values() for pk in pks}
    loaded = User.objects.select_related("profile").in_bulk(wanted) if wanted else {}
    return {
        room_id: Glance(len(names[room_id]), [loaded[pk] for pk in pks if pk in loaded])
        for room_id, pks in first.items()
    }


def _first_by_name(names: dict[int, str], count: int) -> list[int]:
    return heapq.nsmallest(count, names, key=lambda pk: (names[pk], pk))


def room_is_full(*, room: Room, user: User, now: datetime | None = None) -> bool:
    """Would `user` coming in exceed the room's capacity? A member already here (another
    tab) never makes it fuller."""
    if room.capacity is None:
        return False
    here = _live(now=now or timezone.now()).filter(room=room)
    if here.filter(user=user).exists():
        return False
    return here.values("user_id").distinct().count() >= room.capacity

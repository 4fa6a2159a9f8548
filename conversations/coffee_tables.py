"""Each coffee group's own table: a private room for its members only (audio and video as in
any room), and met detection: two of them at their table together for MET_AFTER count as
having met, without being asked. Here, above both matching and rooms (docs/architecture.md),
because it joins the two; matching reaches it through `matching.meetings.group_link`."""

from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from itertools import combinations

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from conversations.models import CoffeeTable
from matching.meetings import MeetingRefused
from matching.models import Answer, GroupMember
from matching.services import answer_record
from members.models import User
from notifications.models import Notification
from rooms.models import Presence, Room, RoomError, Visit
from rooms.services import room_create, room_name_clean, room_slug_for

MET_AFTER = timedelta(minutes=10)
# Met detection looks at the tables of rounds introduced this recently.
DETECT_FOR = timedelta(days=45)
# A table is looked at again while someone is there, or for this long after someone left:
# met detection runs every few minutes, and this covers a beat stopped for a while.
RECHECK = timedelta(days=1)


def table_url(seat: GroupMember) -> str:
    """The address of the seat's group's table, opened now if it has none or it closed
    while idle. Registered as matching's place provider (conversations.apps)."""
    with transaction.atomic():
        CoffeeTable.objects.get_or_create(group_id=seat.group_id)
        table = (
            CoffeeTable.objects.select_for_update(of=("self",))
            .select_related("room")
            .get(group_id=seat.group_id)
        )
        room = table.room
        if room is None or not room.is_open:
            members = [
                other.user
                for other in GroupMember.objects.filter(group_id=seat.group_id)
                .select_related("user")
                .order_by("pk")
            ]
            try:
                room = room_create(
                    creator=seat.user,
                    name=table_name(members),
                    private=True,
                    capacity=len(members),
                    invitees=members,
                    slug_base=TABLE_SLUG,
                )
            except RoomError as refused:
                raise MeetingRefused(str(refused)) from refused
            table.room = room
            table.save(update_fields=["room"])
    return reverse("rooms:room", args=[room.slug])


TABLE_CUP = "\u2615 "
# A table's address holds no names, which no deletion would have to change.
TABLE_SLUG = "cafe"


def table_name(members: list[User]) -> str:
    """A table's name, the same in every language (its members may not share one, and the
    room keeps the name of whoever opened it): a cup and their names."""
    return TABLE_CUP + " · ".join(member.name for member in members)


def is_table(room: Room) -> bool:
    return CoffeeTable.objects.filter(room=room).exists()


def _tables_of(user: User, name_of: Callable[[User], str]) -> Iterator[tuple[list[User], Room]]:
    """Each of `user`'s coffee groups' members (in seat order), with each room of its table:
    the one now, and those it had before (closed while idle), which carry the name the table
    gave them, each member named by `name_of`. No other room, not even one a member named
    with a cup themselves."""
    for group_id in GroupMember.objects.filter(user=user).values_list("group_id", flat=True):
        seats = GroupMember.objects.filter(group_id=group_id).select_related("user")
        members = [seat.user for seat in seats.order_by("pk")]
        named = room_name_clean(TABLE_CUP + " · ".join(name_of(member) for member in members))
        current = CoffeeTable.objects.filter(group_id=group_id).values("room_id")
        rooms = Room.objects.filter(Q(pk__in=current) | Q(name=named, created_by__in=members))
        for room in rooms:
            yield members, room


def tables_rename_without(*, user: User) -> None:
    """A member deleting their account: the rooms of their coffee groups' tables, open or
    closed (a table closed while idle opens a new room), are named after the others only.
    One from before tables had addresses of their own (its address made of the names) gets
    one, and the notices linking to it follow."""
    for members, room in _tables_of(user, lambda member: member.name):
        others = [
            member for member in members if member.pk != user.pk and member.deleted_at is None
        ]
        room.name = room_name_clean(table_name(others))
        if not room.slug.startswith(TABLE_SLUG):
            old = reverse("rooms:room", args=[room.slug])
            room.slug = room_slug_for(TABLE_SLUG)
            new = reverse("rooms:room", args=[room.slug])
            Notification.objects.filter(url=old).update(url=new)
        room.save(update_fields=["name", "slug"])


def tables_rename_for(*, user: User, old_name: str) -> None:
    """A member renamed: the rooms of their coffee groups' tables, open or closed, say the
    new name where they said the old one (and a deletion later finds it)."""

    def named_before(member: User) -> str:
        return old_name if member.pk == user.pk else member.name

    for _members, room in _tables_of(user, named_before):
        if not room.name.startswith(TABLE_CUP):
            continue
        names = room.name.removeprefix(TABLE_CUP).split(" · ")
        renamed = [user.name if name == old_name else name for name in names]
        if renamed != names:
            room.name = room_name_clean(TABLE_CUP + " · ".join(renamed))
            room.save(update_fields=["name"])


def _merged(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _together(
    first: list[tuple[datetime, datetime]], second: list[tuple[datetime, datetime]]
) -> timedelta:
    total = timedelta()
    for a_start, a_end in first:
        for b_start, b_end in second:
            overlap = min(a_end, b_end) - max(a_start, b_start)
            if overlap > timedelta():
                total += overlap
    return total


def tables_met_detect(*, now: datetime | None = None) -> int:
    """Find the groups of recent rounds who sat at their table together: each member who
    spent MET_AFTER there with another (stays recorded, and those still going on) is
    answered "we met", unless they answered already. Each table once. Returns how many
    tables were found met."""
    now = now or timezone.now()
    # Only tables someone sat at lately can have been met since: at 100,000 members, reading
    # every unmet table of the last 45 days took 30,000 queries every five minutes.
    sat_at = Q(
        Exists(Visit.objects.filter(room_id=OuterRef("room_id"), ended_at__gte=now - RECHECK))
    )
    sat_at |= Q(Exists(Presence.objects.filter(room_id=OuterRef("room_id"))))
    tables = list(
        CoffeeTable.objects.filter(
            sat_at,
            met_at__isnull=True,
            room__isnull=False,
            group__round__scheduled_for__gte=now - DETECT_FOR,
        ).values_list("pk", "group_id", "room_id")
    )
    spans_by_room: dict[int, dict[int, list[tuple[datetime, datetime]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    room_ids = [room_id for _table, _group, room_id in tables]
    for room_id, user_id, start, end in Visit.objects.filter(room_id__in=room_ids).values_list(
        "room_id", "user_id", "started_at", "ended_at"
    ):
        spans_by_room[room_id][user_id].append((start, end))
    for room_id, user_id, start in Presence.objects.filter(room_id__in=room_ids).values_list(
        "room_id", "user_id", "connected_at"
    ):
        spans_by_room[room_id][user_id].append((start, now))
    found = 0
    for table_id, group_id, room_id in tables:
        spans = spans_by_room[room_id]
        stays = {user_id: _merged(user_spans) for user_id, user_spans in spans.items()}
        met = {
            user_id
            for first, second in combinations(stays, 2)
            if _together(stays[first], stays[second]) >= MET_AFTER
            for user_id in (first, second)
        }
        if not met:
            continue
        with transaction.atomic():
            if not CoffeeTable.objects.filter(pk=table_id, met_at__isnull=True).update(met_at=now):
                continue  # another run found it first
            for seat in GroupMember.objects.filter(group_id=group_id, user_id__in=met, answer=""):
                answer_record(seat=seat, answer=Answer.MET)
        found += 1
    return found

"""Reads about rooms that need more than one filter: who may read, and chat history."""

from datetime import datetime
from typing import Any

from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from core.access import staff_may
from members.models import User
from members.selectors import apart_from
from rooms import rights
from rooms.models import Message, Reaction, Room, RoomParticipation
from rooms.services import RoomAccessDenied, room_admits

HISTORY_MAX = 100
CONVERSATION_MAX = 500


def room_can_read(*, room: Room, user: User) -> bool:
    """History is readable to those who may enter and, once a room is closed, to everyone
    who was in it. Removed members read no more; staff with the right to read messages read
    everything (`rights.READ`). While the room is
    open, having been in it is not enough: a member no longer invited to a private room (or
    blocked by whoever opened it, or who gave back their focus seat) reads no more."""
    if not user.account_is_open:
        return False
    if staff_may(user, rights.READ):
        return True
    participation = RoomParticipation.objects.filter(room=room, user=user).first()
    if participation and participation.removed_at:
        return False
    if room.is_open:
        return room_admits(room=room, user=user, participation=participation)
    return bool(participation and participation.first_seen_at)


def history(
    *,
    room: Room,
    viewer: User,
    before_id: int | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[Message]:
    """A page of `room`'s messages as `viewer` may see them (raises RoomAccessDenied).

    Without ids: the latest `limit`, newest first. `before_id`: the `limit` before it, newest
    first (scrolling back). `after_id`: the `limit` after it, oldest first (catching up after
    a reconnection; ask again from the last id until fewer than `limit` come back). Deleted
    messages stay as tombstones so pages have no gaps; messages by anyone on either side of
    a block with the viewer are left out. A fixed number of queries, whatever the page.
    """
    if before_id is not None and after_id is not None:
        raise ValueError("Page either before or after a message, not both.")
    if not room_can_read(room=room, user=viewer):
        raise RoomAccessDenied
    limit = max(1, min(limit, HISTORY_MAX))
    messages = _with_mentions(_visible_messages(room=room, viewer=viewer))
    if after_id is not None:
        return list(messages.filter(id__gt=after_id).order_by("id")[:limit])
    if before_id is not None:
        messages = messages.filter(id__lt=before_id)
    return list(messages.order_by("-id")[:limit])


# A catch-up brings at most this many messages changed while the page was away, the newest.
CHANGED_MAX = 100


def messages_changed(*, room: Room, viewer: User, upto: int, since: datetime) -> list[Message]:
    """The messages of `room` up to the id `upto` edited, deleted or reacted to after
    `since`, at most CHANGED_MAX of the newest, oldest first, as `viewer` may see them: what
    a page that held them missed while its connection was down (docs/websocket-protocol.md,
    "Catching up"). As `history`, it checks that `viewer` may read the room."""
    if not room_can_read(room=room, user=viewer):
        raise RoomAccessDenied
    rows = (
        _with_mentions(_visible_messages(room=room, viewer=viewer))
        .filter(id__lte=upto)
        .filter(
            Q(edited_at__gt=since) | Q(deleted_at__gt=since) | Q(reactions_changed_at__gt=since)
        )
        .order_by("-id")[:CHANGED_MAX]
    )
    return list(reversed(rows))


def history_upto(*, room: Room) -> dict[str, int]:
    """The room's newest message as {"id", "seq"} ({0, 0} before the first one). Read it
    before a page of `history`: that page then holds every message up to it that its reader
    may see, since a room's messages commit in `seq` order (rooms.models.message_seq_next)."""
    newest = Message.objects.filter(room=room).order_by("-seq").values_list("id", "seq").first()
    message_id, seq = newest or (0, 0)
    return {"id": message_id, "seq": seq}


def history_on_arrival(*, room: Room, hidden: set[int], limit: int) -> list[Message]:
    """`history`'s latest page for a member the room has just let in, newest first:
    `hidden` is whom they block either way, as read for letting them in (no second
    access check, no second reading of their blocks)."""
    messages = Message.objects.filter(room=room).exclude(author_id__in=hidden)
    messages = _with_mentions(
        messages.select_related("author__profile", "deleted_by", "reply_to__author")
    )
    return list(messages.order_by("-id")[: max(1, min(limit, HISTORY_MAX))])


def muted_here(*, room: Room) -> list[dict[str, Any]]:
    """Who is muted in `room` now, as staff's pages show it on their tools:
    [{"id", "until"}], the soonest to end first."""
    muted = RoomParticipation.objects.filter(room=room, muted_until__gt=timezone.now())
    rows = muted.order_by("muted_until").values_list("user_id", "muted_until")
    return [{"id": user_id, "until": until.isoformat()} for user_id, until in rows if until]


def questions_asked(*, room: Room, hidden: set[int] | frozenset[int], limit: int) -> list[Message]:
    """`room`'s questions (the stage's Q&A), not deleted, oldest first: the newest `limit`,
    leaving out those by whom the reader does not see (`hidden`). The stage page lists them
    beside its chat, whose first page may begin after the early ones were asked."""
    messages = Message.objects.filter(room=room, is_question=True, deleted_at__isnull=True)
    messages = _with_mentions(
        messages.exclude(author_id__in=hidden).select_related("author__profile", "reply_to__author")
    )
    return list(reversed(messages.order_by("-id")[:limit]))


def _with_mentions(messages: QuerySet[Message]) -> QuerySet[Message]:
    """With what rooms.broadcast.message_data shows of each: mentions and reactions."""
    return messages.prefetch_related(
        Prefetch("mentions", queryset=User.objects.only("pk")),
        Prefetch(
            "reactions",
            queryset=Reaction.objects.only("message_id", "user_id", "emoji").order_by(
                "created_at", "id"
            ),
        ),
    )


def messages_between(
    *, room: Room, viewer: User, start: datetime, end: datetime, limit: int = 200
) -> list[Message]:
    """`room`'s messages written from `start` (included) to `end` (excluded), oldest first, at
    most `limit` of them, as `viewer` may see them: the access and block rules of `history`
    (raises RoomAccessDenied), tombstones kept. A fixed number of queries."""
    if not room_can_read(room=room, user=viewer):
        raise RoomAccessDenied
    limit = max(1, min(limit, CONVERSATION_MAX))
    messages = _visible_messages(room=room, viewer=viewer).filter(
        created_at__gte=start, created_at__lt=end
    )
    return list(messages.order_by("created_at", "id")[:limit])


def _visible_messages(*, room: Room, viewer: User) -> QuerySet[Message]:
    """All of `room`'s messages but those by anyone on either side of a block with `viewer`."""
    return (
        Message.objects.filter(room=room)
        .filter(Q(author__isnull=True) | apart_from(viewer, "author_id"))
        .select_related("author__profile", "deleted_by", "reply_to__author")
    )


def rooms_open_to(*, user: User, now: datetime | None = None) -> QuerySet[Room]:
    """Open rooms `user` may enter, in one query: the same rules as `room_can_enter`, which
    decides for a single room (keep the two in step). The cafeteria first, then permanent
    rooms, then members' rooms."""
    now = now or timezone.now()
    # A focus block's room is reached from its block's page, not listed with the rooms.
    rooms = (
        Room.objects.filter(closed_at__isnull=True)
        .exclude(kind=Room.Kind.FOCUS)
        .exclude(
            Exists(
                RoomParticipation.objects.filter(
                    room=OuterRef("pk"), user=user, removed_at__isnull=False
                )
            )
        )
    )
    if not staff_may(user, rights.READ):
        invited = Room.invitees.through.objects.filter(room_id=OuterRef("pk"), user_id=user.pk)
        rooms = rooms.filter(
            Q(private=False)
            | Q(created_by=user)
            | (Exists(invited) & apart_from(user, "created_by_id"))
        )
    if not staff_may(user, rights.MANAGE):
        rooms = rooms.filter(Q(opens_at__isnull=True) | Q(opens_at__lte=now) | Q(created_by=user))
    return rooms.order_by(
        Case(
            When(kind=Room.Kind.CAFETERIA, then=Value(0)),
            When(kind=Room.Kind.PERMANENT, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        ),
        "name",
    )


def rooms_recently_closed_for(*, user: User, since: datetime, limit: int = 20) -> QuerySet[Room]:
    """Closed rooms `user` was in (and was not removed from), closed since `since`, newest
    first: the rooms whose history `room_can_read` still opens to them. One query."""
    was_in = RoomParticipation.objects.filter(
        room=OuterRef("pk"), user=user, first_seen_at__isnull=False, removed_at__isnull=True
    )
    return (
        Room.objects.filter(closed_at__gte=since)
        .filter(Exists(was_in))
        .order_by("-closed_at", "-pk")[:limit]
    )

"""Writes about rooms: creating and closing them, who may enter, chat and moderation."""

import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.contrib.sessions.models import Session
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from core.access import staff_may
from core.text import visible_line
from members.models import User
from members.services import blocked_user_ids
from rooms import broadcast, rights
from rooms.mentions import mentions_after_edit, mentions_record, mentions_withdraw
from rooms.models import (
    CAFETERIA_SLUG,
    MESSAGE_MAX_LENGTH,
    Message,
    Reaction,
    Room,
    RoomError,
    RoomParticipation,
    message_seq_next,
)
from rooms.presence import TOUCH_INTERVAL, signed_in
from rooms.reactions import reaction_valid, reactions_summary


class RoomAccessDenied(RoomError):
    code = "forbidden"
    default_message = _("You cannot enter this room.")


class RoomClosed(RoomError):
    code = "closed"
    default_message = _("This room is closed.")


class NotAllowed(RoomError):
    code = "not_allowed"
    default_message = _("You are not allowed to do that.")


# Rooms a member (not staff) may open in 24 hours: plenty for a day of meetings, and a
# ceiling for a script opening thousands.
ROOMS_PER_DAY = 10


class TooManyRooms(RoomError):
    code = "too_many_rooms"

    def __init__(self) -> None:
        super().__init__(
            _(
                "You have opened %(count)s rooms in the last 24 hours, the most there can "
                "be. Use one of yours, or try again tomorrow."
            )
            % {"count": ROOMS_PER_DAY}
        )


class MemberMuted(RoomError):
    code = "muted"
    default_message = _("You are muted in this room for now.")


class MessageEmpty(RoomError):
    code = "empty"
    default_message = _("Write something first.")


class MessageTooLong(RoomError):
    code = "too_long"
    default_message = _("Messages can be up to 2,000 characters long.")


class MessageDeleted(RoomError):
    code = "deleted"
    default_message = _("This message was deleted.")


class ReplyGone(RoomError):
    code = "not_found"
    default_message = _("The message you answer is no longer there.")


def cafeteria_get() -> Room:
    return Room.objects.get(kind=Room.Kind.CAFETERIA)


def _is_member(user: User) -> bool:
    return user.account_is_open


# Slugs that are paths of their own under /rooms/ (the cafeteria's, the "open a room" form).
RESERVED_SLUGS = frozenset({CAFETERIA_SLUG, "new"})


def room_slug_for(name: str) -> str:
    base = slugify(name)[:50].strip("-") or "room"
    if base in RESERVED_SLUGS or Room.objects.filter(slug=base).exists():
        return f"{base}-{secrets.token_hex(3)}"
    return base


def room_name_clean(name: str) -> str:
    """A room's name as stored: one visible line (core.text), cut to the column's length."""
    return visible_line(name)[: Room._meta.get_field("name").max_length]


@transaction.atomic
def room_create(
    *,
    creator: User,
    name: str,
    description: str = "",
    private: bool = False,
    capacity: int | None = None,
    invitees: Iterable[User] = (),
    permanent: bool = False,
    opens_at: datetime | None = None,
    slug_base: str = "",
) -> Room:
    """Open a meeting room. Members open their own (closed again when idle); staff may make
    permanent ones. Invitees on either side of a block with the creator are left out. With
    `opens_at`, others may come in from then on (see `room_can_enter`). Its address is made
    from its name, or from `slug_base` for a name that should not be in an address."""
    if not _is_member(creator) or (permanent and not staff_may(creator, rights.MANAGE)):
        raise NotAllowed
    if not creator.is_staff:
        # One creation at a time per member, so two at once cannot both pass the count.
        User.objects.select_for_update().filter(pk=creator.pk).first()
        since = timezone.now() - timedelta(days=1)
        if Room.objects.filter(created_by=creator, created_at__gte=since).count() >= ROOMS_PER_DAY:
            raise TooManyRooms
    name = room_name_clean(name)
    if not name:
        raise RoomError(str(_("Give the room a name.")))
    room = Room(
        kind=Room.Kind.PERMANENT if permanent else Room.Kind.MEMBER,
        name=name,
        description=description.strip(),
        private=private,
        capacity=capacity,
        created_by=creator,
        opens_at=opens_at,
    )
    room.full_clean(exclude=["slug"])
    base = slug_base or name
    for attempt in range(5):
        room.slug = room_slug_for(base) if attempt == 0 else f"{room_slug_for(base)}-{attempt}"
        try:
            with transaction.atomic():
                room.save()
            break
        except IntegrityError:
            # Someone took the same slug in between; try another.
            continue
    else:
        raise RoomError
    if invitees:
        _invite(room=room, by=creator, invitees=invitees)
    # Open lobbies list the new room (those the room is open to).
    broadcast.on_commit(broadcast.lobby_changed)
    return room


def _invite(*, room: Room, by: User, invitees: Iterable[User]) -> list[User]:
    """Add `invitees` to the room's list; those newly on it hear of it once this commits (on
    the site and their devices: `rooms.tasks.invitation_notify`)."""
    blocked = blocked_user_ids(user=by)
    chosen = [
        user
        for user in invitees
        if user.pk != by.pk and user.pk not in blocked and _is_member(user)
    ]
    ids = [user.pk for user in chosen]
    already = set(room.invitees.filter(pk__in=ids).values_list("pk", flat=True))
    room.invitees.add(*chosen)
    from rooms.tasks import invitation_notify  # the tasks module imports this one

    for user in chosen:
        if user.pk not in already:
            transaction.on_commit(partial(invitation_notify.delay, room.pk, user.pk, by.pk))
    return chosen


# Rooms no member runs, whoever of them opened it (a coffee pair's table, which nobody else
# may be invited to): the apps above register how to tell them (conversations.apps).
_run_by_nobody: list[Callable[[Room], bool]] = []


def room_run_by_nobody_register(check: Callable[[Room], bool]) -> None:
    _run_by_nobody.append(check)


def room_can_manage(*, room: Room, user: User) -> bool:
    """May `user` close `room` and invite to it? Its creator and staff; never the cafeteria;
    only staff, for a room no member runs (`room_run_by_nobody_register`)."""
    if room.is_cafeteria:
        return False
    if staff_may(user, rights.MANAGE):
        return True
    if user.pk != room.created_by_id or any(check(room) for check in _run_by_nobody):
        return False
    # A creator staff sent out of their room runs it no more (closing it on everyone inside).
    return not RoomParticipation.objects.filter(
        room=room, user=user, removed_at__isnull=False
    ).exists()


def room_writing_check(*, room_id: int, user: User) -> None:
    """MemberMuted when staff muted `user` in the room: whatever they would write there
    (a message, an edit, a focus goal its tablemates read) waits for the mute to end."""
    participation = RoomParticipation.objects.filter(room_id=room_id, user=user).first()
    if participation and participation.is_muted():
        raise MemberMuted


def room_invite(*, room: Room, by: User, invitees: Iterable[User]) -> list[User]:
    """Invite members to a private room (its creator or staff). Returns who was invited."""
    if not room.is_open:
        raise RoomClosed
    if not room_can_manage(room=room, user=by):
        raise NotAllowed
    return _invite(room=room, by=by, invitees=invitees)


def room_can_enter(*, room: Room, user: User, now: datetime | None = None) -> bool:
    """May `user` come in (at `now`)? Capacity is presence's business, not checked here."""
    participation = RoomParticipation.objects.filter(room=room, user=user).first()
    return room_admits(room=room, user=user, participation=participation, now=now)


def room_admits(
    *,
    room: Room,
    user: User,
    participation: RoomParticipation | None,
    blocked: set[int] | None = None,
    now: datetime | None = None,
) -> bool:
    """`room_can_enter`'s rules, given what the caller has read already: the member's
    participation in the room and, if known, whom they block either way (read only for a
    private room otherwise). A socket arriving reads each once for everything it needs."""
    if not _is_member(user) or not room.is_open:
        return False
    if participation is not None and participation.removed_at is not None:
        return False
    # Staff and the creator come in early to prepare.
    if not room.has_opened(now=now) and not (
        user.pk == room.created_by_id or staff_may(user, rights.MANAGE)
    ):
        return False
    if room.is_cafeteria or not room.private or staff_may(user, rights.READ):
        return True
    if user.pk == room.created_by_id:
        return True
    # Invited before a block with the creator came between them: not any more.
    if blocked is None:
        blocked = blocked_user_ids(user=user)
    if room.created_by_id in blocked:
        return False
    return room.invitees.filter(pk=user.pk).exists()


@dataclass(frozen=True)
class ConnectionAccess:
    """What an open socket learns when its access is checked again: why it must go (a
    `bye` reason), or the member as they are now and whom they block."""

    revoked: str | None
    user: User | None = None
    blocked: frozenset[int] = frozenset()


def connection_access(
    *, user_id: int, session_key: str, room_id: int | None, now: datetime | None = None
) -> ConnectionAccess:
    """May an open socket of `user_id`, opened with `session_key`, in `room_id` (None: the
    lobby) stay? Checked when something it depends on changes (rooms.signals); the sweep
    (rooms.presence.connections_check) makes the same checks in bulk as a safety net."""
    now = now or timezone.now()
    user = User.objects.filter(pk=user_id).first()
    if user is None or not user.account_is_open:
        return ConnectionAccess("account")
    session = Session.objects.filter(session_key=session_key, expire_date__gt=now).first()
    if session is None:
        return ConnectionAccess("logged_out")
    if not signed_in(session_data=session.get_decoded(), user=user):
        return ConnectionAccess("password")
    if room_id is not None:
        room = Room.objects.filter(pk=room_id).first()
        if room is None or not room.is_open:
            return ConnectionAccess("closed")
        if RoomParticipation.objects.filter(
            room=room, user=user, removed_at__isnull=False
        ).exists():
            return ConnectionAccess("removed")
        if not room_can_enter(room=room, user=user, now=now):
            return ConnectionAccess("no_access")
    return ConnectionAccess(None, user, frozenset(blocked_user_ids(user=user)))


def room_enter(*, room: Room, user: User, now: datetime | None = None) -> RoomParticipation:
    """Record that `user` is in `room` (first and last seen), or raise RoomAccessDenied.
    Called on every entry and presence heartbeat; it also keeps the room from going idle."""
    if not room.is_open:
        raise RoomClosed
    participation = RoomParticipation.objects.filter(room=room, user=user).first()
    if not room_admits(room=room, user=user, participation=participation, now=now):
        raise RoomAccessDenied
    return room_entered(room=room, user=user, participation=participation, now=now)


def room_entered(
    *,
    room: Room,
    user: User,
    participation: RoomParticipation | None,
    now: datetime | None = None,
) -> RoomParticipation:
    """The writes of `room_enter` once the caller has let `user` in, `participation` being
    their row as read for that: two queries, one when the room was touched lately."""
    now = now or timezone.now()
    if participation is None:
        # Upsert: another tab of the member may be creating the same row at this moment.
        (participation,) = RoomParticipation.objects.bulk_create(
            [RoomParticipation(room=room, user=user, first_seen_at=now, last_seen_at=now)],
            update_conflicts=True,
            unique_fields=["room", "user"],
            update_fields=["last_seen_at"],
        )
    else:
        participation.first_seen_at = participation.first_seen_at or now
        participation.last_seen_at = now
        RoomParticipation.objects.filter(pk=participation.pk).update(
            first_seen_at=Coalesce("first_seen_at", Value(now)), last_seen_at=now
        )
    # Rooms with people inside are kept active by the liveness sweep every TOUCH_INTERVAL;
    # an arrival only needs to wake a room that has been quiet for longer.
    if room.last_activity_at < now - TOUCH_INTERVAL:
        Room.objects.filter(pk=room.pk, last_activity_at__lt=now).update(last_activity_at=now)
        room.last_activity_at = now
    return participation


def _room_closed_announce(room_id: int) -> None:
    """Once the closing commits, tell the room's sockets (they say goodbye and close) and
    the lobbies."""
    broadcast.on_commit(broadcast.room_closed, room_id=room_id)


def room_close(*, room: Room, by: User, now: datetime | None = None) -> bool:
    """Close a meeting room by hand (its creator or staff), keeping its history. True when
    this call closed it; only then are its sockets told, after the commit."""
    if room.is_cafeteria:
        return room.close()  # raises CafeteriaProtected
    if not (by.pk == room.created_by_id or staff_may(by, rights.MANAGE)):
        raise NotAllowed
    closed = room.close(now=now)
    if closed:
        _room_closed_announce(room.pk)
    return closed


def rooms_close_of(*, user: User, now: datetime | None = None) -> int:
    """A member suspended by staff: the open meeting rooms they opened, listed in the lobby,
    close (their names were theirs to choose, and a spammer's stayed listed until idle),
    their history kept. Private ones stay for their invitees: a pair's coffee table is
    opened by whichever partner comes first. Returns how many this call closed."""
    closed = 0
    mine = Room.objects.filter(created_by=user, kind=Room.Kind.MEMBER, private=False)
    for room in mine.filter(closed_at=None):
        if room.close(now=now):
            _room_closed_announce(room.pk)
            closed += 1
    return closed


def rooms_close_idle(*, now: datetime, idle_for: timedelta) -> list[int]:
    """Close member-made rooms without activity for `idle_for`. Returns the ids this run
    closed; their sockets are told after the commit.

    One conditional UPDATE (still open, still idle): a second run, or two runs at once,
    closes nothing twice, and a room that came back to life meanwhile stays open. The rooms
    this run closed are the candidates now stamped with its own `closed_at`.
    """
    idle = Room.objects.filter(
        kind=Room.Kind.MEMBER, closed_at__isnull=True, last_activity_at__lt=now - idle_for
    )
    candidates = list(idle.values_list("pk", flat=True))
    if not candidates:
        return []
    idle.filter(pk__in=candidates).update(closed_at=now)
    closed = list(
        Room.objects.filter(pk__in=candidates, closed_at=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for room_id in closed:
        _room_closed_announce(room_id)
    return closed


def _clean_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise MessageEmpty
    if len(text) > MESSAGE_MAX_LENGTH:
        raise MessageTooLong
    return text


def message_post(
    *,
    room: Room,
    author: User,
    text: str,
    client_id: uuid.UUID,
    reply_to: int | None = None,
    question: bool = False,
) -> tuple[Message, bool]:
    """Store a chat message, answering the message `reply_to` of the same room if given,
    or asked as a `question` (the stage's Q&A).
    Returns (message, created); a resent `client_id` returns the message stored the first
    time and False, whatever the text says this time."""
    existing = (
        Message.objects.select_related("reply_to__author")
        .filter(room=room, author=author, client_id=client_id)
        .first()
    )
    if existing:
        return existing, False
    text = _clean_text(text)
    if not room.is_open:
        raise RoomClosed
    if not room_can_enter(room=room, user=author):
        raise RoomAccessDenied
    now = timezone.now()
    participation = RoomParticipation.objects.filter(room=room, user=author).first()
    if participation and participation.is_muted(now=now):
        raise MemberMuted
    answered = None
    if reply_to is not None:
        answered = (
            Message.objects.select_related("author")
            .filter(room=room, pk=reply_to, deleted_at__isnull=True)
            .exclude(author_id__in=blocked_user_ids(user=author))
            .first()
        )
        if answered is None:
            raise ReplyGone
    try:
        with transaction.atomic():
            message = Message.objects.create(
                room=room,
                seq=message_seq_next(room_id=room.pk),
                author=author,
                text=text,
                client_id=client_id,
                created_at=now,
                reply_to=answered,
                is_question=question,
            )
    except IntegrityError:
        # The same message arrived twice at once; the other copy won.
        return Message.objects.get(room=room, author=author, client_id=client_id), False
    Room.objects.filter(pk=room.pk, last_activity_at__lt=now).update(last_activity_at=now)
    mentions_record(message=message)  # and email them after the commit
    return message, True


def reaction_toggle(
    *, message: Message, user: User, emoji: str
) -> tuple[list[dict[str, object]], int]:
    """Add `user`'s `emoji` (rooms.reactions.REACTIONS) to a room message, or take it away if
    it was there; returns the message's reactions as they are now (reactions_summary) and
    their number (`Message.reactions_version`). The caller broadcasts them (the socket,
    after this returns). Muted members cannot react."""
    if not reaction_valid(emoji):
        raise RoomError(str(_("This reaction is not one of ours.")))
    if message.is_deleted:
        raise MessageDeleted
    room = message.room
    if not room.is_open:
        raise RoomClosed
    if not room_can_enter(room=room, user=user):
        raise RoomAccessDenied
    participation = RoomParticipation.objects.filter(room=room, user=user).first()
    if participation and participation.is_muted():
        raise MemberMuted
    with transaction.atomic():
        # Takes the row's lock: a burst of votes on one question changes it one at a time,
        # each reading the counts the one before left.
        Message.objects.filter(pk=message.pk).update(
            reactions_version=F("reactions_version") + 1, reactions_changed_at=timezone.now()
        )
        deleted, _rows = Reaction.objects.filter(message=message, user=user, emoji=emoji).delete()
        if not deleted:
            Reaction.objects.get_or_create(message=message, user=user, emoji=emoji)
        version = Message.objects.values_list("reactions_version", flat=True).get(pk=message.pk)
        reactions = Reaction.objects.filter(message=message).order_by("created_at", "id")
        return reactions_summary(reactions), version


def message_edit(*, message: Message, editor: User, text: str) -> Message:
    if editor.pk is None or editor.pk != message.author_id:
        raise NotAllowed
    if message.is_deleted:
        raise MessageDeleted
    if not message.room.is_open:
        raise RoomClosed
    # Muted, a member writes nothing here: rewriting a message is writing (and may mention).
    participation = RoomParticipation.objects.filter(room=message.room, user=editor).first()
    if participation and participation.is_muted():
        raise MemberMuted
    previous_text, message.text = message.text, _clean_text(text)
    message.edited_at = timezone.now()
    message.save(update_fields=["text", "edited_at"])
    # Only members the edit newly mentions hear of it; those it still mentions find their
    # notice quoting its new words.
    mentions_record(message=message, previous_text=previous_text)
    mentions_after_edit(message=message)
    return message


def message_delete(*, message: Message, by: User) -> bool:
    """Soft-delete (the text goes, the row stays) by its author or staff. False when it was
    already deleted."""
    if not ((by.pk is not None and by.pk == message.author_id) or staff_may(by, rights.DELETE)):
        raise NotAllowed
    now = timezone.now()
    updated = Message.objects.filter(pk=message.pk, deleted_at__isnull=True).update(
        text="", deleted_at=now, deleted_by=by
    )
    if updated:
        message.text, message.deleted_at, message.deleted_by = "", now, by
        mentions_withdraw(message=message)
    return bool(updated)


def _moderate(*, room: Room, member: User, by: User, **fields: object) -> RoomParticipation:
    if not staff_may(by, rights.MODERATE):
        raise NotAllowed
    return _moderation_write(room=room, member=member, by=by, **fields)


def _moderation_write(*, room: Room, member: User, by: User, **fields: object) -> RoomParticipation:
    if member.pk == by.pk:
        raise NotAllowed(str(_("You cannot moderate yourself.")))
    participation, _created = RoomParticipation.objects.update_or_create(
        room=room, user=member, defaults={**fields, "moderated_by": by}
    )
    return participation


def room_member_remove(*, room: Room, member: User, by: User) -> RoomParticipation:
    """Staff send a member out of a room; they cannot come back (nor read on) until
    `room_member_readmit`. Disconnecting a live socket is the caller's side effect."""
    return _moderate(room=room, member=member, by=by, removed_at=timezone.now())


def room_member_exclude(*, room: Room, member: User, by: User) -> RoomParticipation:
    """`room_member_remove` for a caller that has decided `by` may do it under rules of its
    own (a stage's host sending someone out of their event: stage.services.stage_remove)."""
    return _moderation_write(room=room, member=member, by=by, removed_at=timezone.now())


def room_member_readmit(*, room: Room, member: User, by: User) -> RoomParticipation:
    return _moderate(room=room, member=member, by=by, removed_at=None)


def room_member_mute(
    *, room: Room, member: User, by: User, until: datetime | None
) -> RoomParticipation:
    """Staff stop a member from writing in a room until `until` (None lifts the mute). The
    member's pages in the room hear of it once this commits, wherever staff acted (the
    room's tools or the admin)."""
    participation = _moderate(room=room, member=member, by=by, muted_until=until)
    broadcast.on_commit(
        broadcast.member_muted,
        room_id=room.pk,
        user_id=member.pk,
        until=until.isoformat() if until else None,
    )
    return participation

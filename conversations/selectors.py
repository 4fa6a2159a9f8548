"""What a member sees of their conversations. Every read goes through their seat: a member
who is not in a conversation gets nothing (a 404), as does one who blocked, or was blocked by,
the other member of a direct conversation."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, Lower
from django.http import Http404

from conversations.models import Conversation, Message, Participant, Reaction
from members.models import Acquaintance, Block, MessagesFrom, User
from members.search import search_terms
from members.selectors import apart_from
from members.services import blocked_user_ids
from notifications.selectors import unread_count
from rooms.reactions import REACTIONS

# Messages shown at once; older ones come a page at a time.
PAGE_SIZE = 50


@dataclass
class ConversationEntry:
    conversation: Conversation
    others: list[User]
    unread: int
    last_text: str
    muted: bool = False
    last_at: datetime | None = None  # of the message `last_text` shows

    @property
    def name(self) -> str:
        if self.conversation.title:
            return self.conversation.title
        return ", ".join(user.name for user in self.others)


def direct_key(*, first_id: int, second_id: int) -> str:
    """What tells the one direct conversation of two members (Conversation.direct_key)."""
    low, high = sorted((first_id, second_id))
    return f"{low}:{high}"


def starts_conversations(user: User) -> bool:
    """Whether `user` may start a conversation at all: staff, or a member with a finished
    profile (without one, the other could neither look them up, block nor report them)."""
    return user.is_staff or user.profile_onboarded


def conversation_openers(*, starter: User, others: Iterable[User]) -> set[int]:
    """The ids among `others` to whom `starter` may write now: those they already talk to,
    and those whose setting takes a new conversation from them (services._check_start's
    rules, so a "Send a message" button is shown only where it works). A fixed number of
    queries (at most three) however many `others`; `others` come with their `profile`."""
    candidates = [other for other in others if other.pk != starter.pk and other.is_active]
    if not starter.is_authenticated or not candidates:
        return set()
    if not starts_conversations(starter):
        return set()
    hidden = blocked_user_ids(user=starter)
    settings = {
        other.pk: getattr(getattr(other, "profile", None), "messages_from", MessagesFrom.EVERYONE)
        for other in candidates
        if other.pk not in hidden
    }
    open_to = {pk for pk, setting in settings.items() if setting == MessagesFrom.EVERYONE}
    only_met = [pk for pk, setting in settings.items() if setting == MessagesFrom.MET]
    if only_met:
        open_to |= set(
            Acquaintance.objects.filter(owner_id__in=only_met, other=starter).values_list(
                "owner_id", flat=True
            )
        )
    # Their setting is about new conversations: one they already share stays open.
    keys = {direct_key(first_id=starter.pk, second_id=pk): pk for pk in settings.keys() - open_to}
    if keys:
        open_to |= {
            keys[key]
            for key in Conversation.objects.filter(direct_key__in=keys).values_list(
                "direct_key", flat=True
            )
            if key is not None
        }
    return open_to


def direct_conversation_of(*, user: User, other: User) -> Conversation | None:
    """The direct conversation of the two members, if they have one."""
    return Conversation.objects.filter(
        direct_key=direct_key(first_id=user.pk, second_id=other.pk)
    ).first()


# Conversations a page of the list shows; older ones are a link away. Each coffee round
# adds one, so a member's list grows all the time.
LIST_PAGE = 30


@dataclass(frozen=True)
class ConversationList:
    entries: list[ConversationEntry]
    older: str  # where the next page starts (`conversations_of`'s `before`), "" on the last


# What a message says in a list or an email: its text, or for a picture or file sent
# without words, a clip and the file's name.
_SHOWN = Case(
    When(
        text="",
        deleted_at__isnull=True,
        attachment__isnull=False,
        then=Concat(Value("📎 "), "attachment__name"),
    ),
    default=F("text"),
    output_field=TextField(),
)


def conversations_of(
    *, user: User, before: str = "", limit: int | None = None, archived: bool = False
) -> ConversationList:
    """The member's conversations, latest activity first (the last message, or the start
    for one without any), in three queries however many: all of them, or `limit` from
    where `before` says (the `older` of the page before; anything else: the first page).
    Those the member archived, or with `archived` only those."""
    hidden = blocked_user_ids(user=user)
    latest = (
        Message.objects.filter(conversation=OuterRef("conversation"))
        .exclude(author_id__in=hidden)
        .order_by("-id")
    )
    # Latest activity first, as the member sees it: a message of someone they do not see
    # moves nothing up (read from the messages only then, the stored time otherwise).
    activity_seen = (
        Coalesce(Subquery(latest.values("created_at")[:1]), "conversation__created_at")
        if hidden
        else Coalesce("conversation__last_message_at", "conversation__created_at")
    )
    seats = (
        Participant.objects.filter(user=user, archived_at__isnull=not archived)
        .select_related("conversation")
        .annotate(
            activity=activity_seen,
            unread=Coalesce(_unread_of_seat(user=user, hidden=hidden), 0),
            last_text=Subquery(latest.annotate(shown=_SHOWN).values("shown")[:1]),
            last_at=Subquery(latest.values("created_at")[:1]),
        )
        .order_by("-activity", "-conversation_id")
    )
    start = _list_cursor_read(before)
    if start is not None:
        activity, conversation_id = start
        seats = seats.filter(
            Q(activity__lt=activity) | Q(activity=activity, conversation_id__lt=conversation_id)
        )
    page = list(seats if limit is None else seats[: limit + 1])
    older = ""
    if limit is not None and len(page) > limit:
        page = page[:limit]
        older = _list_cursor(page[-1])
    others = _others_by_conversation(
        conversation_ids=[seat.conversation_id for seat in page], user=user
    )
    entries = []
    for seat in page:
        people = others.get(seat.conversation_id, [])
        direct = seat.conversation.kind == Conversation.Kind.DIRECT
        if direct and any(person.pk in hidden for person in people):
            continue
        entries.append(
            ConversationEntry(
                seat.conversation,
                people,
                seat.unread,
                seat.last_text or "",
                muted=seat.muted_at is not None,
                last_at=seat.last_at,
            )
        )
    return ConversationList(entries, older)


_CURSOR_TIME = "%Y%m%dT%H%M%S.%f"


def _list_cursor(seat: Any) -> str:
    return f"{seat.activity.astimezone(UTC).strftime(_CURSOR_TIME)}-{seat.conversation_id}"


def _list_cursor_read(cursor: str) -> tuple[datetime, int] | None:
    moment, _, conversation_id = cursor.partition("-")
    try:
        return datetime.strptime(moment, _CURSOR_TIME).replace(tzinfo=UTC), int(conversation_id)
    except ValueError:
        return None


def _others_by_conversation(
    *, conversation_ids: Iterable[int], user: User
) -> dict[int, list[User]]:
    """{conversation id: its members other than `user`, in the order they joined}, in one
    query."""
    others: dict[int, list[User]] = {}
    for seat in (
        Participant.objects.filter(conversation__in=list(conversation_ids))
        .exclude(user=user)
        .select_related("user")
        .order_by("joined_at", "id")
    ):
        others.setdefault(seat.conversation_id, []).append(seat.user)
    return others


def readable(*, user: User, conversation_id: int) -> tuple[Conversation, list[User]] | None:
    """The conversation and its other members, if `user` may read it; None otherwise."""
    seat = (
        Participant.objects.filter(user=user, conversation_id=conversation_id)
        .select_related("conversation")
        .first()
    )
    if seat is None:
        return None
    others = _others_by_conversation(conversation_ids=[conversation_id], user=user).get(
        conversation_id, []
    )
    hidden = blocked_user_ids(user=user)
    if seat.conversation.kind == Conversation.Kind.DIRECT and any(
        other.pk in hidden for other in others
    ):
        return None
    return seat.conversation, others


def conversation_for(*, user: User, conversation_id: int) -> tuple[Conversation, list[User]]:
    """`readable` for a page: Http404 when `user` may not read the conversation."""
    found = readable(user=user, conversation_id=conversation_id)
    if found is None:
        raise Http404
    return found


# A catch-up brings at most this many messages changed while the page was away, the newest.
CHANGED_MAX = 100


def messages_changed(
    *, conversation: Conversation, viewer: User, upto: int, since: datetime
) -> list[Message]:
    """The messages up to the id `upto` edited, deleted or reacted to after `since`, at most
    CHANGED_MAX of the newest, oldest first: what a page that held them missed while its
    connection was down (docs/websocket-protocol.md, "The member socket")."""
    hidden = blocked_user_ids(user=viewer)
    rows = (
        Message.objects.filter(conversation=conversation, id__lte=upto)
        .filter(
            Q(edited_at__gt=since) | Q(deleted_at__gt=since) | Q(reactions_changed_at__gt=since)
        )
        .exclude(author_id__in=hidden)
        .select_related("author", "reply_to__author", "reply_to__attachment", "attachment")
        .order_by("-id")[:CHANGED_MAX]
    )
    return with_reactions(list(reversed(rows)), hidden)


def messages_page(
    *,
    conversation: Conversation,
    viewer: User,
    before: int | None = None,
    after: int | None = None,
) -> tuple[list[Message], bool]:
    """Up to PAGE_SIZE messages, oldest first, and whether more remain that way: those
    before the id `before`, the first ones after the id `after` (catching up), or the
    latest. Messages by members on either side of a block with `viewer` are left out."""
    hidden = blocked_user_ids(user=viewer)
    rows = (
        Message.objects.filter(conversation=conversation)
        .exclude(author_id__in=hidden)
        .select_related("author", "reply_to__author", "reply_to__attachment", "attachment")
    )
    if after is not None:
        page = list(rows.filter(id__gt=after).order_by("id")[: PAGE_SIZE + 1])
        return with_reactions(page[:PAGE_SIZE], hidden), len(page) > PAGE_SIZE
    if before is not None:
        rows = rows.filter(id__lt=before)
    page = list(rows.order_by("-id")[: PAGE_SIZE + 1])
    return with_reactions(list(reversed(page[:PAGE_SIZE])), hidden), len(page) > PAGE_SIZE


def reactions_of(
    message_ids: list[int], hidden: Collection[int] = ()
) -> dict[int, list[dict[str, Any]]]:
    """{message id: [{"emoji", "members": [user ids]}]} in the order of REACTIONS, in one
    query, without the reactions of `hidden` (whom the reader does not see)."""
    found: dict[int, dict[str, list[int]]] = {}
    for message_id, emoji, user_id in (
        Reaction.objects.filter(message_id__in=message_ids)
        .order_by("created_at", "id")
        .values_list("message_id", "emoji", "user_id")
    ):
        if user_id not in hidden:
            found.setdefault(message_id, {}).setdefault(emoji, []).append(user_id)
    return {
        message_id: [
            {"emoji": emoji, "members": by_emoji[emoji]} for emoji in REACTIONS if emoji in by_emoji
        ]
        for message_id, by_emoji in found.items()
    }


def with_reactions(messages: list[Message], hidden: Collection[int] = ()) -> list[Message]:
    """The messages, each with its `reaction_list` (reactions_of) set."""
    reactions = reactions_of([message.pk for message in messages], hidden)
    for message in messages:
        message.reaction_list = reactions.get(message.pk, [])  # type: ignore[attr-defined]
    return messages


def read_marks(*, conversation: Conversation, viewer: User) -> dict[int, int]:
    """{member id: the last message they have read} for the conversation's other members,
    for the read receipts under the viewer's messages ("seen by 2 of 3"). Members on either
    side of a block with the viewer do not read the viewer's messages: they are left out, as
    from the receipts sent live (services.conversation_read)."""
    # The blocks as subqueries: the page's one query for the marks, not a second for blocks.
    return dict(
        Participant.objects.filter(apart_from(viewer), conversation=conversation)
        .exclude(user=viewer)
        .values_list("user_id", "last_read_id")
    )


# How far back the unread-messages tick looks: a conversation nobody wrote in since was
# told about long ago (the tick runs every minute; `after` is minutes).
TELL_WITHIN = timedelta(days=7)


def seats_to_tell(*, now: datetime, after: timedelta) -> list[int]:
    """The seats whose member has had a message from someone else unread for `after` or
    longer and has not been told since they last read (muted ones are never told; a message
    its author deleted tells nothing). Only conversations written in within TELL_WITHIN:
    nearly every seat has read all it was told about, and the tick read each of them, every
    minute (2 s at a million seats)."""
    unread = (
        Message.objects.filter(
            conversation=OuterRef("conversation"),
            id__gt=OuterRef("last_read_id"),
            deleted_at__isnull=True,
        )
        .exclude(author=OuterRef("user"))
        .order_by("id")
    )
    return list(
        Participant.objects.filter(
            conversation__last_message_at__gte=now - TELL_WITHIN,
            told_upto_id__lte=F("last_read_id"),
            user__is_active=True,
            muted_at__isnull=True,
        )
        .annotate(first_unread_at=Subquery(unread.values("created_at")[:1]))
        .filter(first_unread_at__lte=now - after)
        .values_list("pk", flat=True)
    )


def unread_for(*, seat: Participant) -> list[Message]:
    """The messages from others that the seat's member has not read, oldest first (not those
    their authors deleted)."""
    return list(
        Message.objects.filter(
            conversation_id=seat.conversation_id, id__gt=seat.last_read_id, deleted_at__isnull=True
        )
        .exclude(author_id=seat.user_id)
        .exclude(author_id__in=blocked_user_ids(user=seat.user))
        .select_related("author", "attachment")
        .order_by("id")
    )


def writers_of(messages: list[Message]) -> list[User]:
    """Who wrote `messages`, each once, in the order they first wrote (not someone who has
    since deleted their account)."""
    writers: dict[int, User] = {}
    for message in messages:
        if message.author is not None:
            writers.setdefault(message.author.pk, message.author)
    return list(writers.values())


def _unread_of_seat(*, user: User, hidden: Iterable[int] | None = None) -> Subquery:
    """For a seat of `user` (the outer query's row): how many messages from others came
    after their read mark, not deleted, leaving out those on either side of a block with
    them. Counted
    from the mark on (the (conversation, id) index), so it costs what is unread, not the
    conversation's whole history."""
    unread = Message.objects.filter(
        conversation=OuterRef("conversation"),
        id__gt=OuterRef("last_read_id"),
        deleted_at__isnull=True,
    ).exclude(author=user)
    if hidden is not None:
        unread = unread.exclude(author_id__in=hidden)
    else:
        unread = unread.exclude(
            Exists(Block.objects.filter(blocker=user, blocked=OuterRef("author")))
        ).exclude(Exists(Block.objects.filter(blocker=OuterRef("author"), blocked=user)))
    return Subquery(
        unread.order_by().values("conversation").annotate(count=Count("*")).values("count")
    )


# The same count as `_unread_of_seat` summed over the member's seats, written out: every
# member page's header shows it, and the ORM took 3 ms of Python to build that query for
# 0.1 ms of PostgreSQL's work (docs/benchmarks.md, "HTTP pages", seventh session).
_UNREAD_TOTAL = """
    SELECT COUNT(*)
    FROM {participant} seat
    JOIN {message} message
      ON message.conversation_id = seat.conversation_id AND message.id > seat.last_read_id
    WHERE seat.user_id = %(user)s
      AND message.deleted_at IS NULL
      AND message.author_id IS DISTINCT FROM %(user)s
      AND NOT EXISTS (
        SELECT 1 FROM {block} block
        WHERE block.blocker_id = %(user)s AND block.blocked_id = message.author_id
      )
      AND NOT EXISTS (
        SELECT 1 FROM {block} block
        WHERE block.blocker_id = message.author_id AND block.blocked_id = %(user)s
      )
"""


def unread_total(*, user: User) -> int:
    """Messages from others that `user` has not read yet, in all their conversations (those
    by members on either side of a block with them left out), in one query."""
    quote = connection.ops.quote_name
    sql = _UNREAD_TOTAL.format(
        participant=quote(Participant._meta.db_table),
        message=quote(Message._meta.db_table),
        block=quote(Block._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"user": user.pk})
        (total,) = cursor.fetchone()
    return int(total)


def counts_for(*, user: User) -> tuple[int, int]:
    """The header's counters: unread private messages, unread notifications."""
    return unread_total(user=user), unread_count(user=user)


def group_candidates(*, user: User, exclude: Iterable[int] = ()) -> QuerySet[User]:
    """Whom `user` may bring into a group: active members they have met or share a
    conversation with, but nobody on either side of a block, nor those in `exclude`."""
    met = Acquaintance.objects.filter(owner=user).values("other_id")
    talked = Participant.objects.filter(
        conversation__participants__user=user, conversation__kind=Conversation.Kind.DIRECT
    ).values("user_id")
    hidden = blocked_user_ids(user=user) | {user.pk, *exclude}
    return (
        User.objects.filter(Q(pk__in=met) | Q(pk__in=talked), is_active=True)
        .exclude(pk__in=hidden)
        .order_by(Lower("display_name"), "pk")
    )


def seat_of(*, conversation: Conversation, user: User) -> Participant | None:
    """`user`'s seat in the conversation (how far they had read, whether they muted it);
    None for staff reading without one."""
    return Participant.objects.filter(conversation=conversation, user=user).first()


def has_archived(*, user: User) -> bool:
    """Whether the member archived any conversation they are still in."""
    return Participant.objects.filter(user=user, archived_at__isnull=False).exists()


# Results a search shows at once, newest first.
SEARCH_LIMIT = 30


@dataclass
class Found:
    message: Message
    conversation_name: str


def messages_search(*, user: User, query: str) -> list[Found]:
    """The messages of `user`'s conversations that hold every word of `query` (word prefixes,
    accents ignored, on PostgreSQL; a plain substring match per word elsewhere), newest
    first, up to SEARCH_LIMIT; what a block hides stays hidden. Three queries."""
    terms = search_terms(query)
    if not terms:
        return []
    hidden = blocked_user_ids(user=user)
    found = (
        Message.objects.filter(conversation__participants__user=user, deleted_at__isnull=True)
        .exclude(author_id__in=hidden)
        .select_related("author", "conversation")
    )
    if connection.vendor == "postgresql":
        # search_terms() keeps letters and digits only: quoting cannot be broken out of.
        tsquery = " & ".join(f"'{term}':*" for term in terms)
        found = found.filter(search_vector=SearchQuery(tsquery, search_type="raw", config="simple"))
    else:
        for term in query.split()[:8]:
            found = found.filter(text__icontains=term)
    messages = list(found.order_by("-id")[: SEARCH_LIMIT * 2])
    people = _others_by_conversation(
        conversation_ids={m.conversation_id for m in messages}, user=user
    )
    results = []
    for message in messages:
        others = people.get(message.conversation_id, [])
        direct = message.conversation.kind == Conversation.Kind.DIRECT
        if direct and any(other.pk in hidden for other in others):
            continue
        name = message.conversation.title or ", ".join(other.name for other in others)
        results.append(Found(message, name))
    return results[:SEARCH_LIMIT]

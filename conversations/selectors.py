"""What a member sees of their conversations. Every read goes through their seat: a member
who is not in a conversation gets nothing (a 404), as does one who blocked, or was blocked by,
the other member of a direct conversation."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, F, OuterRef, Q, Subquery
from django.http import Http404

from conversations.models import Conversation, Message, Participant
from members.models import User
from members.services import blocked_user_ids

# Messages shown at once; older ones come a page at a time.
PAGE_SIZE = 50


@dataclass
class ConversationEntry:
    conversation: Conversation
    others: list[User]
    unread: int
    last_text: str

    @property
    def name(self) -> str:
        if self.conversation.title:
            return self.conversation.title
        return ", ".join(user.name for user in self.others)


def conversations_of(*, user: User) -> list[ConversationEntry]:
    """The member's conversations, latest activity first, in three queries however many."""
    hidden = blocked_user_ids(user=user)
    latest = Message.objects.filter(conversation=OuterRef("conversation")).order_by("-id")
    seats = list(
        Participant.objects.filter(user=user)
        .select_related("conversation")
        .annotate(
            unread=Count(
                "conversation__messages",
                filter=Q(conversation__messages__id__gt=F("last_read_id"))
                & ~Q(conversation__messages__author=user),
            ),
            last_text=Subquery(latest.values("text")[:1]),
        )
        .order_by(
            F("conversation__last_message_at").desc(nulls_last=True),
            "-conversation__created_at",
        )
    )
    others: dict[int, list[User]] = {}
    for seat in (
        Participant.objects.filter(conversation__in=[seat.conversation_id for seat in seats])
        .exclude(user=user)
        .select_related("user")
        .order_by("joined_at", "id")
    ):
        others.setdefault(seat.conversation_id, []).append(seat.user)
    entries = []
    for seat in seats:
        people = others.get(seat.conversation_id, [])
        direct = seat.conversation.kind == Conversation.Kind.DIRECT
        if direct and any(person.pk in hidden for person in people):
            continue
        entries.append(
            ConversationEntry(seat.conversation, people, seat.unread, seat.last_text or "")
        )
    return entries


def _others(*, conversation_id: int, user: User) -> list[User]:
    """The conversation's members other than `user`, in the order they joined."""
    return [
        seat.user
        for seat in Participant.objects.filter(conversation_id=conversation_id)
        .exclude(user=user)
        .select_related("user")
        .order_by("joined_at", "id")
    ]


def readable(*, user: User, conversation_id: int) -> tuple[Conversation, list[User]] | None:
    """The conversation and its other members, if `user` may read it; None otherwise."""
    seat = (
        Participant.objects.filter(user=user, conversation_id=conversation_id)
        .select_related("conversation")
        .first()
    )
    if seat is None:
        return None
    others = _others(conversation_id=conversation_id, user=user)
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


def messages_page(
    *, conversation: Conversation, before: int | None = None
) -> tuple[list[Message], bool]:
    """Up to PAGE_SIZE messages before the id `before` (the latest ones without it), oldest
    first, and whether older ones remain."""
    rows = Message.objects.filter(conversation=conversation).select_related("author")
    if before is not None:
        rows = rows.filter(id__lt=before)
    page = list(rows.order_by("-id")[: PAGE_SIZE + 1])
    return list(reversed(page[:PAGE_SIZE])), len(page) > PAGE_SIZE


def seats_to_tell(*, now: datetime, after: timedelta) -> list[int]:
    """The seats whose member has had a message from someone else unread for `after` or
    longer and has not been told since they last read."""
    unread = (
        Message.objects.filter(
            conversation=OuterRef("conversation"), id__gt=OuterRef("last_read_id")
        )
        .exclude(author=OuterRef("user"))
        .order_by("id")
    )
    return list(
        Participant.objects.filter(told_upto_id__lte=F("last_read_id"), user__is_active=True)
        .annotate(first_unread_at=Subquery(unread.values("created_at")[:1]))
        .filter(first_unread_at__lte=now - after)
        .values_list("pk", flat=True)
    )


def unread_for(*, seat: Participant) -> list[Message]:
    """The messages from others that the seat's member has not read, oldest first."""
    return list(
        Message.objects.filter(conversation_id=seat.conversation_id, id__gt=seat.last_read_id)
        .exclude(author_id=seat.user_id)
        .select_related("author")
        .order_by("id")
    )


def unread_total(*, user: User) -> int:
    """Messages from others that `user` has not read yet, in all their conversations."""
    return (
        Message.objects.filter(
            conversation__participants__user=user,
            id__gt=F("conversation__participants__last_read_id"),
        )
        .exclude(author=user)
        .count()
    )

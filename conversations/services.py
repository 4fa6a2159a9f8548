"""Starting conversations and writing in them. Who may write to whom is decided here."""

import uuid
from datetime import datetime
from typing import Any

from allauth.core import ratelimit
from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Q, Value
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from conversations import live
from conversations.attachments import Prepared
from conversations.models import (
    GROUP_MAX_MEMBERS,
    GROUP_TITLE_MAX_LENGTH,
    MESSAGE_MAX_LENGTH,
    Attachment,
    Conversation,
    Message,
    Participant,
    Reaction,
)
from conversations.selectors import (
    counts_for,
    direct_key,
    reactions_of,
    starts_conversations,
    with_reactions,
)
from core.text import visible_line
from core.uploads import files_delete_on_commit
from matching.models import GroupMember, Programme, Round
from members.models import Acquaintance, MessagesFrom, User
from members.search import normalise
from members.selectors import apart_from
from members.services import blocked_user_ids
from notifications.holds import held_withdraw
from notifications.services import notices_read
from rooms.broadcast import on_commit
from rooms.reactions import reaction_valid


class ConversationRefused(ValueError):
    """The member may not start this conversation or write in it; the text says why."""


class ConversationHidden(ConversationRefused):
    """The member has no seat in the conversation, or it is a direct one hidden by a block:
    for them it is not there (sockets answer `not_found`, pages 404)."""


def _check_start(*, starter: User, other: User, existing: Conversation | None) -> None:
    # selectors.conversation_openers answers the same question for a page of members.
    if starter.pk == other.pk:
        raise ConversationRefused(_("You cannot start a conversation with yourself."))
    if not other.is_active or other.pk in blocked_user_ids(user=starter):
        raise ConversationRefused(_("You cannot write to this member."))
    if not starts_conversations(starter):
        raise ConversationRefused(_("Finish your profile before you write to someone."))
    if existing is not None:
        return  # they already talk: their setting is about new conversations
    setting = getattr(getattr(other, "profile", None), "messages_from", MessagesFrom.EVERYONE)
    if setting == MessagesFrom.NOBODY:
        raise ConversationRefused(_("This member does not take new conversations."))
    if (
        setting == MessagesFrom.MET
        and not Acquaintance.objects.filter(owner=other, other=starter).exists()
    ):
        raise ConversationRefused(
            _("This member only takes conversations from people they have met.")
        )


def direct_conversation_start(*, starter: User, other: User) -> Conversation:
    """The one conversation between `starter` and `other`, created on first use.
    Raises ConversationRefused when `starter` may not write to `other`."""
    key = direct_key(first_id=starter.pk, second_id=other.pk)
    conversation = Conversation.objects.filter(direct_key=key).first()
    _check_start(starter=starter, other=other, existing=conversation)
    if conversation is not None:
        return conversation
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                kind=Conversation.Kind.DIRECT, direct_key=key, created_by=starter
            )
            Participant.objects.bulk_create(
                [Participant(conversation=conversation, user=user) for user in (starter, other)]
            )
    except IntegrityError:  # both started it at the same moment: theirs stands
        return Conversation.objects.get(direct_key=key)
    return conversation


def _title_clean(title: str) -> str:
    title = visible_line(title)
    if not title:
        raise ConversationRefused(_("Give the group a name."))
    if len(title) > GROUP_TITLE_MAX_LENGTH:
        raise ConversationRefused(
            _("A group's name can be up to %(limit)s characters.")
            % {"limit": GROUP_TITLE_MAX_LENGTH}
        )
    return title


def _check_joining(*, by: User, members: list[User], current: list[int]) -> None:
    """May `by` bring `members` into a group of `current` (member ids)? The same rules as
    starting a direct conversation with each of them, and the group's size. Blocks between
    others in the group do not stop it, nor show: a refusal would tell `by` of a block
    between two other members. Each one's messages are hidden from the other instead."""
    if len(current) + len(members) > GROUP_MAX_MEMBERS:
        raise ConversationRefused(
            _("A group can have up to %(limit)s members.") % {"limit": GROUP_MAX_MEMBERS}
        )
    for member in members:
        try:
            _check_start(starter=by, other=member, existing=None)
        except ConversationRefused as refusal:
            raise ConversationRefused(f"{member.name}: {refusal}") from refusal


def group_create(*, creator: User, members: list[User], title: str) -> Conversation:
    """A group conversation of `creator` and `members` (at least two others), named `title`.
    Raises ConversationRefused when the creator may not bring one of them in."""
    title = _title_clean(title)
    members = list({member.pk: member for member in members if member.pk != creator.pk}.values())
    if len(members) < 2:
        raise ConversationRefused(
            _("Choose at least two members (for one, send a direct message).")
        )
    _check_joining(by=creator, members=members, current=[creator.pk])
    with transaction.atomic():
        conversation = Conversation.objects.create(
            kind=Conversation.Kind.GROUP, title=title, created_by=creator
        )
        Participant.objects.bulk_create(
            [Participant(conversation=conversation, user=user) for user in (creator, *members)]
        )
    return conversation


def _group_seat_check(*, conversation: Conversation, user: User) -> list[int]:
    """The group's member ids, or ConversationRefused when `user` is not one of them."""
    if conversation.kind != Conversation.Kind.GROUP:
        raise ConversationRefused(_("Only group conversations have members to change."))
    members = list(
        Participant.objects.filter(conversation=conversation).values_list("user_id", flat=True)
    )
    if user.pk not in members:
        raise ConversationRefused(_("You are not in this conversation."))
    return members


def _group_locked(conversation: Conversation) -> None:
    """Changes to a group's members one at a time: two members adding people at once would
    both count the group below its cap, and a member leaving could still bring others in.
    (No key update: messages written meanwhile, which point at the row, do not wait.)"""
    Conversation.objects.select_for_update(no_key=True).filter(pk=conversation.pk).first()


@transaction.atomic
def group_members_add(*, conversation: Conversation, by: User, members: list[User]) -> int:
    """Bring `members` into the group (those already in it are left as they are); any member
    of the group may. Returns how many joined."""
    _group_locked(conversation)
    current = _group_seat_check(conversation=conversation, user=by)
    joining = list({m.pk: m for m in members if m.pk not in current}.values())
    if not joining:
        return 0
    _check_joining(by=by, members=joining, current=current)
    # The history is theirs to read, not news: nothing said before they came is unread,
    # nor emailed to them as waiting.
    latest = conversation.messages.order_by("-pk").values_list("pk", flat=True).first() or 0
    Participant.objects.bulk_create(
        [
            Participant(
                conversation=conversation, user=user, last_read_id=latest, told_upto_id=latest
            )
            for user in joining
        ],
        ignore_conflicts=True,
    )
    on_commit(
        live.conversation_changed,
        conversation_id=conversation.pk,
        user_ids=current + [user.pk for user in joining],
    )
    return len(joining)


@transaction.atomic
def group_leave(*, conversation: Conversation, user: User) -> None:
    """`user` leaves the group: it is gone from their list and they hear nothing more of it.
    What they wrote stays, for the others."""
    _group_locked(conversation)
    current = _group_seat_check(conversation=conversation, user=user)
    Participant.objects.filter(conversation=conversation, user=user).delete()
    on_commit(live.conversation_changed, conversation_id=conversation.pk, user_ids=current)
    counts_push(user=user)


def group_rename(*, conversation: Conversation, by: User, title: str) -> None:
    current = _group_seat_check(conversation=conversation, user=by)
    Conversation.objects.filter(pk=conversation.pk).update(title=_title_clean(title))
    on_commit(live.conversation_changed, conversation_id=conversation.pk, user_ids=current)


def message_text_clean(text: str, *, may_be_empty: bool = False) -> str:
    """The text as stored, or ConversationRefused saying what is wrong with it. Only a
    message that carries a file may have none."""
    text = text.strip()
    if not text and not may_be_empty:
        raise ConversationRefused(_("Write something first."))
    if len(text) > MESSAGE_MAX_LENGTH:
        raise ConversationRefused(
            _("A message can be up to %(limit)s characters.") % {"limit": MESSAGE_MAX_LENGTH}
        )
    if "\x00" in text:
        raise ConversationRefused(_("The message holds characters that cannot be stored."))
    return text


GONE = _("This member is no longer in the community: they will not read new messages.")


def audience(*, conversation_id: int, author: User) -> list[int]:
    """Who hears what `author` says in the conversation: its members, less those on either
    side of a block with the author (in a direct conversation that stops it altogether),
    the author included. ConversationHidden when the author has no seat or is blocked.
    Two small queries: it runs for every message sent (bench/bench_conversations_live.py)."""
    seats = list(
        Participant.objects.filter(conversation_id=conversation_id).values_list(
            "user_id", "conversation__kind", "user__is_active"
        )
    )
    members = {user_id for user_id, _kind, _active in seats}
    if author.pk not in members:
        raise ConversationHidden(_("You are not in this conversation."))
    hidden = blocked_user_ids(user=author)
    direct = seats[0][1] == Conversation.Kind.DIRECT
    if direct and members & hidden:
        raise ConversationHidden(_("You cannot write to this member."))
    if direct and (len(seats) < 2 or not all(active for _user_id, _kind, active in seats)):
        # A deleted account (its seat is gone) or a closed one reads nothing more: better
        # said than written to.
        raise ConversationRefused(GONE)
    return sorted(members - hidden)


def message_post(
    *,
    conversation: Conversation,
    author: User,
    text: str,
    client_id: uuid.UUID,
    reply_to: int | None = None,
    attachment: Prepared | None = None,
) -> tuple[Message, bool]:
    """`message_store`, then, after commit, push a new message to the sockets of everyone
    who may see it."""
    message, created, user_ids = message_store(
        conversation_id=conversation.pk,
        author=author,
        text=text,
        client_id=client_id,
        reply_to=reply_to,
        attachment=attachment,
    )
    if created:
        for frame, readers in message_pushes(message=message, user_ids=user_ids):
            on_commit(live.message_new, message_frame=frame, user_ids=readers)
    return message, created


def message_pushes(
    *, message: Message, user_ids: list[int]
) -> list[tuple[dict[str, Any], list[int]]]:
    """The message's frame for each of `user_ids`, as (frame, readers): those on either side
    of a block with the author of the message it answers get it with that quote hidden
    (rooms.quotes). Its `reply_to__author` must be loaded."""
    answered = message.reply_to
    quoted = answered.author if answered is not None else None
    apart = blocked_user_ids(user=quoted) & set(user_ids) if quoted is not None else set()
    seeing = [user_id for user_id in user_ids if user_id not in apart]
    pushes = [(live.message_data(message), seeing)] if seeing else []
    if quoted is not None and apart:
        pushes.append((live.message_data(message, hidden={quoted.pk}), sorted(apart)))
    return pushes


WRITING_TOO_FAST = _("You are writing very fast. Wait a moment and send it again.")


def message_allowed(*, user: User, conversation_id: int, client_id: uuid.UUID) -> bool:
    """Whether `user` may send one more message now, counting it: at most
    ACCOUNT_RATE_LIMITS["conversation_message"] an hour, from the page's form and the member
    socket together (each also paces the member by the minute or the second). A message
    sent again (a page resends what was not acknowledged) is not counted, nor refused: it
    is stored already, and refused, its page would put it back to be sent twice."""
    if Message.objects.filter(
        conversation_id=conversation_id, author=user, client_id=client_id
    ).exists():
        return True
    request = HttpRequest()
    request.method = "POST"  # allauth counts only what is not a GET; per member, not per IP
    return ratelimit.consume(request, action="conversation_message", user=user)


def message_store(
    *,
    conversation_id: int,
    author: User,
    text: str,
    client_id: uuid.UUID,
    reply_to: int | None = None,
    attachment: Prepared | None = None,
) -> tuple[Message, bool, list[int]]:
    """Store a message (once per `client_id`: a resend returns the first, and False),
    answering the message `reply_to` of the same conversation if given, and count it as
    read by its author. Returns the message, whether it is new, and who may hear of it
    (`audience`): the caller pushes it (`message_post`, or the member socket once this
    returned). Raises ConversationRefused when it may not be sent. `attachment`
    (conversations.attachments.attachment_prepare) is stored with it."""
    text = message_text_clean(text, may_be_empty=attachment is not None)
    user_ids = audience(conversation_id=conversation_id, author=author)
    answered = None
    if reply_to is not None:
        answered = (
            Message.objects.select_related("author")
            .filter(conversation_id=conversation_id, pk=reply_to, deleted_at__isnull=True)
            .exclude(author_id__in=blocked_user_ids(user=author))
            .first()
        )
        if answered is None:
            raise ConversationRefused(_("The message you answer is no longer there."))
    try:
        with transaction.atomic():
            # Straight to the INSERT: a resent client_id (after a dropped connection) is rare,
            # and the unique constraint catches it below.
            message = Message.objects.create(
                conversation_id=conversation_id,
                author=author,
                client_id=client_id,
                text=text,
                reply_to=answered,
                search_vector=_search_vector(text),
            )
            if attachment is None:
                # Known to have none: the pushed frame need not look (as select_related
                # records a missing row).
                Message.attachment.related.set_cached_value(message, None)  # type: ignore[attr-defined]
            else:
                Attachment.objects.create(
                    message=message,
                    kind=attachment.kind,
                    file=attachment.file,
                    thumbnail=attachment.thumbnail or "",
                    name=attachment.name,
                    size=attachment.size,
                )
            # Two senders' transactions may commit in either order: never move it back.
            Conversation.objects.filter(
                Q(last_message_at__isnull=True) | Q(last_message_at__lt=message.created_at),
                pk=conversation_id,
            ).update(last_message_at=message.created_at)
            Participant.objects.filter(
                conversation_id=conversation_id, user=author, last_read_id__lt=message.pk
            ).update(last_read_id=message.pk)
            # Back in the list of those who hear of it, but for those who muted it (and
            # asked for quiet): not of someone on either side of a block with the author.
            Participant.objects.filter(
                Q(muted_at__isnull=True) | Q(user=author),
                conversation_id=conversation_id,
                user_id__in=user_ids,
                archived_at__isnull=False,
            ).update(archived_at=None)
    except IntegrityError:
        first = Message.objects.filter(
            conversation_id=conversation_id, author=author, client_id=client_id
        ).first()
        if first is None:
            raise
        return first, False, user_ids
    return message, True, user_ids


def _search_vector(text: str) -> SearchVector | None:
    """What the members' search reads of `text`: on PostgreSQL its words without accents,
    parsed as the search parses queries; elsewhere nothing (the search reads the text)."""
    if connection.vendor != "postgresql":
        return None
    return SearchVector(Value(normalise(text)), config="simple")


def message_index(*, message: Message) -> None:
    """Make the message findable by its members' search: on PostgreSQL, its text without
    accents, parsed as the search parses queries; elsewhere the search reads the text."""
    if connection.vendor == "postgresql":
        Message.objects.filter(pk=message.pk).update(search_vector=_search_vector(message.text))


def conversation_read(
    *, conversation: Conversation, user: User, upto: int | None = None
) -> int | None:
    """The conversation counts as read by `user` up to the message `upto` (everything so far
    without it). When that moves their mark, the other members' pages show the receipt and
    the member's own tabs their counters, after commit; read to its end, the notice "X wrote
    to you" is read too, or never shown if it was held (their focus block). Returns the new
    mark, or None when it did not move."""
    latest = Message.objects.filter(conversation=conversation).aggregate(last=Max("id"))["last"]
    if latest is None:
        return None
    upto = latest if upto is None else min(upto, latest)
    moved = Participant.objects.filter(
        conversation=conversation, user=user, last_read_id__lt=upto
    ).update(last_read_id=upto)
    if not moved:
        return None
    if upto == latest:
        seat_id = Participant.objects.filter(conversation=conversation, user=user).values_list(
            "pk", flat=True
        )[0]
        held_withdraw(user_id=user.pk, key_prefix=unread_notice_key(seat_id))
        notices_read(user=user, key_prefix=unread_notice_key(seat_id))
    members = list(
        Participant.objects.filter(conversation=conversation).values_list("user_id", flat=True)
    )
    hidden = blocked_user_ids(user=user)
    on_commit(
        live.read,
        conversation_id=conversation.pk,
        member_id=user.pk,
        upto=upto,
        user_ids=[member for member in members if member not in hidden],
    )
    counts_push(user=user)
    return upto


def counts_push(*, user: User) -> None:
    """Send the member's header counters to all of their tabs, after commit."""
    messages, notices = counts_for(user=user)
    on_commit(live.counts, user_id=user.pk, messages=messages, notices=notices)


def _members_of(message: Message) -> list[int]:
    """The members whose pages show `message`: not those on either side of a block with its
    author (a group hides it from them, and its reactions and deletion are no news)."""
    seats = Participant.objects.filter(conversation_id=message.conversation_id)
    if message.author_id is not None:
        seats = seats.filter(apart_from(message.author_id))
    return list(seats.values_list("user_id", flat=True))


def _own_message(*, message: Message, user: User) -> None:
    if message.author_id != user.pk:
        raise ConversationRefused(_("You can only change your own messages."))
    if message.is_deleted:
        raise ConversationRefused(_("This message was deleted."))


def message_edit(*, message: Message, editor: User, text: str) -> Message:
    """The author changes their message; every page showing it hears so after commit."""
    _own_message(message=message, user=editor)
    text = message_text_clean(text)
    # Checked before anything is written: a refusal (the other member left) changes nothing.
    user_ids = audience(conversation_id=message.conversation_id, author=editor)
    message.text, message.edited_at = text, timezone.now()
    message.save(update_fields=["text", "edited_at"])
    message_index(message=message)
    # The pages redraw the message whole, its reactions with it: their number read first,
    # so that the counts are at least as new as it says.
    message.refresh_from_db(fields=["reactions_version"])
    with_reactions([message])
    for frame, readers in message_pushes(message=message, user_ids=user_ids):
        on_commit(live.message_edited, message_frame=frame, user_ids=readers)
    return message


def message_delete(*, message: Message, by: User, moderating: bool = False) -> bool:
    """Its author, or staff acting on a report (moderation, `moderating`), takes a message
    out of its conversation: the text goes, the row stays, and the pages showing it hear so
    after commit. False when it was gone already. A staff member writing in a conversation
    is a member like the others there: only a report lets them remove someone's message."""
    if not (moderating and by.is_staff):
        _own_message(message=message, user=by)
    now = timezone.now()
    removed = Message.objects.filter(pk=message.pk, deleted_at__isnull=True).update(
        text="", deleted_at=now, search_vector=None
    )
    if removed:
        message.text, message.deleted_at = "", now
        Reaction.objects.filter(message=message).delete()
        attachment = Attachment.objects.filter(message=message).first()
        if attachment is not None:
            _files_delete(attachment)
            attachment.delete()
        readers = _members_of(message)
        on_commit(
            live.message_deleted,
            conversation_id=message.conversation_id,
            message_id=message.pk,
            user_ids=readers,
        )
        # Those who had not read it yet count one unread message fewer: their badges drop.
        unread_by = Participant.objects.filter(
            conversation_id=message.conversation_id,
            user_id__in=readers,
            last_read_id__lt=message.pk,
        ).exclude(user_id__in=[message.author_id])
        for reader in User.objects.filter(pk__in=unread_by.values("user_id")):
            counts_push(user=reader)
    return bool(removed)


# Messages deleted per transaction when a conversation nobody is left in goes.
ORPHAN_BATCH = 2000


def conversations_without_readers_delete(*, conversation_ids: list[int]) -> int:
    """Those of `conversation_ids` nobody has a seat in any more (the last one deleted their
    account) go, with their files: nobody can read them again. Their messages go
    `ORPHAN_BATCH` to a transaction: years of a conversation are not one delete holding its
    locks for seconds. Returns how many conversations went.

    Only those an account's deletion names: a group its members all left stays, so that
    the coffee link of a trio who left it does not open it again around them."""
    orphans = Conversation.objects.filter(pk__in=conversation_ids, participants__isnull=True)
    gone = 0
    for conversation_id in list(orphans.values_list("pk", flat=True)):
        messages = Message.objects.filter(conversation_id=conversation_id)
        while batch := list(messages.values_list("pk", flat=True)[:ORPHAN_BATCH]):
            with transaction.atomic():
                for attachment in Attachment.objects.filter(message_id__in=batch):
                    _files_delete(attachment)
                Message.objects.filter(pk__in=batch).delete()
        emptied = Conversation.objects.filter(pk=conversation_id, participants__isnull=True)
        if emptied.delete()[0]:
            gone += 1
    return gone


def messages_for_nobody_delete(*, author: User, besides: list[int]) -> int:
    """`author`'s messages in the conversations nobody has a seat in (a group its members
    all left), with their files: their account is going, and nobody can read them. Not
    those of `besides`, the conversations they sat in: one they were the last in goes
    whole, a batch at a time, after the deletion (`orphans_delete`)."""
    unread = Message.objects.filter(author=author, conversation__participants__isnull=True).exclude(
        conversation_id__in=besides
    )
    ids = list(unread.values_list("pk", flat=True))
    for attachment in Attachment.objects.filter(message_id__in=ids):
        _files_delete(attachment)
    Message.objects.filter(pk__in=ids).delete()
    return len(ids)


def _files_delete(attachment: Attachment) -> None:
    files_delete_on_commit(attachment.file, attachment.thumbnail)


def reaction_toggle(*, message: Message, user: User, emoji: str) -> bool:
    """Add `user`'s `emoji` (one of rooms.reactions.REACTIONS) to the message, or take it
    away if it was there; every page showing the message hears the new counts after commit.
    Returns whether the reaction is now there."""
    if not reaction_valid(emoji):
        raise ConversationRefused(_("This reaction is not one of ours."))
    if message.is_deleted:
        raise ConversationRefused(_("This message was deleted."))
    audience(conversation_id=message.conversation_id, author=user)  # a seat, and no block
    if message.author_id in blocked_user_ids(user=user):
        # In a group: a message hidden from them, which they cannot react to either.
        raise ConversationHidden(_("This message is not there."))
    with transaction.atomic():
        # Takes the row's lock: changes of one message's reactions happen one at a time, each
        # reading the counts the one before left, and are numbered in that order.
        Message.objects.filter(pk=message.pk).update(
            reactions_version=F("reactions_version") + 1, reactions_changed_at=timezone.now()
        )
        deleted, _rows = Reaction.objects.filter(message=message, user=user, emoji=emoji).delete()
        if not deleted:
            Reaction.objects.get_or_create(message=message, user=user, emoji=emoji)
        on_commit(
            live.message_reactions,
            conversation_id=message.conversation_id,
            message_id=message.pk,
            reactions=reactions_of([message.pk]).get(message.pk, []),
            version=Message.objects.values_list("reactions_version", flat=True).get(pk=message.pk),
            user_ids=_members_of(message),
            by=user.pk,
        )
    return not deleted


def round_conversations_open(*, round_id: int) -> int:
    """Open the conversation of every group of a coffee round (`coffee_conversation_open`).
    Idempotent. Returns how many conversations were opened."""
    round_ = Round.objects.select_related("programme").filter(pk=round_id).first()
    if round_ is None:
        return 0
    groups: dict[int, list[int]] = {}
    for group_id, user_id in GroupMember.objects.filter(round=round_).values_list(
        "group_id", "user_id"
    ):
        groups.setdefault(group_id, []).append(user_id)
    opened = 0
    for group_id, user_ids in groups.items():
        _conversation, created = coffee_conversation_open(
            group_id=group_id, user_ids=user_ids, programme=round_.programme
        )
        opened += created
    return opened


def coffee_conversation_open(
    *, group_id: int, user_ids: list[int], programme: Programme
) -> tuple[Conversation, bool]:
    """A coffee group's conversation: the pair's direct one (kept if they already had it),
    or a group for a trio or a table, named after the programme in the community's language
    (one title for all its members, whoever opens it first); (conversation, created).
    The members' "who may write to me" setting does not apply: they asked to be
    introduced. Idempotent (`direct_key`, `origin`)."""
    with transaction.atomic():
        if len(user_ids) == 2:
            first, second = user_ids
            conversation, created = Conversation.objects.get_or_create(
                direct_key=direct_key(first_id=first, second_id=second),
                defaults={"kind": Conversation.Kind.DIRECT},
            )
        else:
            with translation.override(settings.LANGUAGE_CODE):
                title = f"☕ {programme.display_name}"[:GROUP_TITLE_MAX_LENGTH]
            conversation, created = Conversation.objects.get_or_create(
                origin=f"coffee:{group_id}",
                defaults={
                    "kind": Conversation.Kind.GROUP,
                    "title": title,
                },
            )
        if created:
            Participant.objects.bulk_create(
                [Participant(conversation=conversation, user_id=u) for u in user_ids],
                ignore_conflicts=True,
            )
    return conversation, created


def coffee_conversation_url(seat: GroupMember) -> str:
    """The address of the seat's coffee group's conversation (opened as the round would if
    its task has not run yet). Registered as matching's "conversation" group link."""
    user_ids = list(
        GroupMember.objects.filter(group_id=seat.group_id).values_list("user_id", flat=True)
    )
    conversation, _created = coffee_conversation_open(
        group_id=seat.group_id, user_ids=user_ids, programme=seat.round.programme
    )
    return conversation.get_absolute_url()


def unread_notice_key(seat_id: int, first_unread_id: int | str = "") -> str:
    """The occasion of a seat's unread-messages notice (conversations.tasks.unread_tell); with
    no message, the start every such notice of the seat shares."""
    return f"conversation:{seat_id}:{first_unread_id}"


def conversation_archive(*, seat: Participant, archived: bool, now: datetime | None = None) -> None:
    """Archive (or bring back) the seat's conversation for its member: out of their list
    until a message comes (`message_store`). Nothing else changes: its messages are told as
    before, unless it is muted. Repeating either changes nothing."""
    if archived:
        Participant.objects.filter(pk=seat.pk, archived_at__isnull=True).update(
            archived_at=now or timezone.now()
        )
    else:
        Participant.objects.filter(pk=seat.pk).update(archived_at=None)


def conversation_mute(*, seat: Participant, muted: bool, now: datetime | None = None) -> None:
    """Mute (or unmute) the seat's conversation for its member: muted, its messages are never
    told (conversations.selectors.seats_to_tell), and a notice of them still held while the
    member focuses is dropped before its release. Repeating either changes nothing."""
    if muted:
        Participant.objects.filter(pk=seat.pk, muted_at__isnull=True).update(
            muted_at=now or timezone.now()
        )
        held_withdraw(user_id=seat.user_id, key_prefix=unread_notice_key(seat.pk))
    else:
        Participant.objects.filter(pk=seat.pk).update(muted_at=None)

"""Starting conversations and writing in them. Who may write to whom is decided here."""

import uuid

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from conversations.models import MESSAGE_MAX_LENGTH, Conversation, Message, Participant
from members.models import Acquaintance, MessagesFrom, User
from members.services import blocked_user_ids


class ConversationRefused(ValueError):
    """The member may not start this conversation or write in it; the text says why."""


def _direct_key(first: User, second: User) -> str:
    low, high = sorted((first.pk, second.pk))
    return f"{low}:{high}"


def _check_start(*, starter: User, other: User, existing: Conversation | None) -> None:
    if starter.pk == other.pk:
        raise ConversationRefused(_("You cannot start a conversation with yourself."))
    if not other.is_active or other.pk in blocked_user_ids(user=starter):
        raise ConversationRefused(_("You cannot write to this member."))
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
    key = _direct_key(starter, other)
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


def message_text_clean(text: str) -> str:
    """The text as stored, or ConversationRefused saying what is wrong with it."""
    text = text.strip()
    if not text:
        raise ConversationRefused(_("Write something first."))
    if len(text) > MESSAGE_MAX_LENGTH:
        raise ConversationRefused(
            _("A message can be up to %(limit)s characters.") % {"limit": MESSAGE_MAX_LENGTH}
        )
    if "\x00" in text:
        raise ConversationRefused(_("The message holds characters that cannot be stored."))
    return text


def message_post(
    *, conversation: Conversation, author: User, text: str, client_id: uuid.UUID
) -> tuple[Message, bool]:
    """Store a message (once per `client_id`: a resend returns the first) and count it as
    read by its author. Raises ConversationRefused when it may not be sent."""
    text = message_text_clean(text)
    seat = Participant.objects.filter(conversation=conversation, user=author).first()
    if seat is None:
        raise ConversationRefused(_("You are not in this conversation."))
    others = set(
        Participant.objects.filter(conversation=conversation)
        .exclude(user=author)
        .values_list("user_id", flat=True)
    )
    if conversation.kind == Conversation.Kind.DIRECT and others & blocked_user_ids(user=author):
        raise ConversationRefused(_("You cannot write to this member."))
    with transaction.atomic():
        message, created = Message.objects.get_or_create(
            conversation=conversation,
            author=author,
            client_id=client_id,
            defaults={"text": text},
        )
        if created:
            Conversation.objects.filter(pk=conversation.pk).update(
                last_message_at=message.created_at
            )
            Participant.objects.filter(pk=seat.pk, last_read_id__lt=message.pk).update(
                last_read_id=message.pk
            )
    return message, created


def conversation_read(*, conversation: Conversation, user: User) -> None:
    """Everything in the conversation so far counts as read by `user`."""
    latest = Message.objects.filter(conversation=conversation).aggregate(last=Max("id"))["last"]
    if latest is None:
        return
    Participant.objects.filter(
        conversation=conversation, user=user, last_read_id__lt=latest
    ).update(last_read_id=latest)

"""The conversations' personal data, for the export and the account deletion
(members.privacy's registry)."""

from collections.abc import Iterable
from typing import Any

from conversations import services
from conversations.coffee_tables import tables_rename_without
from conversations.models import Conversation, Message, Participant, Reaction
from conversations.tasks import orphans_delete
from members.models import User
from members.privacy import Deletion, export_moment, personal_data_register


def _others_in(conversations: Iterable[Conversation], *, user: User) -> dict[int, list[str]]:
    """The names of the others in each conversation, in two queries."""
    ids: dict[int, list[int]] = {}
    for conversation in conversations:
        if conversation.direct_key:
            ids[conversation.pk] = [
                int(pk) for pk in conversation.direct_key.split(":") if int(pk) != user.pk
            ]
    seated: dict[int, list[int]] = {}
    for conversation_id, user_id in (
        Participant.objects.filter(conversation_id__in=[c.pk for c in conversations])
        .exclude(user=user)
        .order_by("pk")
        .values_list("conversation_id", "user_id")
    ):
        seated.setdefault(conversation_id, []).append(user_id)
    for conversation_id, user_ids in seated.items():
        ids.setdefault(conversation_id, user_ids)
    users = User.objects.in_bulk({pk for pks in ids.values() for pk in pks})
    return {
        conversation_id: [users[pk].name for pk in pks if pk in users]
        for conversation_id, pks in ids.items()
    }


def _export(user: User) -> list[dict[str, Any]]:
    """Every conversation they have a seat in or wrote or reacted in, including those they
    left: what they wrote (files by name, kind and size), their reactions, and their seat."""
    seats = {
        seat.conversation_id: seat
        for seat in Participant.objects.filter(user=user).select_related("conversation")
    }
    conversations: dict[int, Conversation] = {
        conversation_id: seat.conversation for conversation_id, seat in seats.items()
    }
    written: dict[int, list[dict[str, Any]]] = {}
    for message in (
        Message.objects.filter(author=user)
        .select_related("conversation", "attachment")
        .order_by("id")
    ):
        conversations.setdefault(message.conversation_id, message.conversation)
        entry: dict[str, Any] = {"text": message.text, "at": message.created_at.isoformat()}
        if message.deleted_at is not None:
            entry["deleted_at"] = message.deleted_at.isoformat()
        if hasattr(message, "attachment"):
            attachment = message.attachment
            entry["file"] = {
                "name": attachment.name,
                "kind": attachment.kind,
                "size": attachment.size,
            }
        written.setdefault(message.conversation_id, []).append(entry)
    reactions: dict[int, list[dict[str, Any]]] = {}
    for reaction in Reaction.objects.filter(user=user).select_related("message__conversation"):
        conversation = reaction.message.conversation
        conversations.setdefault(conversation.pk, conversation)
        reactions.setdefault(conversation.pk, []).append(
            {"emoji": reaction.emoji, "message": reaction.message_id}
        )
    others = _others_in(conversations.values(), user=user)
    return [
        {
            "conversation": conversation_id,
            "kind": conversation.kind,
            "name": conversation.title,
            # Whom it was with: a direct conversation's other member even once gone from it,
            # a group's members now.
            "with": others.get(conversation_id, []),
            # None: a group they left.
            "joined_at": (
                seats[conversation_id].joined_at.isoformat() if conversation_id in seats else None
            ),
            "muted_at": export_moment(seats[conversation_id].muted_at)
            if conversation_id in seats
            else None,
            "archived_at": export_moment(seats[conversation_id].archived_at)
            if conversation_id in seats
            else None,
            "messages_written": written.get(conversation_id, []),
            "reactions": reactions.get(conversation_id, []),
        }
        for conversation_id, conversation in sorted(conversations.items())
    ]


def _delete(user: User) -> None:
    seated = list(Participant.objects.filter(user=user).values_list("conversation_id", flat=True))
    Participant.objects.filter(user=user).delete()
    Reaction.objects.filter(user=user).delete()
    Conversation.objects.filter(created_by=user).update(created_by=None)
    # What they wrote stays for the others; in a group everyone has left (kept so that its
    # coffee link does not open it again) there are none, and it goes, files included.
    services.messages_for_nobody_delete(author=user, besides=seated)
    # Those nobody is left in go after the deletion commits, a batch at a time, not in the
    # member's request (conversations.tasks.orphans_delete).
    orphans_delete.delay_on_commit(seated)
    tables_rename_without(user=user)


def register_conversations_data() -> None:
    personal_data_register(
        key="conversations",
        models=(
            "conversations.Conversation",
            "conversations.Participant",
            "conversations.Message",
            "conversations.Reaction",
        ),
        export=_export,
        delete=_delete,
        deletion=Deletion.ANONYMISE,
        note="Their seats in conversations are erased; what they wrote stays for the others "
        "in the conversation, signed by a former member; their reactions are erased. A "
        "conversation nobody is left in goes, with its files; their coffee tables are named "
        "after the others only.",
    )

"""The conversations' personal data, for the export and the account deletion
(members.privacy's registry)."""

from typing import Any

from conversations.models import Conversation, Message, Participant, Reaction
from members.models import User
from members.privacy import Deletion, personal_data_register


def _export(user: User) -> list[dict[str, Any]]:
    seats = Participant.objects.filter(user=user).select_related("conversation")
    written: dict[int, list[dict[str, Any]]] = {}
    for message in Message.objects.filter(author=user).order_by("id"):
        written.setdefault(message.conversation_id, []).append(
            {"text": message.text, "at": message.created_at.isoformat()}
        )
    reactions: dict[int, list[dict[str, Any]]] = {}
    for reaction in Reaction.objects.filter(user=user).select_related("message"):
        reactions.setdefault(reaction.message.conversation_id, []).append(
            {"emoji": reaction.emoji, "message": reaction.message_id}
        )
    return [
        {
            "conversation": seat.conversation_id,
            "kind": seat.conversation.kind,
            "name": seat.conversation.title,
            "joined_at": seat.joined_at.isoformat(),
            "messages_written": written.get(seat.conversation_id, []),
            "reactions": reactions.get(seat.conversation_id, []),
        }
        for seat in seats
    ]


def _delete(user: User) -> None:
    Participant.objects.filter(user=user).delete()
    Reaction.objects.filter(user=user).delete()
    Conversation.objects.filter(created_by=user).update(created_by=None)


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
        "in the conversation, signed by a former member; their reactions are erased.",
    )

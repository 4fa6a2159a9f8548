"""The weekly digest's unread conversations (notifications.digest's registry)."""

from datetime import datetime

from conversations.selectors import ConversationEntry, conversations_of
from members.models import User
from notifications.digest import LIST_LIMIT, digest_section_register


def unread_conversations(user: User, now: datetime) -> list[ConversationEntry]:
    """The member's conversations with messages they have not read, latest first."""
    return [entry for entry in conversations_of(user=user).entries if entry.unread][:LIST_LIMIT]


def register() -> None:
    digest_section_register(
        key="unread_conversations",
        order=5,
        collect=unread_conversations,
        template="conversations/email/digest_section",
    )

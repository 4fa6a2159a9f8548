"""The weekly digest's unread conversations (notifications.digest's registry)."""

from datetime import datetime

from conversations.selectors import ConversationEntry, conversations_of
from members.models import User
from notifications.digest import LIST_LIMIT, digest_section_register


def unread_conversations(user: User, now: datetime) -> list[ConversationEntry]:
    """The member's conversations with messages they have not read, latest first (muted
    ones left out: the member asked not to hear of them; and those with nobody left but
    suspended or deleted accounts, as the unread emails tell nothing of what those wrote)."""
    entries = conversations_of(user=user).entries
    return [
        entry
        for entry in entries
        if entry.unread and not entry.muted and any(other.account_is_open for other in entry.others)
    ][:LIST_LIMIT]


def register() -> None:
    digest_section_register(
        key="unread_conversations",
        order=5,
        collect=unread_conversations,
        template="conversations/email/digest_section",
    )

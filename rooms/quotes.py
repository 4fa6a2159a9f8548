"""The quote above an answer, the same in room chat and in conversations: who wrote the
answered message and how it begins."""

from typing import Any, Protocol

from members.models import User

# The start of an answered message, quoted above the answer.
QUOTE_LENGTH = 140


class Quotable(Protocol):
    pk: Any
    text: str
    author: User | None

    @property
    def is_deleted(self) -> bool: ...


def quote_data(answered: Quotable | None) -> dict[str, Any] | None:
    """The answered message as the sockets show it (docs/websocket-protocol.md), None for a
    message that answers nothing; its `author` must be loaded."""
    if answered is None:
        return None
    return {
        "id": answered.pk,
        "author": answered.author.name if answered.author else None,
        "text": answered.text[:QUOTE_LENGTH],
        "deleted": answered.is_deleted,
    }

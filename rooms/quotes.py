"""The quote above an answer, the same in room chat and in conversations: who wrote the
answered message and how it begins. A reader on either side of a block with the answered
message's author sees that there was a message, never whose or what it said."""

from collections.abc import Collection
from typing import Any, Protocol

from members.models import User

# The start of an answered message, quoted above the answer.
QUOTE_LENGTH = 140


class Quotable(Protocol):
    pk: Any
    text: str
    author: User | None
    author_id: int | None

    @property
    def is_deleted(self) -> bool: ...


def quote_data(answered: Quotable | None, hidden: Collection[int] = ()) -> dict[str, Any] | None:
    """The answered message as the sockets show it (docs/websocket-protocol.md), None for a
    message that answers nothing; its `author` must be loaded. `hidden`: the members the
    reader does not see (their blocks, either way)."""
    if answered is None:
        return None
    if answered.author_id in hidden:
        return {"id": answered.pk, "author": None, "text": "", "deleted": False, "hidden": True}
    # A picture or file sent without words (a conversation's) is quoted by its name.
    shared = None if answered.text else getattr(answered, "attachment", None)
    return {
        "id": answered.pk,
        "author": answered.author.name if answered.author else None,
        "text": f"📎 {shared.name}" if shared else answered.text[:QUOTE_LENGTH],
        "deleted": answered.is_deleted,
        "hidden": False,
    }


def quote_author_id(message: Any) -> int | None:
    """Whose message `message` answers, if anyone's (a former member's counts as nobody's)."""
    answered = message.reply_to
    return answered.author_id if answered is not None else None

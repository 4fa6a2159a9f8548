"""The reactions a chat message can get, in rooms and conversations alike: a small fixed set,
so that reacting is one tap and nothing needs moderating (static/js/room/reactions.js draws
them the same way everywhere)."""

from collections.abc import Iterable
from typing import Any

REACTIONS = ("👍", "❤️", "😂", "🎉", "🙏", "☕")


def reaction_valid(emoji: object) -> bool:
    return isinstance(emoji, str) and emoji in REACTIONS


def reactions_summary(reactions: Iterable[Any]) -> list[dict[str, Any]]:
    """[{"emoji", "members": [user ids]}] in the order of REACTIONS, from reaction rows
    (anything with `emoji` and `user_id`), oldest first within each emoji."""
    members: dict[str, list[int]] = {}
    for reaction in reactions:
        members.setdefault(reaction.emoji, []).append(reaction.user_id)
    return [{"emoji": emoji, "members": members[emoji]} for emoji in REACTIONS if emoji in members]

"""The reactions a chat message can get, in rooms and conversations alike: a small fixed set,
so that reacting is one tap and nothing needs moderating (static/js/room/reactions.js draws
them the same way everywhere)."""

from collections.abc import Collection, Iterable
from typing import Any

REACTIONS = ("👍", "❤️", "😂", "🎉", "🙏", "☕")


def reaction_valid(emoji: object) -> bool:
    return isinstance(emoji, str) and emoji in REACTIONS


def reactions_summary(
    reactions: Iterable[Any], hidden: Collection[int] = ()
) -> list[dict[str, Any]]:
    """[{"emoji", "members": [user ids]}] in the order of REACTIONS, from reaction rows
    (anything with `emoji` and `user_id`), oldest first within each emoji, without the
    reactions of `hidden` (whom the reader does not see: a block, either way)."""
    members: dict[str, list[int]] = {}
    for reaction in reactions:
        if reaction.user_id not in hidden:
            members.setdefault(reaction.emoji, []).append(reaction.user_id)
    return [{"emoji": emoji, "members": members[emoji]} for emoji in REACTIONS if emoji in members]


def reactions_without(
    reactions: list[dict[str, Any]], hidden: Collection[int]
) -> list[dict[str, Any]]:
    """A summary (`reactions_summary`) without the reactions of `hidden`."""
    kept = [
        {"emoji": r["emoji"], "members": [m for m in r["members"] if m not in hidden]}
        for r in reactions
    ]
    return [r for r in kept if r["members"]]

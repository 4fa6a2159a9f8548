"""The reactions a chat message can get, in rooms and conversations alike: a small fixed set,
so that reacting is one tap and nothing needs moderating (static/js/room/reactions.js draws
them the same way everywhere)."""

import json
from collections.abc import Collection, Iterable
from typing import Any

from rooms.encoding import encode

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


def reactions_frame_for(event: dict[str, Any], hidden: Collection[int]) -> str | None:
    """A ready-encoded frame carrying a message's reactions (`event["frame"]`, with the
    summary as `event["reactions"]` and who changed it as `event["by"]`), as a reader who
    does not see `hidden` gets it: nothing when one of them made the change (nothing the
    reader sees changed), the frame as it is when none of them reacted, else re-encoded
    without them (at the frame's top, or in its `message`)."""
    if event.get("by") in hidden:
        return None
    # Sent by a process of the release before (a rolling deploy), which named no summary:
    # its frame goes as it is, as that release sent it to everyone.
    reactions: list[dict[str, Any]] = event.get("reactions") or []
    if not any(member in hidden for r in reactions for member in r["members"]):
        return str(event["frame"])
    frame = json.loads(event["frame"])
    holder = frame.get("message", frame)
    holder["reactions"] = reactions_without(reactions, hidden)
    return encode(frame)

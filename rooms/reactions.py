"""The reactions a chat message can get, in rooms and conversations alike: a small fixed set,
so that reacting is one tap and nothing needs moderating (static/js/room/reactions.js draws
them the same way everywhere)."""

REACTIONS = ("👍", "❤️", "😂", "🎉", "🙏", "☕")


def reaction_valid(emoji: object) -> bool:
    return isinstance(emoji, str) and emoji in REACTIONS

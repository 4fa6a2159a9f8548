"""Text members write for others to read as a name or a title (display names, room names,
group titles, event titles): what it shows is what it says."""

import unicodedata

# Characters that take up no visible room although Python counts some as letters.
BLANK_LOOKALIKES = {"\u3164", "\u2800", "\u115f", "\u1160", "\uffa0"}


def invisible(character: str) -> bool:
    """Format and control characters (a zero-width space, a right-to-left override that
    would show "moc.live" as "evil.com", a newline) and blanks that pass for letters."""
    return unicodedata.category(character) in {"Cf", "Cc"} or character in BLANK_LOOKALIKES


def visible_line(text: str) -> str:
    """`text` without invisible characters, its spaces collapsed: one line, as shown."""
    return " ".join("".join(c for c in text if not invisible(c)).split())


def readable(text: str) -> bool:
    """Whether anything in `text` can be read: a letter or a digit."""
    return any(c.isalnum() and not invisible(c) for c in text)

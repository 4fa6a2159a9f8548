"""Text members write for others to read as a name or a title (display names, room names,
group titles, event titles): what it shows is what it says."""

import unicodedata

# Characters that take up no visible room although Python counts some as letters.
BLANK_LOOKALIKES = {"\u3164", "\u2800", "\u115f", "\u1160", "\uffa0"}


# Format characters that are part of what shows: the joiners that make one emoji of several
# (a family, a rainbow flag) or keep Persian letters apart, and the tags of a region's flag
# (Scotland's).
JOINERS = {"\u200c", "\u200d"}
TAGS = range(0xE0020, 0xE0080)


def invisible(character: str) -> bool:
    """Control characters (a newline), format characters (a zero-width space, a
    right-to-left override that would show "moc.live" as "evil.com") but the joiners and
    tags above, and blanks that pass for letters."""
    category = unicodedata.category(character)
    if category == "Cf":
        return character not in JOINERS and ord(character) not in TAGS
    return category == "Cc" or character in BLANK_LOOKALIKES


def visible_line(text: str) -> str:
    """`text` without invisible characters, its spaces collapsed: one line, as shown."""
    return " ".join("".join(c for c in text if not invisible(c)).split())


def readable(text: str) -> bool:
    """Whether anything in `text` can be read: a letter or a digit."""
    return any(c.isalnum() and not invisible(c) for c in text)

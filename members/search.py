"""Text normalisation shared by what the directory stores and what it is asked."""

import unicodedata


def normalise(text: str) -> str:
    """Lower case without accents, so that "Lucia" finds "Lucía" and "diseno" finds "Diseño"."""
    if text.isascii():
        # Nothing to take apart: most names, read a thousand at a time by the room glances.
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def search_terms(query: str, limit: int = 8) -> list[str]:
    """The words of a query, normalised, split on anything that is not a letter or digit.

    "front-end" gives ["front", "end"], as PostgreSQL's parser also stores those parts; the
    terms go quoted into a raw tsquery, which is safe because nothing but letters and digits
    is left in them.
    """
    spaced = "".join(char if char.isalnum() else " " for char in normalise(query))
    return spaced.split()[:limit]

"""Text normalisation shared by what the directory stores and what it is asked."""

import unicodedata


def normalise(text: str) -> str:
    """Lower case without accents, so that "Lucia" finds "Lucía" and "diseno" finds "Diseño"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def search_terms(query: str, limit: int = 8) -> list[str]:
    """The words of a query, normalised, keeping only letters and digits in each."""
    words = ("".join(char for char in word if char.isalnum()) for word in normalise(query).split())
    return [word for word in words if word][:limit]

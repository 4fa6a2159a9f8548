"""Time zones as members read them: "Ciudad de México", "Buenos Aires", not
"America/Mexico_City" or "America/Argentina/Buenos_Aires". The names are the Unicode CLDR's
exemplar cities (through Babel), in the reader's language."""

import functools
from collections.abc import Mapping

from babel.core import UnknownLocaleError, get_global
from babel.dates import get_timezone_location
from django.conf import settings
from django.utils.translation import get_language, to_locale

# The IANA regions whose zones are named for a place: their last part is that place.
_REGIONS = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Arctic/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)


# Older names of zones, each to the zone it links to (the CLDR's, as of Babel's release).
_ALIASES: Mapping[str, str] = get_global("zone_aliases")


def zone_canonical(zone: str) -> str:
    """The zone an older name links to ("Brazil/East" is "America/Sao_Paulo"), or the zone."""
    return _ALIASES.get(zone, zone)


@functools.cache
def _older_names() -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for older, zone in sorted(_ALIASES.items()):
        names.setdefault(zone, []).append(older)
    return names


def zone_older_names(zone: str) -> list[str]:
    """The older names that link to `zone`: browsers report some zones by one of them
    ("America/Buenos_Aires", "Asia/Calcutta")."""
    return _older_names().get(zone, [])


def zone_place(zone: str, language: str | None = None) -> str:
    """The place a zone is named for, in `language` (the active one when not given)."""
    return _place(zone, language or get_language() or settings.LANGUAGE_CODE)


@functools.lru_cache(maxsize=4096)
def _place(zone: str, language: str) -> str:
    try:
        return get_timezone_location(zone, locale=to_locale(language), return_city=True)
    except (LookupError, ValueError, UnknownLocaleError):
        # A zone newer than Babel's data: its IANA name says the place, in English.
        place = zone.rsplit("/", 1)[-1] if zone.startswith(_REGIONS) else zone
        return place.replace("_", " ")

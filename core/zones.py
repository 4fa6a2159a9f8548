"""Time zones as members read them: "Madrid", "Buenos Aires", not "Europe/Madrid" or
"America/Argentina/Buenos_Aires"."""

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


def zone_place(zone: str) -> str:
    """The place a zone is named for; older names outside the regions ("US/Eastern") whole."""
    place = zone.rsplit("/", 1)[-1] if zone.startswith(_REGIONS) else zone
    return place.replace("_", " ")

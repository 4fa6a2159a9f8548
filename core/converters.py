"""Path converters shared by the apps' URLs, and the same rule for ids that forms send."""

import re
from datetime import UTC, datetime


class RowIdConverter:
    """A row's id: at most 18 digits, so that every id a URL carries fits the 64-bit id
    columns. A longer one is not a page (404): SQLite, the embedded default, refuses to
    bind such a number at all, which would be a server error."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


_ROW_ID = re.compile(RowIdConverter.regex)


def is_row_id(value: object) -> bool:
    """Whether a value a form sent is a row's id (or a small count), by the URLs' rule:
    ASCII digits only ("²".isdigit() is true, and int() or the query then fails) and short
    enough for a 64-bit column."""
    return _ROW_ID.fullmatch(str(value)) is not None


# 1 January 3000, in ms since 1970: no clock of ours says more.
LATEST_MS = 32_503_680_000_000


def moment_from_ms(value: object) -> datetime | None:
    """A moment the server gave a page (ms since 1970, UTC) and the page sends back, or None
    when what came back is no such number."""
    if isinstance(value, bool) or not (isinstance(value, int) or is_row_id(value)):
        return None
    ms = int(str(value))
    return datetime.fromtimestamp(ms / 1000, UTC) if 0 < ms <= LATEST_MS else None

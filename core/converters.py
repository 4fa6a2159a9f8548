"""Path converters shared by the apps' URLs."""


class RowIdConverter:
    """A row's id: at most 18 digits, so that every id a URL carries fits the 64-bit id
    columns. A longer one is not a page (404): SQLite, the embedded default, refuses to
    bind such a number at all, which would be a server error."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)

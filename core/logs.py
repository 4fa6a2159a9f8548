"""Logging filters named in settings.LOGGING."""

import logging
import re

# What uvicorn (and the websockets library beneath it) say at INFO for every socket that
# opens or closes. A deploy brings 10,000 sockets back at once: writing these lines took a
# tenth of the event loop's time while a crowd reconnected, and the TLS proxy in front
# logs each connection (docs/deploy.md). Refusals and failures are logged still.
SOCKET_CHATTER = frozenset(
    {"connection open", "connection closed", '%s - "WebSocket %s" [accepted]'}
)


class QuietSockets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.INFO and record.msg in SOCKET_CHATTER)


# The part of a path that is a secret: whoever holds such a link acts as the member (a
# password reset, an address confirmation, the one-click answers of coffee-pair emails) or
# reads what is theirs (the calendar feed). Logs keep the path, not the secret: they are read
# by more people, and kept longer, than the links live. Each word is the part of the path
# before a secret (tests/test_logs.py checks every URL that takes one).
SECRET_AFTER = (
    "key",  # allauth's password reset
    "confirm-email",  # allauth's address confirmation
    "answer",
    "resume",
    "rating",
    "link",
    "off",
    "calendar",
    "confirm",
    "unsubscribe",
)
_SECRET = re.compile(rf"(/(?:{'|'.join(map(re.escape, SECRET_AFTER))})/)[^/?#\s]+")
MASK = "…"


def without_secrets(text: str) -> str:
    return _SECRET.sub(rf"\1{MASK}", text)


class NoSecretsInPaths(logging.Filter):
    """Masks the secrets of paths in a record's arguments (uvicorn's access lines, Django's
    "Not Found: <path>") and in its message as written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                without_secrets(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = without_secrets(record.msg)
        return True

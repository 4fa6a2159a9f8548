"""Logging filters named in settings.LOGGING."""

import logging

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

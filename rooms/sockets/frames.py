"""What a client frame may be, and the error frames that say why one was refused."""

import json
import uuid
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from core.converters import moment_from_ms

# The consumer's limit, answered with an error frame: room for a call's SDP with audio,
# video and a shared screen. The server's own limit (uvicorn's --ws-max-size, 64 KiB, in the
# Dockerfile's command) closes the connection of anyone sending more.
MAX_FRAME_BYTES = 32 * 1024
# No frame of the protocol nests deeper than a few levels; deeper JSON is refused as invalid
# (a parser recursing 20,000 levels would otherwise raise RecursionError inside the socket).
MAX_DEPTH = 16

ERRORS = {
    "invalid_frame": _("This frame is not valid."),
    "frame_too_large": _("This frame is too large."),
    "invalid_json": _("This frame is not valid JSON."),
    "unknown_type": _("This frame type is unknown."),
    "invalid_fields": _("This frame has missing or wrong fields."),
    "rate_limited": _("Too many messages: wait a few seconds."),
    "not_found": _("This message does not exist."),
    "no_member": _("This member does not exist."),
    "sdp_too_large": _("This call description is too large."),
    "server_error": _("Something went wrong on our side with this frame. Try again."),
}
# The longest `client_id` an error frame echoes (a UUID is 36 characters).
CLIENT_ID_MAX_LENGTH = 64
# The longest frame `type` an error frame echoes (the protocol's longest is 20 characters).
TYPE_MAX_LENGTH = 32


class FrameError(Exception):
    """Refuses one frame: the socket answers with an error frame and stays open."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def error_frame(
    code: str, message: str | None = None, *, about: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`message` defaults to the code's own, in the active language (the socket's). The
    refused frame (`about`) gives its `type` back as `about`, and its `client_id`, if it
    had a sensible one, so a client can retry exactly that request or message (a catch-up
    refused for its budget is asked again later, not given up)."""
    if message is None:
        message = str(ERRORS[code])
    frame = {"type": "error", "code": code, "message": message}
    kind = (about or {}).get("type")
    if isinstance(kind, str) and len(kind) <= TYPE_MAX_LENGTH:
        frame["about"] = kind
    client_id = (about or {}).get("client_id")
    if isinstance(client_id, str) and len(client_id) <= CLIENT_ID_MAX_LENGTH:
        frame["client_id"] = client_id
    return frame


def decode(text_data: str | None) -> dict[str, Any]:
    """The frame as a dict with a string `type`, or FrameError, checked in this order:
    binary, size, JSON, shape."""
    if text_data is None:
        raise FrameError("invalid_frame")
    if len(text_data.encode()) > MAX_FRAME_BYTES:
        raise FrameError("frame_too_large")
    try:
        content = json.loads(text_data)
    except (ValueError, RecursionError) as exc:
        raise FrameError("invalid_json") from exc
    if _too_deep(content):
        raise FrameError("invalid_json")
    if not isinstance(content, dict) or not isinstance(content.get("type"), str):
        raise FrameError("invalid_fields")
    return content


def _too_deep(content: Any) -> bool:
    pending = [(content, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(value, dict):
            pending.extend((each, depth + 1) for each in value.values())
        elif isinstance(value, list):
            pending.extend((each, depth + 1) for each in value)
    return False


def storable(value: str) -> bool:
    """Text PostgreSQL can keep: no NUL, and valid UTF-8 (a JSON `\\ud800` escape decodes to a
    lone surrogate, which cannot be encoded)."""
    if "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


# Field checks shared by several features; a feature's own checks live with its handlers.


def positive_int(content: dict[str, Any], key: str) -> int:
    value = content.get(key)
    # bool is an int to Python, never to the protocol.
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise FrameError("invalid_fields")
    return value


def moment(content: dict[str, Any], key: str) -> datetime:
    """A moment the server gave the client (`now` of a hello: ms since 1970, UTC) and the
    client sends back."""
    found = moment_from_ms(positive_int(content, key))
    if found is None:
        raise FrameError("invalid_fields")
    return found


def text(content: dict[str, Any]) -> str:
    value = content.get("text")
    if not isinstance(value, str) or not storable(value):
        raise FrameError("invalid_fields")
    return value


def boolean(content: dict[str, Any], key: str, default: bool | None = None) -> bool:
    value = content.get(key, default)
    if not isinstance(value, bool):
        raise FrameError("invalid_fields")
    return value


def uuid_field(content: dict[str, Any], key: str) -> uuid.UUID:
    value = content.get(key)
    if not isinstance(value, str):
        raise FrameError("invalid_fields")
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise FrameError("invalid_fields") from exc

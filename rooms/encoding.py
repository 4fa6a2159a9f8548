"""The JSON text of what the server sends on room sockets."""

import json
from typing import Any


def encode(frame: Any) -> str:
    """A frame's (or a part's) JSON text, made once and sent as it is to every socket
    concerned rather than encoded again for each."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))

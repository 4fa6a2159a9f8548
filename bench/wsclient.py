"""A lean WebSocket client for the socket benchmarks (RFC 6455, client side, no extensions).

Python's `websockets` spends about 30 µs of CPU on each frame it receives (a frame object,
a UTF-8 decode, a queue, a task switch). At 5,000 sockets and 10 messages a second that is
50,000 frames and about a core of the clients' own, on the machine whose servers they
measure. This client hands each frame over as bytes, from the protocol's own callback, with
the time its chunk arrived: no task, queue or decode per frame.

It offers compression as browsers do, but cannot inflate: a server that accepts it is
refused (ours declines it, docker-compose.yml's `--ws-per-message-deflate false`).
"""

import asyncio
import base64
import hashlib
import os
import struct
import time
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CLOSE_NORMAL = 1000
CLOSE_PROTOCOL_ERROR = 1002
EXTENDED_LENGTH = {126: 2, 127: 8}
# A handshake answer longer than this is not a WebSocket server's.
MAX_HEAD = 64 * 1024

# What a socket hands to its owner: each complete text or binary message, with the
# monotonic time its last chunk arrived.
OnFrame = Callable[[bytes, float], None]
# The close code the server sent, or None when the connection just ended.
OnClose = Callable[[int | None], None]


class HandshakeRefused(Exception):
    """The server answered the upgrade with another status than 101."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class HandshakeFailed(Exception):
    """The server's answer was not a valid WebSocket upgrade for this client."""


def masked(opcode: int, payload: bytes) -> bytes:
    """One final client frame: clients must mask what they send (RFC 6455, 5.3)."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    mask = os.urandom(4)
    # XOR with the key repeated, as two integers of the same byte order: one operation
    # instead of a Python loop over the bytes.
    key = (mask * (size // 4 + 1))[:size]
    body = int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")
    return head + mask + body.to_bytes(size, "little")


class LeanSocket(asyncio.Protocol):
    def __init__(self, key: bytes, on_frame: OnFrame, on_close: OnClose) -> None:
        self.key = key
        self.on_frame = on_frame
        self.on_close = on_close
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()  # what a frame started and has not finished
        self.needed = 0  # the buffer's length at which the frame in it is whole
        self.upgraded = asyncio.get_running_loop().create_future()
        self.ended = asyncio.get_running_loop().create_future()
        self.fragments: list[bytes] = []
        self.close_code: int | None = None
        self.close_sent = False
        self.failed = False

    # asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCP transport does not derive from asyncio.Transport; both are one.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        arrived = time.monotonic()
        if self.failed:
            return
        if self.buffer or not self.upgraded.done():
            self.buffer += data
            if len(self.buffer) < self.needed:
                return  # a big frame (a crowd's `hello`) still coming in
            if not self.upgraded.done() and not self._read_head():
                return
            data = bytes(self.buffer)
            self.buffer.clear()
        # Nearly always one whole frame in one chunk: read straight from it.
        self._read_frames(data, arrived)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(exc or HandshakeFailed("closed during the handshake"))
        if not self.ended.done():
            self.ended.set_result(None)
            self.on_close(self.close_code)

    # Reading ----------------------------------------------------------------------------

    def _read_head(self) -> bool:
        """The server's answer to the upgrade; True once the socket is open."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                self._fail(HandshakeFailed("no end to the answer's head"))
            return False
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        del self.buffer[: end + 4]
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            self._fail(HandshakeFailed(f"not an HTTP answer: {lines[0]!r}"))
            return False
        if parts[1] != "101":
            self._fail(HandshakeRefused(int(parts[1])))
            return False
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1(self.key + ACCEPT_GUID).digest()).decode()
        if headers.get("sec-websocket-accept") != accept:
            self._fail(HandshakeFailed("wrong Sec-WebSocket-Accept"))
            return False
        if headers.get("sec-websocket-extensions"):
            extensions = headers["sec-websocket-extensions"]
            self._fail(HandshakeFailed(f"the server accepted an extension: {extensions}"))
            return False
        self.upgraded.set_result(None)
        return True

    def _read_frames(self, data: bytes, arrived: float) -> None:
        size = len(data)
        at = 0
        while True:
            if size - at < 2:
                self.needed = 2
                break
            first, second = data[at], data[at + 1]
            length = second & 0x7F
            # 126 and 127: the length follows, in 2 or 8 bytes.
            extended = EXTENDED_LENGTH.get(length, 0)
            start = at + 2 + extended
            if extended:
                if size < start:
                    self.needed = 2 + extended
                    break
                length = int.from_bytes(data[at + 2 : start])
            end = start + length
            if end > size:
                self.needed = end - at
                break
            if second & 0x80:
                self._protocol_error("a server frame is masked")
                return
            payload = data[start:end]
            at = end
            opcode = first & 0x0F
            if opcode < 3:  # continuation, text, binary
                if not first & 0x80:
                    self.fragments.append(payload)
                    continue
                if self.fragments:
                    payload = b"".join(self.fragments) + payload
                    self.fragments = []
                self.on_frame(payload, arrived)
            elif opcode == 8:
                self.close_code = int.from_bytes(payload[:2]) if len(payload) >= 2 else None
                self._send_close(CLOSE_NORMAL)
                assert self.transport is not None
                self.transport.close()
                return
            elif opcode == 9:
                self._write(masked(10, payload))
            elif opcode != 10:
                self._protocol_error(f"unknown opcode {opcode}")
                return
        if at < size:
            self.buffer += data[at:]

    # Writing ----------------------------------------------------------------------------

    def send_text(self, text: str) -> bool:
        """Send one text message; False, sending nothing, once the socket is closing."""
        if self.close_sent or self.ended.done():
            return False
        self._write(masked(1, text.encode()))
        return True

    async def close(self, timeout: float = 2.0) -> None:
        """Close as a browser does: a close frame, then wait for the server's end."""
        self._send_close(CLOSE_NORMAL)
        try:
            await asyncio.wait_for(asyncio.shield(self.ended), timeout)
        except TimeoutError:
            pass
        finally:
            if self.transport is not None:
                self.transport.close()

    def _send_close(self, code: int) -> None:
        if not self.close_sent:
            self.close_sent = True
            self._write(masked(8, code.to_bytes(2)))

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _protocol_error(self, why: str) -> None:
        self._send_close(CLOSE_PROTOCOL_ERROR)
        self._fail(HandshakeFailed(why) if not self.upgraded.done() else None)

    def _fail(self, exc: Exception | None) -> None:
        self.failed = True
        if exc is not None and not self.upgraded.done():
            self.upgraded.set_exception(exc)
        if self.transport is not None:
            self.transport.close()


async def connect(
    url: str,
    *,
    origin: str,
    cookie: str,
    on_frame: OnFrame,
    on_close: OnClose,
    timeout: float = 60.0,
) -> LeanSocket:
    """Open a socket to `url` (`ws://host:port/path`) with the page's Origin and Cookie."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme != "ws" or host is None:
        raise ValueError(f"only ws:// URLs: {url}")
    port = parts.port or 80
    key = base64.b64encode(os.urandom(16))
    loop = asyncio.get_running_loop()

    async def opened() -> LeanSocket:
        _transport, socket = await loop.create_connection(
            lambda: LeanSocket(key, on_frame, on_close), host, port
        )
        head = (
            f"GET {parts.path or '/'} HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key.decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
            f"Origin: {origin}\r\n"
            f"Cookie: {cookie}\r\n"
            "User-Agent: bench-wsclient\r\n"
            "\r\n"
        )
        socket._write(head.encode("latin-1"))
        try:
            await socket.upgraded
        except BaseException:
            if socket.transport is not None:
                socket.transport.close()
            raise
        return socket

    return await asyncio.wait_for(opened(), timeout)

"""uvicorn's WebSocket protocol (websockets-sansio), keeping less per connection.

The web command runs uvicorn with `--ws coworking.wsprotocol:WebSocketProtocol`
(docker-compose.yml, Dockerfile). An idle socket held, in uvicorn, objects it never needs
again or needs only in a much smaller form (`tracemalloc`, docs/benchmarks.md, "Room
sockets", sixth and seventh sessions); this class takes about 8 KiB a socket off:

- the handshake's response, with its headers, which nothing reads once it is written;
- the handshake request's headers (the scope has its own copy of them), which websockets'
  parser keeps, with the request, for the connection's life: emptied, as nothing in
  uvicorn or websockets reads them after the handshake;
- an `asyncio.Queue` for the frames the application has not taken yet (three deques and an
  event: 3 KB), which holds one frame or none nearly always;
- an `asyncio.Event` for whether the transport takes more writes (a deque: 1.6 KB), set
  but for the moments a slow client's buffer is full.

This depends on names inside uvicorn (`queue`, `writable`, `request`, `response`,
`start_keepalive`) as uvicorn 0.54 has them; tests/test_rooms_server.py runs the real
server with this class, so an upgrade that changes them fails there.
"""

import asyncio
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class _ReceiveQueue:
    """What uvicorn asks of its receive queue (`put_nowait`, `get`, `empty`), for the one
    reader an ASGI application is: a list, and a future while that reader waits."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> Any:
        while not self._items:
            if self._waiter is not None:
                raise RuntimeError("one reader at a time")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        # Taken only once its reader runs again: a reader cancelled meanwhile loses nothing.
        return self._items.pop(0)


class _Writable:
    """uvicorn's `writable` event (`set`, `clear`, `is_set`, `wait`): set, but for the
    moments the transport's buffer is full; the waiting senders are kept only then."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = True
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if self._set:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
        return True


class WebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = _ReceiveQueue()  # type: ignore[assignment]
        self.writable = _Writable()  # type: ignore[assignment]

    def start_keepalive(self) -> None:
        # Called once, right after the handshake's response is written.
        super().start_keepalive()
        self.response = None  # type: ignore[assignment]
        self.request.headers.clear()

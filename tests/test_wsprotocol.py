"""uvicorn's WebSocket protocol as the web command runs it (coworking/wsprotocol.py): its
lighter queue and event behave as asyncio's did, and a real uvicorn server carries frames
both ways, holds back a sender while a slow client's buffer is full, and keeps neither the
handshake's response nor the request's headers (the application keeps its scope's copy)."""

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
from websockets.asyncio.client import connect

from coworking.wsprotocol import WebSocketProtocol, _ReceiveQueue, _Writable

pytestmark = pytest.mark.asyncio

BIG = "x" * 65_536


async def test_the_receive_queue_hands_out_in_order_and_wakes_its_reader() -> None:
    queue = _ReceiveQueue()
    queue.put_nowait(1)
    queue.put_nowait(2)
    assert [await queue.get(), await queue.get()] == [1, 2]
    assert queue.empty()

    reader = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait(3)
    assert await asyncio.wait_for(reader, 1) == 3


async def test_a_reader_cancelled_while_waiting_loses_nothing() -> None:
    queue = _ReceiveQueue()
    reader = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("connect")
    reader.cancel()  # before it ran again to take it
    with pytest.raises(asyncio.CancelledError):
        await reader

    assert await asyncio.wait_for(queue.get(), 1) == "connect"


async def test_the_receive_queue_refuses_a_second_reader() -> None:
    queue = _ReceiveQueue()
    first = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        await queue.get()
    queue.put_nowait("frame")
    assert await asyncio.wait_for(first, 1) == "frame"


async def test_writable_holds_senders_while_cleared_and_lets_all_go_when_set() -> None:
    writable = _Writable()
    assert writable.is_set() and await writable.wait()

    writable.clear()
    senders = [asyncio.create_task(writable.wait()) for _ in range(3)]
    gone = asyncio.create_task(writable.wait())
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)
    assert not any(sender.done() for sender in senders)

    writable.set()
    assert await asyncio.wait_for(asyncio.gather(*senders), 1) == [True] * 3
    assert gone.cancelled()


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Echoes each text frame; "flood" sends 200 frames of 64 KiB at once; "header:<name>"
    answers with that request header as the scope has it."""
    assert scope["type"] == "websocket"
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message["text"].startswith("header:"):
            name = message["text"].removeprefix("header:").encode()
            values = [value.decode() for key, value in scope["headers"] if key == name]
            await send({"type": "websocket.send", "text": ",".join(values)})
        elif message["text"] == "flood":
            for n in range(200):
                await send({"type": "websocket.send", "text": f"{n:03d}{BIG}"})
        else:
            await send({"type": "websocket.send", "text": message["text"]})


@pytest_asyncio.fixture
async def server() -> AsyncIterator[tuple[uvicorn.Server, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        _app,
        host="127.0.0.1",
        port=port,
        ws="coworking.wsprotocol:WebSocketProtocol",
        ws_per_message_deflate=False,
        lifespan="off",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.01)
    yield server, port
    server.should_exit = True
    await asyncio.wait_for(serving, 10)  # a sender stuck for good fails here, not hangs


async def test_a_real_server_carries_frames_and_keeps_no_handshake_headers(
    server: tuple[uvicorn.Server, int],
) -> None:
    uvicorn_server, port = server
    address = f"ws://127.0.0.1:{port}/"
    async with connect(address, max_size=None, additional_headers={"X-Hola": "mundo"}) as client:
        await client.send("hola")
        assert await asyncio.wait_for(client.recv(), 5) == "hola"

        (protocol,) = uvicorn_server.server_state.connections
        assert isinstance(protocol, WebSocketProtocol)
        assert protocol.response is None
        assert len(protocol.request.headers) == 0
        # The application's scope keeps its own copy, for as long as the socket lives.
        await client.send("header:x-hola")
        assert await asyncio.wait_for(client.recv(), 5) == "mundo"


async def test_a_slow_client_holds_the_sender_back_and_gets_every_frame_in_order(
    server: tuple[uvicorn.Server, int],
) -> None:
    _server, port = server
    async with connect(f"ws://127.0.0.1:{port}/", max_size=None, max_queue=1) as client:
        await client.send("flood")
        await asyncio.sleep(0.5)  # not reading: the server's buffer fills, its sender waits

        heard = [await asyncio.wait_for(client.recv(), 5) for _ in range(200)]

    assert [frame[:3] for frame in heard] == [f"{n:03d}" for n in range(200)]
    assert all(len(frame) == 3 + len(BIG) for frame in heard)

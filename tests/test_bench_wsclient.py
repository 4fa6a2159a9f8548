"""The benchmarks' lean WebSocket client against the `websockets` server (another
implementation of the protocol): what it sends arrives, what it hears is whole."""

import asyncio
import json
import socket

import pytest
from websockets.asyncio.server import ServerConnection, serve

from bench import wsclient


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _talk(handler, *, compression: str | None = None, send: list[str]) -> tuple:
    port = _free_port()
    heard: list[bytes] = []
    codes: list[int | None] = []
    headers: dict[str, str] = {}

    async def serve_one(ws: ServerConnection) -> None:
        assert ws.request is not None
        headers.update((name, ws.request.headers[name]) for name in ("Origin", "Cookie"))
        await handler(ws)

    async with serve(serve_one, "127.0.0.1", port, compression=compression):
        sock = await wsclient.connect(
            f"ws://127.0.0.1:{port}/room/",
            origin="http://example.test",
            cookie="sessionid=abc",
            on_frame=lambda frame, arrived: heard.append(frame),
            on_close=codes.append,
        )
        for text in send:
            sock.send_text(text)
        await asyncio.wait_for(asyncio.shield(sock.ended), 5)
    return heard, codes, headers


def test_it_sends_masked_frames_of_every_length_and_hears_them_whole() -> None:
    # Each side of the 7-, 16- and 64-bit lengths.
    texts = ["", "hola", "ñ" * 100] + ["x" * n for n in (125, 126, 65_535, 65_536, 70_000)]
    answers: dict[str, object] = {}

    async def echo_then_close(ws: ServerConnection) -> None:
        for _ in texts:
            await ws.send(await ws.recv())
        # A fragmented message and a ping before the close.
        await ws.send(["frag", "ment", "ed"])
        pong = await ws.ping(b"are you there")
        answers["pong"] = await asyncio.wait_for(pong, 5)
        await ws.close(4003, "bye")
        received = ws.protocol.close_rcvd
        answers["close"] = received.code if received else None

    heard, codes, headers = asyncio.run(_talk(echo_then_close, send=texts))
    assert heard == [text.encode() for text in texts] + [b"fragmented"]
    assert codes == [4003]
    assert answers["pong"] is not None  # the ping was answered
    assert answers["close"] == 1000  # and the close, as a browser does
    assert headers["Origin"] == "http://example.test"
    assert headers["Cookie"] == "sessionid=abc"


def test_a_refused_upgrade_raises_its_status() -> None:
    port = _free_port()

    async def refuse(connection, request):  # type: ignore[no-untyped-def]
        return connection.respond(403, "no\n")

    async def never(ws: ServerConnection) -> None:
        raise AssertionError("refused before this")

    async def run() -> None:
        async with serve(never, "127.0.0.1", port, process_request=refuse):
            await wsclient.connect(
                f"ws://127.0.0.1:{port}/",
                origin="http://example.test",
                cookie="",
                on_frame=lambda frame, arrived: None,
                on_close=lambda code: None,
            )

    with pytest.raises(wsclient.HandshakeRefused) as refused:
        asyncio.run(run())
    assert refused.value.status == 403


def test_a_server_that_accepts_compression_is_refused() -> None:
    async def hello(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "hello"}))

    with pytest.raises(wsclient.HandshakeFailed, match="extension"):
        asyncio.run(_talk(hello, compression="deflate", send=[]))

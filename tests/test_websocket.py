"""The WebSocket stack end to end: real ASGI application, origin check, Redis channel layer."""

import pytest
from channels.testing import WebsocketCommunicator

from coworking.asgi import application

ORIGIN = (b"origin", b"http://127.0.0.1:8000")

# The stack's database helpers close stale connections before each call (Channels'
# `database_sync_to_async`), which touches a connection an earlier test left in the thread.
pytestmark = pytest.mark.django_db


@pytest.mark.asyncio
async def test_a_frame_makes_a_round_trip_through_the_channel_layer() -> None:
    communicator = WebsocketCommunicator(application, "/ws/echo/", headers=[ORIGIN])
    connected, _ = await communicator.connect()
    assert connected

    await communicator.send_json_to({"hello": "mundo", "n": 1})
    reply = await communicator.receive_json_from(timeout=5)

    assert reply == {"type": "echo", "payload": {"hello": "mundo", "n": 1}}
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_a_foreign_origin_is_refused_before_accept() -> None:
    communicator = WebsocketCommunicator(
        application, "/ws/echo/", headers=[(b"origin", b"https://evil.example.com")]
    )
    connected, _ = await communicator.connect()

    assert not connected


@pytest.mark.asyncio
async def test_bad_frames_get_an_error_and_the_socket_stays_up() -> None:
    communicator = WebsocketCommunicator(application, "/ws/echo/", headers=[ORIGIN])
    await communicator.connect()

    await communicator.send_to(text_data="{not json")
    assert await communicator.receive_json_from(timeout=5) == {
        "type": "error",
        "code": "invalid_json",
    }
    await communicator.send_to(text_data="x" * 5000)
    assert await communicator.receive_json_from(timeout=5) == {
        "type": "error",
        "code": "invalid_frame",
    }

    await communicator.send_json_to({"still": "here"})
    assert (await communicator.receive_json_from(timeout=5))["payload"] == {"still": "here"}
    await communicator.disconnect()

"""The WebSocket stack end to end: real ASGI application, origin check, Redis channel layer."""

import pytest
from channels.testing import WebsocketCommunicator

from coworking.asgi import application
from tests.test_rooms_socket import member_with_session

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


async def echo_socket() -> WebsocketCommunicator:
    """The echo socket of a signed-in member."""
    _user, session = await member_with_session()
    cookie = (b"cookie", f"sessionid={session}".encode())
    return WebsocketCommunicator(application, "/ws/echo/", headers=[ORIGIN, cookie])


# The stack's database helpers close stale connections before each call (Channels'
# `database_sync_to_async`), which touches a connection an earlier test left in the thread.
pytestmark = pytest.mark.django_db


@pytest.mark.asyncio
async def test_a_frame_makes_a_round_trip_through_the_channel_layer() -> None:
    communicator = await echo_socket()
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
    communicator = await echo_socket()
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


@pytest.mark.asyncio
async def test_a_visitor_is_refused_and_a_member_s_flood_is_not_echoed() -> None:
    visitor = WebsocketCommunicator(application, "/ws/echo/", headers=[ORIGIN])
    connected, code = await visitor.connect()
    assert (connected, code) == (False, 4401)

    communicator = await echo_socket()
    await communicator.connect()
    for n in range(25):
        await communicator.send_json_to({"n": n})
    replies = [await communicator.receive_json_from(timeout=5) for _ in range(25)]

    # The refusals go at once; the echoes come back through Redis.
    assert sorted(reply["payload"]["n"] for reply in replies if reply["type"] == "echo") == list(
        range(20)
    )
    assert [reply for reply in replies if reply["type"] == "error"] == 5 * [
        {"type": "error", "code": "rate_limited"}
    ]
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_a_socket_at_a_host_the_site_does_not_serve_is_refused_from_that_host() -> None:
    """The socket's own address (its Host) is an allowed origin only for a host the site
    answers to: a page on a DNS-rebound name sends that name as both Host and Origin."""
    _user, session = await member_with_session()
    cookie = (b"cookie", f"sessionid={session}".encode())

    def socket_at(host: bytes) -> WebsocketCommunicator:
        headers = [(b"origin", b"http://" + host), (b"host", host), cookie]
        return WebsocketCommunicator(application, "/ws/echo/", headers=headers)

    served = socket_at(b"localhost:8123")
    assert (await served.connect())[0]
    await served.disconnect()
    for host in (b"evil.example", b"evil.example:8000"):
        refused = socket_at(host)
        connected, _ = await refused.connect()
        assert not connected, host

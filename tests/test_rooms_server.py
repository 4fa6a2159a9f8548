"""The room socket through the production server (the Dockerfile's command and flags)."""

import contextlib
import json
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from rooms.models import CAFETERIA_SLUG, Room
from tests.conftest import signed_in_cookies
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def _open(asgi_server: str) -> Iterator[ClientConnection]:
    user = UserFactory.create()
    Room.objects.get_or_create(
        kind=Room.Kind.CAFETERIA, defaults={"name": "Cafeteria", "slug": CAFETERIA_SLUG}
    )
    session = signed_in_cookies(asgi_server, user.email, PASSWORD)["sessionid"]
    with connect(
        asgi_server.replace("http", "ws") + f"/ws/rooms/{CAFETERIA_SLUG}/",
        additional_headers={"Origin": asgi_server, "Cookie": f"sessionid={session}"},
        max_size=None,
        open_timeout=10,
    ) as socket:
        assert json.loads(socket.recv(timeout=10))["type"] == "hello"
        yield socket


def _next(socket: ClientConnection, kind: str) -> dict[str, object]:
    while True:
        frame: dict[str, object] = json.loads(socket.recv(timeout=10))
        if frame["type"] == kind:
            return frame


def test_a_large_frame_gets_an_error_and_a_huge_one_closes_the_connection(
    asgi_server: str,
) -> None:
    with _open(asgi_server) as socket:
        socket.send(json.dumps({"type": "chat.send", "text": "x" * 40_000}))
        assert _next(socket, "error")["code"] == "frame_too_large"
        socket.send(json.dumps({"type": "ping"}))
        assert _next(socket, "pong") == {"type": "pong"}

        socket.send("x" * 70_000)
        # The server itself (uvicorn's --ws-max-size) ends the connection: with a 1009
        # "message too big", or by dropping it.
        with pytest.raises(ConnectionClosed) as closed:
            _next(socket, "pong")
        assert closed.value.rcvd is None or closed.value.rcvd.code == 1009

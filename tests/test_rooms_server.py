"""The room socket through the production server (the Dockerfile's command and flags)."""

import contextlib
import http.cookiejar
import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from rooms.models import CAFETERIA_SLUG, Room
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _session_cookie(asgi_server: str, email: str) -> str:
    """Log in through the server's own allauth form (its SECRET_KEY signs the session)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{asgi_server}/accounts/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    form = {"csrfmiddlewaretoken": token[1], "login": email, "password": PASSWORD}
    request = urllib.request.Request(
        f"{asgi_server}/accounts/login/",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Referer": f"{asgi_server}/accounts/login/"},
    )
    opener.open(request, timeout=10).read()
    return next(cookie.value for cookie in jar if cookie.name == "sessionid" and cookie.value)


@contextlib.contextmanager
def _open(asgi_server: str) -> Iterator[ClientConnection]:
    user = UserFactory.create()
    Room.objects.get_or_create(
        kind=Room.Kind.CAFETERIA, defaults={"name": "Cafeteria", "slug": CAFETERIA_SLUG}
    )
    with connect(
        asgi_server.replace("http", "ws") + f"/ws/rooms/{CAFETERIA_SLUG}/",
        additional_headers={
            "Origin": asgi_server,
            "Cookie": f"sessionid={_session_cookie(asgi_server, user.email)}",
        },
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

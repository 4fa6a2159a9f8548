"""The room socket through the production server (the Dockerfile's command and flags)."""

import contextlib
import json
import time
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from members.models import User
from rooms.models import CAFETERIA_SLUG, Presence, Room
from tests.conftest import server_log, signed_in_cookies
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def _open(
    asgi_server: str, user: User | None = None, path: str = f"/ws/rooms/{CAFETERIA_SLUG}/"
) -> Iterator[ClientConnection]:
    """A signed-in member's socket to `path` (a room's, where `hello` comes first, or the
    lobby's)."""
    user = user or UserFactory.create()
    Room.objects.get_or_create(
        kind=Room.Kind.CAFETERIA, defaults={"name": "Cafeteria", "slug": CAFETERIA_SLUG}
    )
    session = signed_in_cookies(asgi_server, user.email, PASSWORD)["sessionid"]
    with connect(
        asgi_server.replace("http", "ws") + path,
        additional_headers={"Origin": asgi_server, "Cookie": f"sessionid={session}"},
        max_size=None,
        open_timeout=10,
    ) as socket:
        if path != "/ws/rooms/":
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


def test_compression_offered_like_a_browser_is_declined(asgi_server: str) -> None:
    """A room's frames go out as the same bytes to every socket; compressing them would cost
    a deflate per socket and its state (docs/benchmarks.md: 80 KiB against 30 KiB per idle
    socket). websockets' client offers permessage-deflate, as browsers do."""
    with _open(asgi_server) as socket:
        assert socket.response is not None
        assert "Sec-WebSocket-Extensions" not in socket.response.headers
        socket.send(json.dumps({"type": "ping"}))
        assert _next(socket, "pong") == {"type": "pong"}


def _next_within(socket: ClientConnection, kind: str, seconds: float) -> dict[str, object]:
    deadline = time.monotonic() + seconds
    while True:
        frame: dict[str, object] = json.loads(
            socket.recv(timeout=max(0.0, deadline - time.monotonic()))
        )
        if frame["type"] == kind:
            return frame


def _closed_code(socket: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            socket.recv(timeout=5)
    return closed.value.rcvd.code if closed.value.rcvd is not None else None


def test_revocations_made_in_another_process_close_the_servers_sockets_within_2_s(
    asgi_server: str,
) -> None:
    """The server holds the sockets; this test process, like any other web or worker
    process, makes the change, and the push crosses Redis to the server."""
    owner, guest = UserFactory.create(), UserFactory.create()
    private = Room.objects.create(
        name="Private", slug="private-revocation", private=True, created_by=owner
    )
    private.invitees.add(guest)
    with _open(asgi_server, user=guest, path=f"/ws/rooms/{private.slug}/") as in_private:
        private.invitees.remove(guest)

        assert _next_within(in_private, "bye", seconds=2)["reason"] == "no_access"
        assert _closed_code(in_private) == 4005

    with (
        _open(asgi_server, user=guest) as in_cafeteria,
        _open(asgi_server, user=guest, path="/ws/rooms/") as in_lobby,
    ):
        guest.set_password("another long passphrase")
        guest.save()

        assert _next_within(in_cafeteria, "bye", seconds=2)["reason"] == "password"
        assert _next_within(in_lobby, "bye", seconds=2)["reason"] == "password"
        assert _closed_code(in_cafeteria) == 4004


def test_a_client_gone_with_frames_still_queued_leaves_no_traceback_and_no_presence(
    asgi_server: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The server answers frames after the client has gone (a flood cut off, a tab closed
    mid-request): those answers are dropped quietly, not logged as failures."""
    log = server_log(tmp_path_factory, "live-server")
    logged_before = log.stat().st_size
    member = UserFactory.create()
    with _open(asgi_server, user=member) as socket:
        for _ in range(40):
            socket.send(json.dumps({"type": "history.before", "before_id": 1_000_000}))
        # Gone at once, no closing handshake: the server still has frames to answer.
        socket.socket.shutdown(2)
        socket.socket.close()

    deadline = time.monotonic() + 10
    while Presence.objects.filter(user=member).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Presence.objects.filter(user=member).exists()
    time.sleep(0.5)  # any answer still queued has been tried by now
    with log.open() as output:
        output.seek(logged_before)
        assert "Traceback" not in output.read()


def test_the_server_logs_no_line_per_socket_but_still_logs_refusals(
    asgi_server: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A deploy brings every socket back at once: a line each for opening and closing
    them would be most of what the server writes (core/logs.py)."""
    log = server_log(tmp_path_factory, "live-server")
    logged_before = log.stat().st_size
    member = UserFactory.create()
    with _open(asgi_server, user=member) as socket:
        socket.send(json.dumps({"type": "ping"}))
        assert _next(socket, "pong") == {"type": "pong"}
    # The server has seen the close through (its presence row goes last), before the refusal.
    deadline = time.monotonic() + 10
    while Presence.objects.filter(user=member).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    refused_path = "/ws/rooms/no-such-room-for-the-log/"
    with pytest.raises(InvalidStatus), _open(asgi_server, path=refused_path):
        pass

    deadline = time.monotonic() + 5
    while True:
        with log.open() as output:
            output.seek(logged_before)
            logged = output.read()
        if refused_path in logged or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert refused_path in logged
    assert "connection open" not in logged
    assert "connection closed" not in logged
    assert "[accepted]" not in logged

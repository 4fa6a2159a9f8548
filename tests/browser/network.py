"""Networks the test controls: a page's WebSocket (Playwright's routeWebSocket), and a slow
connection to the server."""

import contextlib
import json
import re
import socket
import threading
import time
from urllib.parse import urlsplit

from playwright.sync_api import Page, WebSocketRoute

from rooms.sockets.frames import error_frame


def _type_of(frame: str | bytes) -> object:
    try:
        content = json.loads(frame)
    except ValueError:
        return None
    return content.get("type") if isinstance(content, dict) else None


class FlakyNetwork:
    """The page's sockets to `path` (a regular expression) go through here. `go_down()` drops
    the connection; the page reconnects into a dead one that looks open and swallows what it
    sends. `come_back()` drops that one, and the page reconnects for real. With `refuse`, the
    first frame of that type after coming back is answered with the `rate_limited` error the
    server gives when the member's budget is spent (naming it in `about`), not passed on.
    With `hold` (a type, then another), the server's first frame of the first type after
    coming back waits (`held`) until one of the second type has reached the page: a slow
    answer that a live frame overtakes. `go_silent()`: the connection dies without a word."""

    def __init__(
        self,
        page: Page,
        path: str,
        *,
        refuse: str = "",
        hold: tuple[str, str] | None = None,
        may_go_silent: bool = False,
    ) -> None:
        self.page = page
        self.routes: list[WebSocketRoute] = []
        self.dead = False
        self.came_back = False
        self.refuse = refuse
        self.refused: list[str] = []
        self.hold = hold
        self.held: list[str | bytes] = []
        self.released = False
        self.silent: WebSocketRoute | None = None
        # Frames pass through this process only when the test asks for something of them:
        # otherwise Playwright passes them itself, in order with what a test sends the page.
        self.watch_server = bool(hold) or may_go_silent
        self.watch_page = bool(refuse) or may_go_silent
        page.route_web_socket(re.compile(path), self._through)

    def _through(self, socket: WebSocketRoute) -> None:
        self.routes.append(socket)
        if self.dead:
            return
        server = socket.connect_to_server()
        held_type, overtaking_type = self.hold or ("", "")

        def from_server(frame: str | bytes) -> None:
            if socket is self.silent:
                return
            kind = _type_of(frame)
            if self.came_back and not self.held and not self.released and kind == held_type:
                self.held.append(frame)
                return
            socket.send(frame)
            if self.held and not self.released and kind == overtaking_type:
                self.released = True
                socket.send(self.held[0])

        def from_page(frame: str | bytes) -> None:
            if socket is self.silent:
                return
            if self.came_back and not self.refused and _type_of(frame) == self.refuse:
                self.refused.append(str(frame))
                # As the server answers: naming the refused frame's type and client_id.
                socket.send(json.dumps(error_frame("rate_limited", about=json.loads(frame))))
            else:
                server.send(frame)

        if self.watch_server:
            server.on_message(from_server)
        if self.watch_page:
            socket.on_message(from_page)

    def go_silent(self) -> None:
        """The connection dies without a word: it stays open, and nothing passes either way
        (a phone that changed networks). Needs `may_go_silent`."""
        assert self.watch_server and self.watch_page
        self.silent = self.routes[-1]

    def wait_for_connection(self) -> None:
        while not self.routes:
            self.page.wait_for_timeout(100)

    def go_down(self) -> None:
        self.dead = True
        count = len(self.routes)
        self.routes[-1].close(code=3000, reason="network gone")
        while len(self.routes) == count:  # the page reconnects, into the dead connection
            self.page.wait_for_timeout(100)

    def come_back(self) -> None:
        self.dead = False
        self.came_back = True
        self.routes[-1].close(code=3000, reason="network back")


class SlowAnswers:
    """A TCP proxy in front of the test server whose answers reach the browser `delay`
    seconds late, as on a slow mobile network: a request is at the server, and done, long
    before the member sees anything happen. The page opens `url`'s pages through it (cookies
    are not tied to a port, so a login on the server holds here too)."""

    def __init__(self, target: str, *, delay: float) -> None:
        parsed = urlsplit(target)
        self.target = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.delay = delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                browser_side, _address = self.listener.accept()
            except OSError:  # closed
                return
            server_side = socket.create_connection(self.target)
            for source, sink, delay in (
                (browser_side, server_side, 0.0),
                (server_side, browser_side, self.delay),
            ):
                threading.Thread(target=self._pipe, args=(source, sink, delay), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket, delay: float) -> None:
        try:
            while data := source.recv(65536):
                time.sleep(delay)
                sink.sendall(data)
        except OSError:
            pass  # the other side went away: a navigation the browser gave up on
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.listener.close()

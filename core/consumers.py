import time
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

MAX_ECHO_BYTES = 4096
# Frames one connection may have echoed per window: each costs a trip through Redis.
ECHO_FRAMES = 20
ECHO_WINDOW_SECONDS = 10.0
# docs/websocket-protocol.md's code for a socket without a signed-in member (as the rooms').
CLOSE_NOT_LOGGED_IN = 4401


class EchoConsumer(AsyncJsonWebsocketConsumer):
    """Sends every JSON frame back through the channel layer.

    It proves the WebSocket stack end to end (origin check, sessions, the channel layer);
    the rooms app carries the real protocol. Signed-in members only, and a few frames a
    second each: open to anyone, every frame was a free trip through Redis.
    """

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return
        self.window: tuple[float, int] = (time.monotonic(), 0)
        await self.accept()

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        started, count = self.window
        now = time.monotonic()
        if now - started >= ECHO_WINDOW_SECONDS:
            started, count = now, 0
        self.window = (started, count + 1)
        if count >= ECHO_FRAMES:
            await self.send_json({"type": "error", "code": "rate_limited"})
            return
        if text_data is None or len(text_data.encode()) > MAX_ECHO_BYTES:
            await self.send_json({"type": "error", "code": "invalid_frame"})
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            await self.send_json({"type": "error", "code": "invalid_json"})
            return
        await self.channel_layer.send(
            self.channel_name, {"type": "echo.message", "payload": content}
        )

    async def echo_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "echo", "payload": event["payload"]})

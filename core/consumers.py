from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

MAX_ECHO_BYTES = 4096


class EchoConsumer(AsyncJsonWebsocketConsumer):
    """Sends every JSON frame back through the channel layer.

    It proves the WebSocket stack end to end (origin check, sessions, the channel layer)
    and is used by monitoring; the rooms app carries the real protocol.
    """

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
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

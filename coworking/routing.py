from django.urls import path

from core.consumers import EchoConsumer
from rooms.routing import websocket_urlpatterns as rooms_websocket_urlpatterns

websocket_urlpatterns = [
    path("ws/echo/", EchoConsumer.as_asgi()),
    *rooms_websocket_urlpatterns,
]

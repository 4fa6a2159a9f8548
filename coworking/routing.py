from django.urls import path

from conversations.routing import websocket_urlpatterns as conversations_websocket_urlpatterns
from core.consumers import EchoConsumer
from focus.routing import websocket_urlpatterns as focus_websocket_urlpatterns
from rooms.routing import websocket_urlpatterns as rooms_websocket_urlpatterns
from stage.routing import websocket_urlpatterns as stage_websocket_urlpatterns

websocket_urlpatterns = [
    path("ws/echo/", EchoConsumer.as_asgi()),
    *rooms_websocket_urlpatterns,
    *conversations_websocket_urlpatterns,
    *stage_websocket_urlpatterns,
    *focus_websocket_urlpatterns,
]

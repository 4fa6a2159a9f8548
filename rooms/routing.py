from django.urls import path

from rooms.consumers import LobbyConsumer, RoomConsumer

websocket_urlpatterns = [
    path("ws/rooms/", LobbyConsumer.as_asgi()),
    path("ws/rooms/<slug:slug>/", RoomConsumer.as_asgi()),
]

from django.urls import path

from stage.consumers import StageConsumer

websocket_urlpatterns = [
    path("ws/stage/<slug:slug>/", StageConsumer.as_asgi()),
]

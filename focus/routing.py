from django.urls import path

from focus.consumers import FocusConsumer

websocket_urlpatterns = [
    path("ws/focus/<slug:slug>/", FocusConsumer.as_asgi()),
]

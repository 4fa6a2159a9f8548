from django.urls import path

from conversations.consumers import MemberConsumer

websocket_urlpatterns = [
    path("ws/me/", MemberConsumer.as_asgi()),
]

from django.urls import path

from rooms import views

app_name = "rooms"

urlpatterns = [
    path("", views.lobby, name="lobby"),
    # Before the room pattern: "new" is a reserved slug (rooms.services.RESERVED_SLUGS).
    path("new/", views.room_new, name="new"),
    path("<slug:slug>/", views.room, name="room"),
    path("<slug:slug>/close/", views.close, name="close"),
    path("<slug:slug>/invite/", views.invite, name="invite"),
]

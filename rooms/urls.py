from django.urls import path

from rooms import views

app_name = "rooms"

urlpatterns = [
    path("", views.lobby, name="lobby"),
    path("<slug:slug>/", views.room, name="room"),
]

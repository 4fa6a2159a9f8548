"""Where each room is read: its own page (`rooms:room`), unless the app that owns a kind of
room registers another (focus: a block's room lives on the block's page). Links in notices,
emails and reports go through `room_url`, so that none leads to a page that refuses them."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from members.models import User
from rooms.models import Room
from rooms.presence import present_by_room, room_is_full

RoomPage = Callable[[Room], str]

_pages: dict[str, RoomPage] = {}


def room_page_register(*, kind: str, page: RoomPage) -> None:
    """Called from an app's `ready()`: rooms of `kind` are read at `page(room)`."""
    _pages[kind] = page


def room_url(room: Room) -> str:
    page = _pages.get(room.kind)
    return page(room) if page is not None else reverse("rooms:room", args=[room.slug])


def room_full_page(request: HttpRequest, room: Room, user: User) -> HttpResponse | None:
    """The page saying the room is full, with who is inside, when `user` would be one too
    many; else None. Answered 409: a page whose socket was refused for a full room fetches
    its own address to learn why, and reloads to show it (static/js/room/socket.js)."""
    if not room_is_full(room=room, user=user):
        return None
    present = present_by_room(viewer=user, rooms=[room])[room.pk]
    return render(request, "rooms/room_full.html", {"room": room, "present": present}, status=409)

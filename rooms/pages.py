"""Where each room is read: its own page (`rooms:room`), unless the app that owns a kind of
room registers another (focus: a block's room lives on the block's page). Links in notices,
emails and reports go through `room_url`, so that none leads to a page that refuses them."""

from collections.abc import Callable

from django.urls import reverse

from rooms.models import Room

RoomPage = Callable[[Room], str]

_pages: dict[str, RoomPage] = {}


def room_page_register(*, kind: str, page: RoomPage) -> None:
    """Called from an app's `ready()`: rooms of `kind` are read at `page(room)`."""
    _pages[kind] = page


def room_url(room: Room) -> str:
    page = _pages.get(room.kind)
    return page(room) if page is not None else reverse("rooms:room", args=[room.slug])

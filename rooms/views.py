from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from members.models import User
from rooms.models import Room
from rooms.presence import presence_snapshot, present_by_room
from rooms.selectors import history, rooms_open_to
from rooms.services import room_can_enter

HISTORY_ON_PAGE = 50


@login_required
@require_GET
def lobby(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    rooms = list(rooms_open_to(user=user))
    present = present_by_room(viewer=user, rooms=rooms)
    entries = [(room, present[room.pk]) for room in rooms]
    template = "rooms/_room_list.html" if request.GET.get("partial") else "rooms/lobby.html"
    return render(request, template, {"entries": entries})


@login_required
@require_GET
def room(request: HttpRequest, slug: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    room = get_object_or_404(Room, slug=slug)
    if not room_can_enter(room=room, user=user):
        raise PermissionDenied
    chat_messages = list(reversed(history(room=room, viewer=user, limit=HISTORY_ON_PAGE)))
    return render(
        request,
        "rooms/room.html",
        {
            "room": room,
            "chat_messages": chat_messages,
            "present": presence_snapshot(room=room, viewer=user),
        },
    )

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from members.models import User
from rooms.models import Room, RoomParticipation
from rooms.presence import presence_snapshot, present_by_room
from rooms.selectors import history
from rooms.services import room_can_enter

HISTORY_ON_PAGE = 50


def _rooms_open_to(user: User) -> QuerySet[Room]:
    """Open rooms `user` may enter (as `room_can_enter` decides, in one query): the cafeteria
    first, then permanent rooms, then members' rooms."""
    rooms = Room.objects.filter(closed_at__isnull=True).exclude(
        Exists(
            RoomParticipation.objects.filter(
                room=OuterRef("pk"), user=user, removed_at__isnull=False
            )
        )
    )
    if not user.is_staff:
        invited = Room.invitees.through.objects.filter(room_id=OuterRef("pk"), user_id=user.pk)
        rooms = rooms.filter(Q(private=False) | Q(created_by=user) | Exists(invited))
    return rooms.order_by(
        Case(
            When(kind=Room.Kind.CAFETERIA, then=Value(0)),
            When(kind=Room.Kind.PERMANENT, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        ),
        "name",
    )


@login_required
@require_GET
def lobby(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    rooms = list(_rooms_open_to(user))
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

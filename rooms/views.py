from datetime import timedelta

from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from members.models import User
from members.services import blocked_user_ids
from members.status import busy_until
from rooms.forms import InviteForm, RoomForm
from rooms.models import CafeteriaProtected, Room
from rooms.pages import room_full_page, room_url
from rooms.presence import presence_snapshot, present_glances
from rooms.selectors import history, history_upto, rooms_open_to, rooms_recently_closed_for
from rooms.services import (
    NotAllowed,
    RoomAccessDenied,
    RoomClosed,
    RoomError,
    room_can_enter,
    room_can_manage,
    room_close,
    room_create,
    room_invite,
)
from rooms.sockets.chat import PAGE_SIZE

# How far back the lobby lists the closed rooms a member was in.
CLOSED_ROOMS_SHOWN_FOR = timedelta(days=30)
# Faces on a room's card in the lobby; the count says how many more are inside. A card
# with everyone on it would be a wall of avatars in a busy cafeteria, and its page would
# grow with the crowd.
LOBBY_FACES = 12


def _room_to_manage(request: HttpRequest, slug: str) -> tuple[User, Room]:
    """The room and the member, when they may close it and invite to it (403 otherwise)."""
    user: User = request.user  # type: ignore[assignment]
    room = get_object_or_404(Room.objects.exclude(kind=Room.Kind.FOCUS), slug=slug)
    if not room_can_manage(room=room, user=user):
        raise PermissionDenied
    return user, room


@login_required
@require_safe
def lobby(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    rooms = list(rooms_open_to(user=user))
    glances = present_glances(viewer=user, rooms=rooms, faces=LOBBY_FACES)
    entries = [(room, glances[room.pk]) for room in rooms]
    # "In focus until 11:50" beside the faces shown: one query (members.status).
    people = {member.pk for glance in glances.values() for member in glance.faces}
    busy = busy_until(user_ids=people, now=timezone.now())
    if request.GET.get("partial"):
        return render(request, "rooms/_room_list.html", {"entries": entries, "busy": busy})
    since = timezone.now() - CLOSED_ROOMS_SHOWN_FOR
    closed = rooms_recently_closed_for(user=user, since=since)
    return render(
        request, "rooms/lobby.html", {"entries": entries, "closed_rooms": closed, "busy": busy}
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def room_new(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = RoomForm(request.POST if request.method == "POST" else None, user=user)
    if form.is_bound and form.is_valid():
        try:
            room = room_create(creator=user, **form.room_fields())
        except RoomError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Your room is open. Others can join you now."))
            return redirect("rooms:room", room.slug)
    return render(
        request, "rooms/room_form.html", {"form": form}, status=400 if form.is_bound else 200
    )


@login_required
@require_safe
def room(request: HttpRequest, slug: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    room = get_object_or_404(Room, slug=slug)
    if room.kind == Room.Kind.FOCUS:
        # A focus block's room opens only on its block's page (focus.views.session).
        return redirect(room_url(room))
    if not room.is_open:
        return _closed_room(request, user, room)
    if not room_can_enter(room=room, user=user):
        # Not open yet, to someone who may come in once it is: say when, rather than refuse.
        if room.opens_at and room_can_enter(room=room, user=user, now=room.opens_at):
            return render(request, "rooms/room_not_yet.html", {"room": room})
        if room.private:
            # Says how in, without telling the room's name or who is in it.
            return render(request, "rooms/room_private.html", status=403)
        raise PermissionDenied
    if (full := room_full_page(request, room, user)) is not None:
        return full
    upto = history_upto(room=room)  # before the page's messages: see history_upto
    chat_messages = list(reversed(history(room=room, viewer=user, limit=PAGE_SIZE)))
    can_manage = room_can_manage(room=room, user=user)
    hidden = blocked_user_ids(user=user)
    return render(
        request,
        "rooms/room.html",
        {
            "room": room,
            "chat_messages": chat_messages,
            "upto": upto,
            "present": presence_snapshot(room=room, viewer=user, hidden=hidden),
            # Quotes of their messages say only that there was one (rooms.quotes).
            "hidden_ids": hidden,
            "can_manage": can_manage,
            "call_max": settings.CALL_MAX_PARTICIPANTS,
            # Its own ids: it shares the page with the chat's fields.
            "invite_form": (
                InviteForm(user=user, auto_id="invite-%s") if can_manage and room.private else None
            ),
        },
    )


def _closed_room(request: HttpRequest, user: User, room: Room) -> HttpResponse:
    """A closed room's history, read-only, for those who were in it (and staff): the latest
    messages, then older pages (`?before=<id>`)."""
    before = request.GET.get("before", "")
    try:
        page = history(
            room=room,
            viewer=user,
            before_id=int(before) if before.isdecimal() and len(before) < 19 else None,
            limit=PAGE_SIZE + 1,
        )
    except RoomAccessDenied:
        # Anyone else following an old link learns that the room closed and where to go now,
        # not that it is "only for some members"; a private room's name stays untold.
        return render(
            request, "rooms/room_closed.html", {"room": room, "readable": False}, status=403
        )
    return render(
        request,
        "rooms/room_closed.html",
        {
            "room": room,
            "readable": True,
            "chat_messages": list(reversed(page[:PAGE_SIZE])),
            "has_older": len(page) > PAGE_SIZE,
            "later": bool(before),
        },
    )


@login_required
@require_POST
def close(request: HttpRequest, slug: str) -> HttpResponse:
    user, room = _room_to_manage(request, slug)
    try:
        closed_now = room_close(room=room, by=user)
    except (NotAllowed, CafeteriaProtected):
        raise PermissionDenied from None
    if closed_now:
        messages.success(
            request,
            _("You closed “%(name)s”. Its history stays readable to those who were in it.")
            % {"name": room.title},
        )
    else:
        messages.info(request, _("“%(name)s” was already closed.") % {"name": room.title})
    return redirect("rooms:lobby")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def invite(request: HttpRequest, slug: str) -> HttpResponse:
    user, room = _room_to_manage(request, slug)
    if not (room.private and room.is_open):
        # Everyone may come into a public room already; nobody into a closed one.
        return redirect("rooms:room", room.slug)
    form = InviteForm(request.POST if request.method == "POST" else None, user=user)
    status = 400 if form.is_bound else 200
    if form.is_bound and form.is_valid() and not ratelimit.consume(request, action="room_invite"):
        form.add_error(None, _("You have sent many invitations lately. Try again in an hour."))
        status = 429
    elif form.is_bound and form.is_valid():
        try:
            room_invite(room=room, by=user, invitees=form.invitees())
        except RoomClosed as error:
            form.add_error(None, str(error))
        else:
            # No count or names, and the same words whoever the addresses belong to: neither
            # an address without an account nor a member left out because of a block shows.
            messages.success(
                request,
                _(
                    "Done. The people you ticked, and anyone with an account at the addresses "
                    "you wrote, may come in now."
                ),
            )
            return redirect("rooms:room", room.slug)
    return render(request, "rooms/room_invite.html", {"room": room, "form": form}, status=status)

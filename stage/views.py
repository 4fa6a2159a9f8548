from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from members.models import User
from members.services import blocked_user_ids
from rooms.models import Room
from rooms.pages import room_full_page
from rooms.presence import presence_snapshot
from rooms.selectors import history, history_upto
from rooms.sockets.chat import PAGE_SIZE
from stage.janus import JanusSettings
from stage.services import stage_for_room, stage_may_host


@login_required
@require_safe
def stage(request: HttpRequest, slug: str) -> HttpResponse:
    """A room's stage beside its chat. Made at the first visit (stage_for_room): an empty
    row, the same whoever comes first, so a GET that makes it changes nothing anyone sees
    until a host starts it (over the socket)."""
    user: User = request.user  # type: ignore[assignment]
    room = get_object_or_404(Room, slug=slug)
    found = stage_for_room(room=room, user=user)
    if found is None:
        raise Http404
    if (full := room_full_page(request, room, user)) is not None:
        return full
    upto = history_upto(room=room)  # before the page's messages: see history_upto
    hidden = blocked_user_ids(user=user)
    return render(
        request,
        "stage/stage.html",
        {
            "room": room,
            "stage": found,
            "is_host": stage_may_host(stage=found, user=user),
            "media_configured": JanusSettings.from_settings().configured,
            "chat_messages": list(reversed(history(room=room, viewer=user, limit=PAGE_SIZE))),
            "upto": upto,
            "present": presence_snapshot(room=room, viewer=user, hidden=hidden),
            "hidden_ids": hidden,
            "call_max": settings.CALL_MAX_PARTICIPANTS,
            "asks_questions": True,  # the chat's "Ask as a question" (the Q&A)
        },
    )

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from focus import sessions
from focus.models import GOAL_MAX_LENGTH, FocusBlock, FocusError, Seat
from focus.ritual import CHECK_IN, CHECK_OUT
from focus.selectors import blocks_upcoming
from focus.services import block_drop_in, drop_in_open, seat_book, seat_cancel
from focus.standing import elsewhere
from members.models import User
from members.services import blocked_user_ids
from rooms.presence import presence_snapshot
from rooms.selectors import history, history_upto
from rooms.sockets.chat import PAGE_SIZE


@login_required
@require_safe
def blocks(request: HttpRequest) -> HttpResponse:
    """The week's focus blocks, in the viewer's time zone, to book or drop in to."""
    user: User = request.user  # type: ignore[assignment]
    now = timezone.now()
    upcoming = [block for block in blocks_upcoming(viewer=user, now=now) if block.ends_at > now]
    soon = any(drop_in_open(block=block, now=now) for block in upcoming)
    return render(request, "focus/blocks.html", {"blocks": upcoming, "drop_in": soon})


def _act(
    request: HttpRequest, action: Callable[[], object], done: Callable[[object], str] | str
) -> HttpResponse:
    """Run a seat action; its refusal or `done` (or `done(result)`) as the message, back
    to the list."""
    try:
        result = action()
    except FocusError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done(result) if callable(done) else done)
    return redirect("focus:blocks")


def _given_back(seat: object) -> str:
    if isinstance(seat, Seat) and seat.no_show:
        return _(
            "Your seat is free for someone else now. Giving it back less than 15 minutes"
            " before the start counts as a missed session."
        )
    return _("Your seat is free for someone else now.")


@login_required
@require_POST
def book(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    block = get_object_or_404(FocusBlock, pk=pk)
    return _act(request, lambda: seat_book(block=block, user=user), _booked)


def _booked(seat: object) -> str:
    if isinstance(seat, Seat) and elsewhere([seat.user_id], seat.block):
        return _(
            "Your seat is booked. You also have an event or a coffee at that time: if you go"
            " there instead, give the seat back up to 15 minutes before, so someone else can"
            " sit in it."
        )
    return _("Your seat is booked. See you there!")


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    seat = get_object_or_404(
        Seat.objects.select_related("block"), block_id=pk, user=user, cancelled_at__isnull=True
    )
    return _act(request, lambda: seat_cancel(seat=seat), _given_back)


@login_required
@require_POST
def drop_in(request: HttpRequest) -> HttpResponse:
    """A seat in the block starting now or soon, and straight into it."""
    user: User = request.user  # type: ignore[assignment]
    try:
        seat = block_drop_in(user=user)
    except FocusError as refused:
        messages.error(request, str(refused))
        return redirect("focus:blocks")
    messages.success(request, _("You dropped in. Welcome!"))
    return redirect("focus:session", seat.block_id)


@login_required
@require_safe
def session(request: HttpRequest, pk: int) -> HttpResponse:
    """The block itself: the ritual's countdown, the member's goal and table, the table's
    call and the block's chat. The live parts come over the block's socket."""
    user: User = request.user  # type: ignore[assignment]
    block = get_object_or_404(FocusBlock, pk=pk)
    now = timezone.now()
    if block.ends_at + sessions.OUTCOME_UNTIL <= now:
        messages.info(request, _("This block has ended."))
        return redirect("focus:blocks")
    try:
        room, seat = sessions.session_enter(block=block, user=user)
    except FocusError as refused:
        messages.error(request, str(refused))
        return redirect("focus:blocks")
    hidden = blocked_user_ids(user=user)
    return render(
        request,
        "focus/session.html",
        {
            "focus_block": block,
            "room": room,
            "seat": seat,
            "state": sessions.session_state(block=block, seat=seat, now=now, hidden=hidden),
            "goal_max": GOAL_MAX_LENGTH,
            "check_in_minutes": int(CHECK_IN.total_seconds() // 60),
            "check_out_minutes": int(CHECK_OUT.total_seconds() // 60),
            "outcomes": Seat.Outcome.choices,
            "chat_messages": list(reversed(history(room=room, viewer=user, limit=PAGE_SIZE))),
            "upto": history_upto(room=room),
            "present": presence_snapshot(room=room, viewer=user, hidden=hidden),
            "hidden_ids": hidden,
            "call_max": 4,
        },
    )

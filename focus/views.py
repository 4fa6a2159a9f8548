from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from focus.models import FocusBlock, FocusError, Seat
from focus.selectors import blocks_upcoming
from focus.services import DROP_IN_WITHIN, block_drop_in, seat_book, seat_cancel
from members.models import User


@login_required
@require_GET
def blocks(request: HttpRequest) -> HttpResponse:
    """The week's focus blocks, in the viewer's time zone, to book or drop in to."""
    user: User = request.user  # type: ignore[assignment]
    now = timezone.now()
    upcoming = [block for block in blocks_upcoming(viewer=user, now=now) if block.ends_at > now]
    soon = any(block.starts_at <= now + DROP_IN_WITHIN for block in upcoming)
    return render(request, "focus/blocks.html", {"blocks": upcoming, "drop_in": soon})


def _act(request: HttpRequest, action: Callable[[], object], done: str) -> HttpResponse:
    """Run a seat action; its refusal or `done` as the message, back to the list."""
    try:
        action()
    except FocusError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("focus:blocks")


@login_required
@require_POST
def book(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    block = get_object_or_404(FocusBlock, pk=pk)
    return _act(
        request,
        lambda: seat_book(block=block, user=user),
        _("Your seat is booked. See you there!"),
    )


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    seat = get_object_or_404(
        Seat.objects.select_related("block"), block_id=pk, user=user, cancelled_at__isnull=True
    )
    return _act(
        request, lambda: seat_cancel(seat=seat), _("Your seat is free for someone else now.")
    )


@login_required
@require_POST
def drop_in(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    return _act(request, lambda: block_drop_in(user=user), _("You dropped in. Welcome!"))

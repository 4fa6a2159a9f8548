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


@login_required
@require_POST
def book(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    block = get_object_or_404(FocusBlock, pk=pk)
    try:
        seat_book(block=block, user=user)
    except FocusError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Your seat is booked. See you there!"))
    return redirect("focus:blocks")


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    seat = get_object_or_404(
        Seat.objects.select_related("block"), block_id=pk, user=user, cancelled_at__isnull=True
    )
    try:
        seat_cancel(seat=seat)
    except FocusError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Your seat is free for someone else now."))
    return redirect("focus:blocks")


@login_required
@require_POST
def drop_in(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    try:
        block_drop_in(user=user)
    except FocusError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("You dropped in. Welcome!"))
    return redirect("focus:blocks")

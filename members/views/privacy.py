"""A member's privacy and safety: blocks, export and deletion."""

import json
import zoneinfo

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from members import privacy as personal_data
from members import services
from members.models import Block, User
from members.privacy_forms import AccountDeleteForm
from members.selectors import members_reachable


def _member_or_404(member_id: int) -> User:
    # Blocks do not hide them here: refusing would tell the viewer they were blocked.
    return get_object_or_404(members_reachable(), pk=member_id)


@login_required
@require_POST
def block(request: HttpRequest, member_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if member_id == user.pk:
        messages.error(request, _("You cannot block yourself."))
        return redirect("members:blocked")
    member = _member_or_404(member_id)
    services.block_create(blocker=user, blocked=member)
    messages.success(
        request,
        _("You blocked %(name)s. You will not see each other any more, and they are not told.")
        % {"name": member.name},
    )
    return redirect("members:blocked")


@login_required
@require_POST
def unblock(request: HttpRequest, member_id: int) -> HttpResponse:
    member = get_object_or_404(User, pk=member_id)
    if services.block_delete(blocker=request.user, blocked=member):  # type: ignore[arg-type]
        messages.success(request, _("You unblocked %(name)s.") % {"name": member.name})
    else:
        messages.info(request, _("That member was not blocked."))
    return redirect("members:blocked")


@login_required
@require_safe
def blocked_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    blocks = (
        Block.objects.filter(blocker=user, blocked__deleted_at__isnull=True)
        .select_related("blocked__profile")
        .order_by("-created_at")
    )
    return render(request, "members/blocked_list.html", {"blocks": blocks})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def data_export(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if request.method != "POST":  # GET, or HEAD: the page, never the export
        return render(request, "members/export.html")
    data = personal_data.account_export(user=user)
    day = timezone.localdate(timezone=zoneinfo.ZoneInfo(user.time_zone))
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"coworking-export-{day.isoformat()}.json"
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = AccountDeleteForm(
        request.POST if request.method == "POST" else None, user=user, request=request
    )
    if form.is_bound and form.is_valid():
        personal_data.account_delete(user=user)
        logout(request)
        messages.success(
            request, _("Your account is deleted. Thank you for having been part of the community.")
        )
        return redirect("home")
    return render(
        request, "members/delete.html", {"form": form}, status=400 if form.is_bound else 200
    )

"""Reporting a member, a room message or a private message (members), and the review queue
(staff)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from conversations.models import Attachment
from conversations.models import Message as PrivateMessage
from conversations.selectors import conversation_for
from conversations.serving import attachment_response
from core.access import staff_with
from members.models import User
from members.selectors import is_blocked_between, members_reachable
from members.services import block_create, blocked_user_ids
from moderation import services
from moderation.forms import MessageReportForm, ModerationForm, ReportForm, ReportsFilterForm
from moderation.models import Report
from rooms.models import Message, Room
from rooms.pages import room_url
from rooms.selectors import room_can_read

REPORTS_PER_PAGE = 25


def _report_or_limit(form: ReportForm, **report: object) -> bool:
    """File the report the form describes; False (and a form error) past the daily limit."""
    try:
        services.report_create(
            reason=form.cleaned_data["reason"],
            details=form.cleaned_data["details"],
            **report,  # type: ignore[arg-type]
        )
    except services.ReportLimitReached:
        form.add_error(
            None,
            _(
                "You have sent %(limit)d reports in the last 24 hours, the most we "
                "accept. Please try again later."
            )
            % {"limit": services.REPORTS_PER_DAY},
        )
        return False
    return True


def _back_from_report(user: User, member: User) -> str:
    """Back to the profile, unless a block hides it (a 404 there would reveal the block)."""
    if not is_blocked_between(user=user, other=member):
        return member.get_absolute_url()
    if user.blocks_made.filter(blocked=member).exists():
        return reverse("members:blocked")
    return reverse("home")


def _blocked_note(author: User, *, reported: bool) -> str:
    if reported:
        return _(
            "Thank you for your report. Our team will review the message. You blocked "
            "%(name)s: you will not see each other any more."
        ) % {"name": author.name}
    return _(
        "You blocked %(name)s: you will not see each other any more. Your report was not "
        "sent: you have sent the most we accept in 24 hours."
    ) % {"name": author.name}


def _message_report(
    request: HttpRequest,
    *,
    template: str,
    context: dict[str, object],
    back: str,
    **report: object,
) -> HttpResponse:
    """The report form for a message (a room's or a private one): filed with `report`'s
    fields, then back to where the message is; or, when the member blocks its author too, to
    their blocked members (the message, and perhaps the conversation, are hidden now)."""
    user: User = request.user  # type: ignore[assignment]
    author = report["reported"]
    assert isinstance(author, User)
    # A former member is not offered: nobody will see them again. A suspended one is: the
    # suspension may be lifted, and a harasser would come back unblocked.
    may_block = author.deleted_at is None
    form = MessageReportForm(
        request.POST if request.method == "POST" else None,
        author_name=author.name,
        may_block=may_block,
    )
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            reported = _report_or_limit(form, reporter=user, **report)
            # The block does not wait on the report: a member past the day's reports (likely
            # when someone floods them) still gets the one way to stop seeing them.
            if form.cleaned_data.get("block"):
                block_create(blocker=user, blocked=author)
                messages.success(request, _blocked_note(author, reported=reported))
                return redirect("members:blocked")
            if reported:
                messages.success(
                    request, _("Thank you for your report. Our team will review the message.")
                )
                return redirect(back)
            status = 429
    return render(request, template, {**context, "form": form, "cancel_url": back}, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_member(request: HttpRequest, member_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if member_id == user.pk:
        messages.error(request, _("You cannot report yourself."))
        return redirect("members:profile", user.pk)
    # Blocks do not hide them here: refusing would tell the viewer they were blocked.
    member = get_object_or_404(members_reachable(), pk=member_id)
    form = ReportForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            if _report_or_limit(form, reporter=user, reported=member):
                messages.success(
                    request,
                    _("Thank you for your report. Our team will review it; %(name)s is not told.")
                    % {"name": member.name},
                )
                return redirect(_back_from_report(user, member))
            status = 429
    return render(
        request,
        "moderation/report_member.html",
        {"form": form, "member": member, "cancel_url": _back_from_report(user, member)},
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_message(request: HttpRequest, slug: str, message_id: int) -> HttpResponse:
    """Report a room message to staff: the members' report form, tied to the message."""
    user: User = request.user  # type: ignore[assignment]
    room = get_object_or_404(Room, slug=slug)
    if not room_can_read(room=room, user=user):
        raise PermissionDenied
    # Messages by anyone on either side of a block are not shown to the member anywhere.
    message = get_object_or_404(
        Message.objects.select_related("author").exclude(author__in=blocked_user_ids(user=user)),
        pk=message_id,
        room=room,
        deleted_at__isnull=True,
        author__isnull=False,
    )
    if message.author_id == user.pk:
        raise PermissionDenied
    return _message_report(
        request,
        template="moderation/report_message.html",
        context={"room": room, "message": message},
        back=room_url(room),
        reported=message.author,
        subject=f"room message {message.pk}",
        message=message,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_private_message(
    request: HttpRequest, conversation_id: int, message_id: int
) -> HttpResponse:
    """Report a message of one's own conversation to staff: the one way a private message
    reaches anyone outside it."""
    user: User = request.user  # type: ignore[assignment]
    conversation, _others = conversation_for(user=user, conversation_id=conversation_id)
    hidden = blocked_user_ids(user=user) | {user.pk}
    message = get_object_or_404(
        PrivateMessage.objects.select_related("author").exclude(author__in=hidden),
        pk=message_id,
        conversation=conversation,
        deleted_at__isnull=True,
        author__isnull=False,
    )
    return _message_report(
        request,
        template="moderation/report_private_message.html",
        context={"conversation": conversation, "message": message},
        back=conversation.get_absolute_url(),
        reported=message.author,
        subject=f"private message {message.pk}",
        conversation_message=message,
    )


@require_safe
@staff_with("moderation.view_report")
def queue(request: HttpRequest) -> HttpResponse:
    form = ReportsFilterForm(request.GET if "status" in request.GET else None)
    status = form.cleaned_data["status"] if form.is_valid() else Report.Status.OPEN
    if not form.is_bound:
        form = ReportsFilterForm(initial={"status": status})
    reports = Report.objects.select_related(
        "reporter",
        "reported",
        "handled_by",
        "message__room",
        "message__author",
        "conversation_message__attachment",
    ).order_by("-created_at")
    if status:
        reports = reports.filter(status=status)
    page = Paginator(reports, REPORTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "moderation/queue.html",
        {"form": form, "page": page, "status": status, "action_form": ModerationForm()},
    )


@require_safe
@staff_with("moderation.view_report")
def reported_file(request: HttpRequest, pk: int) -> FileResponse:
    """The picture or file of a reported private message: like its text, the one thing of
    the conversation staff may see, and only while the message stands."""
    report = get_object_or_404(
        Report,
        pk=pk,
        conversation_message__isnull=False,
        conversation_message__deleted_at__isnull=True,
    )
    shared = get_object_or_404(Attachment, message_id=report.conversation_message_id)
    return attachment_response(shared, thumbnail=bool(request.GET.get("thumbnail")))


@require_POST
@staff_with("moderation.view_report", "moderation.change_report")
def act(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(Report.objects.select_related("reported", "message"), pk=pk)
    staff: User = request.user  # type: ignore[assignment]
    form = ModerationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what to do with the report."))
        return redirect("moderation:queue")
    step, note = form.cleaned_data["action"], form.cleaned_data["note"]
    if step == ModerationForm.Step.SUSPEND and not staff.has_perm("members.change_user"):
        messages.error(request, _("Suspending a member takes the right to change accounts."))
        return redirect("moderation:queue")
    try:
        if step == ModerationForm.Step.DISMISS:
            services.report_dismiss(report=report, by=staff, note=note)
            done = _("Report dismissed.")
        elif step == ModerationForm.Step.WARN:
            services.report_warn(report=report, by=staff, note=note)
            done = _("%(member)s will get a warning by email.") % {"member": report.reported}
        elif step == ModerationForm.Step.REMOVE_MESSAGE:
            services.report_message_remove(report=report, by=staff, note=note)
            done = _("The message was removed.")
        else:
            services.report_suspend(report=report, by=staff, note=note)
            done = _("%(member)s is suspended.") % {"member": report.reported}
    except services.ModerationError as error:
        services.report_note_keep(report=report, note=note)
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("moderation:queue")

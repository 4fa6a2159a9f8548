from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dashboard.access import staff_required
from dashboard.forms import ModerationForm, PeriodForm, ReportsFilterForm
from dashboard.metrics import DEFAULT_PERIOD
from dashboard.selectors import dashboard_for
from members import services
from members.models import Report, User

REPORTS_PER_PAGE = 25


@require_GET
@staff_required
def index(request: HttpRequest) -> HttpResponse:
    # Always bound, so the select shows the period in use; a made-up value falls back.
    form = PeriodForm(request.GET or {"days": DEFAULT_PERIOD})
    days = form.cleaned_data["days"] if form.is_valid() else DEFAULT_PERIOD
    dashboard = dashboard_for(days=days, now=timezone.now())
    return render(request, "dashboard/index.html", {"form": form, "dashboard": dashboard})


@require_GET
@staff_required
def moderation(request: HttpRequest) -> HttpResponse:
    form = ReportsFilterForm(request.GET if "status" in request.GET else None)
    status = form.cleaned_data["status"] if form.is_valid() else Report.Status.OPEN
    if not form.is_bound:
        form = ReportsFilterForm(initial={"status": status})
    reports = Report.objects.select_related(
        "reporter", "reported", "handled_by", "message__room", "message__author"
    ).order_by("-created_at")
    if status:
        reports = reports.filter(status=status)
    page = Paginator(reports, REPORTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/moderation.html",
        {"form": form, "page": page, "status": status, "action_form": ModerationForm()},
    )


@require_POST
@staff_required
def moderation_act(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(Report.objects.select_related("reported", "message"), pk=pk)
    staff = request.user
    assert isinstance(staff, User)
    form = ModerationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what to do with the report."))
        return redirect("dashboard:moderation")
    step, note = form.cleaned_data["action"], form.cleaned_data["note"]
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
            services.member_suspend(user=report.reported, by=staff, report=report, note=note)
            done = _("%(member)s is suspended.") % {"member": report.reported}
    except services.ModerationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("dashboard:moderation")

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.access import staff_required
from dashboard.forms import PeriodForm
from dashboard.metrics import DEFAULT_PERIOD
from dashboard.selectors import dashboard_for

REPORTS_PER_PAGE = 25


@require_GET
@staff_required
def index(request: HttpRequest) -> HttpResponse:
    # Always bound, so the select shows the period in use; a made-up value falls back.
    form = PeriodForm(request.GET or {"days": DEFAULT_PERIOD})
    days = form.cleaned_data["days"] if form.is_valid() else DEFAULT_PERIOD
    dashboard = dashboard_for(days=days, now=timezone.now())
    return render(request, "dashboard/index.html", {"form": form, "dashboard": dashboard})

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from core.access import staff_required
from dashboard.forms import PeriodForm
from dashboard.metrics import DEFAULT_PERIOD
from dashboard.selectors import dashboard_for
from matching.apps import COMMUNITY_SLUG

REPORTS_PER_PAGE = 25


@require_safe
@staff_required
def index(request: HttpRequest) -> HttpResponse:
    # Always bound, so the select shows the period in use; a made-up value falls back.
    form = PeriodForm(request.GET or {"days": DEFAULT_PERIOD, "programme": COMMUNITY_SLUG})
    valid = form.is_valid()
    days = form.cleaned_data["days"] if valid else DEFAULT_PERIOD
    programme = (form.cleaned_data["programme"] if valid else "") or COMMUNITY_SLUG
    dashboard = dashboard_for(days=days, now=timezone.now(), programme=programme)
    return render(request, "dashboard/index.html", {"form": form, "dashboard": dashboard})

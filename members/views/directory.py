from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from members.directory_forms import DirectoryFilterForm
from members.models import User
from members.selectors import directory_page, directory_search
from members.status import busy_until


@login_required
@require_safe
def directory(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = DirectoryFilterForm(request.GET)
    form.is_valid()  # Invalid fields are shown with their errors and left out of the filters.
    results = directory_search(viewer=user, filters=form.filters())
    # A cursor that does not fit (tampered with, or from another order) shows the first page.
    page = directory_page(
        results=results,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )
    # "In focus until 11:50" on the cards: one query for the page (members.status).
    busy = busy_until(user_ids=[profile.user_id for profile in page], now=timezone.now())
    return render(
        request,
        "members/directory.html",
        {"form": form, "results": results, "page": page, "busy": busy},
    )

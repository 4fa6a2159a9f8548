from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from moderation.models import Report


def moderation(request: HttpRequest) -> dict[str, Any]:
    """`open_reports` for staff: the header's "Staff" link and the staff menu count the reports
    waiting for someone (counted only by pages that show them)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    if not user.has_perm("moderation.view_report"):  # the queue is not theirs to see
        return {}
    return {
        "open_reports": SimpleLazyObject(
            lambda: Report.objects.filter(status=Report.Status.OPEN).count()
        )
    }

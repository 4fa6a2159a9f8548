from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from members.models import Interest


def interests_review(request: HttpRequest) -> dict[str, Any]:
    """`interests_waiting` for staff who curate the tags: the staff menu counts the members'
    suggestions waiting for review (counted only by pages that show it). Until approved, a
    suggestion is seen by its member alone, so one left waiting is an interest nobody finds."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    if not user.has_perm("members.change_interest"):
        return {}
    return {
        "interests_waiting": SimpleLazyObject(
            lambda: Interest.objects.filter(status=Interest.Status.SUGGESTED).count()
        )
    }

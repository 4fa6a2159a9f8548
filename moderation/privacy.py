"""Personal data of the moderation app (the registry: members/privacy.py)."""

from typing import Any

from members.models import User
from members.privacy import Deletion, personal_data_register
from moderation.models import Report


def _export(user: User) -> list[dict[str, Any]]:
    # Only what they wrote: what others reported about them, and staff notes, are not theirs.
    return [
        {
            "about": report.reported.name,
            "reason": report.reason,
            "details": report.details,
            "created_at": report.created_at.isoformat(),
            "status": report.status,
        }
        for report in Report.objects.filter(reporter=user).select_related("reported")
    ]


def _delete(user: User) -> None:
    # What they reported stays for staff (it is about someone else), without their name.
    Report.objects.filter(reporter=user).update(reporter=None)
    # Nothing left to moderate: the account is closed.
    Report.objects.filter(reported=user).delete()


def register() -> None:
    personal_data_register(
        key="reports_made",
        models=("moderation.Report",),
        export=_export,
        delete=_delete,
        deletion=Deletion.ANONYMISE,
        note="Reports they sent stay for staff without their name; reports about them go.",
    )

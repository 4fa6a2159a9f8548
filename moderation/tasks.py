"""Celery tasks for moderation. Each takes ids, re-fetches, and is safe to run twice."""

from celery import shared_task
from django.db import transaction
from django.utils import timezone, translation

from core.emails import EMAIL_RETRY, email_for
from moderation.models import Report


@shared_task(ignore_result=True, **EMAIL_RETRY)
def report_warning_send(report_id: int) -> None:
    """Email the warning staff decided on, once: the conditional update claims it, so a
    duplicate finds nothing to do; a failed send gives the claim back and retries."""
    claimed = Report.objects.filter(
        pk=report_id, action=Report.Action.WARNED, warning_sent_at__isnull=True
    ).update(warning_sent_at=timezone.now())
    if not claimed:
        return
    report = Report.objects.select_related("reported").get(pk=report_id)
    member = report.reported
    if not member.is_active or member.deleted_at is not None:
        return
    with translation.override(member.language):
        reason = str(report.get_reason_display())
    try:
        email_for(
            user=member,
            template="moderation/email/warning",
            context={"reason": reason, "subject": report.subject},
        ).send()
    except Exception:
        with transaction.atomic():
            Report.objects.filter(pk=report_id).update(warning_sent_at=None)
        raise

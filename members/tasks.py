"""Celery tasks for members. Each takes ids, re-fetches, and is safe to run twice."""

import smtplib

from celery import shared_task
from django.db import transaction
from django.utils import timezone, translation

from core.emails import email_for
from members.models import Report

RETRY = {
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": 30,
    "retry_backoff_max": 1800,
    "max_retries": 8,
    "retry_jitter": True,
}


@shared_task(ignore_result=True, **RETRY)
def report_warning_send(report_id: int) -> None:
    """Email the warning staff decided on, once: the row lock makes a duplicate wait and then
    see it sent; a failed send rolls back and retries."""
    with transaction.atomic():
        report = (
            Report.objects.select_for_update(of=("self",))
            .select_related("reported")
            .filter(pk=report_id, action=Report.Action.WARNED, warning_sent_at__isnull=True)
            .first()
        )
        if report is None:
            return
        member = report.reported
        if member.is_active and member.deleted_at is None:
            with translation.override(member.language):
                reason = str(report.get_reason_display())
            email_for(
                user=member,
                template="members/email/warning",
                context={"reason": reason, "subject": report.subject},
            ).send()
        Report.objects.filter(pk=report_id).update(warning_sent_at=timezone.now())

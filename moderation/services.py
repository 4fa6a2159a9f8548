"""Reports: filing them (members) and acting on them (staff)."""

from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from conversations.models import Message as PrivateMessage
from conversations.services import message_delete as private_message_delete
from members.models import User
from members.services import ModerationError, member_suspend
from moderation.models import Report
from rooms import broadcast
from rooms.models import Message
from rooms.services import message_delete

REPORTS_PER_DAY = 10

__all__ = ["REPORTS_PER_DAY", "ModerationError", "ReportLimitReached"]


class ReportLimitReached(Exception):
    """The reporter already sent `REPORTS_PER_DAY` reports in the last 24 hours."""


@transaction.atomic
def report_create(
    *,
    reporter: User,
    reported: User,
    reason: str,
    details: str,
    subject: str = "",
    message: Message | None = None,
    conversation_message: PrivateMessage | None = None,
) -> Report:
    """File a report for staff. Raises ValueError for a self-report and ReportLimitReached
    beyond `REPORTS_PER_DAY` in 24 hours.

    The reporter's row is locked while counting, so parallel requests cannot both slip
    under the limit.
    """
    if reporter.pk == reported.pk:
        raise ValueError("A member cannot report themselves.")
    User.objects.select_for_update().only("pk").get(pk=reporter.pk)
    since = timezone.now() - timedelta(days=1)
    if Report.objects.filter(reporter=reporter, created_at__gte=since).count() >= REPORTS_PER_DAY:
        raise ReportLimitReached
    return Report.objects.create(
        reporter=reporter,
        reported=reported,
        reason=reason,
        details=details,
        subject=subject,
        message=message,
        conversation_message=conversation_message,
    )


def reports_resolve(*, reports: QuerySet[Report], status: str) -> int:
    """Close reports as dismissed or actioned (staff), stamping when; returns how many."""
    if status == Report.Status.OPEN:
        return reports.update(status=status, handled_at=None)
    return reports.update(status=status, handled_at=timezone.now())


def _report_close(*, report: Report, by: User, action: str, note: str) -> Report:
    report.status = (
        Report.Status.DISMISSED if action == Report.Action.DISMISSED else Report.Status.ACTIONED
    )
    report.action = action
    report.handled_at = timezone.now()
    report.handled_by = by
    if note.strip():
        report.staff_note = note.strip()
    report.save(update_fields=["status", "action", "handled_at", "handled_by", "staff_note"])
    return report


def _still_open(report: Report) -> None:
    """Lock the report's row and refuse a step on a report already handled: two staff members
    with the queue open may press at once, and the second step would rewrite the first's
    record (and, after a removal, lose its author's notice)."""
    if not Report.objects.select_for_update().filter(pk=report.pk, status=Report.Status.OPEN):
        raise ModerationError(_("Someone already handled this report."))


def report_note_keep(*, report: Report, note: str) -> None:
    """Keep what staff wrote on an open report when the step they chose was refused, so that
    the queue shows it again for the next step."""
    if note.strip():
        Report.objects.filter(pk=report.pk, status=Report.Status.OPEN).update(
            staff_note=note.strip()
        )


@transaction.atomic
def report_dismiss(*, report: Report, by: User, note: str = "") -> Report:
    _still_open(report)
    return _report_close(report=report, by=by, action=Report.Action.DISMISSED, note=note)


@transaction.atomic
def report_warn(*, report: Report, by: User, note: str = "") -> Report:
    """Close the report and email the reported member a warning in their language (once, by
    Celery after the commit: moderation.tasks.report_warning_send)."""
    from moderation import tasks

    _still_open(report)

    reported = report.reported
    if not reported.account_is_open:
        raise ModerationError(_("This account is closed or suspended: nobody would read it."))
    _report_close(report=report, by=by, action=Report.Action.WARNED, note=note)
    tasks.report_warning_send.delay_on_commit(report.pk)
    return report


@transaction.atomic
def report_message_remove(*, report: Report, by: User, note: str = "") -> Report:
    """Soft-delete the reported room or private message (their apps' own services, so the
    pages showing it hear of it like any deletion), close the report and tell its author by
    email, once, after the commit (moderation.tasks.report_warning_send)."""
    from moderation import tasks

    _still_open(report)

    message = report.message
    if report.conversation_message is not None:
        removed = private_message_delete(
            message=report.conversation_message, by=by, moderating=True
        )
    elif message is None:
        raise ModerationError(_("This report is not about a message."))
    else:
        removed = message_delete(message=message, by=by)
        if removed:
            broadcast.on_commit(broadcast.chat_deleted, message=message)
    _report_close(report=report, by=by, action=Report.Action.MESSAGE_REMOVED, note=note)
    # Only the step that removed it says so: not a second report's, nor after its author
    # deleted it themselves.
    if removed:
        tasks.report_removal_send.delay_on_commit(report.pk)
    return report


@transaction.atomic
def report_suspend(*, report: Report, by: User, note: str = "") -> Report:
    """Suspend the reported member (members' own service: sessions and sockets end) and close
    the report."""
    _still_open(report)
    member_suspend(user=report.reported, by=by)
    return _report_close(report=report, by=by, action=Report.Action.SUSPENDED, note=note)

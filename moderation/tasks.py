"""Celery tasks for moderation. Each takes ids, re-fetches, and is safe to run twice."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.emails import EMAIL_RETRY, email_for, send_once
from moderation.models import Report


def _what_was_reported(report: Report) -> str:
    """In the member's words: not the report's `subject`, which is for staff ("room message
    10"). Empty for a report about the member themselves."""
    if report.message is not None:
        return _("a message of yours in the room “%(room)s”") % {"room": report.message.room.title}
    if report.conversation_message_id is not None:
        return _("a private message of yours")
    return ""


@shared_task(ignore_result=True, **EMAIL_RETRY)
def report_warning_send(report_id: int) -> None:
    """Email the warning staff decided on, once (`_tell_once`, claimed with
    `warning_sent_at`)."""
    _tell_once(
        report_id,
        action=Report.Action.WARNED,
        sent_at="warning_sent_at",
        template="moderation/email/warning",
    )


@shared_task(ignore_result=True, **EMAIL_RETRY)
def report_removal_send(report_id: int) -> None:
    """Tell the author which message staff removed and why, once (`_tell_once`, claimed
    with `removal_sent_at`)."""
    _tell_once(
        report_id,
        action=Report.Action.MESSAGE_REMOVED,
        sent_at="removal_sent_at",
        template="moderation/email/removed",
    )


def _tell_once(report_id: int, *, action: str, sent_at: str, template: str) -> None:
    """Email the reported member what staff decided, once (`core.emails.send_once`): a
    duplicate finds it claimed; a failed send gives the claim back and retries; a worker
    dying mid-send loses this one email rather than sending it twice. A member gone
    meanwhile is not written to, and the email counts as handled."""
    report = Report.objects.select_related("reported", "message__room").filter(pk=report_id).first()
    if report is None:
        return
    member = report.reported
    claimed_at = timezone.now()

    def send() -> None:
        if not member.account_is_open:
            return
        with translation.override(member.language):
            reason = str(report.get_reason_display())
            about = _what_was_reported(report)
        # The email invites a reply: it goes to the team, as the suspension notice's does.
        email_for(
            user=member,
            template=template,
            context={"reason": reason, "about": about},
            key=f"report:{report.pk}:{action}",
            reply_to=[settings.CONTACT_EMAIL],
        ).send()

    send_once(
        claim=lambda: Report.objects.filter(
            pk=report_id, action=action, **{f"{sent_at}__isnull": True}
        ).update(**{sent_at: claimed_at}),
        send=send,
        give_back=lambda: Report.objects.filter(pk=report_id, **{sent_at: claimed_at}).update(
            **{sent_at: None}
        ),
    )

"""Celery tasks for members. Each takes ids, re-fetches, and is safe to run twice."""

import logging

from celery import shared_task
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from core.emails import EMAIL_RETRY, email_for, send_once
from members import retention
from members.models import User
from members.selectors import account_suspended

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, **EMAIL_RETRY)
def suspension_notice_send(user_id: int) -> None:
    """Tell a suspended member why they can no longer log in and whom to write to, once per
    suspension (`core.emails.send_once`). Reinstated meanwhile: nothing to say."""
    user = User.objects.filter(account_suspended(), pk=user_id).first()
    if user is None:
        return
    claimed_at = timezone.now()
    send_once(
        claim=lambda: User.objects.filter(
            pk=user_id, suspended_at=user.suspended_at, suspension_notice_sent_at__isnull=True
        ).update(suspension_notice_sent_at=claimed_at),
        send=lambda: _suspended_email(user, key=f"suspended:{user.pk}:{user.suspended_at}"),
        give_back=lambda: User.objects.filter(
            pk=user_id, suspension_notice_sent_at=claimed_at
        ).update(suspension_notice_sent_at=None),
    )


def _suspended_email(user: User, *, key: str | None) -> None:
    email_for(
        user=user,
        template="members/email/suspended",
        context={"contact": settings.CONTACT_EMAIL},
        key=key,
        reply_to=[settings.CONTACT_EMAIL],
    ).send()


@shared_task(ignore_result=True, **EMAIL_RETRY)
def reinstatement_notice_send(user_id: int) -> None:
    """Tell a member whose suspension was lifted that they can log in again, once per lift.
    Suspended again (or gone) meanwhile: nothing to say."""
    user = User.objects.filter(
        pk=user_id, is_active=True, suspended_at__isnull=True, deleted_at__isnull=True
    ).first()
    if user is None or user.reinstated_at is None:
        return
    claimed_at = timezone.now()
    send_once(
        claim=lambda: User.objects.filter(
            pk=user_id,
            is_active=True,
            reinstated_at=user.reinstated_at,
            reinstatement_notice_sent_at__isnull=True,
        ).update(reinstatement_notice_sent_at=claimed_at),
        send=lambda: email_for(
            user=user,
            template="members/email/reinstated",
            context={"contact": settings.CONTACT_EMAIL, "login_url": reverse("account_login")},
            key=f"reinstated:{user.pk}:{user.reinstated_at}",
            reply_to=[settings.CONTACT_EMAIL],
        ).send(),
        give_back=lambda: User.objects.filter(
            pk=user_id, reinstatement_notice_sent_at=claimed_at
        ).update(reinstatement_notice_sent_at=None),
    )


@shared_task(ignore_result=True, **EMAIL_RETRY)
def suspension_notice_again(user_id: int) -> None:
    """A suspended member asked for a new password: they hear again why they cannot log in
    (not that their address has no account, which the sign-up page then contradicts). As
    often as they ask, within the password reset's limits."""
    user = User.objects.filter(account_suspended(), pk=user_id).first()
    if user is not None:
        _suspended_email(user, key=None)  # a new email each time they ask


@shared_task(ignore_result=True)
def retention_tick() -> None:
    """Daily: sessions that ended, and sign-ups never confirmed (members/retention.py)."""
    sessions = retention.sessions_prune()
    sign_ups = retention.sign_ups_unconfirmed_delete(now=timezone.now())
    logger.info("Pruned %s ended sessions' records, %s unconfirmed sign-ups", sessions, sign_ups)

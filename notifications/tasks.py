"""Celery tasks for notifications. Each is safe to run twice."""

import smtplib
from datetime import date
from zoneinfo import ZoneInfo

from celery import shared_task
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from core.emails import email_for, send_once
from members.models import User
from notifications.digest import digest_content, digest_recipients
from notifications.models import Digest, week_of

EMAIL_RETRY = {
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": 60,
    "retry_backoff_max": 3600,
    "max_retries": 6,
    "retry_jitter": True,
}


@shared_task(ignore_result=True)
def digest_tick() -> int:
    """Beat runs this hourly: queue the digests due (Monday morning in each member's zone).
    Members who already have this week's digest are left out; `digest_send` claims each."""
    now = timezone.now()
    recipients = digest_recipients(now=now)
    first = recipients.values_list("time_zone", flat=True).first()
    if first is None:
        return 0
    # Everyone due is on Monday where they are: at one instant, that is the same Monday.
    week = week_of(timezone.localtime(now, timezone=ZoneInfo(first)).date())
    done = Digest.objects.filter(user=OuterRef("pk"), week=week)
    queued = 0
    for user_id in recipients.exclude(Exists(done)).values_list("pk", flat=True).iterator():
        digest_send.delay(user_id, week.isoformat())
        queued += 1
    return queued


@shared_task(ignore_result=True, **EMAIL_RETRY)
def digest_send(user_id: int, week: str) -> None:
    """Send one member their digest for `week`, at most once (`core.emails.send_once`): the
    unique (member, week) row is the claim, committed before the send, so a duplicate task
    finds it taken; a failed send deletes it for the retry; a worker dying mid-send leaves
    it, and that week's digest is lost rather than doubled. A week with nothing to tell is
    claimed and skipped."""
    user = User.objects.filter(pk=user_id, is_active=True, deleted_at__isnull=True).first()
    if user is None or not user.email_digest:
        return
    monday = date.fromisoformat(week)
    if Digest.objects.filter(user=user, week=monday).exists():
        return
    content = digest_content(user=user)
    if content.is_empty():
        Digest.objects.get_or_create(user=user, week=monday, defaults={"skipped": True})
        return
    claimed_at = timezone.now()

    def claim() -> int:
        try:
            with transaction.atomic():
                Digest.objects.create(user=user, week=monday, sent_at=claimed_at)
        except IntegrityError:
            return 0
        return 1

    send_once(
        claim=claim,
        send=lambda: email_for(
            user=user,
            template="notifications/email/digest",
            context={"digest": content, "week": monday},
        ).send(),
        give_back=lambda: Digest.objects.filter(
            user=user, week=monday, sent_at=claimed_at
        ).delete(),
    )

"""Celery tasks of the newsletter. Each takes ids and is safe to run twice."""

import logging
import smtplib
import time

from celery import shared_task
from django.utils import timezone

from core.emails import send_once
from newsletter import emails, retention, services
from newsletter.models import Subscriber

logger = logging.getLogger(__name__)

# One task sends batches for up to this long, then hands over to a fresh task, so no task
# comes near the soft time limit (CELERY_TASK_SOFT_TIME_LIMIT).
SEND_TIME_BUDGET = 120.0


@shared_task(
    ignore_result=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=10,
    retry_jitter=True,
)
def confirmation_send(subscriber_id: int, nonce: str) -> None:
    """The double opt-in link, once per request (`core.emails.send_once`, claimed by
    recording the nonce as emailed): a duplicate task finds it claimed; a failed send gives
    it back and retries; a worker dying mid-send loses it (asking again sends a new link).
    Nothing goes out when the address was confirmed or asked again (a newer nonce)
    meanwhile."""
    unsent = Subscriber.objects.filter(
        pk=subscriber_id, status=Subscriber.Status.PENDING, confirmation_nonce=nonce
    ).exclude(confirmation_emailed_nonce=nonce)
    subscriber = unsent.first()
    if subscriber is None:
        return
    previous = subscriber.confirmation_emailed_nonce
    send_once(
        claim=lambda: unsent.update(confirmation_emailed_nonce=nonce),
        send=lambda: emails.confirmation_email(
            email=subscriber.email,
            language=subscriber.language,
            subscriber_id=subscriber.pk,
            nonce=nonce,
        ).send(),
        give_back=lambda: Subscriber.objects.filter(
            pk=subscriber_id, confirmation_emailed_nonce=nonce
        ).update(confirmation_emailed_nonce=previous),
    )


@shared_task(
    ignore_result=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=20,
    retry_jitter=True,
)
def issue_send(issue_id: int) -> None:
    """Send an issue batch after batch. Two of these for one issue at once are harmless:
    each claims different rows. When only waiting is left (failed rows due for another
    try, or a dead worker's batch going stale) it schedules itself later; with eager tasks
    (the embedded setup) it leaves that to `newsletter_resume_tick`."""
    deadline = time.monotonic() + SEND_TIME_BUDGET
    try:
        while True:
            outcome = services.issue_send_batch(issue_id=issue_id)
            if outcome.next_in is None:
                return
            if outcome.next_in > 0 or time.monotonic() > deadline:
                break
    finally:
        # The batches shared one SMTP connection; an idle worker holds none.
        emails.bulk_connection_close()
    if not issue_send.app.conf.task_always_eager:
        issue_send.apply_async((issue_id,), countdown=outcome.next_in)


@shared_task(ignore_result=True)
def newsletter_resume_tick() -> int:
    """Beat runs this every few minutes: an issue whose sending stopped (a worker died, a
    task was lost) is picked up again, its abandoned batches settled first. Safe to run
    twice: batches claim rows, so a second sender never doubles a message."""
    stalled = services.issues_stalled(now=timezone.now())
    for issue_id in stalled:
        issue_send.delay(issue_id)
    return len(stalled)


@shared_task(ignore_result=True)
def retention_tick() -> None:
    """Daily: subscriptions nobody confirmed (newsletter/retention.py)."""
    logger.info(
        "Pruned %s unconfirmed subscriptions", retention.unconfirmed_prune(now=timezone.now())
    )

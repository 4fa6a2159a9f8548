"""Celery tasks for notifications. Each is safe to run twice."""

import logging
import random
from datetime import date
from zoneinfo import ZoneInfo

from celery import Task, shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from core.emails import EMAIL_RETRY, email_for, send_once
from members.models import User
from notifications import retention
from notifications.digest import (
    digest_content,
    digest_off_headers,
    digest_off_token,
    digest_recipients,
)
from notifications.holds import held_due, held_release
from notifications.models import Digest, Notification, week_of
from notifications.push import Outcome, push_claim, push_notices, push_released, push_test

logger = logging.getLogger(__name__)

# How often beat runs `digest_tick` (coworking/settings.py), in seconds.
DIGEST_TICK_SECONDS = 3600


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
        # The tick is each digest's retry while it is Monday morning where the member is
        # (core.emails.send_once, `retried_by_tick`): a task still queued when the next tick
        # comes is dropped for the one that tick queues.
        digest_send.apply_async((user_id, week.isoformat()), expires=DIGEST_TICK_SECONDS)
        queued += 1
    return queued


@shared_task(ignore_result=True)
def digest_send(user_id: int, week: str) -> None:
    """Send one member their digest for `week`, at most once (`core.emails.send_once`): the
    unique (member, week) row is the claim, committed before the send, so a duplicate task
    finds it taken; a failed send deletes it for the next tick; a worker dying mid-send leaves
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

    off_url = settings.SITE_URL + reverse(
        "notifications:digest_off", args=[digest_off_token(user_id=user.pk)]
    )
    send_once(
        claim=claim,
        send=lambda: email_for(
            user=user,
            template="notifications/email/digest",
            key=f"digest:{user.pk}:{week}",
            context={"digest": content, "week": monday, "off_url": off_url},
            headers=digest_off_headers(off_url),
        ).send(),
        give_back=lambda: Digest.objects.filter(
            user=user, week=monday, sent_at=claimed_at
        ).delete(),
        retried_by_tick=True,
    )


# Held notices (notifications.holds) ------------------------------------------------------


@shared_task(ignore_result=True)
def held_release_tick() -> int:
    """Beat runs this every 30 seconds: each member whose held notices are due (their focus
    block ended) gets them in one `held_batch_send`. Returns how many members were queued."""
    user_ids = held_due(now=timezone.now())
    for user_id in user_ids:
        held_batch_send.delay(user_id)
    return len(user_ids)


@shared_task(ignore_result=True, **EMAIL_RETRY)
def held_batch_send(user_id: int) -> None:
    """Show the member's due held notices (their bell updates live), then send the ones that
    were to be emailed in ONE email, "While you were focusing", at most once
    (`core.emails.send_once`): the claim turns their `held_email` off under row locks, so a
    concurrent run finds nothing left to send; a failed send turns it back on for the retry
    (the notices stay shown meanwhile); a worker dying mid-send loses the batch rather than
    doubling it."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    now = timezone.now()
    if held_release(user=user, now=now):
        to_push = push_released(user=user, now=now)
        if to_push:
            push_send.delay(user.pk, to_push)
    if not user.is_active or user.deleted_at is not None:
        return
    claimed: list[int] = []

    def claim() -> int:
        from notifications.services import EMAILED, FIXED, channels_for  # it imports this module

        held = Notification.objects.select_for_update().filter(
            user=user, released_at__isnull=False, held_email=True
        )
        # As the member chooses now: a kind they set to "on the site only" while the notice
        # was held is not emailed with the batch.
        channels = {**FIXED, **channels_for(user=user)}
        emailed = [kind for kind, channel in channels.items() if channel in EMAILED]
        held.exclude(kind__in=emailed).update(held_email=False)
        claimed[:] = held.filter(kind__in=emailed).values_list("pk", flat=True)
        return Notification.objects.filter(pk__in=claimed).update(held_email=False)

    send_once(
        claim=claim,
        send=lambda: email_for(
            user=user,
            template="notifications/email/held_batch",
            # A retry claims this batch's notices again, with any released since (newer,
            # larger ids): its batch starts at the same notice, the next batch after it.
            key=f"held:{user.pk}:{min(claimed)}",
            context={
                "notifications": list(
                    Notification.objects.filter(pk__in=claimed).order_by("created_at", "pk")
                )
            },
        ).send(),
        give_back=lambda: Notification.objects.filter(pk__in=claimed, held_email=False).update(
            held_email=True
        ),
    )


# Push notifications (notifications.push) ------------------------------------------------------

# Tries after the first, for the devices whose push service timed out or answered 429/5xx.
PUSH_RETRIES = 5


def _push_retry(task: Task, outcome: Outcome, args: tuple[object, ...]) -> None:
    """Try the devices that failed again later, only them: waits of about 30 s, 1, 2, 4 and
    8 minutes (with jitter, so that a push service that was down is not hit by every
    worker at once). After the last, the notice stays on the site and in the email."""
    if not outcome.retry:
        return
    if task.request.retries >= PUSH_RETRIES:
        logger.warning(
            "Gave up pushing to %d device(s) after %d tries.", len(outcome.retry), PUSH_RETRIES + 1
        )
        return
    delay = 30 * 2**task.request.retries * random.uniform(0.75, 1.25)
    raise task.retry(args=(*args, outcome.retry), countdown=delay, max_retries=PUSH_RETRIES)


@shared_task(bind=True, ignore_result=True)
def push_send(
    self: Task, user_id: int, notification_ids: list[int], subscription_ids: list[int] | None = None
) -> None:
    """Push the notices to each of the member's devices: one task per member, so that a
    member with many devices or a slow push service delays nobody else. The first run claims
    the notices (`push_claim`: a duplicate run finds them taken); a retry carries the
    devices still to do in `subscription_ids`."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    if subscription_ids is None:
        notices = push_claim(notification_ids=notification_ids, now=timezone.now())
    else:
        # A retry, minutes later: what was read meanwhile is not pushed again.
        notices = list(
            Notification.objects.filter(
                pk__in=notification_ids, user=user, read_at__isnull=True
            ).order_by("created_at", "pk")
        )
    if not notices:
        return
    outcome = push_notices(user=user, notifications=notices, subscription_ids=subscription_ids)
    _push_retry(self, outcome, (user_id, [notice.pk for notice in notices]))


@shared_task(bind=True, ignore_result=True)
def push_test_send(self: Task, user_id: int, subscription_ids: list[int] | None = None) -> None:
    """The test notification a member asked for from their settings."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    outcome = push_test(user=user, subscription_ids=subscription_ids)
    _push_retry(self, outcome, (user_id,))


@shared_task(ignore_result=True)
def retention_tick() -> None:
    """Daily: old notices and digest records (notifications/retention.py)."""
    now = timezone.now()
    notices, digests = retention.notifications_prune(now=now), retention.digests_prune(now=now)
    logger.info("Pruned %s notices, %s digest records", notices, digests)

"""How long notices and digest records are kept (docs/privacy.md, "How long things are
kept"). A notice's key makes it once-only (`Notification.key`); every key names a row of
its own (a seat, a message, an event's reminder), whose occasion is long past by then."""

from datetime import datetime, timedelta

from django.db.models import Q

from core.retention import delete_in_batches
from notifications.models import Digest, Notification

# Read, or never listed (email only): three months on, nobody looks for them.
NOTICE_READ = timedelta(days=90)
# Never read: a year.
NOTICE_UNREAD = timedelta(days=365)
# Only the current week's record is ever asked for (one digest a week).
DIGEST_RECORD = timedelta(weeks=8)


def notifications_prune(*, now: datetime) -> int:
    """Old notices go; one still held for a focus session stays until released."""
    held = Q(held_until__isnull=False, released_at__isnull=True)
    settled = Q(read_at__isnull=False) | Q(in_app=False)
    old = Notification.objects.exclude(held).filter(
        Q(created_at__lt=now - NOTICE_READ) & settled | Q(created_at__lt=now - NOTICE_UNREAD)
    )
    return delete_in_batches(old)


def digests_prune(*, now: datetime) -> int:
    return delete_in_batches(Digest.objects.filter(created_at__lt=now - DIGEST_RECORD))

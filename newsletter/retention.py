"""How long a subscription nobody confirmed is kept (docs/privacy.md, "How long things are
kept"): its address, which may not be the asker's, and the address it was asked from.
Not an address that was subscribed before (asked again and left unconfirmed): its record
of bounces or complaints, and of what was sent, keeps issues from going there again."""

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef

from core.retention import delete_in_batches
from newsletter.models import Delivery, Subscriber

# The confirmation link lasts a week (docs/newsletter.md); three more for a late click to
# find its request, and to see repeated requests for the same address.
UNCONFIRMED = timedelta(days=30)


def unconfirmed_prune(*, now: datetime) -> int:
    return delete_in_batches(
        Subscriber.objects.filter(
            status=Subscriber.Status.PENDING,
            requested_at__lt=now - UNCONFIRMED,
            confirmed_at__isnull=True,
            undeliverable_at__isnull=True,
        ).exclude(Exists(Delivery.objects.filter(subscriber=OuterRef("pk"))))
    )

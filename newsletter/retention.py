"""How long a subscription nobody confirmed is kept (docs/privacy.md, "How long things are
kept"): its address, which may not be the asker's, and the address it was asked from."""

from datetime import datetime, timedelta

from core.retention import delete_in_batches
from newsletter.models import Subscriber

# The confirmation link lasts a week (docs/newsletter.md); three more for a late click to
# find its request, and to see repeated requests for the same address.
UNCONFIRMED = timedelta(days=30)


def unconfirmed_prune(*, now: datetime) -> int:
    return delete_in_batches(
        Subscriber.objects.filter(
            status=Subscriber.Status.PENDING, requested_at__lt=now - UNCONFIRMED
        )
    )

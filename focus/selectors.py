"""What the focus pages read."""

from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from focus.models import FocusBlock, Seat
from members.models import User

# The list shows this far ahead.
LIST_AHEAD = timedelta(days=7)


def blocks_upcoming(*, viewer: User, now: datetime) -> QuerySet[FocusBlock]:
    """Blocks not yet over in the next week, with their booked count and whether the viewer
    has a seat (`booked`, `mine`), in three queries' worth of one."""
    mine = Seat.objects.filter(block=OuterRef("pk"), user=viewer, cancelled_at__isnull=True)
    return (
        FocusBlock.objects.filter(
            cancelled_at__isnull=True,
            starts_at__lt=now + LIST_AHEAD,
            starts_at__gt=now - timedelta(minutes=75),
        )
        .annotate(
            booked=Count("seats", filter=Q(seats__cancelled_at__isnull=True)),
            mine=Exists(mine),
        )
        .order_by("starts_at", "id")
    )

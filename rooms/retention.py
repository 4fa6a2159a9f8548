"""How long the record of who was in which room is kept (docs/privacy.md, "How long things
are kept"). What reads visits reads recent ones: the coffee tables' "met" (45 days), an
event's attendance (counted as it ends), a focus block's; the rooms' statistics come from
their hourly use (`HourlyUsage`) and the dashboard's stored daily figures."""

from datetime import datetime, timedelta

from core.retention import delete_in_batches
from rooms.models import Visit

VISIT = timedelta(days=365)


def visits_prune(*, now: datetime) -> int:
    return delete_in_batches(Visit.objects.filter(ended_at__lt=now - VISIT))

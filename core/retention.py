"""How long rows are kept (docs/privacy.md, "How long things are kept"): each app's
`retention.py` says what it deletes and when; its daily task calls it."""

from typing import Any

from django.db import transaction
from django.db.models import QuerySet

# Rows deleted per statement: the first run after a year of history deletes millions, in
# short transactions that hold few locks at a time.
BATCH = 5_000


def delete_in_batches(rows: QuerySet[Any], *, batch: int = BATCH) -> int:
    """Delete `rows` a batch of primary keys at a time; how many went (the rows themselves,
    not what went with them)."""
    deleted = 0
    while True:
        keys = list(rows.order_by().values_list("pk", flat=True)[:batch])
        if not keys:
            return deleted
        with transaction.atomic():
            rows.model.objects.filter(pk__in=keys).delete()
        deleted += len(keys)

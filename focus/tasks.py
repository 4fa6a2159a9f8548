"""Focus sessions' periodic work. Every tick is idempotent (a conditional UPDATE or a
unique constraint claims each piece of work), so two beats or a redelivery do no harm."""

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from core.emails import EMAIL_RETRY
from focus import standing

# No-shows (focus/standing.py) ---------------------------------------------------------------


@shared_task(ignore_result=True)
def blocks_wrap_up_tick() -> int:
    """Beat runs this every minute: the blocks that just ended count their no-shows, each
    block once (its `wrapped_at` is claimed by a conditional UPDATE)."""
    return standing.blocks_wrap_up(now=timezone.now())


@shared_task(ignore_result=True, **EMAIL_RETRY)
def no_show_tell(seat_id: int, restricted_until: str | None = None) -> None:
    """Tell a member they were missed, once (and that they may only drop in for a week, when
    this no-show brought it)."""
    until = datetime.fromisoformat(restricted_until) if restricted_until else None
    standing.no_show_tell(seat_id=seat_id, restricted_until=until)

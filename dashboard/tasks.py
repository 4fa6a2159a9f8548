"""The dashboard's periodic work."""

from celery import shared_task
from django.utils import timezone

from dashboard.services import round_figures_refresh


@shared_task(ignore_result=True)
def round_figures_tick() -> int:
    """Beat runs this every hour: rounds whose follow-ups closed get their figures stored,
    and stored figures that no longer match their seats are rewritten (idempotent)."""
    return round_figures_refresh(now=timezone.now())

"""The dashboard's periodic work."""

from celery import shared_task
from django.utils import timezone

from dashboard.services import KEPT_DAYS, daily_figures_refresh, round_figures_refresh


@shared_task(ignore_result=True)
def round_figures_tick() -> int:
    """Beat runs this every hour: rounds whose follow-ups closed get their figures stored,
    and stored figures that no longer match their seats are rewritten (idempotent)."""
    return round_figures_refresh(now=timezone.now())


@shared_task(ignore_result=True)
def daily_figures_tick(days: int = 2) -> int:
    """Beat runs this every five minutes for today and yesterday (events and visits that end
    after midnight land on the day they started), and every hour for every day the dashboard
    shows (a late attendance count, a deleted account, an RSVP changed afterwards).
    Idempotent: each day is counted and written whole."""
    return daily_figures_refresh(now=timezone.now(), days=min(days, KEPT_DAYS))

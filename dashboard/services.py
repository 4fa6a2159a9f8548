"""Writes the dashboard owns: the stored figures of settled rounds and of every day
(dashboard.models)."""

from datetime import datetime, timedelta

from django.db import transaction

from dashboard.daily import DAY_FIELDS, MOMENT_FIELDS, count_days, count_moment
from dashboard.metrics import community_zone, round_figures_queryset, seat_counts
from dashboard.models import DailyFigures, RoundFigures
from matching.models import Round
from matching.selectors import follow_ups_close_at
from matching.services import FOLLOW_UP_WINDOW

FIELDS = ("groups", "seats", "met", "answered", "scheduled", "scheduled_soon", "to_agree")


def round_figures_refresh(*, now: datetime) -> int:
    """Count, from their seats, every round whose follow-ups closed by `now`, and store the
    figures of those that have none yet or whose stored ones differ (a late answer, a deleted
    account). Returns the number of rows written: a second run with nothing new writes none,
    and two runs at once cannot store a round twice (the round is the primary key)."""
    candidates = Round.objects.filter(scheduled_for__lte=now - FOLLOW_UP_WINDOW).values_list(
        "pk", "scheduled_for", "programme__follow_up_after_days"
    )
    settled = [
        pk
        for pk, scheduled_for, after_days in candidates
        if follow_ups_close_at(scheduled_for=scheduled_for, follow_up_after_days=after_days) <= now
    ]
    if not settled:
        return 0
    stored = {row.pk: row for row in RoundFigures.objects.filter(round_id__in=settled)}
    new: list[RoundFigures] = []
    changed: list[RoundFigures] = []
    for (
        pk,
        _scheduled_for,
        seat_figures,
        _after_days,
        scheduled,
        soon,
        to_agree,
    ) in round_figures_queryset(Round.objects.filter(pk__in=settled)):
        counted = RoundFigures(
            round_id=pk,
            **seat_counts(seat_figures),
            scheduled=scheduled,
            scheduled_soon=soon,
            to_agree=to_agree,
            computed_at=now,
        )
        old = stored.get(pk)
        if old is None:
            new.append(counted)
        elif any(getattr(old, name) != getattr(counted, name) for name in FIELDS):
            changed.append(counted)
    with transaction.atomic():
        # Another run may have stored the same round meanwhile: its figures are the same.
        written = len(RoundFigures.objects.bulk_create(new, ignore_conflicts=True))
        if changed:
            written += RoundFigures.objects.bulk_update(changed, [*FIELDS, "computed_at"])
    return written


# The longest period the dashboard shows, today included.
KEPT_DAYS = 365


def daily_figures_refresh(*, now: datetime, days: int) -> int:
    """Count the last `days` community days, today included, and store them (DailyFigures),
    with today's count of the figures that hold at a moment. Each day is written whole, so a
    second run changes nothing but `computed_at`, and two runs at once each store a
    consistent count (the day is the primary key). A past day keeps the moment figures of
    its last count that day. Returns the number of days written."""
    today = now.astimezone(community_zone()).date()
    counted = count_days(first=today - timedelta(days=days - 1), now=now)
    moment = count_moment(now=now)
    past = [
        DailyFigures(day=day, computed_at=now, **figures)
        for day, figures in counted.items()
        if day != today
    ]
    current = DailyFigures(day=today, computed_at=now, **counted[today], **moment)
    with transaction.atomic():
        DailyFigures.objects.bulk_create(
            past,
            update_conflicts=True,
            unique_fields=["day"],
            update_fields=[*DAY_FIELDS, "computed_at"],
        )
        DailyFigures.objects.bulk_create(
            [current],
            update_conflicts=True,
            unique_fields=["day"],
            update_fields=[*DAY_FIELDS, *MOMENT_FIELDS, "computed_at"],
        )
    return len(past) + 1

"""Writes the dashboard owns: the stored figures of settled rounds (dashboard.models)."""

from datetime import datetime

from django.db import transaction

from dashboard.metrics import round_figures_queryset, seat_counts
from dashboard.models import RoundFigures
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

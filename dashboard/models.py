from django.db import models
from django.utils.translation import gettext_lazy as _

from matching.models import Round


class RoundFigures(models.Model):
    """What happened to a settled round's seats (its follow-ups closed), as
    `dashboard.metrics.rounds` counts it live: the dashboard reads these instead of the
    round's seats. Kept by `dashboard.aggregates.round_figures_refresh`, which rewrites a
    row only when the live count differs (a late answer, a deleted account)."""

    round = models.OneToOneField(
        Round, on_delete=models.CASCADE, primary_key=True, related_name="dashboard_figures"
    )
    groups = models.PositiveIntegerField()
    seats = models.PositiveIntegerField()
    met = models.PositiveIntegerField()
    answered = models.PositiveIntegerField()
    scheduled = models.PositiveIntegerField()
    scheduled_soon = models.PositiveIntegerField()
    # Average from the intro to an accepted time over the groups that agreed; null if none.
    to_agree = models.DurationField(null=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("round figures")
        verbose_name_plural = _("round figures")

    def __str__(self) -> str:
        return f"{self.round_id}: {self.met}/{self.seats}"

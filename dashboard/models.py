from django.db import models
from django.utils.translation import gettext_lazy as _

from matching.models import Round


class RoundFigures(models.Model):
    """What happened to a settled round's seats (its follow-ups closed), as
    `dashboard.metrics.rounds` counts it live: the dashboard reads these instead of the
    round's seats. Kept by `dashboard.services.round_figures_refresh`, which rewrites a
    row only when the live count differs (a late answer, a deleted account)."""

    round = models.OneToOneField(
        Round,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="dashboard_figures",
        verbose_name=_("round"),
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


class DailyFigures(models.Model):
    """The dashboard's figures of one community day (settings.TIME_ZONE), counted by
    `dashboard.services.daily_figures_refresh`, so that a page of a year reads 365 rows instead
    of every member, visit, RSVP and subscriber (docs/dashboard.md, "Daily figures").

    The first group counts what happened on the day; the second is the day's latest count of
    what holds at a moment (members now, opted in now...): for today, as of `computed_at`; for
    a past day, as of its last count that day (empty for days counted only afterwards)."""

    day = models.DateField(primary_key=True)
    # Living members whose `date_joined` falls on the day.
    joined = models.PositiveIntegerField(default=0)
    # Member-seconds in rooms by the day's local hour: {"cafeteria": [24], "meeting": [24]}.
    room_seconds = models.JSONField(default=dict)
    # Events that started on the day, were not cancelled and had ended by `computed_at`.
    events = models.PositiveIntegerField(default=0)
    events_going = models.PositiveIntegerField(default=0)
    events_attended = models.PositiveIntegerField(default=0)
    events_counted = models.PositiveIntegerField(default=0)
    newsletter_confirmed = models.PositiveIntegerField(default=0)
    newsletter_unsubscribed = models.PositiveIntegerField(default=0)
    newsletter_undeliverable = models.PositiveIntegerField(default=0)

    members = models.PositiveIntegerField(null=True)
    active_7 = models.PositiveIntegerField(null=True)
    active_30 = models.PositiveIntegerField(null=True)
    # {programme slug: [opted in, of them paused]}
    opt_in = models.JSONField(default=dict)
    subscribers = models.PositiveIntegerField(null=True)
    pending = models.PositiveIntegerField(null=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("daily figures")
        verbose_name_plural = _("daily figures")

    def __str__(self) -> str:
        return self.day.isoformat()

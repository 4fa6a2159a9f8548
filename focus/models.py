"""Focus blocks and their seats (docs/focus.md). Times are stored in UTC; a block's phases
are computed from `starts_at` and `minutes` (focus.ritual), never kept by a process."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from focus.ritual import LENGTHS_MINUTES, on_the_half_hour

GOAL_MAX_LENGTH = 280
DEFAULT_CAPACITY = 40


class FocusError(ValueError):
    """A refused focus operation; `code` is stable for clients, the message translated."""

    code = "refused"
    default_message = _("This is not possible for this block.")

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or str(self.default_message))


def validate_half_hour(value: datetime) -> None:
    if not on_the_half_hour(value):
        raise ValidationError(_("Blocks start on the hour or the half hour."))


class FocusBlock(models.Model):
    """A block of focused work together, at a set time, with seats at tables of four."""

    class Length(models.IntegerChoices):
        SHORT = LENGTHS_MINUTES[0], _("25 minutes")
        MEDIUM = LENGTHS_MINUTES[1], _("50 minutes")
        LONG = LENGTHS_MINUTES[2], _("75 minutes")

    title = models.CharField(_("title"), max_length=80, blank=True)
    starts_at = models.DateTimeField(_("starts at"), validators=[validate_half_hour])
    minutes = models.PositiveSmallIntegerField(
        _("length"), choices=Length.choices, default=Length.MEDIUM
    )
    capacity = models.PositiveSmallIntegerField(
        _("seats"), default=DEFAULT_CAPACITY, validators=[MinValueValidator(1)]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="focus_blocks_created",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("focus block")
        verbose_name_plural = _("focus blocks")
        indexes = [models.Index(fields=["starts_at"], name="focus_block_starts")]

    def __str__(self) -> str:
        return f"{self.title or _('Focus block')} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.minutes)


class Seat(models.Model):
    """A member's place in a block: booked ahead or dropped in; their table, goal and how
    it went."""

    class Outcome(models.TextChoices):
        DONE = "done", _("Done")
        PARTLY = "partly", _("Partly")
        NOT = "not", _("Not this time")

    block = models.ForeignKey(FocusBlock, on_delete=models.CASCADE, related_name="seats")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="focus_seats"
    )
    booked_at = models.DateTimeField(_("booked at"), default=timezone.now)
    dropped_in = models.BooleanField(_("dropped in"), default=False)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    table = models.PositiveSmallIntegerField(_("table"), null=True, blank=True)
    goal = models.TextField(_("goal"), blank=True, validators=[MaxLengthValidator(GOAL_MAX_LENGTH)])
    outcome = models.CharField(_("outcome"), max_length=6, choices=Outcome.choices, blank=True)

    class Meta:
        ordering = ["block", "booked_at", "id"]
        verbose_name = _("seat")
        verbose_name_plural = _("seats")
        constraints = [
            models.UniqueConstraint(
                fields=["block", "user"],
                condition=models.Q(cancelled_at__isnull=True),
                name="focus_seat_once",
                violation_error_message=_("You already have a seat in this block."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.block}"

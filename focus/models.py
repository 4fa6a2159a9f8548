"""Focus blocks and their seats (docs/focus.md). Times are stored in UTC; a block's phases
are computed from `starts_at` and `minutes` (focus.ritual), never kept by a process."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from focus.ritual import LENGTHS_MINUTES, on_the_half_hour

# Lazy labels, so that the choices (and the migrations' state) are the same in any language.
LENGTH_CHOICES = [
    (LENGTHS_MINUTES[0], _("25 minutes")),
    (LENGTHS_MINUTES[1], _("50 minutes")),
    (LENGTHS_MINUTES[2], _("75 minutes")),
]
GOAL_MAX_LENGTH = 280
# Members with a seat are reminded this long before the start (focus.tasks).
REMINDER_LEAD = timedelta(minutes=5)
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


class FocusSeries(models.Model):
    """A weekly "power hour": staff set a weekday and a local time once, and the blocks of the
    coming weeks are made from it (focus/series.py), each at that wall-clock time in the
    series' zone, whatever the daylight saving."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    title = models.CharField(_("title"), max_length=80)
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    local_time = models.TimeField(
        _("time"), help_text=_("On the hour or the half hour, in the series' time zone.")
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Madrid")
    minutes = models.PositiveSmallIntegerField(_("length"), choices=LENGTH_CHOICES, default=50)
    capacity = models.PositiveSmallIntegerField(
        _("seats"), default=DEFAULT_CAPACITY, validators=[MinValueValidator(1)]
    )
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="focus_series_created",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["weekday", "local_time", "id"]
        verbose_name = _("power hour series")
        verbose_name_plural = _("power hour series")

    def __str__(self) -> str:
        return f"{self.title} ({self.get_weekday_display()} {self.local_time:%H:%M})"


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
    series = models.ForeignKey(
        FocusSeries,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="blocks",
        verbose_name=_("series"),
    )
    # The block's room: its presence, chat and the tables' calls (focus/sessions.py).
    room = models.OneToOneField(
        "rooms.Room",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="focus_block",
        verbose_name=_("room"),
    )
    # Set once, when the tables are first drawn at the start (a conditional UPDATE claims it).
    tables_at = models.DateTimeField(_("tables drawn at"), null=True, blank=True)
    # Set once, when the block's end was dealt with: no-shows counted, notices released.
    wrapped_at = models.DateTimeField(_("wrapped up at"), null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("focus block")
        verbose_name_plural = _("focus blocks")
        indexes = [models.Index(fields=["starts_at"], name="focus_block_starts")]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "starts_at"], name="focus_block_once_per_series"
            )
        ]

    def __str__(self) -> str:
        starts = timezone.localtime(self.starts_at)
        return f"{self.title or _('Focus session')} {starts:%Y-%m-%d %H:%M}"

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

    block = models.ForeignKey(
        FocusBlock,
        on_delete=models.CASCADE,
        related_name="seats",
        verbose_name=pgettext_lazy("focus", "block"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="focus_seats",
        verbose_name=_("user"),
    )
    booked_at = models.DateTimeField(_("booked at"), default=timezone.now)
    dropped_in = models.BooleanField(_("dropped in"), default=False)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    table = models.PositiveSmallIntegerField(_("table"), null=True, blank=True)
    goal = models.TextField(_("goal"), blank=True, validators=[MaxLengthValidator(GOAL_MAX_LENGTH)])
    outcome = models.CharField(_("outcome"), max_length=6, choices=Outcome.choices, blank=True)
    # First arrival on the block's page while it was on: who came, and who is in focus now.
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    no_show = models.BooleanField(_("no-show"), default=False)
    # The reminder's email, claimed before sending (focus.tasks.focus_reminder_send).
    reminder_emailed_at = models.DateTimeField(_("reminder emailed at"), null=True, blank=True)
    # The calendar invitation's SEQUENCE: raised by every update sent (RFC 5545).
    calendar_sequence = models.PositiveIntegerField(_("calendar sequence"), default=0)

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


class FocusMember(models.Model):
    """A member's focus settings and standing: whether their focus figures show on their
    profile, and the week of drop-in only that three no-shows bring (docs/focus.md)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="focus",
        verbose_name=_("user"),
    )
    share_stats = models.BooleanField(
        _("show my focus figures on my profile"),
        default=False,
        help_text=_("Sessions this week, focused hours, goals done and your weekly streak."),
    )
    drop_in_only_until = models.DateTimeField(_("drop-in only until"), null=True, blank=True)
    # No-shows before this no longer count (staff reset them).
    no_shows_reset_at = models.DateTimeField(_("no-shows reset at"), null=True, blank=True)

    class Meta:
        verbose_name = _("focus member")
        verbose_name_plural = _("focus members")

    def __str__(self) -> str:
        return str(self.user)

import secrets
import uuid
import zoneinfo
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import validate_time_zone

# A room made for an event lets members in this long before the start (and its attendance
# counts from then).
EVENT_ROOM_OPENS_BEFORE = timedelta(minutes=10)


class EventError(ValueError):
    """A refused event operation. `code` is stable, for pages and clients to map to their own
    wording; `message` is the translated explanation."""

    code = "refused"
    default_message = _("This is not possible for this event.")

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or str(self.default_message))


class EventKind(models.TextChoices):
    TRAINING = "training", _("Training session")
    TALK = "talk", _("Open talk")
    MEETUP = "meetup", _("Spontaneous meetup")


class EventSeries(models.Model):
    """A weekly staff session (for instance every Wednesday at 18:00 Madrid time). Its
    occurrences are ordinary events, made by `events.series.series_extend`; each is
    computed in the series' own zone, so the local time holds across daylight-saving
    changes."""

    kind = models.CharField(
        _("kind"), max_length=10, choices=EventKind.choices, default=EventKind.TRAINING
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="event_series_hosted",
        verbose_name=_("host"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    room = models.ForeignKey(
        "rooms.Room",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="event_series",
        verbose_name=_("room"),
    )
    capacity = models.PositiveIntegerField(
        _("capacity"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Leave empty for no limit."),
    )
    # 0 is Monday, as in `date.weekday()`.
    weekdays = ArrayField(
        models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)]),
        verbose_name=_("weekdays"),
        help_text=_("0 is Monday, 6 is Sunday."),
    )
    local_start = models.TimeField(_("local start time"))
    duration = models.DurationField(_("duration"), default=timedelta(hours=1))
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Madrid", validators=[validate_time_zone]
    )
    starts_on = models.DateField(_("first day"), default=timezone.localdate)
    until = models.DateField(_("last day"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["title"]
        verbose_name = _("event series")
        verbose_name_plural = _("event series")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(until__gte=models.F("starts_on")),
                name="event_series_until_after_start",
                violation_error_message=_("The last day cannot be before the first."),
            ),
            models.CheckConstraint(
                condition=models.Q(duration__gt=timedelta(0)),
                name="event_series_positive_duration",
                violation_error_message=_("The duration must be positive."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def occurrence_days(self, *, first: date, last: date) -> list[date]:
        """The days between `first` and `last` (both included, and within the series' own
        range) on which the series meets."""
        day, end = max(first, self.starts_on), min(last, self.until)
        days = []
        while day <= end:
            if day.weekday() in self.weekdays:
                days.append(day)
            day += timedelta(days=1)
        return days

    def occurrence_starts_at(self, day: date) -> datetime:
        """When the occurrence on `day` starts, in UTC: `local_start` on that day in the
        series' zone (a time that the clocks skip is read with the offset before the
        change)."""
        local = datetime.combine(day, self.local_start, tzinfo=zoneinfo.ZoneInfo(self.time_zone))
        return local.astimezone(UTC)


class Event(models.Model):
    """A session, talk or meetup at a set time, usually in a room. Times are stored in UTC;
    `time_zone` is the organiser's, for showing it and for calendar files."""

    Kind = EventKind

    # What calendars show: changing any of them bumps `sequence`, so that calendar programs
    # replace their copy of the event (RFC 5545, SEQUENCE).
    CALENDAR_FIELDS = ("title", "description", "starts_at", "ends_at", "time_zone", "room")

    kind = models.CharField(_("kind"), max_length=10, choices=EventKind.choices)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events_hosted",
        verbose_name=_("host"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Madrid", validators=[validate_time_zone]
    )
    capacity = models.PositiveIntegerField(
        _("capacity"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Leave empty for no limit."),
    )
    room = models.ForeignKey(
        "rooms.Room",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("room"),
    )
    series = models.ForeignKey(
        EventSeries,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("series"),
    )
    # The series' day this occurrence stands for, in the series' zone, however it was moved
    # since (events.series.series_extend makes one per day).
    series_day = models.DateField(_("day of the series"), null=True, blank=True, editable=False)
    uid = models.UUIDField(_("calendar id"), default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(_("calendar revision"), default=0)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # When the people in its room were invited to carry on in the cafeteria (once).
    wrapped_up_at = models.DateTimeField(_("wrapped up at"), null=True, blank=True)
    # How many members were in its room during the event, counted when it is wrapped up.
    attendance_count = models.PositiveIntegerField(_("attendance"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="event_ends_after_start",
                violation_error_message=_("An event must end after it starts."),
            ),
            models.CheckConstraint(
                condition=models.Q(capacity__isnull=True) | models.Q(capacity__gte=1),
                name="event_capacity_positive",
                violation_error_message=_("The capacity must be at least 1."),
            ),
            models.UniqueConstraint(
                fields=["series", "series_day"],
                condition=models.Q(series__isnull=False, series_day__isnull=False),
                name="event_series_day_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["ends_at", "starts_at"],
                condition=models.Q(cancelled_at__isnull=True),
                name="event_live_by_end",
            ),
            # The past events' list, latest first: 50 rows read from its end rather than
            # every event sorted (18 ms at 20,000 events, growing with the history).
            models.Index(
                fields=["starts_at", "id"],
                condition=models.Q(cancelled_at__isnull=True),
                name="event_live_by_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:event", args=[self.pk])

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def is_staff_kind(self) -> bool:
        return self.kind != EventKind.MEETUP

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    def is_starting_now(self, *, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.starts_at <= now < self.ends_at

    def has_ended(self, *, now: datetime | None = None) -> bool:
        return self.ends_at <= (now or timezone.now())

    @property
    def doors_open_at(self) -> datetime:
        """When the event's room opens to its members: `EVENT_ROOM_OPENS_BEFORE` its start."""
        return self.starts_at - EVENT_ROOM_OPENS_BEFORE

    @property
    def has_stage(self) -> bool:
        """Held in a room, by staff (a training session or a talk): the room's stage is its."""
        room = self.room if self.room_id is not None else None
        return room is not None and self.is_staff_kind and not room.is_cafeteria

    def stage_is_open(self, *, now: datetime | None = None) -> bool:
        """Its stage is offered from its doors' opening until it ends (a room that is always
        open, such as a staff room, would offer it days before)."""
        return self.doors_open_at <= (now or timezone.now()) < self.ends_at


class Rsvp(models.Model):
    """A member's answer to an event. Wait-listed answers queue by `position` (the member's
    place is counted, `events.selectors.waitlist_place`); the first in the queue when a
    seat frees up is promoted (`promoted_at`) and told by email once
    (`promotion_emailed_at`, set by `events.tasks.rsvp_promoted_notify`)."""

    class Status(models.TextChoices):
        GOING = "going", _("Going")
        MAYBE = "maybe", _("Maybe")
        NOT_GOING = "not_going", _("Not going")
        WAITLISTED = "waitlisted", _("On the waiting list")

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="rsvps", verbose_name=_("event")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="event_rsvps",
        verbose_name=_("member"),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    # The waiting list's order (lower is sooner), NULL unless wait-listed. Not renumbered
    # when someone ahead leaves, so it has gaps: the place shown is counted from the queue.
    position = models.PositiveIntegerField(_("waiting list position"), null=True, blank=True)
    promoted_at = models.DateTimeField(_("promoted at"), null=True, blank=True)
    # When the current "going" began (the answer, the host's seat or a promotion); NULL for
    # any other answer, and for answers from before this field was added. A member who says
    # "going" inside the day-before reminder's window needs no reminder of it.
    going_since = models.DateTimeField(_("going since"), null=True, blank=True)
    promotion_emailed_at = models.DateTimeField(_("promotion emailed at"), null=True, blank=True)
    # Each reminder once: set by `events.tasks.reminder_send` under the row's lock.
    reminded_day_at = models.DateTimeField(_("day-before reminder at"), null=True, blank=True)
    reminded_soon_at = models.DateTimeField(_("starting-soon reminder at"), null=True, blank=True)
    # The event's `sequence` this member was last told about (changes, cancellation).
    announced_sequence = models.PositiveIntegerField(_("last change announced"), default=0)
    # The member's own copy of the event, from the calendar files emailed to them: the
    # SEQUENCE of the last one (NULL: none yet), and whether it put the event in their
    # calendar (REQUEST) or took it out (CANCEL). Set with each email's claim (events.tasks).
    calendar_sequence = models.PositiveIntegerField(_("calendar sequence"), null=True, blank=True)
    calendar_held = models.BooleanField(_("in the member's calendar"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("RSVP")
        verbose_name_plural = _("RSVPs")
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="rsvp_once"),
            models.CheckConstraint(
                condition=models.Q(status="waitlisted", position__isnull=False)
                | (~models.Q(status="waitlisted") & models.Q(position__isnull=True)),
                name="rsvp_position_only_when_waitlisted",
            ),
        ]
        indexes = [
            models.Index(
                fields=["event", "position"],
                condition=models.Q(status="waitlisted"),
                name="rsvp_waiting_list",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.event} ({self.status})"

    def calendar_sequence_next(self) -> int:
        """The SEQUENCE of the next calendar file emailed to this member: at least the
        event's revision, and above every file they were sent, since their own withdrawals
        and returns (a seat given up, then taken again) raise their copy's alone."""
        sent = -1 if self.calendar_sequence is None else self.calendar_sequence
        return max(self.event.sequence, sent + 1)


def calendar_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A member's private calendar feed: whoever has the URL with `token` can read the events
    the member hosts or goes to, without logging in (calendar programs cannot). A new token
    (`events.feeds.calendar_feed_rotate`) revokes the old URL."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calendar_feed",
        verbose_name=_("member"),
    )
    token = models.CharField(
        _("secret token"), max_length=64, unique=True, default=calendar_feed_token
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.user} (calendar feed)"

    def get_absolute_url(self) -> str:
        return reverse("events:feed", args=[self.token])

import datetime
import uuid

import django.contrib.postgres.fields
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import events.models
import members.models


class Migration(migrations.Migration):
    """The app's migrations up to the name's, squashed into one (docs/deploy.md, "Upgrading"):
    written anew from the models, as makemigrations would, plus what the models do not hold.
    A database that ran all of those is marked as having run this one; a new one runs it."""

    replaces = [
        ("events", "0001_initial"),
        ("events", "0002_reminders_announcements_wrap_up"),
        ("events", "0003_calendar_feed"),
        ("events", "0004_attendance"),
        ("events", "0005_host_seats"),
        ("events", "0006_event_live_by_start"),
        ("events", "0007_relation_names"),
        ("events", "0008_event_series_day"),
        ("events", "0009_rsvp_going_since"),
        ("events", "0010_rsvp_calendar_record"),
    ]

    initial = True

    dependencies = [
        ("members", "0001_squashed_0019_user_avatar_thumbnail"),
        ("rooms", "0001_squashed_0015_relation_names"),
    ]

    operations = [
        migrations.CreateModel(
            name="CalendarFeed",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "token",
                    models.CharField(
                        default=events.models.calendar_feed_token,
                        max_length=64,
                        unique=True,
                        verbose_name="secret token",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="created at"
                    ),
                ),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="calendar_feed",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="member",
                    ),
                ),
            ],
            options={
                "verbose_name": "calendar feed",
                "verbose_name_plural": "calendar feeds",
            },
        ),
        migrations.CreateModel(
            name="EventSeries",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("training", "Training session"),
                            ("talk", "Open talk"),
                            ("meetup", "Spontaneous meetup"),
                        ],
                        default="training",
                        max_length=10,
                        verbose_name="kind",
                    ),
                ),
                ("title", models.CharField(max_length=120, verbose_name="title")),
                ("description", models.TextField(blank=True, verbose_name="description")),
                (
                    "capacity",
                    models.PositiveIntegerField(
                        blank=True,
                        help_text="Leave empty for no limit.",
                        null=True,
                        validators=[django.core.validators.MinValueValidator(1)],
                        verbose_name="capacity",
                    ),
                ),
                (
                    "weekdays",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.PositiveSmallIntegerField(
                            validators=[django.core.validators.MaxValueValidator(6)]
                        ),
                        help_text="0 is Monday, 6 is Sunday.",
                        size=None,
                        verbose_name="weekdays",
                    ),
                ),
                ("local_start", models.TimeField(verbose_name="local start time")),
                (
                    "duration",
                    models.DurationField(
                        default=datetime.timedelta(seconds=3600), verbose_name="duration"
                    ),
                ),
                (
                    "time_zone",
                    models.CharField(
                        default="Europe/Madrid",
                        max_length=64,
                        validators=[members.models.validate_time_zone],
                        verbose_name="time zone",
                    ),
                ),
                (
                    "starts_on",
                    models.DateField(
                        default=django.utils.timezone.localdate, verbose_name="first day"
                    ),
                ),
                ("until", models.DateField(verbose_name="last day")),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="created at"
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="created by",
                    ),
                ),
                (
                    "host",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="event_series_hosted",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="host",
                    ),
                ),
                (
                    "room",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="event_series",
                        to="rooms.room",
                        verbose_name="room",
                    ),
                ),
            ],
            options={
                "verbose_name": "event series",
                "verbose_name_plural": "event series",
                "ordering": ["title"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("until__gte", models.F("starts_on"))),
                        name="event_series_until_after_start",
                        violation_error_message="The last day cannot be before the first.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("duration__gt", datetime.timedelta(0))),
                        name="event_series_positive_duration",
                        violation_error_message="The duration must be positive.",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Event",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("training", "Training session"),
                            ("talk", "Open talk"),
                            ("meetup", "Spontaneous meetup"),
                        ],
                        max_length=10,
                        verbose_name="kind",
                    ),
                ),
                ("title", models.CharField(max_length=120, verbose_name="title")),
                ("description", models.TextField(blank=True, verbose_name="description")),
                ("starts_at", models.DateTimeField(verbose_name="starts at")),
                ("ends_at", models.DateTimeField(verbose_name="ends at")),
                (
                    "time_zone",
                    models.CharField(
                        default="Europe/Madrid",
                        max_length=64,
                        validators=[members.models.validate_time_zone],
                        verbose_name="time zone",
                    ),
                ),
                (
                    "capacity",
                    models.PositiveIntegerField(
                        blank=True,
                        help_text="Leave empty for no limit.",
                        null=True,
                        validators=[django.core.validators.MinValueValidator(1)],
                        verbose_name="capacity",
                    ),
                ),
                (
                    "series_day",
                    models.DateField(
                        blank=True, editable=False, null=True, verbose_name="day of the series"
                    ),
                ),
                (
                    "uid",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, unique=True, verbose_name="calendar id"
                    ),
                ),
                (
                    "sequence",
                    models.PositiveIntegerField(default=0, verbose_name="calendar revision"),
                ),
                (
                    "cancelled_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="cancelled at"),
                ),
                (
                    "wrapped_up_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="wrapped up at"),
                ),
                (
                    "attendance_count",
                    models.PositiveIntegerField(blank=True, null=True, verbose_name="attendance"),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="created at"
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="created by",
                    ),
                ),
                (
                    "host",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="events_hosted",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="host",
                    ),
                ),
                (
                    "room",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="events",
                        to="rooms.room",
                        verbose_name="room",
                    ),
                ),
                (
                    "series",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="events",
                        to="events.eventseries",
                        verbose_name="series",
                    ),
                ),
            ],
            options={
                "verbose_name": "event",
                "verbose_name_plural": "events",
                "ordering": ["starts_at", "id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("cancelled_at__isnull", True)),
                        fields=["ends_at", "starts_at"],
                        name="event_live_by_end",
                    ),
                    models.Index(
                        condition=models.Q(("cancelled_at__isnull", True)),
                        fields=["starts_at", "id"],
                        name="event_live_by_start",
                    ),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("ends_at__gt", models.F("starts_at"))),
                        name="event_ends_after_start",
                        violation_error_message="An event must end after it starts.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("capacity__isnull", True), ("capacity__gte", 1), _connector="OR"
                        ),
                        name="event_capacity_positive",
                        violation_error_message="The capacity must be at least 1.",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(
                            ("series__isnull", False), ("series_day__isnull", False)
                        ),
                        fields=("series", "series_day"),
                        name="event_series_day_once",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Rsvp",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("going", "Going"),
                            ("maybe", "Maybe"),
                            ("not_going", "Not going"),
                            ("waitlisted", "On the waiting list"),
                        ],
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                (
                    "position",
                    models.PositiveIntegerField(
                        blank=True, null=True, verbose_name="waiting list position"
                    ),
                ),
                (
                    "promoted_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="promoted at"),
                ),
                (
                    "going_since",
                    models.DateTimeField(blank=True, null=True, verbose_name="going since"),
                ),
                (
                    "promotion_emailed_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="promotion emailed at"
                    ),
                ),
                (
                    "reminded_day_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="day-before reminder at"
                    ),
                ),
                (
                    "reminded_soon_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="starting-soon reminder at"
                    ),
                ),
                (
                    "announced_sequence",
                    models.PositiveIntegerField(default=0, verbose_name="last change announced"),
                ),
                (
                    "calendar_sequence",
                    models.PositiveIntegerField(
                        blank=True, null=True, verbose_name="calendar sequence"
                    ),
                ),
                (
                    "calendar_held",
                    models.BooleanField(default=False, verbose_name="in the member's calendar"),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="created at"
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                (
                    "event",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="rsvps",
                        to="events.event",
                        verbose_name="event",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="event_rsvps",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="member",
                    ),
                ),
            ],
            options={
                "verbose_name": "RSVP",
                "verbose_name_plural": "RSVPs",
                "indexes": [
                    models.Index(
                        condition=models.Q(("status", "waitlisted")),
                        fields=["event", "position"],
                        name="rsvp_waiting_list",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("event", "user"), name="rsvp_once"),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("position__isnull", False), ("status", "waitlisted")),
                            models.Q(
                                models.Q(("status", "waitlisted"), _negated=True),
                                ("position__isnull", True),
                            ),
                            _connector="OR",
                        ),
                        name="rsvp_position_only_when_waitlisted",
                    ),
                ],
            },
        ),
    ]

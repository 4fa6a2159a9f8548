import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import focus.models


class Migration(migrations.Migration):
    """The app's migrations up to the name's, squashed into one (docs/deploy.md, "Upgrading"):
    written anew from the models, as makemigrations would, plus what the models do not hold.
    A database that ran all of those is marked as having run this one; a new one runs it."""

    replaces = [
        ("focus", "0001_initial"),
        ("focus", "0002_sessions_series_standing"),
        ("focus", "0003_relation_names"),
        ("focus", "0004_seat_reminder_emailed"),
    ]

    initial = True

    dependencies = [
        ("members", "0001_squashed_0019_user_avatar_thumbnail"),
        ("rooms", "0001_squashed_0015_relation_names"),
    ]

    operations = [
        migrations.CreateModel(
            name="FocusMember",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "share_stats",
                    models.BooleanField(
                        default=False,
                        help_text="Sessions this week, focused hours, goals done and your weekly streak.",
                        verbose_name="show my focus figures on my profile",
                    ),
                ),
                (
                    "drop_in_only_until",
                    models.DateTimeField(blank=True, null=True, verbose_name="drop-in only until"),
                ),
                (
                    "no_shows_reset_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="no-shows reset at"),
                ),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="focus",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "focus member",
                "verbose_name_plural": "focus members",
            },
        ),
        migrations.CreateModel(
            name="FocusSeries",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("title", models.CharField(max_length=80, verbose_name="title")),
                (
                    "weekday",
                    models.PositiveSmallIntegerField(
                        choices=[
                            (0, "Monday"),
                            (1, "Tuesday"),
                            (2, "Wednesday"),
                            (3, "Thursday"),
                            (4, "Friday"),
                            (5, "Saturday"),
                            (6, "Sunday"),
                        ],
                        verbose_name="weekday",
                    ),
                ),
                (
                    "local_time",
                    models.TimeField(
                        help_text="On the hour or the half hour, in the series' time zone.",
                        verbose_name="time",
                    ),
                ),
                (
                    "time_zone",
                    models.CharField(
                        default="Europe/Madrid", max_length=64, verbose_name="time zone"
                    ),
                ),
                (
                    "minutes",
                    models.PositiveSmallIntegerField(
                        choices=[(25, "25 minutes"), (50, "50 minutes"), (75, "75 minutes")],
                        default=50,
                        verbose_name="length",
                    ),
                ),
                (
                    "capacity",
                    models.PositiveSmallIntegerField(
                        default=40,
                        validators=[django.core.validators.MinValueValidator(1)],
                        verbose_name="seats",
                    ),
                ),
                ("starts_on", models.DateField(verbose_name="first day")),
                ("ends_on", models.DateField(blank=True, null=True, verbose_name="last day")),
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
                        related_name="focus_series_created",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="created by",
                    ),
                ),
            ],
            options={
                "verbose_name": "power hour series",
                "verbose_name_plural": "power hour series",
                "ordering": ["weekday", "local_time", "id"],
            },
        ),
        migrations.CreateModel(
            name="FocusBlock",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("title", models.CharField(blank=True, max_length=80, verbose_name="title")),
                (
                    "starts_at",
                    models.DateTimeField(
                        validators=[focus.models.validate_half_hour], verbose_name="starts at"
                    ),
                ),
                (
                    "minutes",
                    models.PositiveSmallIntegerField(
                        choices=[(25, "25 minutes"), (50, "50 minutes"), (75, "75 minutes")],
                        default=50,
                        verbose_name="length",
                    ),
                ),
                (
                    "capacity",
                    models.PositiveSmallIntegerField(
                        default=40,
                        validators=[django.core.validators.MinValueValidator(1)],
                        verbose_name="seats",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="created at"
                    ),
                ),
                (
                    "cancelled_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="cancelled at"),
                ),
                (
                    "tables_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="tables drawn at"),
                ),
                (
                    "wrapped_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="wrapped up at"),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="focus_blocks_created",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="created by",
                    ),
                ),
                (
                    "room",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="focus_block",
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
                        related_name="blocks",
                        to="focus.focusseries",
                        verbose_name="series",
                    ),
                ),
            ],
            options={
                "verbose_name": "focus block",
                "verbose_name_plural": "focus blocks",
                "ordering": ["starts_at", "id"],
                "indexes": [models.Index(fields=["starts_at"], name="focus_block_starts")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("series", "starts_at"), name="focus_block_once_per_series"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Seat",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "booked_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="booked at"
                    ),
                ),
                ("dropped_in", models.BooleanField(default=False, verbose_name="dropped in")),
                (
                    "cancelled_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="cancelled at"),
                ),
                (
                    "table",
                    models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="table"),
                ),
                (
                    "goal",
                    models.TextField(
                        blank=True,
                        validators=[django.core.validators.MaxLengthValidator(280)],
                        verbose_name="goal",
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        blank=True,
                        choices=[("done", "Done"), ("partly", "Partly"), ("not", "Not this time")],
                        max_length=6,
                        verbose_name="outcome",
                    ),
                ),
                (
                    "arrived_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="arrived at"),
                ),
                ("no_show", models.BooleanField(default=False, verbose_name="no-show")),
                (
                    "reminder_emailed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="reminder emailed at"),
                ),
                (
                    "calendar_sequence",
                    models.PositiveIntegerField(default=0, verbose_name="calendar sequence"),
                ),
                (
                    "block",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="seats",
                        to="focus.focusblock",
                        verbose_name="block",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="focus_seats",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "seat",
                "verbose_name_plural": "seats",
                "ordering": ["block", "booked_at", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("cancelled_at__isnull", True)),
                        fields=("block", "user"),
                        name="focus_seat_once",
                        violation_error_message="You already have a seat in this block.",
                    )
                ],
            },
        ),
    ]

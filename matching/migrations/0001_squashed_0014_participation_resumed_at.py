import datetime
import uuid

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import members.models


class Migration(migrations.Migration):
    """The app's migrations up to the name's, squashed into one (docs/deploy.md, "Upgrading"):
    written anew from the models, as makemigrations would, plus what the models do not hold.
    A database that ran all of those is marked as having run this one; a new one runs it."""

    replaces = [
        ("matching", "0001_initial"),
        ("matching", "0002_participation_auto_pause_notice_sent_at"),
        ("matching", "0003_pair_notifications_about"),
        ("matching", "0004_meetings"),
        ("matching", "0005_seat_rating"),
        ("matching", "0006_whole_history"),
        ("matching", "0007_pair_requests"),
        ("matching", "0008_meet_again"),
        ("matching", "0009_programme_audience"),
        ("matching", "0010_programme_mentoring"),
        ("matching", "0011_programme_table_size"),
        ("matching", "0012_paused_by_staff"),
        ("matching", "0013_relation_names"),
        ("matching", "0014_participation_resumed_at"),
    ]

    initial = True

    dependencies = [
        ("members", "0001_squashed_0019_user_avatar_thumbnail"),
    ]

    operations = [
        migrations.CreateModel(
            name="Programme",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                ("slug", models.SlugField(unique=True, verbose_name="slug")),
                ("description", models.TextField(blank=True, verbose_name="description")),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                (
                    "mentoring",
                    models.BooleanField(
                        default=False,
                        help_text="Only a member open to mentoring with one open to being mentored; members who are neither are left out.",
                        verbose_name="mentoring",
                    ),
                ),
                (
                    "table_size",
                    models.PositiveSmallIntegerField(
                        choices=[
                            (2, "pairs (a trio when the count is odd)"),
                            (4, "small tables of 4 (of 3 where the count needs it)"),
                        ],
                        default=2,
                        verbose_name="group size",
                    ),
                ),
                (
                    "cadence_days",
                    models.PositiveSmallIntegerField(
                        default=14,
                        validators=[django.core.validators.MinValueValidator(1)],
                        verbose_name="days between rounds",
                    ),
                ),
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
                        default=0,
                        verbose_name="weekday",
                    ),
                ),
                (
                    "hour",
                    models.PositiveSmallIntegerField(
                        default=9,
                        validators=[django.core.validators.MaxValueValidator(23)],
                        verbose_name="hour",
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
                        default=datetime.date(2026, 1, 5),
                        help_text="Rounds happen on this date's cadence: every N days from the first chosen weekday on or after it.",
                        verbose_name="first round date",
                    ),
                ),
                (
                    "follow_up_after_days",
                    models.PositiveSmallIntegerField(
                        default=5, verbose_name="ask “did you meet?” after how many days"
                    ),
                ),
                (
                    "pause_after_ignored",
                    models.PositiveSmallIntegerField(
                        default=3, verbose_name="pause members who ignore this many intros in a row"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                (
                    "interest",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="members.interest",
                        verbose_name="for members interested in",
                    ),
                ),
                (
                    "language",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="members.language",
                        verbose_name="for members who speak",
                    ),
                ),
            ],
            options={
                "verbose_name": "programme",
                "verbose_name_plural": "programmes",
                "ordering": ["name"],
            },
        ),
        migrations.CreateModel(
            name="MeetAgain",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "every_weeks",
                    models.PositiveSmallIntegerField(
                        choices=[(2, "every 2 weeks"), (4, "every 4 weeks"), (8, "every 8 weeks")],
                        verbose_name="how often",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                (
                    "partner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="partner",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="meet_again",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "wish to meet again",
                "verbose_name_plural": "wishes to meet again",
                "constraints": [
                    models.UniqueConstraint(fields=("user", "partner"), name="meet_again_once")
                ],
            },
        ),
        migrations.CreateModel(
            name="Participation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("opted_in", models.BooleanField(default=True, verbose_name="take part")),
                (
                    "skip_next_round",
                    models.BooleanField(default=False, verbose_name="skip the next round"),
                ),
                (
                    "on_demand",
                    models.BooleanField(
                        default=False, verbose_name="pair me with someone who asks for a coffee now"
                    ),
                ),
                (
                    "paused_until",
                    models.DateField(blank=True, null=True, verbose_name="paused until"),
                ),
                (
                    "auto_paused",
                    models.BooleanField(
                        default=False, editable=False, verbose_name="paused until they resume"
                    ),
                ),
                (
                    "paused_by_staff",
                    models.BooleanField(
                        default=False, editable=False, verbose_name="paused by staff"
                    ),
                ),
                (
                    "resumed_at",
                    models.DateTimeField(
                        blank=True, editable=False, null=True, verbose_name="resumed at"
                    ),
                ),
                (
                    "auto_pause_notice_sent_at",
                    models.DateTimeField(
                        blank=True, editable=False, null=True, verbose_name="notice sent"
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="participations",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
                (
                    "programme",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="participations",
                        to="matching.programme",
                        verbose_name="programme",
                    ),
                ),
            ],
            options={
                "verbose_name": "participation",
                "verbose_name_plural": "participations",
                "constraints": [
                    models.UniqueConstraint(fields=("programme", "user"), name="participation_once")
                ],
            },
        ),
        migrations.CreateModel(
            name="Round",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("scheduled_for", models.DateTimeField(verbose_name="scheduled for")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                (
                    "eligible_count",
                    models.PositiveIntegerField(default=0, verbose_name="eligible members"),
                ),
                ("total_score", models.FloatField(default=0, verbose_name="total score")),
                (
                    "programme",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="rounds",
                        to="matching.programme",
                        verbose_name="programme",
                    ),
                ),
            ],
            options={
                "verbose_name": "round",
                "verbose_name_plural": "rounds",
                "ordering": ["-scheduled_for"],
                "get_latest_by": "scheduled_for",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("programme", "scheduled_for"), name="round_once_per_slot"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Group",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("score", models.FloatField(default=0, verbose_name="score")),
                ("breakdown", models.JSONField(default=dict, verbose_name="score breakdown")),
                (
                    "round",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="groups",
                        to="matching.round",
                        verbose_name="round",
                    ),
                ),
            ],
            options={
                "verbose_name": "group",
                "verbose_name_plural": "groups",
            },
        ),
        migrations.CreateModel(
            name="PairRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="asked at"
                    ),
                ),
                (
                    "matched_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="matched at"),
                ),
                (
                    "cancelled_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="cancelled at"),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="pair_requests",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
                (
                    "matched_round",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="matching.round",
                        verbose_name="matched round",
                    ),
                ),
            ],
            options={
                "verbose_name": "pair request",
                "verbose_name_plural": "pair requests",
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(
                            ("cancelled_at__isnull", True), ("matched_at__isnull", True)
                        ),
                        fields=("user",),
                        name="one_open_pair_request",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Unmatched",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "notice_sent_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="notice sent"),
                ),
                (
                    "round",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="unmatched",
                        to="matching.round",
                        verbose_name="round",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "unmatched member",
                "verbose_name_plural": "unmatched members",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("round", "user"), name="unmatched_once_per_round"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Meeting",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "starts_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="starts at"),
                ),
                (
                    "proposed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="proposed at"),
                ),
                (
                    "accepted_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="accepted at"),
                ),
                (
                    "uid",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, unique=True, verbose_name="calendar id"
                    ),
                ),
                (
                    "sequence",
                    models.PositiveIntegerField(default=0, verbose_name="calendar sequence"),
                ),
                (
                    "reminded_for",
                    models.DateTimeField(blank=True, null=True, verbose_name="reminder sent for"),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                (
                    "accepted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="accepted by",
                    ),
                ),
                (
                    "group",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="meeting",
                        to="matching.group",
                        verbose_name="group",
                    ),
                ),
                (
                    "proposed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="proposed by",
                    ),
                ),
            ],
            options={
                "verbose_name": "coffee meeting",
                "verbose_name_plural": "coffee meetings",
                "indexes": [
                    models.Index(
                        fields=["accepted_at", "starts_at"], name="matching_me_accepte_788e85_idx"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="GroupMember",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "intro_sent_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="intro sent"),
                ),
                (
                    "intro_attempts",
                    models.PositiveSmallIntegerField(default=0, verbose_name="intro attempts"),
                ),
                (
                    "follow_up_sent_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="follow-up sent"),
                ),
                (
                    "answer",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("met", "We met"),
                            ("scheduled", "We have a date"),
                            ("not_yet", "Not yet"),
                            ("wont_happen", "It won't happen"),
                        ],
                        max_length=12,
                        verbose_name="answer",
                    ),
                ),
                (
                    "answered_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="answered"),
                ),
                (
                    "rating",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(5),
                        ],
                        verbose_name="how it was",
                    ),
                ),
                (
                    "group",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="members",
                        to="matching.group",
                        verbose_name="group",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="pair_seats",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
                (
                    "round",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="seats",
                        to="matching.round",
                        verbose_name="round",
                    ),
                ),
            ],
            options={
                "verbose_name": "group member",
                "verbose_name_plural": "group members",
                "constraints": [
                    models.UniqueConstraint(fields=("round", "user"), name="one_seat_per_round")
                ],
            },
        ),
        migrations.CreateModel(
            name="MeetingNotice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "what",
                    models.CharField(
                        choices=[
                            ("proposed", "time proposed"),
                            ("scheduled", "meeting scheduled"),
                            ("cancelled", "time cancelled"),
                            ("reminder", "reminder"),
                        ],
                        max_length=12,
                        verbose_name="what",
                    ),
                ),
                ("sequence", models.PositiveIntegerField(verbose_name="calendar sequence")),
                ("starts_at", models.DateTimeField(verbose_name="starts at")),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent")),
                (
                    "by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                (
                    "meeting",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notices",
                        to="matching.meeting",
                        verbose_name="meeting",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "meeting notice",
                "verbose_name_plural": "meeting notices",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("meeting", "user", "what", "sequence"), name="meeting_notice_once"
                    )
                ],
            },
        ),
    ]

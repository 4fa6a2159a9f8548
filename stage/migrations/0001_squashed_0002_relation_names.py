import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import stage.models


class Migration(migrations.Migration):
    """The app's migrations up to the name's, squashed into one (docs/deploy.md, "Upgrading"):
    written anew from the models, as makemigrations would, plus what the models do not hold.
    A database that ran all of those is marked as having run this one; a new one runs it."""

    replaces = [("stage", "0001_initial"), ("stage", "0002_relation_names")]

    initial = True

    dependencies = [
        ("members", "0001_squashed_0019_user_avatar_thumbnail"),
        ("rooms", "0001_squashed_0015_relation_names"),
    ]

    operations = [
        migrations.CreateModel(
            name="Stage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[("off", "Not started"), ("live", "Live"), ("ended", "Ended")],
                        default="off",
                        max_length=5,
                        verbose_name="state",
                    ),
                ),
                (
                    "janus_room",
                    models.PositiveBigIntegerField(
                        default=stage.models.janus_room_number,
                        editable=False,
                        unique=True,
                        verbose_name="Janus room",
                    ),
                ),
                (
                    "janus_pin",
                    models.CharField(
                        default=stage.models.janus_secret, editable=False, max_length=40
                    ),
                ),
                (
                    "janus_token",
                    models.CharField(
                        default=stage.models.janus_secret, editable=False, max_length=40
                    ),
                ),
                (
                    "janus_secret",
                    models.CharField(
                        default=stage.models.janus_secret, editable=False, max_length=40
                    ),
                ),
                (
                    "started_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="started at"),
                ),
                ("ended_at", models.DateTimeField(blank=True, null=True, verbose_name="ended at")),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="created at"
                    ),
                ),
                (
                    "host",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="stages_hosted",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="host",
                    ),
                ),
                (
                    "room",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="stage",
                        to="rooms.room",
                        verbose_name="room",
                    ),
                ),
            ],
            options={
                "verbose_name": "stage",
                "verbose_name_plural": "stages",
            },
        ),
        migrations.CreateModel(
            name="Speaker",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("invited_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("feed", models.PositiveBigIntegerField(blank=True, null=True)),
                ("live_since", models.DateTimeField(blank=True, null=True)),
                ("screen", models.BooleanField(default=False)),
                ("muted", models.BooleanField(default=False)),
                (
                    "invited_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="invited by",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="stage_speaking",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
                (
                    "stage",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="speakers",
                        to="stage.stage",
                        verbose_name="stage",
                    ),
                ),
            ],
            options={
                "verbose_name": "speaker",
                "verbose_name_plural": "speakers",
                "constraints": [
                    models.UniqueConstraint(fields=("stage", "user"), name="stage_speaker_once"),
                    models.UniqueConstraint(fields=("feed",), name="stage_feed_unique"),
                ],
            },
        ),
        migrations.CreateModel(
            name="MediaSession",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("channel_name", models.CharField(max_length=200)),
                ("janus_session", models.PositiveBigIntegerField()),
                ("feed", models.PositiveBigIntegerField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="stage_media",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
                (
                    "stage",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="media_sessions",
                        to="stage.stage",
                        verbose_name="stage",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["channel_name"], name="stage_media_by_channel")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("stage", "janus_session"), name="stage_media_session_once"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Hand",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("raised_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="stage_hands",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
                (
                    "stage",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="hands",
                        to="stage.stage",
                        verbose_name="stage",
                    ),
                ),
            ],
            options={
                "ordering": ["raised_at", "id"],
                "constraints": [
                    models.UniqueConstraint(fields=("stage", "user"), name="stage_hand_once")
                ],
            },
        ),
        migrations.CreateModel(
            name="Attendance",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("first_seen_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="stage_attendance",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
                (
                    "stage",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="attendance",
                        to="stage.stage",
                        verbose_name="stage",
                    ),
                ),
            ],
            options={
                "verbose_name": "attendance",
                "verbose_name_plural": "attendance",
                "constraints": [
                    models.UniqueConstraint(fields=("stage", "user"), name="stage_attended_once")
                ],
            },
        ),
    ]

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """The app's migrations up to the name's, squashed into one (docs/deploy.md, "Upgrading"):
    written anew from the models, as makemigrations would, plus what the models do not hold.
    A database that ran all of those is marked as having run this one; a new one runs it."""

    replaces = [
        ("moderation", "0001_initial"),
        ("moderation", "0002_report_conversation_message"),
        ("moderation", "0003_report_removal_sent"),
    ]

    initial = True

    dependencies = [
        ("conversations", "0001_squashed_0011_participant_archived"),
        ("members", "0001_squashed_0019_user_avatar_thumbnail"),
        ("rooms", "0001_squashed_0015_relation_names"),
    ]

    operations = [
        migrations.CreateModel(
            name="Report",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("spam", "Spam or advertising"),
                            ("harassment", "Harassment or hate"),
                            ("inappropriate", "Inappropriate content"),
                            ("fake", "Fake profile or impersonation"),
                            ("other", "Something else"),
                        ],
                        max_length=20,
                        verbose_name="reason",
                    ),
                ),
                (
                    "details",
                    models.TextField(
                        validators=[django.core.validators.MaxLengthValidator(2000)],
                        verbose_name="what happened",
                    ),
                ),
                ("subject", models.CharField(blank=True, max_length=120, verbose_name="about")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "Open"),
                            ("dismissed", "Dismissed"),
                            ("actioned", "Action taken"),
                        ],
                        default="open",
                        max_length=12,
                        verbose_name="status",
                    ),
                ),
                ("staff_note", models.TextField(blank=True, verbose_name="staff note")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                (
                    "handled_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="handled at"),
                ),
                (
                    "action",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("dismissed", "Dismissed"),
                            ("warned", "Member warned"),
                            ("message_removed", "Message removed"),
                            ("suspended", "Member suspended"),
                        ],
                        max_length=16,
                        verbose_name="action taken",
                    ),
                ),
                (
                    "warning_sent_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="warning sent"),
                ),
                (
                    "removal_sent_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="removal notice sent"),
                ),
                (
                    "conversation_message",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="reports",
                        to="conversations.message",
                        verbose_name="private message",
                    ),
                ),
                (
                    "handled_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="handled by",
                    ),
                ),
                (
                    "message",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="reports",
                        to="rooms.message",
                        verbose_name="message",
                    ),
                ),
                (
                    "reported",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reports_received",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="reported member",
                    ),
                ),
                (
                    "reporter",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="reports_made",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="reporter",
                    ),
                ),
            ],
            options={
                "verbose_name": "report",
                "verbose_name_plural": "reports",
                "ordering": ["-created_at"],
                "indexes": [models.Index(fields=["status", "-created_at"], name="report_queue")],
            },
        ),
    ]

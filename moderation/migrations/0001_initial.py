# Reports moved here from the members app: the table is renamed, nothing is copied.

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def content_type_move(apps, schema_editor):
    # Staff permissions on reports follow the model to its new app.
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="moderation", model="report").exists():
        ContentType.objects.filter(app_label="members", model="report").update(
            app_label="moderation"
        )


def content_type_move_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="moderation", model="report").update(app_label="members")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("members", "0007_notification_preferences"),
        ("rooms", "0006_visits"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Report",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("reason", models.CharField(choices=[("spam", "Spam or advertising"), ("harassment", "Harassment or hate"), ("inappropriate", "Inappropriate content"), ("fake", "Fake profile or impersonation"), ("other", "Something else")], max_length=20, verbose_name="reason")),
                        ("details", models.TextField(validators=[django.core.validators.MaxLengthValidator(2000)], verbose_name="what happened")),
                        ("subject", models.CharField(blank=True, max_length=120, verbose_name="about")),
                        ("status", models.CharField(choices=[("open", "Open"), ("dismissed", "Dismissed"), ("actioned", "Action taken")], default="open", max_length=12, verbose_name="status")),
                        ("staff_note", models.TextField(blank=True, verbose_name="staff note")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                        ("handled_at", models.DateTimeField(blank=True, null=True, verbose_name="handled at")),
                        ("action", models.CharField(blank=True, choices=[("dismissed", "Dismissed"), ("warned", "Member warned"), ("message_removed", "Message removed"), ("suspended", "Member suspended")], max_length=16, verbose_name="action taken")),
                        ("warning_sent_at", models.DateTimeField(blank=True, null=True, verbose_name="warning sent")),
                        ("handled_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="handled by")),
                        ("message", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="reports", to="rooms.message", verbose_name="message")),
                        ("reported", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="reports_received", to=settings.AUTH_USER_MODEL, verbose_name="reported member")),
                        ("reporter", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="reports_made", to=settings.AUTH_USER_MODEL, verbose_name="reporter")),
                    ],
                    options={
                        "verbose_name": "report",
                        "verbose_name_plural": "reports",
                        "ordering": ["-created_at"],
                        "db_table": "members_report",
                        "indexes": [models.Index(fields=["status", "-created_at"], name="report_queue")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="report", table=None),
        migrations.RunPython(content_type_move, content_type_move_back),
    ]

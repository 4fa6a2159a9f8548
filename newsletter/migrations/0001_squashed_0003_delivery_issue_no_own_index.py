import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models

import newsletter.models


class Migration(migrations.Migration):
    """The app's migrations up to the name's, squashed into one (docs/deploy.md, "Upgrading"):
    written anew from the models, as makemigrations would, plus what the models do not hold.
    A database that ran all of those is marked as having run this one; a new one runs it."""

    replaces = [
        ("newsletter", "0001_initial"),
        ("newsletter", "0002_issue_in_english"),
        ("newsletter", "0003_delivery_issue_no_own_index"),
    ]

    initial = True

    dependencies = [
        ("members", "0001_squashed_0019_user_avatar_thumbnail"),
    ]

    operations = [
        migrations.CreateModel(
            name="Issue",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("subject", models.CharField(max_length=200, verbose_name="subject in Spanish")),
                (
                    "body_markdown",
                    models.TextField(
                        help_text="Markdown: **bold**, *italics*, [links](https://…), lists.",
                        verbose_name="body in Spanish",
                    ),
                ),
                ("body_html", models.TextField(default="", editable=False)),
                (
                    "subject_en",
                    models.CharField(blank=True, max_length=200, verbose_name="subject in English"),
                ),
                (
                    "body_markdown_en",
                    models.TextField(
                        blank=True,
                        help_text="Optional. Without it, subscribers who read English get the Spanish one.",
                        verbose_name="body in English",
                    ),
                ),
                ("body_html_en", models.TextField(default="", editable=False)),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "Draft"), ("sending", "Sending"), ("sent", "Sent")],
                        default="draft",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                (
                    "send_started_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="sending started"),
                ),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent")),
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
            ],
            options={
                "verbose_name": "issue",
                "verbose_name_plural": "issues",
                "ordering": ["-sent_at", "-created_at"],
            },
        ),
        migrations.CreateModel(
            name="Subscriber",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("email", models.EmailField(max_length=254, verbose_name="email address")),
                (
                    "language",
                    models.CharField(
                        choices=[("es", "Spanish"), ("en", "English")],
                        default="es",
                        max_length=8,
                        verbose_name="language",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting for confirmation"),
                            ("confirmed", "Confirmed"),
                            ("unsubscribed", "Unsubscribed"),
                            ("undeliverable", "Undeliverable"),
                        ],
                        default="pending",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                (
                    "consent_source",
                    models.CharField(
                        choices=[
                            ("site_form", "Site form, confirmed by email"),
                            ("member", "Signed-in member, verified account address"),
                            ("admin", "Added by staff"),
                        ],
                        max_length=16,
                        verbose_name="consent given through",
                    ),
                ),
                (
                    "consent_ip",
                    models.GenericIPAddressField(
                        blank=True, null=True, verbose_name="consent IP address"
                    ),
                ),
                (
                    "requested_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="subscription requested"
                    ),
                ),
                (
                    "confirmed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="confirmed"),
                ),
                (
                    "confirmation_nonce",
                    models.CharField(
                        blank=True, default=newsletter.models.new_nonce, max_length=32
                    ),
                ),
                (
                    "confirmation_emailed_nonce",
                    models.CharField(blank=True, editable=False, max_length=32),
                ),
                (
                    "unsubscribed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="unsubscribed"),
                ),
                (
                    "undeliverable_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="marked undeliverable"
                    ),
                ),
                (
                    "undeliverable_reason",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("bounce", "Bounced"),
                            ("complaint", "Spam complaint"),
                            ("manual", "Marked by staff"),
                        ],
                        max_length=16,
                        verbose_name="why undeliverable",
                    ),
                ),
                (
                    "undeliverable_detail",
                    models.CharField(blank=True, max_length=255, verbose_name="details"),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="newsletter_subscriptions",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="member",
                    ),
                ),
            ],
            options={
                "verbose_name": "subscriber",
                "verbose_name_plural": "subscribers",
                "ordering": ["-created_at"],
                "indexes": [models.Index(fields=["status"], name="newsletter_subscriber_status")],
                "constraints": [
                    models.UniqueConstraint(
                        django.db.models.functions.text.Lower("email"),
                        name="newsletter_subscriber_email_ci",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Delivery",
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
                            ("pending", "Pending"),
                            ("sending", "Sending"),
                            ("sent", "Sent"),
                            ("failed", "Failed"),
                            ("unknown", "Unknown (interrupted)"),
                            ("skipped", "Skipped"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="attempts")),
                ("batch", models.UUIDField(blank=True, editable=False, null=True)),
                ("claimed_at", models.DateTimeField(blank=True, null=True, verbose_name="claimed")),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent")),
                ("error", models.CharField(blank=True, max_length=255, verbose_name="last error")),
                (
                    "issue",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="newsletter.issue",
                        verbose_name="issue",
                    ),
                ),
                (
                    "subscriber",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="newsletter.subscriber",
                        verbose_name="subscriber",
                    ),
                ),
            ],
            options={
                "verbose_name": "delivery",
                "verbose_name_plural": "deliveries",
                "indexes": [
                    models.Index(fields=["issue", "status", "id"], name="newsletter_delivery_queue")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("issue", "subscriber"), name="newsletter_delivery_once"
                    )
                ],
            },
        ),
    ]

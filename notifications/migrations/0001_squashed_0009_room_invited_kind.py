import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """The app's migrations up to the name's, squashed into one (docs/deploy.md, "Upgrading"):
    written anew from the models, as makemigrations would, plus what the models do not hold.
    A database that ran all of those is marked as having run this one; a new one runs it."""

    replaces = [
        ("notifications", "0001_initial"),
        ("notifications", "0002_preferences_from_email_settings"),
        ("notifications", "0003_notification_about"),
        ("notifications", "0004_alter_notification_kind_alter_preference_kind"),
        ("notifications", "0005_held_and_focus_kinds"),
        ("notifications", "0006_push"),
        ("notifications", "0007_alter_notification_kind_alter_preference_kind"),
        ("notifications", "0008_relation_names"),
        ("notifications", "0009_room_invited_kind"),
    ]

    initial = True

    dependencies = [
        ("members", "0001_squashed_0019_user_avatar_thumbnail"),
    ]

    operations = [
        migrations.CreateModel(
            name="QuietHours",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
                ("start", models.TimeField(blank=True, null=True, verbose_name="from")),
                ("end", models.TimeField(blank=True, null=True, verbose_name="until")),
            ],
            options={
                "verbose_name": "quiet hours",
                "verbose_name_plural": "quiet hours",
            },
        ),
        migrations.CreateModel(
            name="PushSubscription",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "endpoint",
                    models.URLField(max_length=1000, unique=True, verbose_name="endpoint"),
                ),
                ("p256dh", models.CharField(max_length=100, verbose_name="public key")),
                ("auth", models.CharField(max_length=40, verbose_name="authentication secret")),
                ("device", models.CharField(blank=True, max_length=80, verbose_name="device")),
                (
                    "session_key",
                    models.CharField(blank=True, max_length=40, verbose_name="session"),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="added at"
                    ),
                ),
                (
                    "last_push_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="last push"),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="push_subscriptions",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "push subscription",
                "verbose_name_plural": "push subscriptions",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="Digest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("week", models.DateField(verbose_name="week")),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent at")),
                ("skipped", models.BooleanField(default=False, verbose_name="skipped")),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="created at"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="digests",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "digest",
                "verbose_name_plural": "digests",
                "ordering": ["-week"],
                "constraints": [
                    models.UniqueConstraint(fields=("user", "week"), name="digest_once")
                ],
            },
        ),
        migrations.CreateModel(
            name="Notification",
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
                            ("pair_created", "New coffee pair"),
                            ("pair_follow_up", "Coffee pair follow-up"),
                            ("event_reminder", "Event reminder"),
                            ("waitlist_promoted", "Seat from the waiting list"),
                            ("mention", "Mention in a room"),
                            ("event_changed", "Event changed or cancelled"),
                            ("message", "Unread private messages"),
                            ("focus_reminder", "Focus session about to start"),
                            ("focus_no_show", "Missed focus session"),
                            ("room_invited", "Invitation to a room"),
                        ],
                        max_length=20,
                        verbose_name="kind",
                    ),
                ),
                ("key", models.CharField(max_length=120, verbose_name="occasion")),
                ("text", models.CharField(max_length=300, verbose_name="text")),
                ("url", models.CharField(blank=True, max_length=300, verbose_name="link")),
                ("in_app", models.BooleanField(default=True, verbose_name="shown on the site")),
                ("for_digest", models.BooleanField(default=False, verbose_name="for the digest")),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="created at"
                    ),
                ),
                ("read_at", models.DateTimeField(blank=True, null=True, verbose_name="read at")),
                (
                    "held_until",
                    models.DateTimeField(blank=True, null=True, verbose_name="held until"),
                ),
                (
                    "held_email",
                    models.BooleanField(default=False, verbose_name="email when released"),
                ),
                (
                    "released_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="released at"),
                ),
                (
                    "pushed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="pushed at"),
                ),
                (
                    "about",
                    models.ManyToManyField(
                        blank=True,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="about",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "notification",
                "verbose_name_plural": "notifications",
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("in_app", True)),
                        fields=["user", "-created_at"],
                        name="notification_list",
                    ),
                    models.Index(
                        condition=models.Q(("in_app", True), ("read_at__isnull", True)),
                        fields=["user"],
                        name="notification_unread",
                    ),
                    models.Index(
                        condition=models.Q(
                            ("held_until__isnull", False), ("released_at__isnull", True)
                        ),
                        fields=["held_until"],
                        name="notification_held",
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("user", "key"), name="notification_once")
                ],
            },
        ),
        migrations.CreateModel(
            name="Preference",
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
                            ("pair_created", "New coffee pair"),
                            ("pair_follow_up", "Coffee pair follow-up"),
                            ("event_reminder", "Event reminder"),
                            ("waitlist_promoted", "Seat from the waiting list"),
                            ("mention", "Mention in a room"),
                            ("event_changed", "Event changed or cancelled"),
                            ("message", "Unread private messages"),
                            ("focus_reminder", "Focus session about to start"),
                            ("focus_no_show", "Missed focus session"),
                            ("room_invited", "Invitation to a room"),
                        ],
                        max_length=20,
                        verbose_name="kind",
                    ),
                ),
                (
                    "channel",
                    models.CharField(
                        choices=[
                            ("both", "On the site and by email"),
                            ("in_app", "On the site only"),
                            ("email", "By email only"),
                            ("digest", "On the site, and in the weekly digest if I have been away"),
                        ],
                        max_length=8,
                        verbose_name="channel",
                    ),
                ),
                ("push", models.BooleanField(default=True, verbose_name="push notification")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notification_preferences",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "notification preference",
                "verbose_name_plural": "notification preferences",
                "constraints": [
                    models.UniqueConstraint(fields=("user", "kind"), name="preference_once")
                ],
            },
        ),
    ]

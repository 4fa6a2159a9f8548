import uuid

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


# The always-open room every member finds on arrival.
def cafeteria_create(apps, schema_editor):
    Room = apps.get_model("rooms", "Room")
    Room.objects.get_or_create(
        slug="cafeteria", defaults={"kind": "cafeteria", "name": "Cafeteria"}
    )


class Migration(migrations.Migration):
    """The app's migrations up to the name's, squashed into one (docs/deploy.md, "Upgrading"):
    written anew from the models, as makemigrations would, plus what the models do not hold.
    A database that ran all of those is marked as having run this one; a new one runs it."""

    replaces = [
        ("rooms", "0001_initial"),
        ("rooms", "0002_presence"),
        ("rooms", "0003_mentions"),
        ("rooms", "0004_presence_calls"),
        ("rooms", "0005_room_opens_at"),
        ("rooms", "0006_visits"),
        ("rooms", "0007_mention_notifications_about"),
        ("rooms", "0008_reactions"),
        ("rooms", "0009_message_reply_to"),
        ("rooms", "0010_message_seq"),
        ("rooms", "0011_message_seq_required"),
        ("rooms", "0012_message_is_question"),
        ("rooms", "0013_alter_room_kind"),
        ("rooms", "0014_message_room_time"),
        ("rooms", "0015_relation_names"),
    ]

    initial = True

    dependencies = [
        ("members", "0001_squashed_0019_user_avatar_thumbnail"),
    ]

    operations = [
        migrations.CreateModel(
            name="Room",
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
                            ("cafeteria", "Cafeteria"),
                            ("permanent", "Permanent meeting room"),
                            ("member", "Member's meeting room"),
                            ("focus", "Focus block's room"),
                        ],
                        default="member",
                        max_length=12,
                        verbose_name="kind",
                    ),
                ),
                ("name", models.CharField(max_length=80, verbose_name="name")),
                ("slug", models.SlugField(max_length=60, unique=True, verbose_name="slug")),
                (
                    "description",
                    models.TextField(
                        blank=True,
                        validators=[django.core.validators.MaxLengthValidator(500)],
                        verbose_name="description",
                    ),
                ),
                (
                    "private",
                    models.BooleanField(
                        default=False,
                        help_text="Only invited members can enter.",
                        verbose_name="private",
                    ),
                ),
                (
                    "capacity",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        help_text="Leave empty for no limit.",
                        null=True,
                        validators=[django.core.validators.MinValueValidator(2)],
                        verbose_name="capacity",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="created at"
                    ),
                ),
                (
                    "last_activity_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="last activity"
                    ),
                ),
                (
                    "closed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="closed at"),
                ),
                ("opens_at", models.DateTimeField(blank=True, null=True, verbose_name="opens at")),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="rooms_created",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="created by",
                    ),
                ),
                (
                    "invitees",
                    models.ManyToManyField(
                        blank=True,
                        related_name="room_invitations",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="invited members",
                    ),
                ),
            ],
            options={
                "verbose_name": "room",
                "verbose_name_plural": "rooms",
                "ordering": ["kind", "name"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("closed_at__isnull", True), ("kind", "member")),
                        fields=["last_activity_at"],
                        name="room_member_open_activity",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("kind", "cafeteria")),
                        fields=("kind",),
                        name="room_one_cafeteria",
                        violation_error_message="There is already a cafeteria.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("kind", "cafeteria"), _negated=True),
                            models.Q(("closed_at__isnull", True), ("private", False)),
                            _connector="OR",
                        ),
                        name="room_cafeteria_open_to_all",
                        violation_error_message="The cafeteria is always open to every member.",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Message",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "text",
                    models.TextField(
                        validators=[django.core.validators.MaxLengthValidator(2000)],
                        verbose_name="text",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="created at"
                    ),
                ),
                (
                    "edited_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="edited at"),
                ),
                (
                    "deleted_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="deleted at"),
                ),
                (
                    "seq",
                    models.PositiveIntegerField(editable=False, verbose_name="number in the room"),
                ),
                (
                    "client_id",
                    models.UUIDField(
                        blank=True, default=uuid.uuid4, null=True, verbose_name="client id"
                    ),
                ),
                ("is_question", models.BooleanField(default=False, verbose_name="question")),
                (
                    "author",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="room_messages",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="author",
                    ),
                ),
                (
                    "deleted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="deleted by",
                    ),
                ),
                (
                    "reply_to",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="rooms.message",
                        verbose_name="in reply to",
                    ),
                ),
                (
                    "room",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="messages",
                        to="rooms.room",
                        verbose_name="room",
                    ),
                ),
            ],
            options={
                "verbose_name": "message",
                "verbose_name_plural": "messages",
                "indexes": [
                    models.Index(fields=["room", "-id"], name="message_room_history"),
                    models.Index(fields=["room", "created_at", "id"], name="message_room_time"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("room", "author", "client_id"), name="message_client_id_once"
                    ),
                    models.UniqueConstraint(fields=("room", "seq"), name="message_seq_once"),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("deleted_at__isnull", True), ("text", ""), _connector="OR"
                        ),
                        name="message_deleted_has_no_text",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Presence",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "channel_name",
                    models.CharField(max_length=200, unique=True, verbose_name="channel name"),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("working", "Working"),
                            ("break", "On a break"),
                            ("call", "In a call"),
                            ("dnd", "Do not disturb"),
                        ],
                        default="working",
                        max_length=8,
                        verbose_name="status",
                    ),
                ),
                (
                    "since",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="since"),
                ),
                (
                    "connected_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="connected at"
                    ),
                ),
                (
                    "heartbeat_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="last heartbeat"
                    ),
                ),
                (
                    "table",
                    models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="table"),
                ),
                ("audio", models.BooleanField(default=False, verbose_name="audio")),
                ("video", models.BooleanField(default=False, verbose_name="video")),
                ("screen", models.BooleanField(default=False, verbose_name="screen sharing")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="room_presences",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
                (
                    "room",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="presences",
                        to="rooms.room",
                        verbose_name="room",
                    ),
                ),
            ],
            options={
                "verbose_name": "presence",
                "verbose_name_plural": "presences",
                "indexes": [
                    models.Index(fields=["room", "heartbeat_at"], name="presence_room_live"),
                    models.Index(fields=["heartbeat_at"], name="presence_heartbeat"),
                    models.Index(
                        condition=models.Q(("table__isnull", False)),
                        fields=["room", "table"],
                        name="presence_seated",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="HourlyUsage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("hour", models.DateTimeField(verbose_name="hour")),
                ("seconds", models.PositiveIntegerField(default=0, verbose_name="member-seconds")),
                (
                    "room",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="hourly_usage",
                        to="rooms.room",
                        verbose_name="room",
                    ),
                ),
            ],
            options={
                "verbose_name": "hourly use",
                "verbose_name_plural": "hourly use",
                "indexes": [models.Index(fields=["hour"], name="usage_hour")],
                "constraints": [
                    models.UniqueConstraint(fields=("room", "hour"), name="usage_room_hour")
                ],
            },
        ),
        migrations.CreateModel(
            name="RoomParticipation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "first_seen_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="first seen"),
                ),
                (
                    "last_seen_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="last seen"),
                ),
                (
                    "muted_until",
                    models.DateTimeField(blank=True, null=True, verbose_name="muted until"),
                ),
                (
                    "removed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="removed at"),
                ),
                (
                    "moderated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="moderated by",
                    ),
                ),
                (
                    "room",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="participations",
                        to="rooms.room",
                        verbose_name="room",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="room_participations",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "room participation",
                "verbose_name_plural": "room participations",
                "constraints": [
                    models.UniqueConstraint(fields=("room", "user"), name="room_participation_once")
                ],
            },
        ),
        migrations.CreateModel(
            name="Visit",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("started_at", models.DateTimeField(verbose_name="started at")),
                ("ended_at", models.DateTimeField(verbose_name="ended at")),
                (
                    "room",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="visits",
                        to="rooms.room",
                        verbose_name="room",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="room_visits",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "visit",
                "verbose_name_plural": "visits",
                "indexes": [models.Index(fields=["room", "ended_at"], name="visit_room_ended")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("room", "user", "started_at"), name="visit_once"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("ended_at__gte", models.F("started_at"))),
                        name="visit_ends_after",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Mention",
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
                        default=django.utils.timezone.now, verbose_name="created at"
                    ),
                ),
                (
                    "emailed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="emailed at"),
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
                (
                    "message",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="rooms.message",
                        verbose_name="message",
                    ),
                ),
            ],
            options={
                "verbose_name": "mention",
                "verbose_name_plural": "mentions",
                "constraints": [
                    models.UniqueConstraint(fields=("message", "user"), name="mention_once")
                ],
            },
        ),
        migrations.CreateModel(
            name="Reaction",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("emoji", models.CharField(max_length=8)),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "message",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reactions",
                        to="rooms.message",
                        verbose_name="message",
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
                "verbose_name": "reaction",
                "verbose_name_plural": "reactions",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("message", "user", "emoji"), name="room_reaction_once"
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="message",
            name="mentions",
            field=models.ManyToManyField(
                blank=True,
                related_name="room_mentions",
                through="rooms.Mention",
                to=settings.AUTH_USER_MODEL,
                verbose_name="mentioned members",
            ),
        ),
        migrations.RunPython(cafeteria_create, migrations.RunPython.noop),
    ]

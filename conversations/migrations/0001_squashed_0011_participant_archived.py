import django.contrib.postgres.search
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import conversations.attachments
import conversations.models

# The members' search in their own conversations (conversations.selectors.messages_search)
# reads search_vector on PostgreSQL through this GIN index; other databases read the text.
SEARCH_INDEX = (
    "CREATE INDEX IF NOT EXISTS conversation_message_search ON conversations_message "
    "USING gin (search_vector)"
)


def search_index_add(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SEARCH_INDEX)


def search_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS conversation_message_search")


class Migration(migrations.Migration):
    """The app's migrations up to the name's, squashed into one (docs/deploy.md, "Upgrading"):
    written anew from the models, as makemigrations would, plus what the models do not hold.
    A database that ran all of those is marked as having run this one; a new one runs it."""

    replaces = [
        ("conversations", "0001_initial"),
        ("conversations", "0002_participant_told_upto_id"),
        ("conversations", "0003_message_deleted_at"),
        ("conversations", "0004_conversation_origin"),
        ("conversations", "0005_message_search"),
        ("conversations", "0006_replies_edits_reactions"),
        ("conversations", "0007_attachments"),
        ("conversations", "0008_coffee_tables"),
        ("conversations", "0009_relation_names"),
        ("conversations", "0010_participant_muted"),
        ("conversations", "0011_participant_archived"),
    ]

    initial = True

    dependencies = [
        ("matching", "0001_squashed_0014_participation_resumed_at"),
        ("members", "0001_squashed_0019_user_avatar_thumbnail"),
        ("rooms", "0001_squashed_0015_relation_names"),
    ]

    operations = [
        migrations.CreateModel(
            name="CoffeeTable",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("met_at", models.DateTimeField(blank=True, null=True, verbose_name="met at")),
                (
                    "group",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="table",
                        to="matching.group",
                        verbose_name="group",
                    ),
                ),
                (
                    "room",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="rooms.room",
                        verbose_name="room",
                    ),
                ),
            ],
            options={
                "verbose_name": "coffee table",
                "verbose_name_plural": "coffee tables",
            },
        ),
        migrations.CreateModel(
            name="Conversation",
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
                        choices=[("direct", "Direct"), ("group", "Group")],
                        max_length=10,
                        verbose_name="kind",
                    ),
                ),
                ("title", models.CharField(blank=True, max_length=80, verbose_name="name")),
                (
                    "direct_key",
                    models.CharField(
                        blank=True, editable=False, max_length=41, null=True, unique=True
                    ),
                ),
                (
                    "origin",
                    models.CharField(
                        blank=True, editable=False, max_length=40, null=True, unique=True
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                ("last_message_at", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="created by",
                    ),
                ),
            ],
            options={
                "verbose_name": "conversation",
                "verbose_name_plural": "conversations",
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
                ("client_id", models.UUIDField()),
                (
                    "text",
                    models.TextField(
                        validators=[django.core.validators.MaxLengthValidator(4000)],
                        verbose_name="message",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                ("edited_at", models.DateTimeField(blank=True, editable=False, null=True)),
                ("deleted_at", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "search_vector",
                    django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
                ),
                (
                    "author",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="author",
                    ),
                ),
                (
                    "conversation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="messages",
                        to="conversations.conversation",
                        verbose_name="conversation",
                    ),
                ),
                (
                    "reply_to",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="conversations.message",
                        verbose_name="reply to",
                    ),
                ),
            ],
            options={
                "verbose_name": "message",
                "verbose_name_plural": "messages",
                "indexes": [
                    models.Index(fields=["conversation", "id"], name="conversation_message_page")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("conversation", "author", "client_id"),
                        name="conversation_message_once",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Participant",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "joined_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                ("last_read_id", models.BigIntegerField(default=0, editable=False)),
                ("told_upto_id", models.BigIntegerField(default=0, editable=False)),
                (
                    "muted_at",
                    models.DateTimeField(
                        blank=True, editable=False, null=True, verbose_name="muted"
                    ),
                ),
                (
                    "archived_at",
                    models.DateTimeField(
                        blank=True, editable=False, null=True, verbose_name="archived"
                    ),
                ),
                (
                    "conversation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="participants",
                        to="conversations.conversation",
                        verbose_name="conversation",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="conversation_seats",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "participant",
                "verbose_name_plural": "participants",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("conversation", "user"), name="one_seat_per_member"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Attachment",
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
                        choices=[("image", "Picture"), ("file", "File")],
                        max_length=5,
                        verbose_name="kind",
                    ),
                ),
                (
                    "file",
                    models.FileField(
                        max_length=200,
                        storage=conversations.attachments.private_storage,
                        upload_to=conversations.models._attachment_path,
                    ),
                ),
                (
                    "thumbnail",
                    models.FileField(
                        blank=True,
                        max_length=200,
                        storage=conversations.attachments.private_storage,
                        upload_to=conversations.models._attachment_path,
                    ),
                ),
                ("name", models.CharField(max_length=120, verbose_name="name")),
                ("size", models.PositiveIntegerField(verbose_name="size in bytes")),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "message",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="attachment",
                        to="conversations.message",
                        verbose_name="message",
                    ),
                ),
            ],
            options={
                "verbose_name": "attachment",
                "verbose_name_plural": "attachments",
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
                        to="conversations.message",
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
                        fields=("message", "user", "emoji"), name="conversation_reaction_once"
                    )
                ],
            },
        ),
        migrations.RunPython(search_index_add, search_index_drop),
    ]

"""What a reconnecting page asks of a conversation (the messages edited or deleted since it
last heard) read from two small partial indexes, built without holding up writes."""

from django.db import migrations, models

from core.schema import AddIndexWithoutLocking


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("conversations", "0013_message_reactions_version")]

    operations = [
        AddIndexWithoutLocking(
            model_name="message",
            index=models.Index(
                condition=models.Q(edited_at__isnull=False),
                fields=["conversation", "edited_at"],
                name="conversation_message_edited",
            ),
        ),
        AddIndexWithoutLocking(
            model_name="message",
            index=models.Index(
                condition=models.Q(deleted_at__isnull=False),
                fields=["conversation", "deleted_at"],
                name="conversation_message_deleted",
            ),
        ),
    ]

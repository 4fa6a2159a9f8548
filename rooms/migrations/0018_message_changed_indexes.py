"""What a reconnecting room page asks (the messages edited or deleted since it last heard)
read from two small partial indexes, built without holding up writes."""

from django.db import migrations, models

from core.schema import AddIndexWithoutLocking


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("rooms", "0017_message_reactions_version")]

    operations = [
        AddIndexWithoutLocking(
            model_name="message",
            index=models.Index(
                condition=models.Q(edited_at__isnull=False),
                fields=["room", "edited_at"],
                name="message_room_edited",
            ),
        ),
        AddIndexWithoutLocking(
            model_name="message",
            index=models.Index(
                condition=models.Q(deleted_at__isnull=False),
                fields=["room", "deleted_at"],
                name="message_room_deleted",
            ),
        ),
    ]

"""When a room message's reactions last changed, so that a reconnecting page hears of them
with the edits and deletions it missed; read from a small partial index, built without
holding up writes. The column is nullable: the release before, still serving, leaves it out."""

from django.db import migrations, models

from core.schema import AddIndexWithoutLocking


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("rooms", "0018_message_changed_indexes")]

    operations = [
        migrations.AddField(
            model_name="message",
            name="reactions_changed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        AddIndexWithoutLocking(
            model_name="message",
            index=models.Index(
                condition=models.Q(reactions_changed_at__isnull=False),
                fields=["room", "reactions_changed_at"],
                name="message_room_reacted",
            ),
        ),
    ]

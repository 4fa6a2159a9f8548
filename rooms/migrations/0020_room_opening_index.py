"""The rooms that open at a set time and are not closed, by that time: the minute tick that
tells lobbies of a room just opened read the whole table, which only grows. Built without
holding up writes."""

from django.db import migrations, models

from core.schema import AddIndexWithoutLocking


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("rooms", "0019_message_reactions_changed_at")]

    operations = [
        AddIndexWithoutLocking(
            model_name="room",
            index=models.Index(
                condition=models.Q(closed_at__isnull=True, opens_at__isnull=False),
                fields=["opens_at"],
                name="room_opening",
            ),
        ),
    ]

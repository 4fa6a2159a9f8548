from django.conf import settings
from django.db import migrations, models

from core.schema import AddIndexWithoutLocking


class Migration(migrations.Migration):
    # The messages table is the site's biggest: chat goes on while its index is built.
    atomic = False

    dependencies = [
        ("rooms", "0013_alter_room_kind"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexWithoutLocking(
            model_name="message",
            index=models.Index(fields=["room", "created_at", "id"], name="message_room_time"),
        ),
    ]

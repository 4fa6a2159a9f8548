# Reports now belong to the moderation app (its 0001 renames the table).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("members", "0007_notification_preferences"),
        ("moderation", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Report")],
            database_operations=[],
        ),
    ]

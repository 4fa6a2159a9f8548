from django.db import migrations, models

# Numbers the messages already stored, room by room in id order (the order they were
# stored). Both PostgreSQL and SQLite (3.33 and later) run this statement.
NUMBER_EXISTING = """
UPDATE rooms_message SET seq = numbered.n
FROM (
    SELECT id, ROW_NUMBER() OVER (PARTITION BY room_id ORDER BY id) AS n FROM rooms_message
) AS numbered
WHERE rooms_message.id = numbered.id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0009_message_reply_to"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="seq",
            field=models.PositiveIntegerField(
                editable=False, null=True, verbose_name="number in the room"
            ),
        ),
        migrations.RunSQL(NUMBER_EXISTING, reverse_sql=migrations.RunSQL.noop),
    ]

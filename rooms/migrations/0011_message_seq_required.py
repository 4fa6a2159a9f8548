# In a migration of its own: PostgreSQL refuses to alter a table whose rows the same
# transaction has just updated while constraint checks are still pending.
from django.db import migrations, models

# Messages stored by the previous release's web processes while 0010 ran (a deploy keeps
# them serving until the new ones start): numbered after their room's last number.
NUMBER_LATE_ONES = """
UPDATE rooms_message SET seq = numbered.n
FROM (
    SELECT m.id,
        COALESCE((SELECT MAX(o.seq) FROM rooms_message o WHERE o.room_id = m.room_id), 0)
        + ROW_NUMBER() OVER (PARTITION BY m.room_id ORDER BY m.id) AS n
    FROM rooms_message m
    WHERE m.seq IS NULL
) AS numbered
WHERE rooms_message.id = numbered.id
"""


def number_late_ones(apps, schema_editor):  # type: ignore[no-untyped-def]
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(NUMBER_LATE_ONES)


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0010_message_seq"),
    ]

    operations = [
        migrations.RunPython(number_late_ones, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="message",
            name="seq",
            field=models.PositiveIntegerField(editable=False, verbose_name="number in the room"),
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(fields=("room", "seq"), name="message_seq_once"),
        ),
    ]

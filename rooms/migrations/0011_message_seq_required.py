# In a migration of its own: PostgreSQL refuses to alter a table whose rows the same
# transaction has just updated while constraint checks are still pending.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0010_message_seq"),
    ]

    operations = [
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

from django.db import migrations, models
from django.db.models import F


def rounds_before_announced(apps, schema_editor):
    # Every round made before this was announced by the code of its day.
    apps.get_model("matching", "Round").objects.update(announced_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0001_squashed_0014_participation_resumed_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="round",
            name="announced_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="announced at"),
        ),
        migrations.RunPython(rounds_before_announced, migrations.RunPython.noop),
    ]

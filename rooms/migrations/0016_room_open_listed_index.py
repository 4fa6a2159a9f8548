from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0001_squashed_0015_relation_names"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="room",
            index=models.Index(
                condition=models.Q(
                    ("closed_at__isnull", True), models.Q(("kind", "focus"), _negated=True)
                ),
                fields=["name"],
                name="room_open_listed",
            ),
        ),
    ]

# The free-text name is gone (0010 moved it into the labels); the labels get their guards.

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("members", "0010_interests_merged")]

    operations = [
        # A default first, so that migrating back can add the column to a table with rows.
        migrations.AlterField(
            model_name="interest",
            name="name",
            field=models.CharField(default="", max_length=50, verbose_name="name"),
        ),
        migrations.RemoveField(model_name="interest", name="name"),
        migrations.AddConstraint(
            model_name="interest",
            constraint=models.CheckConstraint(
                condition=models.Q(("label_es", ""), _negated=True), name="interest_label_es"
            ),
        ),
        migrations.AddConstraint(
            model_name="interest",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("label_es"),
                name="interest_label_es_ci_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="interest",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("label_en"),
                condition=models.Q(("label_en", ""), _negated=True),
                name="interest_label_en_ci_unique",
            ),
        ),
    ]

# Interests become curated, bilingual tags (docs/interests.md). This step adds the new
# columns; 0010 fills them from the free-text names, merging variants; 0011 drops `name`.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0008_report_moved_to_moderation"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="interest",
            options={
                "ordering": ["label_es"],
                "verbose_name": "interest",
                "verbose_name_plural": "interests",
            },
        ),
        migrations.AddField(
            model_name="interest",
            name="label_es",
            field=models.CharField(default="", max_length=50, verbose_name="label in Spanish"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="interest",
            name="label_en",
            field=models.CharField(
                blank=True,
                help_text="Leave it empty when it is written as in Spanish (“Python”, “UX”).",
                max_length=50,
                verbose_name="label in English",
            ),
        ),
        migrations.AddField(
            model_name="interest",
            name="status",
            field=models.CharField(
                choices=[("approved", "Approved"), ("suggested", "Suggested, waiting for review")],
                default="approved",
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.AddField(
            model_name="interest",
            name="suggested_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="suggested by",
            ),
        ),
        migrations.AddField(
            model_name="interest",
            name="created_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, editable=False, verbose_name="created"
            ),
        ),
        migrations.AlterField(
            model_name="interest",
            name="slug",
            field=models.SlugField(
                help_text="How the member directory's filter names it in its address.",
                max_length=60,
                unique=True,
                verbose_name="slug",
            ),
        ),
    ]

import django.db.models.deletion
from django.db import migrations, models

# Django's own name for the foreign key's index (0001_initial).
INDEX = "newsletter_delivery_issue_id_7b323103"


class Migration(migrations.Migration):
    """The issue's own index goes: the unique constraint and the queue index both begin
    with the issue, and every result written updates each index of the table. Only the
    index is dropped (Django would also drop and re-add, and so re-check, the foreign key)."""

    dependencies = [
        ("newsletter", "0002_issue_in_english"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="delivery",
                    name="issue",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="newsletter.issue",
                        verbose_name="issue",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "newsletter_delivery" ("issue_id")',
                ),
            ],
        ),
    ]

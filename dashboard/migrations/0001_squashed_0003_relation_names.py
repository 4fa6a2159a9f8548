import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """The app's migrations up to the name's, squashed into one (docs/deploy.md, "Upgrading"):
    written anew from the models, as makemigrations would, plus what the models do not hold.
    A database that ran all of those is marked as having run this one; a new one runs it."""

    replaces = [
        ("dashboard", "0001_initial"),
        ("dashboard", "0002_daily_figures"),
        ("dashboard", "0003_relation_names"),
    ]

    initial = True

    dependencies = [
        ("matching", "0001_squashed_0014_participation_resumed_at"),
    ]

    operations = [
        migrations.CreateModel(
            name="DailyFigures",
            fields=[
                ("day", models.DateField(primary_key=True, serialize=False)),
                ("joined", models.PositiveIntegerField(default=0)),
                ("room_seconds", models.JSONField(default=dict)),
                ("events", models.PositiveIntegerField(default=0)),
                ("events_going", models.PositiveIntegerField(default=0)),
                ("events_attended", models.PositiveIntegerField(default=0)),
                ("events_counted", models.PositiveIntegerField(default=0)),
                ("newsletter_confirmed", models.PositiveIntegerField(default=0)),
                ("newsletter_unsubscribed", models.PositiveIntegerField(default=0)),
                ("newsletter_undeliverable", models.PositiveIntegerField(default=0)),
                ("members", models.PositiveIntegerField(null=True)),
                ("active_7", models.PositiveIntegerField(null=True)),
                ("active_30", models.PositiveIntegerField(null=True)),
                ("opt_in", models.JSONField(default=dict)),
                ("subscribers", models.PositiveIntegerField(null=True)),
                ("pending", models.PositiveIntegerField(null=True)),
                ("computed_at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "daily figures",
                "verbose_name_plural": "daily figures",
            },
        ),
        migrations.CreateModel(
            name="RoundFigures",
            fields=[
                (
                    "round",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="dashboard_figures",
                        serialize=False,
                        to="matching.round",
                        verbose_name="round",
                    ),
                ),
                ("groups", models.PositiveIntegerField()),
                ("seats", models.PositiveIntegerField()),
                ("met", models.PositiveIntegerField()),
                ("answered", models.PositiveIntegerField()),
                ("scheduled", models.PositiveIntegerField()),
                ("scheduled_soon", models.PositiveIntegerField()),
                ("to_agree", models.DurationField(null=True)),
                ("computed_at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "round figures",
                "verbose_name_plural": "round figures",
            },
        ),
    ]

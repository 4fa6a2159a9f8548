"""The members' old email switches become notification preferences: a switch that was off
keeps those notices on the site only, so nobody starts getting emails they had turned off."""

from django.db import migrations

OLD_SWITCHES = {
    "email_pairing": ["pair_created", "pair_follow_up"],
    "email_event_reminders": ["event_reminder"],
    "email_mentions": ["mention"],
}


def forwards(apps, schema_editor):
    User = apps.get_model("members", "User")
    Preference = apps.get_model("notifications", "Preference")
    rows = []
    for switch, kinds in OLD_SWITCHES.items():
        for user_id in User.objects.filter(**{switch: False}).values_list("pk", flat=True):
            rows.extend(Preference(user_id=user_id, kind=kind, channel="in_app") for kind in kinds)
    Preference.objects.bulk_create(rows, ignore_conflicts=True)


def backwards(apps, schema_editor):
    User = apps.get_model("members", "User")
    Preference = apps.get_model("notifications", "Preference")
    for switch, kinds in OLD_SWITCHES.items():
        off = Preference.objects.filter(kind__in=kinds, channel__in=["in_app", "digest"])
        User.objects.filter(pk__in=off.values("user_id")).update(**{switch: False})


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("members", "0005_last_seen"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]

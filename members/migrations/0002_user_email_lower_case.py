"""Addresses in lower case, whole (members.models.UserManager.normalize_email): those
created with capitals before the local part (createsuperuser, the admin) could not sign in.
The case-insensitive unique constraint means no two rows become one."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0001_squashed_0019_user_avatar_thumbnail"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [
        migrations.RunSQL(
            "UPDATE members_user SET email = lower(email) WHERE email <> lower(email)",
            reverse_sql=migrations.RunSQL.noop,
        ),
        # allauth's copy of the address, which it looks up in lower case too.
        migrations.RunSQL(
            "UPDATE account_emailaddress SET email = lower(email) WHERE email <> lower(email)",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]

from django.db import migrations

# The member directory pages through its two indexed orders with keyset pagination
# (members/selectors.py `directory_page`): each page reads 25 rows of one of these indexes
# from where the previous page ended, instead of sorting every listed profile.
# Newest first: the listed profiles only, in the order of NEWEST_KEYS.
NEWEST_INDEX = (
    "CREATE INDEX IF NOT EXISTS profile_directory_newest "
    "ON members_profile (onboarded_at DESC, id DESC) "
    "WHERE visible_in_directory AND onboarded_at IS NOT NULL"
)
# By name: LOWER(display_name) is what the directory sorts by, the id its tie-breaker.
NAME_INDEX = (
    "CREATE INDEX IF NOT EXISTS user_directory_name ON members_user (LOWER(display_name), id)"
)


class Migration(migrations.Migration):
    dependencies = [("members", "0012_profile_messages_from")]

    # Plain SQL that PostgreSQL and SQLite both understand (partial and expression indexes);
    # the indexes are not in the models' state, like 0003's full-text index.
    operations = [
        migrations.RunSQL(NEWEST_INDEX, "DROP INDEX IF EXISTS profile_directory_newest"),
        migrations.RunSQL(NAME_INDEX, "DROP INDEX IF EXISTS user_directory_name"),
    ]

from django.db import migrations

# The directory's full-text search (members/selectors.py) filters on exactly this expression,
# which is what Django's SearchVector("search_text", config="simple") compiles to; keep them equal.
SEARCH_INDEX = (
    "CREATE INDEX IF NOT EXISTS profile_search_fts ON members_profile USING gin "
    "(to_tsvector('simple'::regconfig, COALESCE(search_text, '')))"
)


def add_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SEARCH_INDEX)


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS profile_search_fts")


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]

    operations = [
        migrations.RunPython(add_search_index, drop_search_index),
    ]

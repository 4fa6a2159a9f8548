from django.db import migrations

LANGUAGE_CODES = ["es", "en", "pt", "ca", "eu", "gl", "fr", "it", "de", "nl", "qu", "gn", "zh", "ar"]

# The directory's full-text search (members/selectors.py) filters on exactly this expression,
# which is what Django's SearchVector("search_text", config="simple") compiles to; keep them equal.
SEARCH_INDEX = (
    "CREATE INDEX IF NOT EXISTS profile_search_fts ON members_profile USING gin "
    "(to_tsvector('simple'::regconfig, COALESCE(search_text, '')))"
)


def add_languages(apps, schema_editor):
    Language = apps.get_model("members", "Language")
    Language.objects.bulk_create(
        [Language(code=code) for code in LANGUAGE_CODES], ignore_conflicts=True
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
        migrations.RunPython(add_languages, migrations.RunPython.noop),
        migrations.RunPython(add_search_index, drop_search_index),
    ]

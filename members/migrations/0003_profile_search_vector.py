import django.contrib.postgres.search
from django.db import migrations

# The directory now searches and ranks the stored search_vector (members/selectors.py), so the
# GIN index moves from the expression of 0002 onto that column. search_vector must stay
# to_tsvector('simple', search_text): members.services.profile_refresh_search_text writes it.
BACKFILL = (
    "UPDATE members_profile "
    "SET search_vector = to_tsvector('simple'::regconfig, COALESCE(search_text, ''))"
)
VECTOR_INDEX = (
    "CREATE INDEX IF NOT EXISTS profile_search_vector ON members_profile USING gin (search_vector)"
)
EXPRESSION_INDEX = (
    "CREATE INDEX IF NOT EXISTS profile_search_fts ON members_profile USING gin "
    "(to_tsvector('simple'::regconfig, COALESCE(search_text, '')))"
)


def index_the_vector(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS profile_search_fts")
        schema_editor.execute(BACKFILL)
        schema_editor.execute(VECTOR_INDEX)


def index_the_expression(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS profile_search_vector")
        schema_editor.execute(EXPRESSION_INDEX)


class Migration(migrations.Migration):
    dependencies = [("members", "0002_search_index")]

    operations = [
        migrations.AddField(
            model_name="profile",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(index_the_vector, index_the_expression),
    ]

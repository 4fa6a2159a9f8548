import django.contrib.postgres.search
from django.db import migrations

# The members' search in their own conversations (conversations.selectors.messages_search)
# reads search_vector on PostgreSQL through this GIN index; other databases read the text.
INDEX = (
    "CREATE INDEX IF NOT EXISTS conversation_message_search ON conversations_message "
    "USING gin (search_vector)"
)


def index_and_backfill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from django.contrib.postgres.search import SearchVector
    from django.db.models import Value

    from members.search import normalise

    Message = apps.get_model("conversations", "Message")
    for message in Message.objects.filter(deleted_at__isnull=True).only("pk", "text").iterator():
        Message.objects.filter(pk=message.pk).update(
            search_vector=SearchVector(Value(normalise(message.text)), config="simple")
        )
    schema_editor.execute(INDEX)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS conversation_message_search")


class Migration(migrations.Migration):
    dependencies = [("conversations", "0004_conversation_origin")]

    operations = [
        migrations.AddField(
            model_name="message",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(index_and_backfill, drop_index),
    ]

# Mention notices recorded before notifications named whom they are about: link each to the
# message's author, so that deleting the author's account takes their name out of the text.

from django.db import migrations


def link_authors(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    Mention = apps.get_model("rooms", "Mention")
    for notification in Notification.objects.filter(key__startswith="mention:").iterator():
        mention = (
            Mention.objects.filter(pk=notification.key.removeprefix("mention:"))
            .select_related("message")
            .first()
        )
        if mention is not None and mention.message.author_id is not None:
            notification.about.add(mention.message.author_id)


class Migration(migrations.Migration):

    dependencies = [
        ("rooms", "0006_visits"),
        ("notifications", "0003_notification_about"),
    ]

    operations = [migrations.RunPython(link_authors, migrations.RunPython.noop)]

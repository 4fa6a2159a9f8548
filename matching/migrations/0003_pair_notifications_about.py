# Intros recorded before notifications named whom they are about: link each to the partners,
# so that deleting a partner's account takes their name out of the text.

from django.db import migrations


def link_partners(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    GroupMember = apps.get_model("matching", "GroupMember")
    for notification in Notification.objects.filter(key__startswith="pair:").iterator():
        seat = GroupMember.objects.filter(pk=notification.key.removeprefix("pair:")).first()
        if seat is None:
            continue
        partners = GroupMember.objects.filter(group_id=seat.group_id).exclude(user_id=seat.user_id)
        notification.about.add(*partners.values_list("user_id", flat=True))


class Migration(migrations.Migration):

    dependencies = [
        ("matching", "0002_participation_auto_pause_notice_sent_at"),
        ("notifications", "0003_notification_about"),
    ]

    operations = [migrations.RunPython(link_partners, migrations.RunPython.noop)]

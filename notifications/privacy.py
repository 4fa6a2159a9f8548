"""Personal data of the notifications app (the registry: members/privacy.py)."""

import re
from typing import Any
from urllib.parse import urlsplit

from django.utils import translation
from django.utils.translation import gettext as _

from members.models import User
from members.privacy import Deletion, export_moment, personal_data_register
from notifications.models import Digest, Notification, Preference, PushSubscription, QuietHours

# Other members' notifications rewritten at a time when an account is deleted.
RENAME_BATCH = 1000


def _export(user: User) -> dict[str, Any]:
    return {
        "preferences": dict(Preference.objects.filter(user=user).values_list("kind", "channel")),
        "push_preferences": dict(Preference.objects.filter(user=user).values_list("kind", "push")),
        "quiet_hours": [
            {
                "from": export_moment(hours.start),
                "until": export_moment(hours.end),
            }
            for hours in QuietHours.objects.filter(user=user)
        ],
        # The device and where its push service is; not the keys, which are the device's.
        "push_devices": [
            {
                "device": device.device,
                "push_service": urlsplit(device.endpoint).hostname,
                "added_at": device.created_at.isoformat(),
                "last_push_at": export_moment(device.last_push_at),
            }
            for device in PushSubscription.objects.filter(user=user)
        ],
        "received": [
            {
                "kind": notification.kind,
                "text": notification.text,
                "url": notification.url,
                "created_at": notification.created_at.isoformat(),
                "read_at": export_moment(notification.read_at),
            }
            for notification in Notification.objects.filter(user=user)
        ],
        "weekly_digests": [
            {"week": digest.week.isoformat(), "sent": digest.sent_at is not None}
            for digest in Digest.objects.filter(user=user)
        ],
    }


def _delete(user: User) -> None:
    Notification.objects.filter(user=user).delete()
    Preference.objects.filter(user=user).delete()
    Digest.objects.filter(user=user).delete()
    PushSubscription.objects.filter(user=user).delete()
    QuietHours.objects.filter(user=user).delete()
    # Other members' notifications that name them: the name goes, the news stays. As a whole
    # word: "Ana" leaves "Anabel" alone.
    # In batches of bulk updates: a member who mentioned people for a year is named in
    # thousands of them, rewritten inside the deletion's one transaction.
    name = re.compile(rf"(?<!\w){re.escape(user.name)}(?!\w)")
    formers: dict[str, str] = {}
    named = (
        Notification.objects.filter(about=user)
        .only("pk", "text", "user__language")
        .select_related("user")
        .order_by("pk")
    )
    batch: list[Notification] = []
    for notification in named.iterator(chunk_size=RENAME_BATCH):
        language = notification.user.language
        if language not in formers:
            with translation.override(language):
                # A template would read backslashes in the translation: escape them.
                formers[language] = str(_("Former member")).replace("\\", "\\\\")
        notification.text = name.sub(formers[language], notification.text)
        batch.append(notification)
        if len(batch) == RENAME_BATCH:
            Notification.objects.bulk_update(batch, ["text"])
            batch = []
    Notification.objects.bulk_update(batch, ["text"])
    Notification.about.through.objects.filter(user=user).delete()


def register() -> None:
    personal_data_register(
        key="notifications",
        models=(
            "notifications.Notification",
            "notifications.Preference",
            "notifications.Digest",
            "notifications.PushSubscription",
            "notifications.QuietHours",
        ),
        export=_export,
        delete=_delete,
        deletion=Deletion.ERASE,
        note="Other members' notifications that named them say “Former member” instead.",
    )

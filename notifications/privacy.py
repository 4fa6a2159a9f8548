"""Personal data of the notifications app (the registry: members/privacy.py)."""

import re
from collections.abc import Callable
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
    # Other members' notifications that name them: the name goes, the news stays.
    formers: dict[str, str] = {}

    def former(language: str) -> str:
        if language not in formers:
            with translation.override(language):
                formers[language] = str(_("Former member"))
        return formers[language]

    names_rewrite(user=user, name=user.name, replacement=former)
    Notification.about.through.objects.filter(user=user).delete()


def names_rewrite(*, user: User, name: str, replacement: Callable[[str], str]) -> int:
    """Other members' notifications that name `user` as `name`, with `replacement(the
    reader's language)` in its place: a deletion's "Former member", a rename's new name.
    As a whole word: "Ana" leaves "Anabel" alone. In batches of bulk updates: a member who
    mentioned people for a year is named in thousands of them. Returns how many changed."""
    pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")
    limit = Notification._meta.get_field("text").max_length or 0
    named = (
        Notification.objects.filter(about=user)
        .only("pk", "text", "user__language")
        .select_related("user")
        .order_by("pk")
    )
    batch: list[Notification] = []
    changed = 0
    for notification in named.iterator(chunk_size=RENAME_BATCH):
        text = _name_replace(notification.text, pattern, replacement(notification.user.language))
        if text == notification.text:
            continue
        # A longer name must not make the row too long for its column.
        notification.text = text if len(text) <= limit else text[: limit - 1] + "…"
        batch.append(notification)
        if len(batch) == RENAME_BATCH:
            Notification.objects.bulk_update(batch, ["text"])
            changed += len(batch)
            batch = []
    Notification.objects.bulk_update(batch, ["text"])
    return changed + len(batch)


def notices_follow_rename(sender: Any, user: User, old_name: str, **kwargs: Any) -> None:
    """`members.signals.member_renamed`: others' notifications that name the member as
    `old_name` name them as they are called now. In the rename's transaction, not a task:
    a deletion right after it (which holds the account's row, as the rename does) must find
    the new name written, or it would leave the old one behind for good."""
    names_rewrite(user=user, name=old_name, replacement=lambda _language: user.name)


def _name_replace(text: str, pattern: re.Pattern[str], new: str) -> str:
    """`text` with `new` for each match of `pattern`, except a match inside `new` written
    whole already: a rename from "Zoë" to "Zoë Quintanilla" or "Dr Zoë" done twice renames
    once, and one from "Zoë Quintanilla" to "Zoë" renames at all."""
    written = [found.span() for found in re.finditer(rf"(?<!\w){re.escape(new)}(?!\w)", text)]

    def swap(match: re.Match[str]) -> str:
        start, end = match.span()
        inside = any(left <= start and end <= right for left, right in written)
        return match.group() if inside else new

    return pattern.sub(swap, text)


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

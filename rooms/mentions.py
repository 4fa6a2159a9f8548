"""Mentions in room chat: "@" and a member's display name ("@Ana Arias", "@josé").

Who a message mentions, kept in step with its text; the email that tells them is
`rooms.emails.mention_email`, sent by `rooms.tasks.mention_notify`.
"""

import operator
import re
import unicodedata
from functools import partial, reduce
from typing import Any

from django.db import transaction
from django.db.models import (
    CharField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    Value,
    prefetch_related_objects,
)
from django.db.models.lookups import IStartsWith
from django.utils.functional import Promise, lazy
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from members.models import User
from members.services import blocked_user_ids
from notifications.services import notice_retell, notices_withdraw
from rooms.models import Mention, Message, Room, RoomParticipation

# Beyond this many "@" in a message the rest are plain text: a message cannot page the room.
MENTIONS_MAX = 10
_NAME_MAX = User._meta.get_field("display_name").max_length or 80
# An "@" that starts a word: not the one inside an email address ("ana@example.com").
_AT = re.compile(r"(?<![\w@])@(?=\w)")


def _nfc(text: str) -> str:
    # "é" typed as one character or as "e" plus an accent must compare equal.
    return unicodedata.normalize("NFC", text)


def _ends_word(text: str, at: int) -> bool:
    return at == len(text) or not (text[at].isalnum() or text[at] == "_")


def _candidates(*, room: Room, author: User, starts: list[str]) -> list[User]:
    """Members who may read `room` and whose display name is how one of `starts` begins,
    case aside: one query, and only names the text spells, however many members there are."""
    may_read = Q(
        Exists(
            RoomParticipation.objects.filter(
                room=room, user=OuterRef("pk"), first_seen_at__isnull=False
            )
        )
    )
    if room.private:
        invited = Room.invitees.through.objects.filter(room_id=room.pk, user_id=OuterRef("pk"))
        may_read |= Q(pk=room.created_by_id) | Q(Exists(invited))
    removed = Exists(
        RoomParticipation.objects.filter(room=room, user=OuterRef("pk"), removed_at__isnull=False)
    )
    spelled = reduce(
        operator.or_,
        (
            IStartsWith(Value(start, output_field=CharField()), F("display_name"))
            for start in starts
        ),
    )
    return list(
        User.objects.filter(is_active=True, deleted_at__isnull=True)
        .exclude(display_name="")
        .exclude(pk=author.pk)
        .exclude(pk__in=blocked_user_ids(user=author))
        .filter(may_read, ~removed, spelled)
        .only("pk", "display_name")
    )


def mentions_find(*, room: Room, author: User, text: str) -> list[User]:
    """The members `text` mentions, in order of first mention, at most `MENTIONS_MAX`.

    A mention is "@" and a display name, case and accents' encoding aside, followed by the
    end, a space or punctuation; the longest name wins ("@Ana Arias" is Ana Arias, not Ana).
    Two members with the same name are both mentioned. Only members who may read the room
    count (those who entered it and, in a private room, its creator and invitees), never the
    author, nor anyone on either side of a block with them. Queries nothing without an "@".
    """
    text = _nfc(text)
    positions = [match.end() for match in _AT.finditer(text)][:MENTIONS_MAX]
    if not positions:
        return []
    starts = sorted({text[at : at + _NAME_MAX] for at in positions})
    candidates = _candidates(room=room, author=author, starts=starts)
    # Folding may change a name's length ("ß" is "ss"): compare as many characters of the
    # text as the name has.
    names = [
        (user, len(name), name.casefold())
        for user in candidates
        for name in [_nfc(user.display_name)]
    ]
    found: dict[int, User] = {}
    for at in positions:
        best: list[User] = []
        best_length = 0
        for user, length, folded in names:
            end = at + length
            if text[at:end].casefold() != folded or not _ends_word(text, end):
                continue
            if length > best_length:
                best, best_length = [user], length
            elif length == best_length:
                best.append(user)
        for user in sorted(best, key=lambda user: user.pk):
            found.setdefault(user.pk, user)
    return list(found.values())[:MENTIONS_MAX]


def mentions_record(*, message: Message, previous_text: str = "") -> list[int]:
    """Make `message`'s mentions those of its text now (after a post, or an edit from
    `previous_text`) and, once committed, email each member mentioned for the first time.
    Returns their ids. Leaves `message.mentions` loaded for the broadcast that follows, which
    runs in async code, where no query may run."""
    added: list[int] = []
    loaded = User.objects.only("pk")
    if "@" in message.text or "@" in previous_text:
        with transaction.atomic():
            added = _mentions_sync(message=message)
        if added:
            transaction.on_commit(partial(_notify_later, message_id=message.pk, user_ids=added))
    else:
        loaded = User.objects.none()  # without "@" the message mentions nobody: no query
    getattr(message, "_prefetched_objects_cache", {}).pop("mentions", None)
    prefetch_related_objects([message], Prefetch("mentions", queryset=loaded))
    return added


def _mentions_sync(*, message: Message) -> list[int]:
    author = message.author
    found = mentions_find(room=message.room, author=author, text=message.text) if author else []
    wanted = [user.pk for user in found]
    current = set(Mention.objects.filter(message=message).values_list("user_id", flat=True))
    gone = current - set(wanted)
    if gone:
        edited_out = Mention.objects.filter(message=message, user_id__in=gone)
        notices_withdraw(keys=[mention_key(mention) for mention in edited_out])
        edited_out.delete()
    added = [user_id for user_id in wanted if user_id not in current]
    # A concurrent edit may have added the same member: the row is theirs, and so is the email.
    Mention.objects.bulk_create(
        [Mention(message=message, user_id=user_id) for user_id in added], ignore_conflicts=True
    )
    return added


def mention_key(mention: Mention) -> str:
    """The occasion of a mention's notice (notifications.services.notify's `key`)."""
    return f"mention:{mention.pk}"


def mention_notice(message: Message) -> tuple[str | Promise, dict[str, Any]]:
    """What a mention's notice says, and its parameters (`notify`'s `text` and `params`)."""
    return _("%(author)s mentioned you in “%(room)s”: %(excerpt)s"), {
        "author": message.author.name if message.author else "",
        # Its name in the member's language (notify renders it so).
        "room": lazy(lambda: message.room.title, str)(),
        "excerpt": Truncator(message.text).chars(120),
    }


def mentions_after_edit(*, message: Message) -> None:
    """The notices of the members the edited message still mentions quote its new words
    (one it no longer mentions had theirs taken back with the mention)."""
    text, params = mention_notice(message)
    for mention in Mention.objects.filter(message=message).select_related("user"):
        notice_retell(user=mention.user, key=mention_key(mention), text=text, params=params)


def mentions_withdraw(*, message: Message) -> None:
    """A deleted message's mentions: their notices go, with the words they quoted."""
    notices_withdraw(keys=[mention_key(m) for m in Mention.objects.filter(message=message)])


def _notify_later(*, message_id: int, user_ids: list[int]) -> None:
    # Imported here: the tasks module imports the services, which import this one.
    from rooms.tasks import mention_notify

    for user_id in user_ids:
        mention_notify.delay(message_id, user_id)

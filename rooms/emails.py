"""The emails of rooms: "someone mentioned you", and when it is worth sending."""

from datetime import datetime, timedelta

from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.emails import email_for
from members.models import Block
from notifications.email_off import email_off_headers
from notifications.models import Kind
from rooms.models import Mention, Presence
from rooms.pages import room_url
from rooms.presence import PRESENCE_TTL
from rooms.selectors import room_can_read

# At most one mention email per member and room within this window.
MENTION_EMAIL_THROTTLE = timedelta(minutes=15)


def _throttle_claim(*, mention: Mention) -> bool:
    """Claim the member's mention-email window for this room. The key holds the mention that
    claimed it, so a retry of the same send (after an SMTP failure) is not kept out by its
    own claim."""
    key = f"rooms:mention-email:{mention.user_id}:{mention.message.room_id}"
    timeout = int(MENTION_EMAIL_THROTTLE.total_seconds())
    return bool(cache.add(key, mention.pk, timeout=timeout)) or cache.get(key) == mention.pk


def mention_worth_telling(*, mention: Mention, now: datetime | None = None) -> bool:
    """Should the member be told of `mention`? Not when the message is gone, when they may no
    longer read the room, are on either side of a block with the author, or are in the room
    right now (they see it there)."""
    message, user = mention.message, mention.user
    author = message.author
    if message.is_deleted or author is None or not (author.is_active and author.deleted_at is None):
        return False
    if not room_can_read(room=message.room, user=user):
        return False
    either_way = Q(blocker=user, blocked=author) | Q(blocker=author, blocked=user)
    if Block.objects.filter(either_way).exists():
        return False
    now = now or timezone.now()
    here = Presence.objects.filter(
        room_id=message.room_id, user=user, heartbeat_at__gte=now - PRESENCE_TTL
    )
    return not here.exists()


def mention_email_due(*, mention: Mention) -> bool:
    """At most one mention email per member and room every `MENTION_EMAIL_THROTTLE`: a True
    answer claims that window."""
    return _throttle_claim(mention=mention)


def mention_email(mention: Mention) -> EmailMultiAlternatives:
    message = mention.message
    return email_for(
        user=mention.user,
        template="rooms/email/mention",
        key=f"mention:{mention.pk}",
        headers=email_off_headers(user=mention.user, kind=Kind.MENTION),
        context={
            "author": message.author,
            "room": message.room,
            "message": message,
            "room_url": room_url(message.room),
            "settings_url": reverse("notifications:settings"),
        },
    )

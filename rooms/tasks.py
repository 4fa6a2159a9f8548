"""Celery tasks for rooms. Each is safe to run twice."""

import logging
from datetime import timedelta
from functools import partial

from asgiref.sync import async_to_sync
from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.emails import EMAIL_RETRY, send_once
from members.models import User
from members.selectors import account_open
from members.services import blocked_user_ids
from notifications.models import Kind
from notifications.services import notify
from rooms import broadcast, emails, retention
from rooms.calls import call_prune
from rooms.mentions import mention_key, mention_notice
from rooms.models import Mention, Room
from rooms.pages import room_url
from rooms.presence import presence_prune as prune
from rooms.services import rooms_close_idle

logger = logging.getLogger(__name__)


# One author's mentions of one member reach the member's devices once per window.
MENTION_PUSH_WINDOW = timedelta(minutes=10)


@shared_task(ignore_result=True)
def presence_prune() -> int:
    """Beat runs this every `PRUNE_INTERVAL`: connections held by a server process that died
    leave their calls (their peers hear `call.peer_left`) and the rooms' presence (one
    batched update per room). Returns how many rooms changed."""
    now = timezone.now()
    departures = call_prune(now=now)
    changed = prune(now=now)
    for departure in departures:
        broadcast.on_commit(broadcast.call_peer_left, departure=departure)
        # Should its process be alive after all (a long stall), the connection hears it too.
        broadcast.on_commit(broadcast.call_dropped, departure=departure, reason="dropped")
        changed.setdefault(departure.room_id, set()).add(departure.user_id)
    for room_id, user_ids in changed.items():
        broadcast.on_commit(broadcast.presence_announce, room_id=room_id, user_ids=user_ids)
    return len(changed)


@shared_task(ignore_result=True)
def rooms_close_idle_tick() -> int:
    """Beat runs this every five minutes: member-made rooms nobody has been in, nor written
    in, for `ROOMS_IDLE_CLOSE_AFTER` close. Returns how many this run closed (a second run
    closes none of them again, and announces nothing)."""
    return len(rooms_close_idle(now=timezone.now(), idle_for=settings.ROOMS_IDLE_CLOSE_AFTER))


@shared_task(ignore_result=True, **EMAIL_RETRY)
def mention_notify(message_id: int, user_id: int) -> None:
    """Tell a member that a message mentions them (`rooms.emails.mention_worth_telling` says
    whether) on the site and, as their preferences and `mention_email_due` allow, by email.
    The notice is recorded once per mention; the email goes out once through
    `core.emails.send_once` (claimed with `emailed_at`, so a concurrent duplicate finds it
    taken; a failed send gives it back and retries; a worker dying mid-send loses it)."""
    mention = (
        Mention.objects.select_related("message__room", "message__author", "user")
        .filter(message_id=message_id, user_id=user_id)
        .first()
    )
    if mention is None or mention.emailed_at is not None:
        return  # edited out meanwhile, or already sent
    if not emails.mention_worth_telling(mention=mention):
        return
    message = mention.message
    text, params = mention_notice(message)
    delivery = notify(
        push=partial(_mention_push_due, author_id=message.author_id, user_id=mention.user_id),
        user=mention.user,
        kind=Kind.MENTION,
        key=mention_key(mention),
        text=text,
        params=params,
        url=room_url(message.room),
        about=[message.author] if message.author else [],
    )
    if not (delivery.email and emails.mention_email_due(mention=mention)):
        return
    claimed_at = timezone.now()
    send_once(
        claim=lambda: Mention.objects.filter(pk=mention.pk, emailed_at__isnull=True).update(
            emailed_at=claimed_at
        ),
        send=lambda: emails.mention_email(mention).send(),
        give_back=lambda: Mention.objects.filter(pk=mention.pk, emailed_at=claimed_at).update(
            emailed_at=None
        ),
    )


def _mention_push_due(*, author_id: int | None, user_id: int) -> bool:
    """One author's mentions of one member buzz their devices once per window of
    MENTION_PUSH_WINDOW: mentioned over and over (or a mention edited out and back in), the
    member finds every notice listed, and their phone rang once."""
    window = int(timezone.now().timestamp() // MENTION_PUSH_WINDOW.total_seconds())
    return author_id is None or cache.add(
        f"rooms:mention-push:{author_id}:{user_id}:{window}",
        1,
        timeout=int(MENTION_PUSH_WINDOW.total_seconds()) * 2,
    )


@shared_task(ignore_result=True)
def invitation_notify(room_id: int, user_id: int, by_id: int) -> None:
    """Tell a member they were invited to a private room, on the site and their devices
    (once per room: the notice's key). Not by email: the room is there when they next come,
    and an invitation is a nudge, not news. Uninvited or closed meanwhile: nothing to say."""
    room = Room.objects.filter(pk=room_id, closed_at__isnull=True, invitees=user_id).first()
    user = User.objects.filter(account_open(), pk=user_id).first()
    # Suspended since the invitation, or on either side of a block made since: as if it had
    # not been sent (a queue's backlog, or a focus block holding it).
    by = User.objects.filter(account_open(), pk=by_id).first()
    if room is None or user is None or by is None or by.pk in blocked_user_ids(user=user):
        return
    notify(
        user=user,
        kind=Kind.ROOM_INVITED,
        key=f"room-invited:{room.pk}",
        text=_("%(name)s invited you to the room “%(room)s”."),
        params={"name": by.name, "room": room.title},
        url=reverse("rooms:room", args=[room.slug]),
        # And whom the room's name names (a coffee table's): their deletion rewrites it too.
        about=[by, *(named for named in room.invitees.all() if named.name in room.title)],
    )


# How often beat runs `rooms_opened_tick` (coworking/settings.py), in seconds.
OPENED_TICK_SECONDS = 60


@shared_task(ignore_result=True)
def rooms_opened_tick() -> int:
    """Beat runs this every minute: when an event's room opened since the last tick, open
    lobby pages fetch their list, so the room appears without a reload. Only a signal: a
    doubled tick costs one more fetch, nothing else."""
    now = timezone.now()
    opened = Room.objects.filter(
        closed_at__isnull=True,
        opens_at__lte=now,
        opens_at__gt=now - timedelta(seconds=OPENED_TICK_SECONDS),
    ).count()
    if opened:
        async_to_sync(broadcast.lobby_changed)()
    return opened


@shared_task(ignore_result=True)
def retention_tick() -> None:
    """Daily: visits older than a year (rooms/retention.py)."""
    logger.info("Pruned %s visits", retention.visits_prune(now=timezone.now()))

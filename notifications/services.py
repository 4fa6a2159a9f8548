"""The one place that decides how a member is told something: on the site, by email, both,
or on the site and in the weekly digest, as their preferences say (`notify`)."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import formats, timezone, translation
from django.utils.functional import Promise

from members.models import User
from notifications.holds import SHOWN, held_until
from notifications.models import Channel, Kind, Notification, Preference, QuietHours
from notifications.push import pushable
from notifications.signals import notices_changed
from notifications.tasks import push_send

# The kinds a member chooses a channel for, in the order the settings page lists them.
CONFIGURABLE = [
    Kind.PAIR_CREATED,
    Kind.PAIR_FOLLOW_UP,
    Kind.EVENT_REMINDER,
    Kind.FOCUS_REMINDER,
    Kind.FOCUS_NO_SHOW,
    Kind.WAITLIST_PROMOTED,
    Kind.MENTION,
    Kind.MESSAGE,
]
DEFAULT_CHANNEL = Channel.BOTH
# Calmer than that where an email would only add noise: a focus session about to start is
# a matter of minutes, which the site's bell and the member's devices tell in time (and a
# daily ritual would make it a daily email).
DEFAULT_CHANNELS: dict[str, str] = {Kind.FOCUS_REMINDER: Channel.IN_APP}


def default_channel(kind: str) -> str:
    """How a member who chose nothing hears of `kind`."""
    return DEFAULT_CHANNELS.get(kind, DEFAULT_CHANNEL)


# How the kinds nobody chooses a channel for come: a change to a member's event every way;
# an invitation to a room on the site, never by email, held or not. Both are pushed unless
# the member said not to (their `Preference.push`, the one choice they have for these).
FIXED: dict[str, str] = {Kind.EVENT_CHANGED: Channel.BOTH, Kind.ROOM_INVITED: Channel.IN_APP}
EMAILED = {Channel.BOTH, Channel.EMAIL}


def channels_for(*, user: User) -> dict[str, str]:
    """The member's channel for every configurable kind."""
    chosen = dict(Preference.objects.filter(user=user).values_list("kind", "channel"))
    return {kind: chosen.get(kind, default_channel(kind)) for kind in CONFIGURABLE}


def pushes_for(*, user: User) -> dict[str, bool]:
    """Whether the member wants each kind pushed to their devices: the configurable kinds
    and the FIXED ones too (told whatever the member chooses, but a buzz is their choice)."""
    chosen = dict(Preference.objects.filter(user=user).values_list("kind", "push"))
    return {kind: chosen.get(kind, True) for kind in (*CONFIGURABLE, *FIXED)}


def preference_for(*, user: User, kind: str) -> tuple[str, bool]:
    """The member's channel for `kind`, and whether they want it pushed. Kinds they choose
    nothing for come as FIXED says."""
    chosen = Preference.objects.filter(user=user, kind=kind).values_list("channel", "push")
    channel, push = next(iter(chosen), (default_channel(kind), True))
    return (FIXED[kind], push) if kind not in CONFIGURABLE else (channel, push)


def channel_for(*, user: User, kind: str) -> str:
    return preference_for(user=user, kind=kind)[0]


@transaction.atomic
def preferences_set(
    *,
    user: User,
    channels: Mapping[str, str],
    email_digest: bool,
    pushes: Mapping[str, bool] | None = None,
    quiet: tuple[time | None, time | None] | None = None,
) -> None:
    """Save the member's choices. `pushes` and `quiet` (quiet hours, both None for none)
    are left as they are when not given."""
    for kind, channel in channels.items():
        if kind not in CONFIGURABLE or channel not in Channel.values:
            raise ValueError(f"No channel {channel!r} for {kind!r}.")
        defaults: dict[str, Any] = {"channel": channel}
        if pushes is not None:
            defaults["push"] = bool(pushes.get(kind, True))
        Preference.objects.update_or_create(user=user, kind=kind, defaults=defaults)
    for kind, channel in FIXED.items():
        if pushes is not None and kind in pushes:
            Preference.objects.update_or_create(
                user=user, kind=kind, defaults={"channel": channel, "push": bool(pushes[kind])}
            )
    if quiet is not None:
        start, end = quiet
        QuietHours.objects.update_or_create(user=user, defaults={"start": start, "end": end})
    user.email_digest = email_digest
    user.save(update_fields=["email_digest"])


def _rendered(value: Any) -> Any:
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    return str(value) if isinstance(value, Promise) else value


@dataclass(frozen=True)
class Delivery:
    notification: Notification
    email: bool
    pushed: bool = False


def _render(user: User, text: str | Promise, params: Mapping[str, Any] | None) -> str:
    """The text as the member reads it: their language, times in their zone."""
    with translation.override(user.language), timezone.override(user.time_zone):
        rendered = str(text)
        if params:
            rendered = rendered % {name: _rendered(v) for name, v in params.items()}
    return rendered[:300]


def notices_withdraw(*, keys: Iterable[str]) -> None:
    """Take back the notices of these occasions, shown or still held: what they told of is
    gone (a message deleted, a mention edited out), and so is what they quoted of it. The
    bells of those who had one unread follow."""
    notices = Notification.objects.filter(key__in=list(keys))
    unread = set(notices.filter(read_at__isnull=True).values_list("user_id", flat=True))
    notices.delete()
    for user in User.objects.filter(pk__in=unread):
        notices_changed.send(sender=Notification, user=user)


def notice_retell(
    *, user: User, key: str, text: str | Promise, params: Mapping[str, Any] | None = None
) -> None:
    """The member's notice of this occasion, if there is one, says it anew: what it quotes
    was edited."""
    Notification.objects.filter(user=user, key=key).update(text=_render(user, text, params))


def notify(
    *,
    user: User,
    kind: str,
    key: str,
    text: str | Promise,
    params: Mapping[str, Any] | None = None,
    url: str = "",
    about: Iterable[User] = (),
    now: datetime | None = None,
    emailed_apart: bool = False,
    push: bool | Callable[[], bool] = True,
    urgent: bool = False,
) -> Delivery:
    """Tell `user` about something of `kind`, once per `key`: record the notification (the
    text rendered in their language, times in their zone) and answer whether to email them
    now. The caller sends the email, since each kind's email is its own. `about` lists the
    members the text names, so that deleting their account takes the name out.

    Callers record the notice before claiming their email (`core.emails.send_once`), outside
    any lock: a duplicate task, or the retry after a failed email, finds the notice already
    recorded and adds nothing.

    A member busy now (in focus: `notifications.holds`) is told nothing yet: the notice is
    recorded held until then, hidden from their pages, and `email` is False; the release
    shows it and puts it in one batch email with the others held (`held_email`). A caller
    whose email carries what the member's calendar must hear of now (an invitation or its
    change) says so with `emailed_apart`: its notice waits, the batch does not repeat its
    email, and `email` answers as if the member were not busy.

    A new notice told now also goes to the member's devices, after commit, if they want
    this kind pushed and are not in their quiet hours (notifications.push); a held one goes
    with its batch. `push` False keeps this one off the devices (the caller's own limit on how
    often its kind buzzes), as it is listed and emailed; a function is asked only when the
    notice would go to the devices (so that a limit is spent on pushes, not on retries).

    `urgent` is for a reminder of something about to start: it is told at once, even to a
    member in focus (held until the block's end it would come too late to be of use), and
    pushed as urgent. A reminder a day ahead is not: it waits like any other notice."""
    channel, push_wanted = preference_for(user=user, kind=kind)
    emailed = channel in EMAILED and user.is_active and user.deleted_at is None
    existing = Notification.objects.filter(user=user, key=key).first()
    pushed = False
    if existing is None:
        moment = now or timezone.now()
        # A member in focus hears of it when the block ends, in one batch (notifications.holds).
        until = None if urgent else held_until(user_id=user.pk, now=moment)
        rendered = _render(user, text, params)
        try:
            with transaction.atomic():
                existing = Notification.objects.create(
                    user=user,
                    kind=kind,
                    key=key,
                    text=rendered,
                    url=url,
                    in_app=channel != Channel.EMAIL,
                    for_digest=channel == Channel.DIGEST,
                    created_at=moment,
                    held_until=until,
                    held_email=emailed and until is not None and not emailed_apart,
                    urgent=urgent,
                )
                existing.about.set(list(about))
        except IntegrityError:
            # A concurrent run of the same task recorded it first.
            existing = Notification.objects.get(user=user, key=key)
        else:
            if existing.in_app and until is None:
                notices_changed.send(sender=Notification, user=user)
            if (
                until is None
                and pushable(user=user, kind=kind, wanted=push_wanted, now=moment, urgent=urgent)
                and (push() if callable(push) else push)
            ):
                notice_id = existing.pk
                transaction.on_commit(lambda: push_send.delay(user.pk, [notice_id]))
                pushed = True
    # A held notice is emailed with its batch, however often its task asks again.
    now_or_apart = existing.held_until is None or emailed_apart
    return Delivery(notification=existing, email=emailed and now_or_apart, pushed=pushed)


def notices_read(*, user: User, key_prefix: str, now: datetime | None = None) -> int:
    """Mark read the member's notices shown of the occasions starting with `key_prefix`:
    they read what those told of (a conversation read to its end)."""
    unread = Notification.objects.filter(
        SHOWN, user=user, key__startswith=key_prefix, read_at__isnull=True
    )
    marked = unread.update(read_at=now or timezone.now())
    if marked:
        notices_changed.send(sender=Notification, user=user)
    return marked


def notifications_mark_read(
    *,
    user: User,
    ids: list[int] | None = None,
    now: datetime | None = None,
    shown_by: datetime | None = None,
) -> int:
    """Mark the member's notifications read: those in `ids`, or all of them; with
    `shown_by` (when the list was shown), only those there by then: one that came after
    the page was opened has not been seen."""
    # Held notices wait unread for their release, even on "mark all as read".
    unread = Notification.objects.filter(SHOWN, user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    if shown_by is not None:
        unread = unread.filter(created_at__lte=shown_by).exclude(released_at__gt=shown_by)
    marked = unread.update(read_at=now or timezone.now())
    if marked:
        notices_changed.send(sender=Notification, user=user)
    return marked

"""Holding a member's notifications while they are busy (in a focus session), and releasing
them in one batch when that ends (docs/focus.md, "In focus: presence and held
notifications").

Notifications knows nothing of what makes a member busy: the apps above register a provider
in their `AppConfig.ready()` (focus: `in_focus_until`). `notify` asks `held_until` before
recording a notice; `held_release_due` (beat, every 30 seconds) hands the due ones out."""

from collections.abc import Callable, Iterable
from datetime import datetime

from django.db.models import Q

from members.models import User
from members.selectors import account_closed
from members.services import blocked_user_ids
from notifications.models import Notification
from notifications.signals import notices_changed

# Given members' ids and the moment, {member id: until when they are busy} for those who are.
HoldProvider = Callable[[Iterable[int], datetime], dict[int, datetime]]

_providers: list[HoldProvider] = []

# A notice members may see: never held, or held and released since.
SHOWN = Q(held_until__isnull=True) | Q(released_at__isnull=False)


def hold_provider_register(provider: HoldProvider) -> None:
    """Called from an app's `ready()`; registering the same provider twice keeps one."""
    if provider not in _providers:
        _providers.append(provider)


def held_until(*, user_id: int, now: datetime) -> datetime | None:
    """Until when news for this member waits, or None to tell them now. The latest end
    any provider gives: a member busy in two ways hears of it when both are over."""
    ends = [
        until
        for provider in _providers
        for member, until in provider([user_id], now).items()
        if member == user_id and until > now
    ]
    return max(ends, default=None)


def held_due(*, now: datetime) -> list[int]:
    """The members with notices held until `now` or before and not released yet."""
    return list(
        Notification.objects.filter(held_until__lte=now, released_at__isnull=True)
        .order_by()
        .values_list("user_id", flat=True)
        .distinct()
    )


def held_withdraw(*, user_id: int, key_prefix: str) -> None:
    """Drop the member's notices still held whose occasion starts with `key_prefix`: news
    they asked not to hear of meanwhile (a conversation muted during their block) is never
    released. Released ones stay: the member has seen them."""
    Notification.objects.filter(
        user_id=user_id, key__startswith=key_prefix, held_until__isnull=False, released_at=None
    ).delete()


def held_release(*, user: User, now: datetime) -> int:
    """Show the member's notices held until `now` or before, and tell their pages' bell.
    Claimed by a conditional UPDATE (`released_at`): two runs release each notice once, and
    the second announces nothing. Returns how many this run released. A member who left
    their block early still waits for its end: what the hold promised, and simple."""
    due = Notification.objects.filter(user=user, held_until__lte=now, released_at__isnull=True)
    # News of someone blocked (either way) or suspended while it was held is dropped, not
    # released: it would not be told now, on the site, on a device or in the batch's email
    # (a spammer's mention would quote their spam).
    # Through each notice's own `about` rows, not a list of every closed account.
    due.filter(Q(about__in=blocked_user_ids(user=user)) | account_closed("about")).delete()
    released = due.update(released_at=now)
    if released and Notification.objects.filter(user=user, released_at=now, in_app=True).exists():
        notices_changed.send(sender=Notification, user=user)
    return released

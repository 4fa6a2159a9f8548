"""Who is in focus now, and until when: the badge the other apps show ("In focus until
11:50", through members.status) and the hold on their notifications (notifications.holds).
Both registered in `FocusConfig.ready()`."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from focus.models import FocusBlock, Seat
from members.status import status_provider_register
from notifications.holds import hold_provider_register

# No block is longer: a block that started earlier than this has ended.
LONGEST = timedelta(minutes=max(FocusBlock.Length.values))


def in_focus_until(*, user_ids: Iterable[int], now: datetime) -> dict[int, datetime]:
    """{member id: the block's end} for those of `user_ids` in focus at `now`: they hold a
    seat (not given back, not marked a no-show) in a block running now (started, not ended,
    not cancelled) and have arrived on its page. One query for any number of ids."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    seats = Seat.objects.filter(
        user_id__in=ids,
        cancelled_at__isnull=True,
        no_show=False,
        arrived_at__isnull=False,
        block__cancelled_at__isnull=True,
        block__starts_at__lte=now,
        block__starts_at__gt=now - LONGEST,
    ).values_list("user_id", "block__starts_at", "block__minutes")
    focused: dict[int, datetime] = {}
    for user_id, starts_at, minutes in seats:
        ends_at = starts_at + timedelta(minutes=minutes)
        if now < ends_at and (user_id not in focused or ends_at > focused[user_id]):
            focused[user_id] = ends_at
    return focused


def _provider(user_ids: Iterable[int], now: datetime) -> dict[int, datetime]:
    return in_focus_until(user_ids=user_ids, now=now)


def register() -> None:
    status_provider_register(_provider)
    hold_provider_register(_provider)

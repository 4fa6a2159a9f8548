"""Members' private calendar feeds: the secret token behind each feed's URL."""

from datetime import datetime

from django.utils import timezone

from events.models import CalendarFeed, calendar_feed_token
from members.models import User


def calendar_feed_get_or_create(*, user: User) -> CalendarFeed:
    """The member's private calendar feed, made with a fresh secret token the first time."""
    feed, _created = CalendarFeed.objects.get_or_create(user=user)
    return feed


def calendar_feed_rotate(*, user: User, now: datetime | None = None) -> CalendarFeed:
    """Give the member's feed a new secret token: the old URL stops working at once (revoke
    a leaked link). Makes the feed when the member had none."""
    feed, _created = CalendarFeed.objects.update_or_create(
        user=user,
        defaults={"token": calendar_feed_token(), "created_at": now or timezone.now()},
    )
    return feed

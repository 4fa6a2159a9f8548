from django.db.models import QuerySet

from members.models import User
from notifications.holds import SHOWN
from notifications.models import Notification


def notifications_listed(*, user: User) -> QuerySet[Notification]:
    """The member's notices on the site, newest first; those held while they focus wait
    for their release (notifications.holds)."""
    return Notification.objects.filter(SHOWN, user=user, in_app=True).order_by("-created_at", "-id")


def unread_count(*, user: User) -> int:
    return Notification.objects.filter(SHOWN, user=user, in_app=True, read_at__isnull=True).count()

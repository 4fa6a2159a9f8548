from django.db.models import QuerySet

from members.models import User
from notifications.models import Notification


def notifications_listed(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user, in_app=True).order_by("-created_at", "-id")


def unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, in_app=True, read_at__isnull=True).count()

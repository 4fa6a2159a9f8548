"""What the member socket hears from the apps below: news of the header's counters."""

from typing import Any

from django.dispatch import receiver

from conversations.services import counts_push
from members.models import User
from notifications.signals import notices_changed


@receiver(notices_changed)
def push_counts_after_notices_changed(sender: Any, user: User, **kwargs: Any) -> None:
    counts_push(user=user)

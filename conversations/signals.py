"""What conversations hear from the apps below: news of the header's counters, and new
coffee rounds (each pair or trio gets its conversation), and members renamed (their coffee
tables' rooms follow)."""

from typing import Any

from django.dispatch import receiver

from conversations import tasks
from conversations.coffee_tables import tables_rename_for
from conversations.services import counts_push
from matching.signals import round_introduced
from members.models import User
from members.signals import member_renamed
from notifications.signals import notices_changed


@receiver(notices_changed)
def push_counts_after_notices_changed(sender: Any, user: User, **kwargs: Any) -> None:
    counts_push(user=user)


@receiver(round_introduced)
def open_the_round_s_conversations(sender: Any, round_id: int, **kwargs: Any) -> None:
    tasks.round_conversations_open.delay(round_id)


@receiver(member_renamed)
def rename_the_member_s_coffee_tables(
    sender: Any, user: User, old_name: str, **kwargs: Any
) -> None:
    tables_rename_for(user=user, old_name=old_name)

"""Sockets that must close because of something done over HTTP or in the admin."""

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest

from members.models import User
from rooms import broadcast


@receiver(user_logged_out)
def close_sockets_of_the_session(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    # Sent before the session is flushed, so its key is still the one the sockets opened with.
    key = request.session.session_key if request is not None else None
    if user is None or not key:
        return
    broadcast.on_commit(broadcast.session_ended, user_id=user.pk, session_key=key)


@receiver(post_save, sender=User)
def close_sockets_of_a_closed_account(sender: Any, instance: User, **kwargs: Any) -> None:
    """Deleted, deactivated or suspended: every socket of the account closes."""
    if instance.is_active and instance.deleted_at is None:
        return
    broadcast.on_commit(broadcast.account_closed, user_id=instance.pk)

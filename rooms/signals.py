"""Sockets that must close, or look at their access again, because of something done over
HTTP, in the admin or in a task. Each push reaches every server process through the channel
layer at once; the sweep (rooms.liveness) catches any push that was missed."""

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest

from members.models import Block, User
from members.signals import member_renamed
from rooms import broadcast
from rooms.models import Presence, Room


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
def close_or_recheck_sockets_of_a_changed_account(
    sender: Any, instance: User, created: bool, update_fields: Any, **kwargs: Any
) -> None:
    """Deleted, deactivated or suspended: every socket of the account closes. A new password
    (set_password, which Django's own save hook reads through `_password`, on any path: the
    settings page, a reset, the admin, `changepassword`): every socket closes too. Any other
    change (staff rights): the sockets look again."""
    if created or update_fields == frozenset({"last_login"}):
        return
    if not instance.is_active or instance.deleted_at is not None:
        broadcast.on_commit(broadcast.account_closed, user_id=instance.pk)
    elif instance._password is not None:  # type: ignore[attr-defined]
        broadcast.on_commit(broadcast.password_changed, user_id=instance.pk)
    else:
        broadcast.on_commit(broadcast.access_check, user_id=instance.pk)


@receiver(post_save, sender=Block)
@receiver(post_delete, sender=Block)
def recheck_sockets_after_a_block(sender: Any, instance: Block, **kwargs: Any) -> None:
    """Both members' sockets learn whom they no longer (or again) see, and leave a private
    room of the other's."""
    for user_id in (instance.blocker_id, instance.blocked_id):
        broadcast.on_commit(broadcast.access_check, user_id=user_id)


@receiver(m2m_changed, sender=Room.invitees.through)
def recheck_sockets_of_the_uninvited(
    sender: Any,
    instance: Room | User,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    if action == "pre_clear":
        # Who is about to go: after the clear nobody can tell.
        if reverse:
            broadcast.on_commit(broadcast.access_check, user_id=instance.pk)
        else:
            assert isinstance(instance, Room)
            for user_id in instance.invitees.values_list("pk", flat=True):
                broadcast.on_commit(broadcast.access_check, user_id=user_id)
    elif action == "post_remove":
        user_ids = [instance.pk] if reverse else list(pk_set or ())
        for user_id in user_ids:
            broadcast.on_commit(broadcast.access_check, user_id=user_id)


@receiver(post_save, sender=Room)
def recheck_sockets_of_a_private_room(
    sender: Any, instance: Room, created: bool, **kwargs: Any
) -> None:
    """A room made private (or edited while private): those inside without an invitation go."""
    if not created and instance.private and not instance.is_cafeteria:
        broadcast.on_commit(broadcast.access_check, room_id=instance.pk)


@receiver(member_renamed)
def announce_a_renamed_member_where_they_are(
    sender: Any, user: User, old_name: str, **kwargs: Any
) -> None:
    """Others' open pages of the rooms the member is in list them by the new name (their own
    sockets read it again with the account's save, above)."""
    rooms = Presence.objects.filter(user=user).values_list("room_id", flat=True).distinct()
    for room_id in rooms:
        broadcast.on_commit(broadcast.presence_announce, room_id=room_id, user_ids={user.pk})

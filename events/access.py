"""Who may do what with events: the rules the services and the pages share."""

from events.models import Event
from members.models import User


def user_is_member(user: User) -> bool:
    """An active member, not a deleted account: may start meetups and answer events."""
    return bool(user.is_active and user.deleted_at is None)


def event_can_manage(*, event: Event, user: User) -> bool:
    """May `user` change this event? Staff with the right to change events (as in the
    admin), its host and whoever created it."""
    if user.pk in (event.host_id, event.created_by_id):
        return True
    return user.is_staff and user.has_perm("events.change_event")

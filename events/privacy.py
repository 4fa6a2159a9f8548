"""Personal data of the events app (the registry: members/privacy.py)."""

from typing import Any

from django.db.models import Q
from django.utils import timezone

from events.models import CalendarFeed, Event, EventSeries, Rsvp
from events.rsvps import rsvp_release
from events.selectors import waitlist_place
from events.services import hosted_meetups_cancel
from members.models import User
from members.privacy import Deletion, export_moment, personal_data_register
from members.signals import member_suspended


def _export(user: User) -> dict[str, Any]:
    feed = CalendarFeed.objects.filter(user=user).first()
    return {
        "rsvps": [
            {
                "event": rsvp.event.title,
                "starts_at": export_moment(rsvp.event.starts_at),
                "status": rsvp.status,
                "waiting_list_position": waitlist_place(rsvp=rsvp),
                "answered_at": export_moment(rsvp.created_at),
            }
            for rsvp in Rsvp.objects.filter(user=user).select_related("event").order_by("pk")
        ],
        "hosted": [
            {"event": event.title, "starts_at": export_moment(event.starts_at)}
            for event in Event.objects.filter(Q(host=user) | Q(created_by=user)).order_by("pk")
        ],
        "series_hosted": [
            {"series": series.title, "kind": series.kind}
            for series in EventSeries.objects.filter(Q(host=user) | Q(created_by=user)).order_by(
                "pk"
            )
        ],
        # The feed's address is a credential: the export says it exists, not what it is.
        "calendar_feed": {"created_at": export_moment(feed.created_at)} if feed else None,
    }


def events_leave(*, user: User) -> None:
    """A member who can no longer come (their account deleted or suspended): cancel the
    meetups they host that have not ended (those going are emailed after commit), and give
    up every other seat still to come as a "not going" would (the event's row lock, the
    first wait-listed member promoted and emailed after commit)."""
    now = timezone.now()
    hosted_meetups_cancel(host=user, now=now)
    upcoming = Rsvp.objects.filter(
        user=user, event__cancelled_at__isnull=True, event__ends_at__gt=now
    ).exclude(status=Rsvp.Status.NOT_GOING)
    for rsvp in upcoming:
        rsvp_release(rsvp=rsvp, now=now)


def _suspended(sender: object, user: User, **kwargs: object) -> None:
    events_leave(user=user)


def _delete(user: User) -> None:
    """Leave the events (`events_leave`), then erase the answers."""
    events_leave(user=user)
    Rsvp.objects.filter(user=user).delete()
    CalendarFeed.objects.filter(user=user).delete()
    # Their weekly series go on without them (staff may name another host); new occurrences
    # must not seat the closed account.
    EventSeries.objects.filter(host=user).update(host=None)


def register() -> None:
    member_suspended.connect(_suspended, dispatch_uid="events_leave_on_suspension")
    personal_data_register(
        key="events",
        models=("events.Rsvp", "events.CalendarFeed", "events.Event", "events.EventSeries"),
        export=_export,
        delete=_delete,
        deletion=Deletion.RELEASE,
        note="Meetups they host that have not ended are cancelled, and those going are told; "
        "seats they held go to the waiting list; other events they hosted stay, hosted by "
        "“Former member”.",
    )

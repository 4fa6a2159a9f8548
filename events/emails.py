"""The emails of events."""

from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from core.emails import email_for
from events.ics import event_invitation
from events.models import Rsvp


def rsvp_promoted_email(rsvp: Rsvp) -> EmailMultiAlternatives:
    """ "You have a seat now", with the event's calendar file attached."""
    event = rsvp.event
    message = email_for(
        user=rsvp.user,
        template="events/email/promoted",
        context={
            "event": event,
            "room_url": reverse("rooms:room", args=[event.room.slug]) if event.room else "",
        },
    )
    _invitation_attach(message, rsvp=rsvp, method="REQUEST")
    return message


def _invitation_attach(message: EmailMultiAlternatives, *, rsvp: Rsvp, method: str) -> None:
    body = event_invitation(
        event=rsvp.event, attendee=(rsvp.user.name, rsvp.user.email), method=method
    )
    message.attach("event.ics", body, f"text/calendar; method={method}; charset=utf-8")


def reminder_email(rsvp: Rsvp, *, kind: str) -> EmailMultiAlternatives:
    """ "Tomorrow" (`day`) or "in a few minutes" (`soon`): when, where, in the member's zone."""
    event = rsvp.event
    return email_for(
        user=rsvp.user,
        template=f"events/email/reminder_{kind}",
        context={
            "event": event,
            "room_url": reverse("rooms:room", args=[event.room.slug]) if event.room else "",
        },
    )


def event_change_email(rsvp: Rsvp) -> EmailMultiAlternatives:
    """The event moved, changed room or name (`changed`), or will not happen (`cancelled`)."""
    event = rsvp.event
    message = email_for(
        user=rsvp.user,
        template="events/email/cancelled" if event.is_cancelled else "events/email/changed",
        context={
            "event": event,
            "rsvp": rsvp,
            "room_url": reverse("rooms:room", args=[event.room.slug]) if event.room else "",
        },
    )
    # A seat's calendar entry follows it; "maybe" and the waiting list have none to update.
    if event.is_cancelled:
        _invitation_attach(message, rsvp=rsvp, method="CANCEL")
    elif rsvp.status == Rsvp.Status.GOING:
        _invitation_attach(message, rsvp=rsvp, method="REQUEST")
    return message

"""The emails of events."""

from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from core.emails import email_for
from events.ics import CANCEL, REQUEST, event_invitation
from events.models import Rsvp
from notifications.email_off import email_off_headers
from notifications.models import Kind


def rsvp_promoted_email(rsvp: Rsvp, *, sequence: int) -> EmailMultiAlternatives:
    """ "You have a seat now", with the event's calendar file attached."""
    event = rsvp.event
    message = email_for(
        user=rsvp.user,
        template="events/email/promoted",
        headers=email_off_headers(user=rsvp.user, kind=Kind.WAITLIST_PROMOTED),
        key=f"promoted:{rsvp.pk}:{sequence}",
        context={
            "event": event,
            "room_url": reverse("rooms:room", args=[event.room.slug]) if event.room else "",
        },
    )
    _invitation_attach(message, rsvp=rsvp, method=REQUEST, sequence=sequence)
    return message


def _invitation_attach(
    message: EmailMultiAlternatives, *, rsvp: Rsvp, method: str, sequence: int
) -> None:
    body = event_invitation(
        event=rsvp.event,
        attendee=(rsvp.user.name, rsvp.user.email),
        method=method,
        sequence=sequence,
    )
    message.attach("event.ics", body, f"text/calendar; method={method}")


def reminder_email(rsvp: Rsvp, *, kind: str) -> EmailMultiAlternatives:
    """ "Tomorrow" (`day`) or "in a few minutes" (`soon`): when, where, in the member's zone."""
    event = rsvp.event
    return email_for(
        user=rsvp.user,
        template=f"events/email/reminder_{kind}",
        headers=email_off_headers(user=rsvp.user, kind=Kind.EVENT_REMINDER),
        # The start in the key: a moved event reminds again of its new time.
        key=f"reminder:{rsvp.pk}:{kind}:{int(event.starts_at.timestamp())}",
        context={
            "event": event,
            "room_url": reverse("rooms:room", args=[event.room.slug]) if event.room else "",
        },
    )


def event_change_email(
    rsvp: Rsvp, *, method: str | None, sequence: int | None
) -> EmailMultiAlternatives:
    """The event moved, changed room or name (`changed`), or will not happen (`cancelled`).
    `method` is the calendar file's (REQUEST for a seat's entry, CANCEL for a cancelled
    event's), None for no file: "maybe" and the waiting list have no entry to update."""
    event = rsvp.event
    message = email_for(
        user=rsvp.user,
        template="events/email/cancelled" if event.is_cancelled else "events/email/changed",
        key=f"changed:{rsvp.pk}:{event.sequence}",
        context={
            "event": event,
            "rsvp": rsvp,
            "room_url": reverse("rooms:room", args=[event.room.slug]) if event.room else "",
            "calendar_attached": method is not None and sequence is not None,
        },
    )
    if method is not None and sequence is not None:
        _invitation_attach(message, rsvp=rsvp, method=method, sequence=sequence)
    return message


def rsvp_calendar_email(rsvp: Rsvp, *, method: str, sequence: int) -> EmailMultiAlternatives:
    """The member's own answer moved their seat: given up (`not_going`, METHOD:CANCEL, the
    entry their invitation made taken out) or taken again (`going`, METHOD:REQUEST, put
    back)."""
    event = rsvp.event
    message = email_for(
        user=rsvp.user,
        template="events/email/not_going" if method == CANCEL else "events/email/going",
        key=f"calendar:{rsvp.pk}:{sequence}",
        context={
            "event": event,
            "room_url": reverse("rooms:room", args=[event.room.slug]) if event.room else "",
        },
    )
    _invitation_attach(message, rsvp=rsvp, method=method, sequence=sequence)
    return message

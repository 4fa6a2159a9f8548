"""The emails of focus sessions: the calendar invitation of a seat (with its updates and its
withdrawal) and the reminder 5 minutes before. Written in the member's language and zone
(`core.emails.email_for`); the calendar file's texts too."""

from django.core.mail import EmailMultiAlternatives
from django.utils import timezone, translation

from core.emails import email_for
from focus.ics import CANCEL, block_summary, seat_ics, session_url
from focus.models import REMINDER_LEAD, Seat
from notifications.email_off import email_off_headers
from notifications.models import Kind


def calendar_email(seat: Seat, *, method: str, sequence: int) -> EmailMultiAlternatives:
    """The seat's invitation (REQUEST, first sequence), its update (REQUEST, a later one:
    the block moved or changed length) or its withdrawal (CANCEL: the seat was given back or
    the block cancelled), with the calendar file that does the same in the member's calendar.
    `seat` is read with its block and user."""
    block, user = seat.block, seat.user
    if method == CANCEL:
        template = "focus/email/cancellation"
    elif sequence == 0:
        template = "focus/email/invitation"
    else:
        template = "focus/email/update"
    with translation.override(user.language):
        title = block_summary(block)
        body = seat_ics(seat, sequence=sequence, method=method, stamp=timezone.now())
    message = email_for(
        user=user,
        template=template,
        key=f"focus-calendar:{seat.pk}:{sequence}",
        context={
            "seat": seat,
            # Not `block`: inside a template's {% block %}, that name is the block tag's.
            "focus_block": block,
            "title": title,
            "session_url": session_url(block),
            # Who withdrew it: the member (their seat given back) or staff (the block).
            "block_cancelled": block.cancelled_at is not None,
            # A seat taken within the reminder's lead (dropping in) gets no reminder: the
            # same rule as focus.tasks.focus_reminders_due's.
            "reminded": seat.booked_at < block.starts_at - REMINDER_LEAD,
        },
    )
    message.attach("focus.ics", body, f"text/calendar; method={method}")
    return message


def reminder_email(seat: Seat) -> EmailMultiAlternatives:
    """ "Your focus session starts in a few minutes", with one button to the session page."""
    block, user = seat.block, seat.user
    with translation.override(user.language):
        title = block_summary(block)
    return email_for(
        user=user,
        template="focus/email/reminder",
        headers=email_off_headers(user=user, kind=Kind.FOCUS_REMINDER),
        # The start in the key: the reminder of a moved block is a new email, which the
        # member's provider must not drop as a copy of the one for the old time.
        key=f"focus-reminder:{seat.pk}:{int(block.starts_at.timestamp())}",
        context={
            "seat": seat,
            "focus_block": block,
            "title": title,
            "session_url": session_url(block),
        },
    )

"""Celery tasks for events. Each is safe to run twice."""

import logging
from datetime import datetime, timedelta

from celery import shared_task
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.emails import EMAIL_RETRY, send_once
from events import emails
from events.attendance import event_wrap_up
from events.models import EVENT_ROOM_OPENS_BEFORE, Event, Rsvp
from events.series import series_extend_all
from notifications.models import Kind
from notifications.services import notify

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, **EMAIL_RETRY)
def rsvp_promoted_notify(rsvp_id: int) -> None:
    """Tell a member they moved from the waiting list to a seat, at most once per promotion
    (`core.emails.send_once`, claimed with `promotion_emailed_at`: a concurrent duplicate
    finds it taken, a failed send gives it back and retries, a worker dying mid-send loses
    it). Nothing goes out when the member has since given the seat up or the event was
    cancelled."""
    rsvp = Rsvp.objects.select_related("event__room", "user").filter(pk=rsvp_id).first()
    if rsvp is None or rsvp.promoted_at is None or rsvp.promotion_emailed_at is not None:
        return
    if rsvp.status != Rsvp.Status.GOING or rsvp.event.is_cancelled:
        return
    delivery = notify(
        user=rsvp.user,
        kind=Kind.WAITLIST_PROMOTED,
        key=f"promoted:{rsvp.pk}:{rsvp.promoted_at.isoformat()}",
        text=_("A seat freed up: you are going to “%(title)s” (%(when)s)."),
        params={"title": rsvp.event.title, "when": rsvp.event.starts_at},
        url=rsvp.event.get_absolute_url(),
    )
    claimed_at = timezone.now()

    def send() -> None:
        if delivery.email:
            emails.rsvp_promoted_email(rsvp).send()

    send_once(
        claim=lambda: Rsvp.objects.filter(
            pk=rsvp_id,
            promoted_at=rsvp.promoted_at,
            promotion_emailed_at__isnull=True,
            status=Rsvp.Status.GOING,
            event__cancelled_at__isnull=True,
        ).update(promotion_emailed_at=claimed_at),
        send=send,
        give_back=lambda: Rsvp.objects.filter(pk=rsvp_id, promotion_emailed_at=claimed_at).update(
            promotion_emailed_at=None
        ),
    )


# Reminders ------------------------------------------------------------------------------
#
# Beat runs `reminders_tick` every minute. It only finds who is due and queues one task per
# reminder; the task claims it with a conditional update (`core.emails.send_once`), so a tick
# that runs twice, or a task delivered twice, sends one email.

# The starting-soon one when the event's own room opens, so that its "the room is open" holds.
REMINDER_LEADS = {"day": timedelta(hours=24), "soon": EVENT_ROOM_OPENS_BEFORE}
# A day-before reminder that would arrive this close to the start is noise: the event moved
# closer and its change was just announced. The starting-soon one still comes.
DAY_REMINDER_MIN_AHEAD = timedelta(hours=20)
_FIELDS = {"day": "reminded_day_at", "soon": "reminded_soon_at"}
REMINDER_TEXTS = {
    # Not "tomorrow": 20 hours before a late evening start can be the same day.
    "day": _("Reminder: “%(title)s”, %(when)s."),
    "soon": _("Starting soon: “%(title)s” (%(when)s). The room is open."),
}


def reminders_due(*, now: datetime) -> list[tuple[int, str]]:
    """(rsvp id, kind) of the reminders whose time has come and that are not sent yet."""
    due: list[tuple[int, str]] = []
    for kind, lead in REMINDER_LEADS.items():
        ids = Rsvp.objects.filter(
            status=Rsvp.Status.GOING,
            event__cancelled_at__isnull=True,
            event__starts_at__gt=now,
            event__starts_at__lte=now + lead,
            **{f"{_FIELDS[kind]}__isnull": True},
        ).values_list("pk", flat=True)
        due.extend((rsvp_id, kind) for rsvp_id in ids)
    return due


@shared_task(ignore_result=True)
def reminders_tick() -> int:
    due = reminders_due(now=timezone.now())
    for rsvp_id, kind in due:
        reminder_send.delay(rsvp_id, kind)
    return len(due)


def _day_reminder_is_noise(rsvp: Rsvp, *, now: datetime) -> bool:
    """The start is too close for a day-before reminder, or the member said "going" after
    the reminder's time had come (a minute ago, most likely: they know)."""
    starts_at = rsvp.event.starts_at
    answered_late = rsvp.going_since is not None and (
        rsvp.going_since > starts_at - REMINDER_LEADS["day"]
    )
    return answered_late or starts_at - now < DAY_REMINDER_MIN_AHEAD


@shared_task(ignore_result=True, **EMAIL_RETRY)
def reminder_send(rsvp_id: int, kind: str) -> None:
    """Remind once, in the member's language and zone, if they still go and the event still
    stands: on the site and by email as their preferences say (`notifications.notify`). A
    reminder not given for one of these reasons is still marked, so it is not tried again.
    The email goes through `core.emails.send_once` (at most once, no lock while sending)."""
    field = _FIELDS[kind]
    rsvp = Rsvp.objects.select_related("event__room", "user").filter(pk=rsvp_id).first()
    if rsvp is None or getattr(rsvp, field) is not None:
        return
    now = timezone.now()
    event = rsvp.event
    unreminded = Rsvp.objects.filter(pk=rsvp.pk, **{f"{field}__isnull": True})
    wanted = (
        rsvp.status == Rsvp.Status.GOING
        and not event.is_cancelled
        and event.starts_at > now
        and rsvp.user.is_active
        and not (kind == "day" and _day_reminder_is_noise(rsvp, now=now))
    )
    if not wanted:
        unreminded.update(**{field: now})
        return
    delivery = notify(
        user=rsvp.user,
        kind=Kind.EVENT_REMINDER,
        # The start in the key: a moved event reminds again of its new time.
        key=f"reminder:{rsvp.pk}:{kind}:{int(event.starts_at.timestamp())}",
        text=REMINDER_TEXTS[kind],
        params={"title": event.title, "when": event.starts_at},
        url=event.get_absolute_url(),
    )

    def send() -> None:
        if delivery.email:
            emails.reminder_email(rsvp, kind=kind).send()

    send_once(
        claim=lambda: unreminded.filter(
            status=Rsvp.Status.GOING, event__cancelled_at__isnull=True
        ).update(**{field: now}),
        send=send,
        give_back=lambda: Rsvp.objects.filter(pk=rsvp.pk, **{field: now}).update(**{field: None}),
    )


# Changes and cancellations --------------------------------------------------------------

ANNOUNCED_TO = (Rsvp.Status.GOING, Rsvp.Status.MAYBE, Rsvp.Status.WAITLISTED)


@shared_task(ignore_result=True)
def event_change_announce(
    event_id: int, changed_by_id: int | None = None, times_changed: bool = True
) -> int:
    """Queue one email per member who is going, might go or waits for a seat, except
    `changed_by_id`, who made the change and knows. `times_changed` is False when only the
    room changed (the notice then does not say the time is new)."""
    told = Rsvp.objects.filter(event_id=event_id, status__in=ANNOUNCED_TO)
    if changed_by_id is not None:
        told = told.exclude(user_id=changed_by_id)
    ids = list(told.values_list("pk", flat=True))
    for rsvp_id in ids:
        event_change_send.delay(rsvp_id, times_changed=times_changed)
    return len(ids)


@shared_task(ignore_result=True, **EMAIL_RETRY)
def event_change_send(rsvp_id: int, times_changed: bool = True) -> None:
    """Tell one member the event changed or was cancelled, with the updated calendar file
    (its higher SEQUENCE updates their calendar). Once per revision: the claim raises
    `announced_sequence` to the revision read (`core.emails.send_once`), so a repeated task,
    or a second change before this one ran, sends one email with the latest state; a failed
    send puts the previous revision back and retries. Sent whatever the reminder
    preference: it is about a plan the member made."""
    rsvp = Rsvp.objects.select_related("event__room", "user").filter(pk=rsvp_id).first()
    if rsvp is None or rsvp.announced_sequence >= rsvp.event.sequence:
        return
    event = rsvp.event
    sequence, previous = event.sequence, rsvp.announced_sequence
    unannounced = Rsvp.objects.filter(pk=rsvp.pk, announced_sequence__lt=sequence)
    if rsvp.status not in ANNOUNCED_TO or not rsvp.user.is_active:
        unannounced.update(announced_sequence=sequence)
        return
    if event.is_cancelled:
        text = _("“%(title)s” on %(when)s was cancelled.")
    elif times_changed:
        text = _("“%(title)s” changed: it is now on %(when)s.")
    else:
        text = _("“%(title)s” (%(when)s) moved to another room.")
    notify(
        user=rsvp.user,
        kind=Kind.EVENT_CHANGED,
        key=f"changed:{rsvp.pk}:{sequence}",
        text=text,
        params={"title": event.title, "when": event.starts_at},
        url=event.get_absolute_url(),
        emailed_apart=True,
    )
    send_once(
        claim=lambda: unannounced.update(announced_sequence=sequence),
        send=lambda: emails.event_change_email(rsvp).send(),
        give_back=lambda: Rsvp.objects.filter(pk=rsvp.pk, announced_sequence=sequence).update(
            announced_sequence=previous
        ),
    )


# After the session ------------------------------------------------------------------------

# An event that ended longer ago than this (beat was down) is not wrapped up late.
WRAP_UP_WITHIN = timedelta(hours=1)


@shared_task(ignore_result=True)
def events_wrap_up_tick() -> int:
    """Beat runs this every minute: the people still in the room of an event that just ended
    are invited, in the room, to carry on in the cafeteria, and its attendance is counted.
    Each event once (`event_wrap_up` locks it, counts and marks it in one transaction): a
    second tick, or two at once, announce nothing twice. An event whose wrap-up fails is
    logged and left for the next tick; the others go on."""
    now = timezone.now()
    candidates = Event.objects.filter(
        ends_at__lte=now,
        ends_at__gt=now - WRAP_UP_WITHIN,
        wrapped_up_at__isnull=True,
        cancelled_at__isnull=True,
        room__isnull=False,
    ).values_list("pk", flat=True)
    wrapped = 0
    for event_id in list(candidates):
        try:
            wrapped += event_wrap_up(event_id=event_id, now=now)
        except Exception:
            logger.exception("Wrapping up event %s failed; the next tick tries again.", event_id)
    return wrapped


@shared_task(ignore_result=True)
def series_extend_tick() -> int:
    """Beat runs this daily: recurring sessions always have their next weeks on the calendar
    without anyone copying events by hand."""
    return series_extend_all()

"""Celery tasks for events. Each is safe to run twice."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from django.db.models import Q, Subquery
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.emails import EMAIL_RETRY, send_once
from events import emails
from events.attendance import event_wrap_up
from events.ics import CANCEL, REQUEST
from events.models import EVENT_ROOM_OPENS_BEFORE, Event, Rsvp
from events.series import series_extend_all
from events.stage import stages_overrun_end
from notifications.models import Kind
from notifications.services import notify
from rooms.presence import is_present

logger = logging.getLogger(__name__)


# Calendar files -------------------------------------------------------------------------
#
# A member's calendar holds an event once an email attached its invitation (METHOD:REQUEST: a
# seat from the waiting list, a change while going, a seat taken again) and loses it with a
# withdrawal (METHOD:CANCEL: the event cancelled, a seat given up). Each such email's claim
# records on the answer, under its row lock, the SEQUENCE the file carries and whether the
# calendar now holds the event (`Rsvp.calendar_sequence`, `calendar_held`); a failed send
# puts the record back unless a later file was claimed since. Every file goes one SEQUENCE
# higher for that member, so a withdrawal outranks the invitation before it, and a seat
# taken again outranks the withdrawal.


@dataclass(frozen=True)
class _CalendarClaim:
    method: str
    sequence: int
    before: tuple[int | None, bool]


def _rsvp_locked(rsvp_id: int, **conditions: Any) -> Rsvp | None:
    """The answer under its row lock (not the event's: answers lock the event first), read
    with what its emails need, if it still meets `conditions`."""
    return (
        Rsvp.objects.select_for_update(of=("self",))
        .select_related("event__room", "user")
        .filter(pk=rsvp_id, **conditions)
        .first()
    )


def _calendar_record(rsvp: Rsvp, *, method: str, **also: Any) -> tuple[int, _CalendarClaim]:
    """Claim the member's next calendar file (`rsvp` read under its row lock), with `also`
    updated in the same statement; how many rows changed, and the claim."""
    claim = _CalendarClaim(
        method=method,
        sequence=rsvp.calendar_sequence_next(),
        before=(rsvp.calendar_sequence, rsvp.calendar_held),
    )
    updated = Rsvp.objects.filter(pk=rsvp.pk).update(
        calendar_sequence=claim.sequence, calendar_held=method == REQUEST, **also
    )
    return updated, claim


def _calendar_give_back(rsvp_id: int, claim: _CalendarClaim) -> None:
    Rsvp.objects.filter(pk=rsvp_id, calendar_sequence=claim.sequence).update(
        calendar_sequence=claim.before[0], calendar_held=claim.before[1]
    )


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
        # The email carries the calendar's invitation: it goes now, focus or not.
        emailed_apart=True,
    )
    claimed_at = timezone.now()
    claimed: dict[str, Any] = {}

    def claim() -> int:
        locked = _rsvp_locked(
            rsvp_id,
            promoted_at=rsvp.promoted_at,
            promotion_emailed_at__isnull=True,
            status=Rsvp.Status.GOING,
            event__cancelled_at__isnull=True,
        )
        if locked is None:
            return 0
        if not delivery.email:  # told on the site only: no calendar file goes out
            return Rsvp.objects.filter(pk=rsvp_id).update(promotion_emailed_at=claimed_at)
        claimed["rsvp"] = locked
        updated, claimed["calendar"] = _calendar_record(
            locked, method=REQUEST, promotion_emailed_at=claimed_at
        )
        return updated

    def send() -> None:
        if "calendar" in claimed:
            emails.rsvp_promoted_email(
                claimed["rsvp"], sequence=claimed["calendar"].sequence
            ).send()

    def give_back() -> None:
        Rsvp.objects.filter(pk=rsvp_id, promotion_emailed_at=claimed_at).update(
            promotion_emailed_at=None
        )
        if "calendar" in claimed:
            _calendar_give_back(rsvp_id, claimed["calendar"])

    send_once(claim=claim, send=send, give_back=give_back)


@shared_task(ignore_result=True, **EMAIL_RETRY)
def rsvp_calendar_sync(rsvp_id: int) -> None:
    """Bring a member's calendar in line with their own answer: a seat given up (not going,
    maybe) whose event their calendar holds is withdrawn (METHOD:CANCEL); a seat taken again
    after such a withdrawal is put back (METHOD:REQUEST). Decided at the claim, under the
    answer's row lock, from what the rows say then: a repeated task, or several answers
    before it ran, find the calendar in line and send nothing more. Nothing for a member
    never sent a calendar file (their calendar holds nothing of ours), nor for an event that
    ended, or that is cancelled (its announcement withdraws it from every calendar holding
    it)."""
    claimed: dict[str, Any] = {}

    def claim() -> int:
        locked = _rsvp_locked(rsvp_id, calendar_sequence__isnull=False)
        if locked is None or not locked.user.is_active:
            return 0
        event = locked.event
        if event.is_cancelled or event.has_ended():
            return 0
        going = locked.status == Rsvp.Status.GOING
        if going == locked.calendar_held:
            return 0
        claimed["rsvp"] = locked
        updated, claimed["calendar"] = _calendar_record(locked, method=REQUEST if going else CANCEL)
        return updated

    send_once(
        claim=claim,
        send=lambda: emails.rsvp_calendar_email(
            claimed["rsvp"],
            method=claimed["calendar"].method,
            sequence=claimed["calendar"].sequence,
        ).send(),
        give_back=lambda: _calendar_give_back(rsvp_id, claimed["calendar"]),
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


# How often beat runs `reminders_tick` (coworking/settings.py), in seconds.
REMINDERS_TICK_SECONDS = 60


@shared_task(ignore_result=True)
def reminders_tick() -> int:
    due = reminders_due(now=timezone.now())
    # The tick is each reminder's retry (core.emails.send_once, `retried_by_tick`): a task
    # still queued when the next tick comes is dropped for the one that tick queues.
    for rsvp_id, kind in due:
        reminder_send.apply_async((rsvp_id, kind), expires=REMINDERS_TICK_SECONDS)
    return len(due)


def _reminder_is_noise(rsvp: Rsvp, kind: str, *, now: datetime) -> bool:
    """The member said "going" after the reminder's time had come (a minute ago, most
    likely: they know); the start is too close for a day-before reminder; or, starting
    soon, they are in the event's room already."""
    starts_at = rsvp.event.starts_at
    answered_late = rsvp.going_since is not None and (
        rsvp.going_since > starts_at - REMINDER_LEADS[kind]
    )
    if answered_late:
        return True
    if kind == "day":
        return starts_at - now < DAY_REMINDER_MIN_AHEAD
    room_id = rsvp.event.room_id
    return room_id is not None and is_present(room_id=room_id, user_id=rsvp.user_id, now=now)


@shared_task(ignore_result=True)
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
        and not _reminder_is_noise(rsvp, kind, now=now)
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
        urgent=kind == "soon",
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
        retried_by_tick=True,
    )


# Changes and cancellations --------------------------------------------------------------

ANNOUNCED_TO = (Rsvp.Status.GOING, Rsvp.Status.MAYBE, Rsvp.Status.WAITLISTED)


def _announced(rsvp: Rsvp) -> bool:
    """Told of changes: an answer other than "not going", or a calendar that still holds
    the event (a seat given up whose withdrawal has not gone out yet)."""
    return rsvp.status in ANNOUNCED_TO or rsvp.calendar_held


@shared_task(ignore_result=True)
def event_change_announce(
    event_id: int, changed_by_id: int | None = None, times_changed: bool = True
) -> int:
    """Queue one email per member who is going, might go or waits for a seat, or whose
    calendar holds the event, except `changed_by_id`, who made the change and knows.
    `times_changed` is False when only the room changed (the notice then does not say the
    time is new)."""
    told = Rsvp.objects.filter(
        Q(status__in=ANNOUNCED_TO) | Q(calendar_held=True), event_id=event_id
    )
    if changed_by_id is not None:
        told = told.exclude(user_id=changed_by_id)
        # Whoever made the change knows of it: their answer counts as told (what lets the
        # admin delete a cancelled event, events.services.event_deletable).
        Rsvp.objects.filter(event_id=event_id, user_id=changed_by_id).update(
            announced_sequence=Greatest(
                "announced_sequence",
                Subquery(Event.objects.filter(pk=event_id).values("sequence")[:1]),
            )
        )
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
    preference: it is about a plan the member made. A member who gave their seat up while
    their calendar still held the event hears of no change: it is withdrawn instead
    (`rsvp_calendar_sync`); of a cancellation, with the withdrawal."""
    rsvp = Rsvp.objects.select_related("event__room", "user").filter(pk=rsvp_id).first()
    if rsvp is None or rsvp.announced_sequence >= rsvp.event.sequence:
        return
    event = rsvp.event
    unannounced = Rsvp.objects.filter(pk=rsvp.pk, announced_sequence__lt=event.sequence)
    if not _announced(rsvp) or not rsvp.user.is_active:
        unannounced.update(announced_sequence=event.sequence)
        return
    if rsvp.status not in ANNOUNCED_TO and not event.is_cancelled:
        unannounced.update(announced_sequence=event.sequence)
        rsvp_calendar_sync.delay(rsvp.pk)
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
        key=f"changed:{rsvp.pk}:{event.sequence}",
        text=text,
        params={"title": event.title, "when": event.starts_at},
        url=event.get_absolute_url(),
        emailed_apart=True,
    )
    claimed: dict[str, Any] = {}

    def claim() -> int:
        # What the rows say now: the email describes the latest revision, and counts as
        # its announcement (a later task for it finds nothing to do).
        locked = _rsvp_locked(rsvp_id, announced_sequence__lt=event.sequence)
        if locked is None or not _announced(locked):
            return 0
        if locked.status not in ANNOUNCED_TO and not locked.event.is_cancelled:
            return 0  # gave the seat up meanwhile: their answer's task withdraws it
        claimed["rsvp"], claimed["previous"] = locked, locked.announced_sequence
        claimed["sequence"] = revision = locked.event.sequence
        if locked.event.is_cancelled:
            # Out of the calendars that hold it; "maybe" and the waiting list have none.
            held = locked.calendar_held or locked.status == Rsvp.Status.GOING
            method: str | None = CANCEL if held else None
        elif locked.status == Rsvp.Status.GOING:
            method = REQUEST
        else:
            # "Maybe" and the waiting list have no entry to update (a seat given up is
            # withdrawn by `rsvp_calendar_sync`).
            method = None
        if method is None:
            return Rsvp.objects.filter(pk=rsvp_id).update(announced_sequence=revision)
        updated, claimed["calendar"] = _calendar_record(
            locked, method=method, announced_sequence=revision
        )
        return updated

    def send() -> None:
        calendar = claimed.get("calendar")
        emails.event_change_email(
            claimed["rsvp"],
            method=calendar.method if calendar else None,
            sequence=calendar.sequence if calendar else None,
        ).send()

    def give_back() -> None:
        Rsvp.objects.filter(pk=rsvp_id, announced_sequence=claimed["sequence"]).update(
            announced_sequence=claimed["previous"]
        )
        if "calendar" in claimed:
            _calendar_give_back(rsvp_id, claimed["calendar"])

    send_once(claim=claim, send=send, give_back=give_back)


# After the session ------------------------------------------------------------------------

# An event that ended longer ago than this (beat was down) is not wrapped up late.
WRAP_UP_WITHIN = timedelta(hours=1)


@shared_task(ignore_result=True)
def events_wrap_up_tick() -> int:
    """Beat runs this every minute: the people still in the room of an event that just ended
    are invited, in the room, to carry on in the cafeteria, and its attendance is counted;
    a stage still live after its talk's overrun is ended (`stages_overrun_end`).
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
    stages_overrun_end(now=now)
    return wrapped


@shared_task(ignore_result=True)
def series_extend_tick() -> int:
    """Beat runs this daily: recurring sessions always have their next weeks on the calendar
    without anyone copying events by hand."""
    return series_extend_all()

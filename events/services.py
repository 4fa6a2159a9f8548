"""Writes about events: creating, changing and cancelling them, RSVPs with a waiting list, and
the occurrences of weekly series."""

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Literal

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.models import (
    CalendarFeed,
    Event,
    EventError,
    EventKind,
    EventSeries,
    Rsvp,
    calendar_feed_token,
)
from events.tasks import event_change_announce, rsvp_promoted_notify
from members.models import User
from rooms.models import Room


class NotAllowed(EventError):
    code = "not_allowed"
    default_message = _("You are not allowed to do that.")


class StaffOnly(EventError):
    code = "staff_only"
    default_message = _("Only staff can organise training sessions and talks.")


class TitleRequired(EventError):
    code = "title_required"
    default_message = _("Give the event a title.")


class EndsBeforeStart(EventError):
    code = "ends_before_start"
    default_message = _("An event must end after it starts.")


class StartsInPast(EventError):
    code = "starts_in_past"
    default_message = _("An event cannot start in the past.")


class InvalidTimeZone(EventError):
    code = "invalid_time_zone"
    default_message = _("That is not a known time zone.")


class CapacityTooLow(EventError):
    code = "capacity_too_low"
    default_message = _("The capacity must be at least 1.")


class CapacityBelowAttendance(EventError):
    code = "capacity_below_attendance"
    default_message = _("More members are already going than that capacity allows.")


class RoomClosed(EventError):
    code = "room_closed"
    default_message = _("That room is closed.")


class EventCancelled(EventError):
    code = "cancelled"
    default_message = _("This event was cancelled.")


class EventOver(EventError):
    code = "over"
    default_message = _("This event is over.")


class InvalidAnswer(EventError):
    code = "invalid_answer"
    default_message = _("Answer going, maybe or not going.")


# A meetup "starting now" takes a moment to fill in; a start this recent still counts as now.
START_GRACE = timedelta(minutes=5)
MEETUP_DURATIONS = (timedelta(minutes=30), timedelta(minutes=60))
# A room made for an event lets members in this long before the start.
EVENT_ROOM_OPENS_BEFORE = timedelta(minutes=10)


@dataclass(frozen=True)
class MeetupTimes:
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class RsvpChange:
    rsvp: Rsvp
    # Wait-listed members who got a seat because of this change, first in the queue first.
    promoted: list[Rsvp] = field(default_factory=list)


def meetup_defaults(
    *,
    time_zone: str,
    start: Literal["now", "later"] = "now",
    duration: timedelta = MEETUP_DURATIONS[0],
    now: datetime | None = None,
) -> MeetupTimes:
    """The suggested times of a spontaneous meetup. "now" starts at the current minute;
    "later" at the first full hour at least an hour away, when that is still today in
    `time_zone`, and otherwise now."""
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    starts_at = now
    if start == "later":
        later = (now + timedelta(hours=2)).replace(minute=0)
        zone = zoneinfo.ZoneInfo(_zone_checked(time_zone))
        if later.astimezone(zone).date() == now.astimezone(zone).date():
            starts_at = later
    return MeetupTimes(starts_at=starts_at, ends_at=starts_at + duration)


def _zone_checked(time_zone: str) -> str:
    if time_zone not in zoneinfo.available_timezones():
        raise InvalidTimeZone
    return time_zone


def _is_member(user: User) -> bool:
    return bool(user.is_active and user.deleted_at is None)


def _may_manage(*, event: Event, user: User) -> bool:
    return user.is_staff or user.pk in (event.host_id, event.created_by_id)


def _check_times(
    *, starts_at: datetime, ends_at: datetime, now: datetime, check_start: bool
) -> None:
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValueError("event times must be timezone-aware")
    if ends_at <= starts_at:
        raise EndsBeforeStart
    if check_start and starts_at < now - START_GRACE:
        raise StartsInPast


def _check_capacity(capacity: int | None) -> None:
    if capacity is not None and capacity < 1:
        raise CapacityTooLow


def _check_room(room: Room | None) -> None:
    if room is not None and not room.is_open:
        raise RoomClosed


def event_create(
    *,
    by: User,
    kind: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    time_zone: str,
    description: str = "",
    capacity: int | None = None,
    room: Room | None = None,
    host: User | None = None,
    now: datetime | None = None,
) -> Event:
    """Create an event. Any active member may start a meetup; training sessions and talks are
    for staff. `host` defaults to `by`."""
    if not _is_member(by):
        raise NotAllowed
    if kind not in EventKind.values:
        raise ValueError(f"unknown event kind {kind!r}")
    if kind != EventKind.MEETUP and not by.is_staff:
        raise StaffOnly
    title = title.strip()
    if not title:
        raise TitleRequired
    _zone_checked(time_zone)
    _check_times(starts_at=starts_at, ends_at=ends_at, now=now or timezone.now(), check_start=True)
    _check_capacity(capacity)
    _check_room(room)
    return Event.objects.create(
        kind=kind,
        title=title,
        description=description.strip(),
        host=host or by,
        created_by=by,
        starts_at=starts_at,
        ends_at=ends_at,
        time_zone=time_zone,
        capacity=capacity,
        room=room,
    )


# The changes announced to attendees by email (events.tasks.event_change_announce).
ANNOUNCED_FIELDS = ("title", "starts_at", "ends_at", "room")


def event_update(
    *,
    event: Event,
    by: User,
    title: str,
    description: str,
    starts_at: datetime,
    ends_at: datetime,
    time_zone: str,
    capacity: int | None,
    room: Room | None,
    now: datetime | None = None,
) -> Event:
    """Replace an event's editable details (a form sends them all). Locks the event row, so
    the capacity is checked against the attendance of that moment; a larger capacity seats
    wait-listed members (who are emailed after commit). Bumps `sequence` when something
    calendars show changed."""
    if not _may_manage(event=event, user=by):
        raise NotAllowed
    title = title.strip()
    if not title:
        raise TitleRequired
    _zone_checked(time_zone)
    _check_capacity(capacity)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        if locked.is_cancelled:
            raise EventCancelled
        _check_times(
            starts_at=starts_at,
            ends_at=ends_at,
            now=now,
            check_start=starts_at != locked.starts_at,
        )
        if room is not None and room.pk != locked.room_id:
            _check_room(room)
        going = locked.rsvps.filter(status=Rsvp.Status.GOING).count()
        if capacity is not None and capacity < going:
            raise CapacityBelowAttendance
        before = {name: getattr(locked, name) for name in Event.CALENDAR_FIELDS}
        locked.title = title
        locked.description = description.strip()
        locked.starts_at = starts_at
        locked.ends_at = ends_at
        locked.time_zone = time_zone
        locked.capacity = capacity
        locked.room = room
        if any(getattr(locked, name) != value for name, value in before.items()):
            locked.sequence += 1
        locked.save()
        if room is not None and locked.starts_at != before["starts_at"]:
            _event_room_follow(event=locked, room=room)
        _waitlist_promote(event=locked, now=now)
        # Attendees hear of what changes their plans (not of a reworded description).
        if any(getattr(locked, name) != before[name] for name in ANNOUNCED_FIELDS):
            transaction.on_commit(partial(event_change_announce.delay, locked.pk))
    return locked


def _event_room_follow(*, event: Event, room: Room) -> None:
    """Keep a room made for `event` (by its creator, with an opening time) opening
    `EVENT_ROOM_OPENS_BEFORE` its start, and counting as active until then."""
    if room.opens_at is None or room.created_by_id is None:
        return
    if room.created_by_id != event.created_by_id:
        return
    room.opens_at = event.starts_at - EVENT_ROOM_OPENS_BEFORE
    Room.objects.filter(pk=room.pk).update(opens_at=room.opens_at)
    Room.objects.filter(pk=room.pk, last_activity_at__lt=event.starts_at).update(
        last_activity_at=event.starts_at
    )


def event_cancel(*, event: Event, by: User, now: datetime | None = None) -> bool:
    """Cancel an event (it stays, marked cancelled, and its calendar revision goes up). False
    when it was already cancelled."""
    if not _may_manage(event=event, user=by):
        raise NotAllowed
    when = now or timezone.now()
    updated = Event.objects.filter(pk=event.pk, cancelled_at__isnull=True).update(
        cancelled_at=when, sequence=F("sequence") + 1, updated_at=when
    )
    if updated:
        event.refresh_from_db(fields=["cancelled_at", "sequence", "updated_at"])
        transaction.on_commit(partial(event_change_announce.delay, event.pk))
    return bool(updated)


def _waitlist_promote(*, event: Event, now: datetime) -> list[Rsvp]:
    """Seat wait-listed members, first in the queue first, while there are free seats. The
    caller holds the event's row lock. Each promoted member is emailed after commit."""
    queue = event.rsvps.filter(status=Rsvp.Status.WAITLISTED).order_by("position", "id")
    if event.capacity is None:
        waiting = list(queue)
    else:
        free = event.capacity - event.rsvps.filter(status=Rsvp.Status.GOING).count()
        waiting = list(queue[: max(free, 0)])
    for rsvp in waiting:
        rsvp.status, rsvp.position, rsvp.promoted_at = Rsvp.Status.GOING, None, now
        rsvp.promotion_emailed_at = None
        rsvp.save(update_fields=["status", "position", "promoted_at", "promotion_emailed_at"])
        transaction.on_commit(partial(rsvp_promoted_notify.delay, rsvp.pk))
    return waiting


def rsvp_set(*, event: Event, user: User, status: str, now: datetime | None = None) -> RsvpChange:
    """Answer an event for `user`: going, maybe or not going. Going to a full event puts the
    member at the end of the waiting list (asking again keeps their place). A seat given up
    goes to the first wait-listed member, who is emailed after commit.

    Locks the event row for the whole change, so answers to one event are taken one at a
    time: two members asking for the last seat at once get one seat and one waiting place.
    """
    if status not in (Rsvp.Status.GOING, Rsvp.Status.MAYBE, Rsvp.Status.NOT_GOING):
        raise InvalidAnswer
    if not _is_member(user):
        raise NotAllowed
    now = now or timezone.now()
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        if locked.is_cancelled:
            raise EventCancelled
        if locked.has_ended(now=now):
            raise EventOver
        rsvp = Rsvp.objects.filter(event=locked, user=user).first()
        previous = rsvp.status if rsvp else None
        if rsvp is None:
            # A new answer knows the event as it is: earlier changes are not news to it.
            rsvp = Rsvp(event=locked, user=user, announced_sequence=locked.sequence)
        if status == Rsvp.Status.GOING:
            if previous in (Rsvp.Status.GOING, Rsvp.Status.WAITLISTED):
                return RsvpChange(rsvp=rsvp)
            going = locked.rsvps.filter(status=Rsvp.Status.GOING).count()
            if locked.capacity is None or going < locked.capacity:
                rsvp.status, rsvp.position = Rsvp.Status.GOING, None
            else:
                last = locked.rsvps.filter(status=Rsvp.Status.WAITLISTED).aggregate(
                    last=Max("position")
                )["last"]
                rsvp.status, rsvp.position = Rsvp.Status.WAITLISTED, (last or 0) + 1
        else:
            rsvp.status, rsvp.position = status, None
        rsvp.save()
        promoted = []
        if previous == Rsvp.Status.GOING and rsvp.status != Rsvp.Status.GOING:
            promoted = _waitlist_promote(event=locked, now=now)
    return RsvpChange(rsvp=rsvp, promoted=promoted)


def series_extend(*, series: EventSeries, until: date, now: datetime | None = None) -> list[Event]:
    """Create the series' missing occurrences from today up to `until` (and no later than the
    series' last day); occurrences already made, or already started, are left alone, so
    running it again creates nothing. Locks the series row, so two runs at once cannot
    both create the same occurrence. Returns the new events."""
    now = now or timezone.now()
    zone = zoneinfo.ZoneInfo(series.time_zone)
    with transaction.atomic():
        locked = EventSeries.objects.select_for_update().get(pk=series.pk)
        wanted = [
            locked.occurrence_starts_at(day)
            for day in locked.occurrence_days(first=now.astimezone(zone).date(), last=until)
        ]
        wanted = [starts_at for starts_at in wanted if starts_at > now]
        existing = set(
            locked.events.filter(starts_at__in=wanted).values_list("starts_at", flat=True)
        )
        return Event.objects.bulk_create(
            Event(
                kind=locked.kind,
                title=locked.title,
                description=locked.description,
                host=locked.host,
                created_by=locked.created_by,
                starts_at=starts_at,
                ends_at=starts_at + locked.duration,
                time_zone=locked.time_zone,
                capacity=locked.capacity,
                room=locked.room,
                series=locked,
            )
            for starts_at in wanted
            if starts_at not in existing
        )


def event_can_manage(*, event: Event, user: User) -> bool:
    """May `user` change this event? Staff, its host and whoever created it."""
    return _may_manage(event=event, user=user)


def event_create_with_room(
    *,
    by: User,
    kind: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    time_zone: str,
    description: str = "",
    capacity: int | None = None,
    host: User | None = None,
    now: datetime | None = None,
) -> Event:
    """Create an event together with a public meeting room of its own, named after it, in
    one transaction: a refused event leaves no room behind. Staff events get a permanent
    room; a meetup gets a member's room, which closes itself once idle after the start.
    Members may enter the room from `EVENT_ROOM_OPENS_BEFORE` the start on."""
    from rooms.services import room_create

    with transaction.atomic():
        room = room_create(
            creator=by,
            name=title,
            description=description,
            permanent=kind != EventKind.MEETUP and by.is_staff,
            # Opens a few minutes before the start: a meetup starting now, at once.
            opens_at=starts_at - EVENT_ROOM_OPENS_BEFORE,
        )
        event = event_create(
            by=by,
            kind=kind,
            title=title,
            description=description,
            starts_at=starts_at,
            ends_at=ends_at,
            time_zone=time_zone,
            capacity=capacity,
            room=room,
            host=host,
            now=now,
        )
        # A member's room closes after a while without activity; one made for a meetup
        # later today counts as active until the meetup starts.
        Room.objects.filter(pk=room.pk, last_activity_at__lt=starts_at).update(
            last_activity_at=starts_at
        )
    return event


def meetup_start(
    *,
    by: User,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    time_zone: str,
    description: str = "",
    now: datetime | None = None,
) -> Event:
    """Start a spontaneous meetup in a public meeting room of its own (see
    `event_create_with_room`). Any active member may."""
    return event_create_with_room(
        by=by,
        kind=EventKind.MEETUP,
        title=title,
        description=description,
        starts_at=starts_at,
        ends_at=ends_at,
        time_zone=time_zone,
        now=now,
    )


def event_attendee_ids(*, event: Event) -> set[int]:
    """The members who were in the event's room while it ran (from when the room opened),
    counting those still there. In the cafeteria, where people sit all day anyway, only
    those who had said they were going or might go count."""
    from rooms.models import Presence, Visit

    if event.room_id is None:
        return set()
    opened = event.starts_at - EVENT_ROOM_OPENS_BEFORE
    attended = set(
        Visit.objects.filter(
            room_id=event.room_id, started_at__lt=event.ends_at, ended_at__gt=opened
        ).values_list("user_id", flat=True)
    )
    attended |= set(
        Presence.objects.filter(room_id=event.room_id, connected_at__lt=event.ends_at).values_list(
            "user_id", flat=True
        )
    )
    if event.room is not None and event.room.is_cafeteria:
        attended &= set(
            event.rsvps.filter(status__in=[Rsvp.Status.GOING, Rsvp.Status.MAYBE]).values_list(
                "user_id", flat=True
            )
        )
    return attended


def event_attendance_count(*, event: Event) -> int:
    """Count and keep the event's attendance (see `event_attendee_ids`)."""
    count = len(event_attendee_ids(event=event))
    Event.objects.filter(pk=event.pk).update(attendance_count=count)
    event.attendance_count = count
    return count


# How far ahead series are filled (the admin action and the daily beat tick).
SERIES_HORIZON = timedelta(weeks=8)


def series_extend_all(*, now: datetime | None = None) -> int:
    """Fill every running series up to `SERIES_HORIZON` ahead. Idempotent, like
    `series_extend`. Returns how many events it created."""
    now = now or timezone.now()
    created = 0
    for series in EventSeries.objects.filter(until__gte=now.date()):
        until = now.astimezone(zoneinfo.ZoneInfo(series.time_zone)).date() + SERIES_HORIZON
        created += len(series_extend(series=series, until=until, now=now))
    return created


def calendar_feed_get_or_create(*, user: User) -> CalendarFeed:
    """The member's private calendar feed, made with a fresh secret token the first time."""
    feed, _created = CalendarFeed.objects.get_or_create(user=user)
    return feed


def calendar_feed_rotate(*, user: User, now: datetime | None = None) -> CalendarFeed:
    """Give the member's feed a new secret token: the old URL stops working at once (revoke
    a leaked link). Makes the feed when the member had none."""
    feed, _created = CalendarFeed.objects.update_or_create(
        user=user,
        defaults={"token": calendar_feed_token(), "created_at": now or timezone.now()},
    )
    return feed

"""Writes about events themselves: creating (with a room of their own, or as a spontaneous
meetup), changing and cancelling them. Answers and the waiting list are in `events.rsvps`,
weekly series in `events.series`, attendance in `events.attendance`."""

import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.text import visible_line
from events.access import event_can_manage, user_is_member
from events.errors import (
    MEETUPS_PER_DAY,
    CapacityBelowAttendance,
    CapacityTooLow,
    EndsBeforeStart,
    EventCancelled,
    EventOver,
    InvalidTimeZone,
    NoLaterHourToday,
    NotAllowed,
    RoomClosed,
    StaffOnly,
    StartsInPast,
    TimesStaffOnly,
    TitleRequired,
    TooManyMeetups,
)
from events.models import (
    EVENT_ROOM_OPENS_BEFORE,
    Event,
    EventError,
    EventKind,
    EventSeries,
    Rsvp,
)
from events.rsvps import host_seat_take, waitlist_promote
from events.tasks import ANNOUNCED_TO, REMINDER_LEADS, WRAP_UP_WITHIN, event_change_announce
from members.models import User
from rooms.models import Room

# A meetup "starting now" takes a moment to fill in; a start this recent still counts as now.
START_GRACE = timedelta(minutes=5)
MEETUP_DURATIONS = (timedelta(minutes=30), timedelta(minutes=60))


@dataclass(frozen=True)
class MeetupTimes:
    starts_at: datetime
    ends_at: datetime


def meetup_defaults(
    *,
    time_zone: str,
    start: Literal["now", "later"] = "now",
    duration: timedelta = MEETUP_DURATIONS[0],
    now: datetime | None = None,
) -> MeetupTimes:
    """The suggested times of a spontaneous meetup. "now" starts at the current minute;
    "later" at the first full hour at least an hour away. Raises `NoLaterHourToday` when
    that hour is tomorrow in `time_zone` (from 22:00 on): starting now instead would
    surprise the member who asked for later."""
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    starts_at = now
    if start == "later":
        # A full hour on the member's clock: in zones half an hour off UTC, not UTC's.
        zone = zoneinfo.ZoneInfo(_zone_checked(time_zone))
        local_now = now.astimezone(zone)
        # Two real hours on, then back to that full hour: between 1 and 2 hours away even
        # on the nights the clocks change (two hours on the clock's face would be 30
        # minutes, or 2 hours 30, then).
        later = (now + timedelta(hours=2)).astimezone(zone).replace(minute=0)
        if later.date() != local_now.date():
            raise NoLaterHourToday
        starts_at = later.astimezone(UTC)
    return MeetupTimes(starts_at=starts_at, ends_at=starts_at + duration)


def _zone_checked(time_zone: str) -> str:
    if time_zone not in zoneinfo.available_timezones():
        raise InvalidTimeZone
    return time_zone


def _check_times(
    *, starts_at: datetime, ends_at: datetime, now: datetime, check_start: bool
) -> None:
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValueError("event times must be timezone-aware")
    # As instants: two times in one zone object compare by their wall clocks, which across
    # a change of the clocks need not put them in the same order.
    if ends_at.astimezone(UTC) <= starts_at.astimezone(UTC):
        raise EndsBeforeStart
    if check_start and starts_at < now - START_GRACE:
        raise StartsInPast


def _check_capacity(capacity: int | None) -> None:
    if capacity is not None and capacity < 1:
        raise CapacityTooLow


def _check_room(room: Room | None) -> None:
    if room is not None and not room.is_open:
        raise RoomClosed


@transaction.atomic
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
    for staff. `host` defaults to `by`, and is going: they take one of the seats."""
    if not user_is_member(by):
        raise NotAllowed
    if kind not in EventKind.values:
        raise ValueError(f"unknown event kind {kind!r}")
    if kind != EventKind.MEETUP and not by.is_staff:
        raise StaffOnly
    if kind == EventKind.MEETUP and not by.is_staff:
        # One creation at a time per member, so two at once cannot both pass the count.
        User.objects.select_for_update().filter(pk=by.pk).first()
        since = (now or timezone.now()) - timedelta(days=1)
        started = Event.objects.filter(created_by=by, kind=EventKind.MEETUP, created_at__gte=since)
        if started.count() >= MEETUPS_PER_DAY:
            raise TooManyMeetups
    title = visible_line(title)
    if not title:
        raise TitleRequired
    _zone_checked(time_zone)
    _check_times(starts_at=starts_at, ends_at=ends_at, now=now or timezone.now(), check_start=True)
    _check_capacity(capacity)
    _check_room(room)
    event = Event.objects.create(
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
    host_seat_take(event=event)
    return event


# The changes announced to attendees (events.tasks.event_change_announce): those that change
# their plans. A new title or description alone is not news; calendars still pick it up
# through `sequence`.
ANNOUNCED_TIMES = ("starts_at", "ends_at")
ANNOUNCED_FIELDS = (*ANNOUNCED_TIMES, "room")


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
    calendars show changed. A new time or room is announced after commit to everyone who
    answered, except `by`, who made the change."""
    if not event_can_manage(event=event, user=by):
        raise NotAllowed
    title = visible_line(title)
    if not title:
        raise TitleRequired
    _zone_checked(time_zone)
    _check_capacity(capacity)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        if locked.is_cancelled:
            raise EventCancelled
        if locked.has_ended(now=now):
            # Those who answered would be told of a change to something that is over.
            raise EventOver
        _check_times(
            starts_at=starts_at,
            ends_at=ends_at,
            now=now,
            check_start=starts_at != locked.starts_at,
        )
        moved = (starts_at, ends_at) != (locked.starts_at, locked.ends_at)
        staff = by.is_staff and by.has_perm("events.change_event")
        if moved and locked.is_staff_kind and not staff:
            # A talk's host holds the stage's rights until its end: moving that end is
            # staff's (docs/stage.md), or a host could keep them for months.
            raise TimesStaffOnly
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
        if locked.starts_at != before["starts_at"]:
            # Reminders are of the new time (events.tasks.reminders_due finds them again),
            # except a day-before one whose time has passed already: the change's notice
            # tells the new time now, and the reminder would repeat it a minute later.
            if locked.starts_at - REMINDER_LEADS["day"] > now:
                locked.rsvps.update(reminded_day_at=None, reminded_soon_at=None)
            else:
                locked.rsvps.filter(reminded_day_at__isnull=True).update(reminded_day_at=now)
                locked.rsvps.update(reminded_soon_at=None)
        if room is not None:
            _event_room_follow(event=locked, room=room)
        waitlist_promote(event=locked, now=now)
        # Attendees hear of what changes their plans (not of a new title or description).
        if any(getattr(locked, name) != before[name] for name in ANNOUNCED_FIELDS):
            times_changed = any(getattr(locked, name) != before[name] for name in ANNOUNCED_TIMES)
            event_change_announce.delay_on_commit(
                locked.pk, changed_by_id=by.pk, times_changed=times_changed
            )
    return locked


def _is_own_room(*, event: Event, room: Room) -> bool:
    """Was `room` made for `event` (by its creator, with an opening time), rather than a room
    it takes place in, such as the cafeteria?"""
    return (
        room.opens_at is not None
        and room.created_by_id is not None
        and room.created_by_id == event.created_by_id
    )


def _event_room_follow(*, event: Event, room: Room) -> None:
    """Keep a room made for `event` named and described as the event, opening
    `EVENT_ROOM_OPENS_BEFORE` its start, and counting as active until its end (then it
    closes once idle, as any member's room)."""
    if not _is_own_room(event=event, room=room):
        return
    room.opens_at = event.doors_open_at
    from rooms.services import room_name_clean

    room.name = room_name_clean(event.title)
    room.description = event.description.strip()
    Room.objects.filter(pk=room.pk).update(
        opens_at=room.opens_at, name=room.name, description=room.description
    )
    Room.objects.filter(pk=room.pk, last_activity_at__lt=event.ends_at).update(
        last_activity_at=event.ends_at
    )


def event_cancel(*, event: Event, by: User, now: datetime | None = None) -> bool:
    """Cancel an event (it stays, marked cancelled, and its calendar revision goes up). False
    when it was already cancelled. Everyone who answered is told, except `by`."""
    if not event_can_manage(event=event, user=by):
        raise NotAllowed
    cancelled = _event_mark_cancelled(
        event_id=event.pk, now=now or timezone.now(), cancelled_by_id=by.pk
    )
    if cancelled:
        event.refresh_from_db(fields=["cancelled_at", "sequence", "updated_at"])
    return cancelled


def event_deletable(*, event: Event, now: datetime | None = None) -> bool:
    """Whether deleting the event (the admin) leaves nobody's plans or history behind: it has
    ended and its attendance was counted with nobody there (or will never be), or everyone
    who answered or holds it in their calendar has been told its latest revision,
    its cancellation say. Deleted before, nobody would hear: the announcements read the
    answers, which go with the event."""
    now = now or timezone.now()
    if event.ends_at <= now:
        counting = (
            event.room_id is not None
            and event.cancelled_at is None
            and event.wrapped_up_at is None
            and event.ends_at > now - WRAP_UP_WITHIN
        )
        # Those who came are its history (the dashboard's figures, recounted every hour):
        # counted by its wrap-up within the minute after its end (`events_wrap_up_tick`).
        return not counting and not event.attendance_count
    # Whoever made the event knows what they do with it.
    holding = Rsvp.objects.filter(
        Q(status__in=ANNOUNCED_TO) | Q(calendar_held=True), event=event
    ).exclude(user_id__in=[event.host_id, event.created_by_id])
    if event.cancelled_at is None:
        return not holding.exists()
    return not holding.filter(announced_sequence__lt=event.sequence).exists()


def _event_mark_cancelled(*, event_id: int, now: datetime, cancelled_by_id: int) -> bool:
    """Mark the event cancelled unless it already is, raising its calendar revision; those
    going, maybe going or waiting are told after commit (not whoever cancelled it)."""
    updated = Event.objects.filter(pk=event_id, cancelled_at__isnull=True).update(
        cancelled_at=now, sequence=F("sequence") + 1, updated_at=now
    )
    if updated:
        event_change_announce.delay_on_commit(event_id, changed_by_id=cancelled_by_id)
        # Its own room goes with it (its history stays readable to those who were in).
        event = Event.objects.select_related("room", "created_by").get(pk=event_id)
        if event.room is not None and _is_own_room(event=event, room=event.room):
            # Not a room other events still to come take place in (a series' room, say).
            shared = (
                Event.objects.filter(room=event.room, cancelled_at__isnull=True, ends_at__gt=now)
                .exclude(pk=event_id)
                .exists()
                or EventSeries.objects.filter(room=event.room).exists()
            )
            if not shared:
                from rooms.services import room_close

                room_close(room=event.room, by=event.created_by, now=now)  # type: ignore[arg-type]
    return bool(updated)


def hosted_meetups_cancel(*, host: User, now: datetime | None = None) -> int:
    """Cancel the meetups `host` hosts that have not ended (their account is being deleted):
    a meetup is its host's idea and does not go on without them, whereas a training session
    or talk is staff's, who can find it another host. Those going, maybe going or waiting are
    told as for any cancellation, after commit. Returns how many were cancelled."""
    now = now or timezone.now()
    hosted = Event.objects.filter(
        host=host, kind=EventKind.MEETUP, cancelled_at__isnull=True, ends_at__gt=now
    ).values_list("pk", flat=True)
    return sum(
        _event_mark_cancelled(event_id=pk, now=now, cancelled_by_id=host.pk) for pk in list(hosted)
    )


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
    one transaction: a refused event leaves no room behind. The room closes itself once idle
    after the event's end, or with the event if it is cancelled; past events do not fill the
    lobby. Members may enter the room from `EVENT_ROOM_OPENS_BEFORE` the start on."""
    from rooms.services import room_create

    with transaction.atomic():
        room = room_create(
            creator=by,
            name=title,
            description=description,
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
        # A member's room closes after a while without activity; one made for an event
        # counts as active until the event ends.
        Room.objects.filter(pk=room.pk, last_activity_at__lt=ends_at).update(
            last_activity_at=ends_at
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


@dataclass
class SeriesApplied:
    """What `series_apply` did to a series' coming occurrences."""

    updated: int = 0
    cancelled: int = 0
    # Occurrences left as they were, with the reason (e.g. more going than the new capacity).
    refused: list[str] = field(default_factory=list)


def series_apply(
    *, series: EventSeries, before: EventSeries, by: User, now: datetime | None = None
) -> SeriesApplied:
    """Staff changed a weekly series (`before`: as it was). Its coming occurrences take what
    changed (a new hour only those still at the hour the series gave their day, not moved
    one by one; a field set on one occurrence alone stays unless the series' own changed),
    and those who answered are told as for any change; those on a day the
    series no longer has (another weekday, after its new last day) are cancelled, and told
    so. The days the series now has and lacks an occurrence for are made by `series_extend`
    (the admin runs it next). Each occurrence is its own transaction."""
    now = now or timezone.now()
    result = SeriesApplied()
    coming = series.events.filter(starts_at__gt=now, cancelled_at__isnull=True).exclude(
        series_day__isnull=True
    )

    def changed(name: str) -> bool:
        return bool(getattr(series, name) != getattr(before, name))

    times_changed = any(changed(name) for name in ("local_start", "duration", "time_zone"))
    for event in coming.select_related("room").order_by("starts_at"):
        day = event.series_day
        assert day is not None  # excluded above
        following = event.starts_at == before.occurrence_starts_at(day) and (
            event.ends_at - event.starts_at == before.duration
        )
        still_a_day = series.occurrence_days(first=day, last=day) == [day]
        # Only what the series' change touched: what staff set on one occurrence (its own
        # room, a larger capacity, a time of its own) stays.
        moved = times_changed and following
        starts_at = series.occurrence_starts_at(day) if moved else event.starts_at
        fields: dict[str, Any] = {
            "title": series.title if changed("title") else event.title,
            "description": series.description if changed("description") else event.description,
            "starts_at": starts_at,
            "ends_at": starts_at + series.duration if moved else event.ends_at,
            "time_zone": series.time_zone if moved else event.time_zone,
            "capacity": series.capacity if changed("capacity") else event.capacity,
            "room": series.room if changed("room") and series.room else event.room,
        }
        try:
            if not still_a_day:
                result.cancelled += event_cancel(event=event, by=by, now=now)
            elif any(getattr(event, name) != value for name, value in fields.items()):
                event_update(event=event, by=by, now=now, **fields)
                result.updated += 1
        except EventError as refused:
            result.refused.append(f"{event}: {refused}")
    return result

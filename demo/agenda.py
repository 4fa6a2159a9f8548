"""The demo's calendar (`demo.data.EVENTS`): events placed relative to the day the seed runs
and moved there again on every run, with answers and, once over, attendance.

An event is the demo's when a demo account made it and its title is one of the ideas; the
same event is moved rather than made again, so answers given while trying the demo stay."""

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import F

from demo.data import EventIdea
from demo.people import People, demo_users
from events.access import user_is_member
from events.models import EVENT_ROOM_OPENS_BEFORE, Event, EventKind, Rsvp
from events.rsvps import host_seat_take, rsvp_set
from events.services import event_create, event_create_with_room
from members.models import User
from rooms.models import Room

# The member login goes to what happens today and tomorrow, and went to the latest past one.
MEMBER_GOES_WITHIN_DAYS = 1
# Of those going to a past event, about this share came (rooms' attendance is counted).
SHOWED_UP = 0.7


def event_times(idea: EventIdea, *, now: datetime) -> tuple[datetime, datetime]:
    """When `idea` starts and ends, seen from `now`."""
    if idea.at is None:
        # The next full hour at least an hour away: later today, most of the day.
        starts_at = (now + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    else:
        zone = ZoneInfo(idea.time_zone)
        day = now.astimezone(zone).date() + timedelta(days=idea.day)
        starts_at = datetime.combine(day, idea.at, tzinfo=zone).astimezone(UTC)
    return starts_at, starts_at + timedelta(minutes=idea.minutes)


def agenda_refresh(
    *, people: People, ideas: list[EventIdea], room: Room, now: datetime
) -> list[Event]:
    """Every idea as an event at its time seen from `now`, with its answers. Staff
    sessions take place in `room`; meetups in rooms of their own."""
    latest_past = max((idea.day for idea in ideas if idea.day < 0), default=None)
    return [
        _event_put(
            idea,
            people=people,
            room=room,
            member_goes=idea.day == latest_past or 0 <= idea.day <= MEMBER_GOES_WITHIN_DAYS,
            now=now,
        )
        for idea in ideas
    ]


def _event_put(
    idea: EventIdea, *, people: People, room: Room, member_goes: bool, now: datetime
) -> Event:
    starts_at, ends_at = event_times(idea, now=now)
    by = people.who(idea.created_by)
    if not user_is_member(by):
        # Suspended while someone tried the demo: staff make the event instead.
        by = people.staff
    host = people.who(idea.host) if idea.host else by
    over = ends_at <= now
    going, maybe = _answerers(idea, people=people, host=host, member_goes=member_goes)
    attendance = round(len(going) * SHOWED_UP) if over else None
    event = (
        Event.objects.filter(title=idea.title, created_by__in=demo_users())
        .select_related("room")
        .first()
    )
    if event is None and over:
        # The services refuse to make events in the past: this one is history.
        event = Event.objects.create(
            kind=idea.kind,
            title=idea.title,
            description=idea.description,
            host=host,
            created_by=by,
            starts_at=starts_at,
            ends_at=ends_at,
            time_zone=idea.time_zone,
            capacity=idea.capacity,
            room=room,
            wrapped_up_at=ends_at,
            attendance_count=attendance,
        )
        host_seat_take(event=event)
    elif event is None and idea.kind == EventKind.MEETUP:
        event = event_create_with_room(
            by=by,
            kind=idea.kind,
            title=idea.title,
            description=idea.description,
            starts_at=starts_at,
            ends_at=ends_at,
            time_zone=idea.time_zone,
            capacity=idea.capacity,
            now=now,
        )
    elif event is None:
        event = event_create(
            by=by,
            kind=idea.kind,
            title=idea.title,
            description=idea.description,
            starts_at=starts_at,
            ends_at=ends_at,
            time_zone=idea.time_zone,
            capacity=idea.capacity,
            room=room,
            host=host,
            now=now,
        )
    elif event.starts_at != starts_at or event.is_cancelled:
        _event_move(event, starts_at=starts_at, ends_at=ends_at, attendance=attendance, now=now)
    if over:
        Rsvp.objects.bulk_create(
            [Rsvp(event=event, user=user, status=Rsvp.Status.GOING) for user in going],
            ignore_conflicts=True,
        )
    else:
        _answers_give(event, going=going, maybe=maybe, people=people, now=now)
    return event


def _answerers(
    idea: EventIdea, *, people: People, host: User, member_goes: bool
) -> tuple[list[User], list[User]]:
    """Who says they are going, and who maybe: always the same people for the same idea."""
    others = [user for user in people.members[1:] if user.pk != host.pk]
    random.Random(idea.title).shuffle(others)
    going = others[: idea.going]
    if member_goes and host.pk != people.member.pk:
        going = [people.member, *going]
    return going, others[idea.going : idea.going + idea.maybe]


def _event_move(
    event: Event, *, starts_at: datetime, ends_at: datetime, attendance: int | None, now: datetime
) -> None:
    """Put a demo event made by an earlier run at its time seen from `now`: not cancelled,
    wrapped up only if over, its calendar revision raised, its own room open again. Nobody
    is told: it is the same demo day, seen later, not a change of plans."""
    over = ends_at <= now
    Event.objects.filter(pk=event.pk).update(
        starts_at=starts_at,
        ends_at=ends_at,
        cancelled_at=None,
        wrapped_up_at=ends_at if over else None,
        attendance_count=attendance,
        sequence=F("sequence") + 1,
        updated_at=now,
    )
    room = event.room
    if room is not None and room.kind == Room.Kind.MEMBER:
        Room.objects.filter(pk=room.pk).update(
            closed_at=None,
            opens_at=starts_at - EVENT_ROOM_OPENS_BEFORE,
            last_activity_at=max(starts_at, room.last_activity_at),
        )
    # Reminders are due again for the new time.
    event.rsvps.update(reminded_day_at=None, reminded_soon_at=None)
    event.refresh_from_db()


def _answers_give(
    event: Event, *, going: list[User], maybe: list[User], people: People, now: datetime
) -> None:
    """Answer for those who have not (an answer changed while trying the demo stays)."""
    answered = set(event.rsvps.values_list("user_id", flat=True))
    for users, status in ((going, Rsvp.Status.GOING), (maybe, Rsvp.Status.MAYBE)):
        for user in users:
            if user.pk not in answered and user_is_member(user):
                rsvp_set(event=event, user=user, status=status, now=now)
    # The made-up members read no email: their reminders count as given, so that the
    # console shows the member login's reminders only, as the scheduler sends them.
    fictional = event.rsvps.filter(user__in=demo_users()).exclude(user=people.member)
    fictional.filter(reminded_day_at__isnull=True).update(reminded_day_at=now)
    fictional.filter(reminded_soon_at__isnull=True).update(reminded_soon_at=now)

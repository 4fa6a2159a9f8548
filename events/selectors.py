"""Reads of events for lists: each is one query, whatever the number of events."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from events.models import Event, Rsvp
from members.models import User
from members.services import blocked_user_ids
from rooms.models import Message
from rooms.selectors import messages_between
from rooms.services import RoomAccessDenied


def _going_count() -> Coalesce:
    """How many are going to the row's event."""
    # Counted per listed row: PostgreSQL runs it for the rows a page keeps, after the sort
    # and the limit (a join with every RSVP, grouped, counted the whole history's: 740 ms
    # for 50 of 20,000 past events).
    going = (
        Rsvp.objects.filter(event=OuterRef("pk"), status=Rsvp.Status.GOING)
        .order_by()
        .values("event")
        .annotate(count=Count("*"))
        .values("count")
    )
    return Coalesce(Subquery(going), 0)


class _Upcoming(TypedDict):
    going_count: int
    starting_now: bool


class _Mine(_Upcoming):
    my_status: str


class _Past(TypedDict):
    going_count: int
    attendance: int


if TYPE_CHECKING:
    # The plugin's view of annotated rows; only a type, never built at runtime.
    from django_stubs_ext import WithAnnotations

    UpcomingEvent = WithAnnotations[Event, _Upcoming]
    MineEvent = WithAnnotations[Event, _Mine]
    PastEvent = WithAnnotations[Event, _Past]


def _listed() -> QuerySet[Event]:
    return Event.objects.filter(cancelled_at__isnull=True).select_related("host", "room")


def events_upcoming(*, now: datetime | None = None) -> "QuerySet[UpcomingEvent]":
    """Events not cancelled and not over, soonest first, each with `going_count` and
    `starting_now` (started and not ended yet)."""
    now = now or timezone.now()
    return (
        _listed()
        .filter(ends_at__gt=now)
        .annotate(
            going_count=_going_count(),
            starting_now=ExpressionWrapper(Q(starts_at__lte=now), output_field=BooleanField()),
        )
        .order_by("starts_at", "id")
    )


def events_past(*, now: datetime | None = None) -> "QuerySet[PastEvent]":
    """Events that took place (not cancelled, over), latest first, each with `attendance`:
    how many members were in its room, or, until that is counted, how many were going."""
    now = now or timezone.now()
    return (
        _listed()
        .filter(ends_at__lte=now)
        .annotate(
            going_count=_going_count(),
            attendance=Coalesce(F("attendance_count"), F("going_count")),
        )
        .order_by("-starts_at", "-id")
    )


def events_mine(*, user: User, now: datetime | None = None) -> "QuerySet[MineEvent]":
    """The upcoming events `user` hosts or answered going, maybe or waiting to, each with
    `my_status`, their answer (empty for a host who gave none)."""
    answered = Rsvp.objects.filter(
        event=OuterRef("pk"),
        user=user,
        status__in=[Rsvp.Status.GOING, Rsvp.Status.MAYBE, Rsvp.Status.WAITLISTED],
    )
    return (
        events_upcoming(now=now)
        .annotate(my_status=Coalesce(Subquery(answered.values("status")[:1]), Value("")))
        .filter(Q(host=user) | ~Q(my_status=""))
    )


def waitlist_place(*, rsvp: Rsvp) -> int | None:
    """`rsvp`'s place in its event's waiting list as it is now (1 is next), or None when it
    is not wait-listed. Counted from the queue rather than read from `Rsvp.position`, an
    ordering key that leaves gaps when members ahead leave the queue (promoted, cancelled,
    account deleted)."""
    if rsvp.status != Rsvp.Status.WAITLISTED or rsvp.position is None:
        return None
    ahead = Rsvp.objects.filter(event_id=rsvp.event_id, status=Rsvp.Status.WAITLISTED).filter(
        Q(position__lt=rsvp.position) | Q(position=rsvp.position, pk__lt=rsvp.pk)
    )
    return ahead.count() + 1


# Enough names for a room's worth of people; a big talk lists its first answers and counts
# the rest.
ATTENDEES_NAMED = 50


@dataclass(frozen=True)
class Attendee:
    user: User
    is_host: bool
    # Their profile, when `viewer` may open it (onboarded); otherwise the name alone.
    profile_url: str | None


@dataclass(frozen=True)
class Attendees:
    named: list[Attendee]
    # Going, but not named to this viewer: hidden from the directory, blocked either way,
    # without a finished profile, or beyond `ATTENDEES_NAMED`.
    others: int


def event_attendees(*, event: Event, viewer: User) -> Attendees:
    """Who is going to `event`, as `viewer` may see them: the host first, then in the order
    they answered. Everyone going is counted; only members who show themselves in the
    directory are named (the host too, whose name the event already shows), the viewer
    always, and nobody on either side of a block with the viewer but the host: leaving
    out the host the page names would tell the viewer of the block (the host's name then
    links to nothing). Three queries, however many are going.

    The same rules as `members.selectors.profile_for_viewer` and the directory, for a whole
    list at once."""
    going = Rsvp.objects.filter(event=event, status=Rsvp.Status.GOING)
    blocked = blocked_user_ids(user=viewer)
    # A NULL host matches nobody here.
    shown = Q(
        user__profile__visible_in_directory=True, user__profile__onboarded_at__isnull=False
    ) | Q(user_id=event.host_id)
    rows = (
        going.filter(user__is_active=True, user__deleted_at__isnull=True)
        .filter(shown | Q(user_id=viewer.pk))
        .exclude(Q(user_id__in=blocked) & ~Q(user_id=event.host_id))
        .select_related("user__profile")
        .annotate(
            has_profile=ExpressionWrapper(
                Q(user__profile__onboarded_at__isnull=False), output_field=BooleanField()
            ),
            host_first=Case(When(user_id=event.host_id, then=Value(0)), default=Value(1)),
        )
        .order_by("host_first", "created_at", "pk")[:ATTENDEES_NAMED]
    )
    named = [
        Attendee(
            user=row.user,
            is_host=row.user_id == event.host_id,
            profile_url=row.user.get_absolute_url()
            if row.has_profile and row.user_id not in blocked
            else None,
        )
        for row in rows
    ]
    return Attendees(named=named, others=going.count() - len(named))


# How far back a member's calendar feed goes: recent events stay in their calendar.
FEED_PAST = timedelta(days=30)


def events_in_feed(*, user: User, now: datetime | None = None) -> QuerySet[Event]:
    """The events for `user`'s calendar feed: those they host or are going to, upcoming or
    ended within `FEED_PAST`, soonest first. Cancelled ones stay in, so that calendars mark
    them cancelled instead of keeping a stale copy."""
    since = (now or timezone.now()) - FEED_PAST
    # Each side read from its own index: calendars poll the feed all day, and "hosts or is
    # going" as one condition read the whole events table each time.
    hosted = Event.objects.filter(host=user, ends_at__gt=since).order_by().values("pk")
    going = (
        Rsvp.objects.filter(user=user, status=Rsvp.Status.GOING, event__ends_at__gt=since)
        .order_by()
        .values("event_id")
    )
    return (
        Event.objects.filter(pk__in=hosted.union(going))
        .select_related("room")
        .order_by("starts_at", "id")
    )


# The chat that belongs to an event: from its room's opening until a while after the end.
CONVERSATION_AFTER = timedelta(hours=1)


def event_conversation(
    *, event: Event, viewer: User, now: datetime | None = None
) -> list[Message] | None:
    """What was said in the event's room around it (from `EVENT_ROOM_OPENS_BEFORE` the start
    to `CONVERSATION_AFTER` the end), as `viewer` may read it. None before the start, without
    a room, and for a member who may not read the room. A fixed number of queries."""
    if event.room is None or event.starts_at > (now or timezone.now()):
        return None
    try:
        return messages_between(
            room=event.room,
            viewer=viewer,
            start=event.doors_open_at,
            end=event.ends_at + CONVERSATION_AFTER,
        )
    except RoomAccessDenied:
        return None


def busy_going(
    user_ids: list[int], start: datetime, end: datetime
) -> Iterable[tuple[int, datetime, datetime]]:
    """When the members are at events they host or are going to, between `start` and `end`
    (matching.meetings suggests coffee times around them: registered in events.apps)."""
    going = Rsvp.objects.filter(
        user_id__in=user_ids,
        status=Rsvp.Status.GOING,
        event__cancelled_at__isnull=True,
        event__starts_at__lt=end,
        event__ends_at__gt=start,
    ).values_list("user_id", "event__starts_at", "event__ends_at")
    hosting = Event.objects.filter(
        host_id__in=user_ids, cancelled_at__isnull=True, starts_at__lt=end, ends_at__gt=start
    ).values_list("host_id", "starts_at", "ends_at")
    yield from going
    yield from hosting

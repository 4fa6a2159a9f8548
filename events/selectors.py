"""Reads of events for lists: each is one query, whatever the number of events."""

from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils import timezone

from events.models import Event, Rsvp
from members.models import User

_GOING = Q(rsvps__status=Rsvp.Status.GOING)


class _Upcoming(TypedDict):
    going_count: int
    starting_now: bool


class _Past(TypedDict):
    going_count: int
    attendance: int


if TYPE_CHECKING:
    # The plugin's view of annotated rows; only a type, never built at runtime.
    from django_stubs_ext import WithAnnotations

    UpcomingEvent = WithAnnotations[Event, _Upcoming]
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
            going_count=Count("rsvps", filter=_GOING),
            starting_now=ExpressionWrapper(Q(starts_at__lte=now), output_field=BooleanField()),
        )
        .order_by("starts_at", "id")
    )


def events_past(*, now: datetime | None = None) -> "QuerySet[PastEvent]":
    """Events that took place (not cancelled, over), latest first, each with `attendance`:
    how many members were going."""
    now = now or timezone.now()
    return (
        _listed()
        .filter(ends_at__lte=now)
        .annotate(going_count=Count("rsvps", filter=_GOING), attendance=F("going_count"))
        .order_by("-starts_at", "-id")
    )


def events_mine(*, user: User, now: datetime | None = None) -> "QuerySet[UpcomingEvent]":
    """The upcoming events `user` hosts or is going to."""
    going = Rsvp.objects.filter(event=OuterRef("pk"), user=user, status=Rsvp.Status.GOING)
    return events_upcoming(now=now).filter(Q(host=user) | Exists(going))

"""What the staff dashboard counts: plain functions. Members, opt-in, room use, events and the
newsletter come from the period's stored days (dashboard.models.DailyFigures, counted by
dashboard.daily); rounds and focus sessions are one or two aggregate queries that the
database answers, however many members there are. docs/dashboard.md says exactly what each
number means.

Periods are whole days up to now, today included. Days, weeks, weekdays and hours are the
community's (settings.TIME_ZONE), not UTC's nor the viewer's.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.db.models import (
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import (
    Coalesce,
    ExtractHour,
    JSONObject,
    TruncDate,
    TruncWeek,
)

from dashboard.models import DailyFigures, RoundFigures
from focus.models import FocusBlock, Seat
from matching.apps import COMMUNITY_SLUG
from matching.models import Answer, GroupMember, Meeting, Round
from matching.selectors import follow_ups_close_at
from members.retention import sign_up_unconfirmed

DEFAULT_PERIOD = 30
# Longer periods are counted by week: 52 bars read better than 365.
DAILY_UP_TO_DAYS = 31


def community_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class Period:
    days: int
    start: datetime
    end: datetime

    @classmethod
    def ending(cls, end: datetime, *, days: int) -> "Period":
        """The last `days` community days up to `end`: its day and the days before it, from
        the first one's midnight."""
        zone = community_zone()
        first = end.astimezone(zone).date() - timedelta(days=days - 1)
        return cls(days=days, start=datetime.combine(first, time(), tzinfo=zone), end=end)

    @property
    def by_week(self) -> bool:
        return self.days > DAILY_UP_TO_DAYS

    def buckets(self) -> list[date]:
        """The first day of every day (or ISO week) the period touches, in the community's zone."""
        zone = community_zone()
        first = self.start.astimezone(zone).date()
        last = self.end.astimezone(zone).date()
        step = timedelta(days=1)
        if self.by_week:
            first -= timedelta(days=first.weekday())
            last -= timedelta(days=last.weekday())
            step = timedelta(weeks=1)
        days = []
        while first <= last:
            days.append(first)
            first += step
        return days

    def trunc(self, field: str) -> TruncDate | TruncWeek:
        zone = community_zone()
        if self.by_week:
            return TruncWeek(field, tzinfo=zone)
        return TruncDate(field, tzinfo=zone)


def _day(value: date | datetime) -> date:
    # TruncWeek gives a datetime at midnight of the Monday, TruncDate a date.
    return value.date() if isinstance(value, datetime) else value


def living_members() -> Q:
    """Members: accounts open, and not a sign-up nobody confirmed (a spam wave is not growth,
    and the month-old ones are deleted: counted, they would later shrink the past)."""
    return Q(is_active=True, deleted_at__isnull=True) & ~sign_up_unconfirmed()


# Members -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberStats:
    total: int
    new: int
    active_7: int
    active_30: int
    # (first day of the bucket, members who joined in it, members at its end)
    joined: list[tuple[date, int, int]]


def bucket_of(day: date, period: Period) -> date:
    """The first day of the period's bucket (the day, or its ISO week's Monday) holding `day`."""
    return day - timedelta(days=day.weekday()) if period.by_week else day


def _per_bucket(period: Period, days: Sequence[DailyFigures], field: str) -> dict[date, int]:
    totals: dict[date, int] = {}
    for stored in days:
        bucket = bucket_of(stored.day, period)
        totals[bucket] = totals.get(bucket, 0) + getattr(stored, field)
    return totals


def members(period: Period, days: Sequence[DailyFigures]) -> MemberStats:
    """The headline counts as of the last day's count, and sign-ups per bucket, from the
    period's stored days (oldest first, today last)."""
    latest = days[-1]
    per_bucket = _per_bucket(period, days, "joined")
    total = latest.members or 0
    new = sum(per_bucket.values())
    # Members who are here now and joined before the period, then those who joined since.
    running = total - new
    joined = []
    for day in period.buckets():
        running += per_bucket.get(day, 0)
        joined.append((day, per_bucket.get(day, 0), running))
    return MemberStats(
        total=total,
        new=new,
        active_7=latest.active_7 or 0,
        active_30=latest.active_30 or 0,
        joined=joined,
    )


# Coffee pairs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptIn:
    opted_in: int
    paused: int
    members: int

    @property
    def rate(self) -> float | None:
        return self.opted_in / self.members if self.members else None


def pairing_opt_in(latest: DailyFigures, programme: str = COMMUNITY_SLUG) -> OptIn:
    """Members taking part in a programme (opted in, not paused), of all members, as of the
    latest stored count."""
    opted_in, paused = latest.opt_in.get(programme, (0, 0))
    return OptIn(opted_in=opted_in, paused=paused, members=latest.members or 0)


@dataclass(frozen=True)
class RoundStats:
    scheduled_for: datetime
    groups: int
    seats: int
    met: int
    answered: int
    follow_ups_close_at: datetime
    # Groups that agreed on a time (matching.Meeting accepted), and those that did within
    # SCHEDULED_SOON of the intro.
    scheduled: int = 0
    scheduled_soon: int = 0
    # Hours from the intro to an accepted time, on average over the groups that agreed.
    hours_to_agree: float | None = None

    @property
    def met_rate(self) -> float | None:
        # Seats, not groups: the same measure as the Round admin's "met rate".
        return self.met / self.seats if self.seats else None

    def answers_pending(self, now: datetime) -> bool:
        """Whether answers to "did you meet?" may still come in: until then the seats not
        answered yet would count as not met and drag the rate down."""
        return self.answered < self.seats and now < self.follow_ups_close_at


# "Most pairs schedule within 2 days" is the goal to watch (docs/coffee-meetings.md).
SCHEDULED_SOON = timedelta(days=2)


# Answers that settle a seat before its round's follow-ups close.
FINAL_ANSWERS = (Answer.MET, Answer.WONT_HAPPEN)

# The counts of a round's seats, as one value (a JSON object) so that one subquery reads them.
SEAT_FIGURES = ("groups", "seats", "met", "answered")


def round_figures_queryset(
    rounds: QuerySet[Round, Round],
) -> QuerySet[Round, tuple[Any, ...]]:
    """Per round, what happened to its seats, counted live from them: the rows
    `(pk, scheduled_for, {groups, seats, met, answered}, follow_up_after_days, scheduled,
    scheduled_soon, to_agree)`. One query, with a subquery per figure that reads only the
    round's seats or meetings: joining them to the rounds would group a row per seat."""
    seats = (
        GroupMember.objects.filter(round=OuterRef("pk"))
        .values("round")
        .annotate(
            figures=JSONObject(
                groups=Count("group", distinct=True),
                seats=Count("pk"),
                met=Count("pk", filter=Q(answer="met")),
                # For good: "not yet" and "we have a date" may still become "we met".
                answered=Count("pk", filter=Q(answer__in=FINAL_ANSWERS)),
            )
        )
        .values("figures")
    )
    # Meetings are one-to-one with groups: counting them counts the groups that agreed (those
    # with a seat in the round, like the seat counts).
    agreed = Meeting.objects.filter(
        Exists(GroupMember.objects.filter(group=OuterRef("group"), round=OuterRef("group__round"))),
        group__round=OuterRef("pk"),
        accepted_at__isnull=False,
    )

    def count(meetings: QuerySet[Meeting, Meeting]) -> Coalesce:
        counted = meetings.values("group__round").annotate(count=Count("pk")).values("count")
        return Coalesce(Subquery(counted, output_field=IntegerField()), 0)

    # Per group, not per seat: a trio's wait counts once, like a pair's.
    to_agree = (
        Meeting.objects.filter(group__round=OuterRef("pk"), accepted_at__isnull=False)
        .values("group__round")
        .annotate(
            average=Avg(
                ExpressionWrapper(
                    F("accepted_at") - F("group__round__scheduled_for"),
                    output_field=DurationField(),
                )
            )
        )
        .values("average")
    )
    return (
        rounds.annotate(
            seat_figures=Subquery(seats, output_field=JSONField()),
            scheduled_count=count(agreed),
            soon_count=count(
                agreed.filter(accepted_at__lte=F("group__round__scheduled_for") + SCHEDULED_SOON)
            ),
            to_agree=Subquery(to_agree, output_field=DurationField()),
        )
        .order_by()
        .values_list(
            "pk",
            "scheduled_for",
            "seat_figures",
            "programme__follow_up_after_days",
            "scheduled_count",
            "soon_count",
            "to_agree",
        )
    )


def rounds_queryset(
    period: Period, programme: str = COMMUNITY_SLUG
) -> QuerySet[Round, tuple[Any, ...]]:
    """A programme's rounds in the period as `round_figures_queryset` rows, in order: the
    settled ones from their stored figures (dashboard.models.RoundFigures), the others counted
    live from their seats. One query (a UNION)."""
    in_period = Round.objects.filter(
        programme__slug=programme,
        scheduled_for__gte=period.start,
        scheduled_for__lte=period.end,
    )
    stored = (
        RoundFigures.objects.filter(round__in=in_period)
        .annotate(seat_figures=JSONObject(**{name: F(name) for name in SEAT_FIGURES}))
        .order_by()
        .values_list(
            "round_id",
            "round__scheduled_for",
            "seat_figures",
            "round__programme__follow_up_after_days",
            "scheduled",
            "scheduled_soon",
            "to_agree",
        )
    )
    live = round_figures_queryset(
        in_period.filter(~Exists(RoundFigures.objects.filter(round=OuterRef("pk"))))
    )
    return stored.union(live, all=True).order_by("round__scheduled_for")  # type: ignore[return-value]


def seat_counts(value: dict[str, int] | None) -> dict[str, int]:
    """The seat figures of a `round_figures_queryset` row, zeros when nobody sat."""
    return {name: (value or {}).get(name, 0) for name in SEAT_FIGURES}


def rounds(period: Period, programme: str = COMMUNITY_SLUG) -> list[RoundStats]:
    """A programme's rounds in the period with their groups and answers: one query
    (rounds_queryset)."""
    made = []
    for (
        _pk,
        scheduled_for,
        seat_figures,
        follow_up_after_days,
        scheduled,
        soon,
        to_agree,
    ) in rounds_queryset(period, programme):
        made.append(
            RoundStats(
                scheduled_for=scheduled_for,
                **seat_counts(seat_figures),
                follow_ups_close_at=follow_ups_close_at(
                    scheduled_for=scheduled_for, follow_up_after_days=follow_up_after_days
                ),
                scheduled=scheduled,
                scheduled_soon=soon,
                hours_to_agree=None if to_agree is None else to_agree / timedelta(hours=1),
            )
        )
    return made


# Rooms -------------------------------------------------------------------------------------

WEEKDAYS = range(1, 8)  # ISO: Monday is 1
HOURS = range(24)


@dataclass(frozen=True)
class RoomUse:
    """People-hours by ISO weekday (1–7) and hour (0–23), in the community's zone."""

    hours: dict[tuple[int, int], float]

    @property
    def total(self) -> float:
        return sum(self.hours.values())

    def at(self, weekday: int, hour: int) -> float:
        return self.hours.get((weekday, hour), 0.0)


def room_use(days: Sequence[DailyFigures]) -> dict[str, RoomUse]:
    """People-hours in the cafeteria and in meeting rooms (permanent and member-made) by
    weekday and hour, from the stored days' member-seconds by local hour."""
    grid: dict[str, dict[tuple[int, int], float]] = {"cafeteria": {}, "meeting": {}}
    for stored in days:
        weekday = stored.day.isoweekday()
        for kind, hours in grid.items():
            for hour, seconds in enumerate(stored.room_seconds.get(kind, ())):
                if seconds:
                    hours[(weekday, hour)] = hours.get((weekday, hour), 0.0) + seconds / 3600
    return {kind: RoomUse(hours=hours) for kind, hours in grid.items()}


# Events ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventBucket:
    day: date
    events: int
    going: int
    attended: int
    counted: int  # events whose attendance was counted (wrapped up, held in a room)


def events(period: Period, days: Sequence[DailyFigures]) -> list[EventBucket]:
    """Events that started in the period, were not cancelled and have ended, by the day or
    week they started: RSVPs "going" against members counted in the room."""
    fields = {
        "events": "events",
        "going": "events_going",
        "attended": "events_attended",
        "counted": "events_counted",
    }
    totals = {name: _per_bucket(period, days, field) for name, field in fields.items()}
    return [
        EventBucket(day=bucket, **{name: totals[name].get(bucket, 0) for name in fields})
        for bucket in period.buckets()
    ]


# Focus sessions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FocusBucket:
    day: date
    blocks: int  # held: started in the period, not cancelled
    attended: int  # seats whose member arrived


@dataclass(frozen=True)
class FocusStats:
    buckets: list[FocusBucket]
    capacity: int  # seats offered by the blocks held
    booked: int  # seats held in them (not given back)
    # Blocks wrapped up (ended, no-shows counted): seats held 15 minutes before the start
    # (kept, or given back later), and those whose member did not come.
    expected: int
    no_shows: int
    # Attended seats by the hour their block started, in the community's zone (0–23).
    by_hour: dict[int, int]

    @property
    def blocks(self) -> int:
        return sum(b.blocks for b in self.buckets)

    @property
    def attended(self) -> int:
        return sum(b.attended for b in self.buckets)

    @property
    def fill_rate(self) -> float | None:
        return self.booked / self.capacity if self.capacity else None

    @property
    def no_show_rate(self) -> float | None:
        return self.no_shows / self.expected if self.expected else None


def focus(period: Period) -> FocusStats:
    """Focus blocks held in the period (started in it, not cancelled) by day or week, with
    their capacity; their seats booked, attended and missed, by bucket and starting hour.
    Two queries: the blocks, then their seats (so the seat join cannot multiply the
    capacities)."""
    zone = community_zone()
    held = FocusBlock.objects.filter(
        cancelled_at__isnull=True, starts_at__gte=period.start, starts_at__lte=period.end
    )
    per_bucket: dict[date, dict[str, int]] = {}
    capacity = 0
    for block_row in (
        held.annotate(bucket=period.trunc("starts_at"))
        .values("bucket")
        .annotate(count=Count("pk"), offered=Sum("capacity"))
        .order_by()
    ):
        per_bucket[_day(block_row["bucket"])] = {"blocks": block_row["count"], "attended": 0}
        capacity += block_row["offered"] or 0
    kept = Q(cancelled_at__isnull=True)
    wrapped = Q(block__wrapped_at__isnull=False)
    booked = expected = no_shows = 0
    by_hour: dict[int, int] = {}
    for row in (
        Seat.objects.filter(block__in=held)
        .annotate(
            bucket=period.trunc("block__starts_at"),
            hour=ExtractHour("block__starts_at", tzinfo=zone),
        )
        .values("bucket", "hour")
        .annotate(
            booked=Count("pk", filter=kept),
            attended=Count("pk", filter=kept & Q(arrived_at__isnull=False)),
            # A seat given back late is a no-show (focus/standing.py): it was expected.
            expected=Count("pk", filter=wrapped & (kept | Q(no_show=True))),
            no_shows=Count("pk", filter=wrapped & Q(no_show=True)),
        )
        .order_by()
    ):
        bucket = per_bucket.setdefault(_day(row["bucket"]), {"blocks": 0, "attended": 0})
        bucket["attended"] += row["attended"]
        booked += row["booked"]
        expected += row["expected"]
        no_shows += row["no_shows"]
        if row["attended"]:
            by_hour[row["hour"]] = by_hour.get(row["hour"], 0) + row["attended"]
    return FocusStats(
        buckets=[
            FocusBucket(day=day, **per_bucket.get(day, {"blocks": 0, "attended": 0}))
            for day in period.buckets()
        ],
        capacity=capacity,
        booked=booked,
        expected=expected,
        no_shows=no_shows,
        by_hour=by_hour,
    )


# Newsletter --------------------------------------------------------------------------------


def newsletter_installed() -> bool:
    return apps.is_installed("newsletter")


@dataclass(frozen=True)
class NewsletterStats:
    subscribers: int  # confirmed now
    pending: int  # waiting for confirmation now
    confirmed: int  # confirmations in the period
    unsubscribed: int  # unsubscribes in the period
    undeliverable: int  # addresses given up on in the period
    # (first day of the bucket, confirmations, unsubscribes)
    buckets: list[tuple[date, int, int]]


def newsletter(period: Period, days: Sequence[DailyFigures]) -> NewsletterStats:
    """Subscribers as of the latest count, and confirmations against unsubscribes by day or
    week, from the stored days."""
    latest = days[-1]
    confirmed = _per_bucket(period, days, "newsletter_confirmed")
    unsubscribed = _per_bucket(period, days, "newsletter_unsubscribed")
    return NewsletterStats(
        subscribers=latest.subscribers or 0,
        pending=latest.pending or 0,
        confirmed=sum(confirmed.values()),
        unsubscribed=sum(unsubscribed.values()),
        undeliverable=sum(stored.newsletter_undeliverable for stored in days),
        buckets=[
            (day, confirmed.get(day, 0), unsubscribed.get(day, 0)) for day in period.buckets()
        ],
    )

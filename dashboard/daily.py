"""The dashboard's figures counted per community day, for dashboard.models.DailyFigures: a
fixed number of grouped queries however many days are asked for. `services.daily_figures_refresh`
stores what these count, and `metrics` turns the stored days into a period's figures.

Days and hours are the community's (settings.TIME_ZONE)."""

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import ExtractHour, TruncDate

from dashboard.metrics import community_zone, living_members, newsletter_installed
from events.models import Event, Rsvp
from matching.models import Participation
from members.models import User
from rooms.models import HourlyUsage, Room

# What happened on a day, and what holds at a moment (the day's latest count).
DAY_FIELDS = (
    "joined",
    "room_seconds",
    "events",
    "events_going",
    "events_attended",
    "events_counted",
    "newsletter_confirmed",
    "newsletter_unsubscribed",
    "newsletter_undeliverable",
)
MOMENT_FIELDS = ("members", "active_7", "active_30", "opt_in", "subscribers", "pending")


def midnight(day: date) -> datetime:
    """The first instant of a community day (the zone's rules decide its UTC offset)."""
    return datetime.combine(day, time(), tzinfo=community_zone())


def _no_room_use() -> dict[str, list[int]]:
    return {"cafeteria": [0] * 24, "meeting": [0] * 24}


def empty_day() -> dict[str, Any]:
    return {name: 0 for name in DAY_FIELDS} | {"room_seconds": _no_room_use()}


def count_days(*, first: date, now: datetime) -> dict[date, dict[str, Any]]:
    """The DAY_FIELDS of every community day from `first` to today (that of `now`), counted
    up to `now`: eight grouped queries, each reading only the rows of those days."""
    zone = community_zone()
    today = now.astimezone(zone).date()
    days = {first + timedelta(days=n): empty_day() for n in range((today - first).days + 1)}
    start = midnight(first)

    def add(day: date, field: str, value: int) -> None:
        if day in days:  # a row of another day is never expected; a clock skew must not crash
            days[day][field] += value

    for row in (
        User.objects.filter(living_members(), date_joined__gte=start, date_joined__lte=now)
        .annotate(day=TruncDate("date_joined", tzinfo=zone))
        .values("day")
        .annotate(count=Count("pk"))
        .order_by()
    ):
        add(row["day"], "joined", row["count"])

    for kind, day, hour, seconds in (
        # A focus block's room is work at a table, not a meeting: the focus section counts it.
        HourlyUsage.objects.filter(hour__gte=start, hour__lt=now)
        .exclude(room__kind=Room.Kind.FOCUS)
        .annotate(day=TruncDate("hour", tzinfo=zone), local_hour=ExtractHour("hour", tzinfo=zone))
        .values("room__kind", "day", "local_hour")
        .annotate(seconds=Sum("seconds"))
        .order_by()
        .values_list("room__kind", "day", "local_hour", "seconds")
    ):
        if day in days:
            grid = days[day]["room_seconds"]
            grid["cafeteria" if kind == Room.Kind.CAFETERIA else "meeting"][hour] += seconds

    # Ended by now and not cancelled: attendance is counted when an event is wrapped up.
    held = Event.objects.filter(cancelled_at__isnull=True, starts_at__gte=start, ends_at__lte=now)
    for row in (
        held.annotate(day=TruncDate("starts_at", tzinfo=zone))
        .values("day")
        .annotate(
            count=Count("pk"),
            attended=Sum("attendance_count"),
            counted=Count("pk", filter=Q(attendance_count__isnull=False)),
        )
        .order_by()
    ):
        add(row["day"], "events", row["count"])
        add(row["day"], "events_attended", row["attended"] or 0)
        add(row["day"], "events_counted", row["counted"])
    # Apart from the events, so that the RSVP join cannot multiply the attendance sums.
    for row in (
        Rsvp.objects.filter(event__in=held, status=Rsvp.Status.GOING)
        .annotate(day=TruncDate("event__starts_at", tzinfo=zone))
        .values("day")
        .annotate(count=Count("pk"))
        .order_by()
    ):
        add(row["day"], "events_going", row["count"])

    if newsletter_installed():
        from newsletter.models import Subscriber

        for field, name in (
            ("confirmed_at", "newsletter_confirmed"),
            ("unsubscribed_at", "newsletter_unsubscribed"),
            ("undeliverable_at", "newsletter_undeliverable"),
        ):
            for row in (
                Subscriber.objects.filter(**{f"{field}__gte": start, f"{field}__lte": now})
                .annotate(day=TruncDate(field, tzinfo=zone))
                .values("day")
                .annotate(count=Count("pk"))
                .order_by()
            ):
                add(row["day"], name, row["count"])
    return days


def count_moment(*, now: datetime) -> dict[str, Any]:
    """The MOMENT_FIELDS as of `now`: three queries."""
    living = living_members()
    moment: dict[str, Any] = User.objects.aggregate(
        members=Count("pk", filter=living),
        active_7=Count("pk", filter=living & Q(last_seen_at__gte=now - timedelta(days=7))),
        active_30=Count("pk", filter=living & Q(last_seen_at__gte=now - timedelta(days=30))),
    )
    # Leaving out the few members who left (an anti-join) rather than joining every
    # participation to its living member: a small hash table instead of one per participant.
    gone = User.objects.filter(pk=OuterRef("user_id")).exclude(living)
    today = now.astimezone(community_zone()).date()
    moment["opt_in"] = {
        row["programme__slug"]: [row["opted_in"], row["paused"]]
        for row in Participation.objects.filter(~Exists(gone), opted_in=True)
        .values("programme__slug")
        .annotate(
            opted_in=Count("pk"),
            paused=Count("pk", filter=Q(auto_paused=True) | Q(paused_until__gte=today)),
        )
        .order_by()
    }
    moment["subscribers"] = moment["pending"] = None
    if newsletter_installed():
        from newsletter.models import Subscriber

        status = Subscriber.Status
        moment |= Subscriber.objects.aggregate(
            subscribers=Count("pk", filter=Q(status=status.CONFIRMED)),
            pending=Count("pk", filter=Q(status=status.PENDING)),
        )
    return moment

"""A member's focus figures (docs/focus.md, "No-shows, streaks and the dashboard"): sessions
this week, focused hours, goals done and the current weekly streak. Weeks are the member's,
in their time zone, Monday first. A session counts when the member arrived (`arrived_at`)
and kept their seat."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from focus.models import FocusMember, Seat
from focus.ritual import CHECK_IN, CHECK_OUT
from members.models import User
from members.profile_sections import ProfileSection


@dataclass(frozen=True)
class FocusStats:
    sessions: int  # ever
    sessions_this_week: int
    # The work phases of the blocks attended (check-in and check-out left out).
    focused_hours: float
    goals_done: int
    # Weeks in a row with at least one session, ending this week or last week.
    streak_weeks: int


def _streak(weeks: set[date], this_monday: date) -> int:
    week = this_monday if this_monday in weeks else this_monday - timedelta(weeks=1)
    streak = 0
    while week in weeks:
        streak += 1
        week -= timedelta(weeks=1)
    return streak


def member_stats(*, user: User, now: datetime) -> FocusStats:
    """The member's figures at `now`. Two queries, whatever the history: the totals, then
    the weeks with a session."""
    zone = ZoneInfo(user.time_zone)
    today = now.astimezone(zone).date()
    this_monday = today - timedelta(days=today.weekday())
    week_starts = datetime.combine(this_monday, time(), tzinfo=zone)
    attended = Seat.objects.filter(user=user, cancelled_at__isnull=True, arrived_at__isnull=False)
    totals = attended.aggregate(
        this_week=Count("pk", filter=Q(block__starts_at__gte=week_starts)),
        sessions=Count("pk"),
        minutes=Sum("block__minutes"),
        done=Count("pk", filter=Q(outcome=Seat.Outcome.DONE)),
    )
    ritual_minutes = (CHECK_IN + CHECK_OUT) / timedelta(minutes=1)
    work_minutes = (totals["minutes"] or 0) - totals["sessions"] * ritual_minutes
    weeks = {
        # TruncWeek gives midnight of the Monday, in the member's zone.
        monday.date() if isinstance(monday, datetime) else monday
        for monday in attended.annotate(week=TruncWeek("block__starts_at", tzinfo=zone))
        .order_by()
        .values_list("week", flat=True)
        .distinct()
    }
    return FocusStats(
        sessions=totals["sessions"],
        sessions_this_week=totals["this_week"],
        focused_hours=work_minutes / 60,
        goals_done=totals["done"],
        streak_weeks=_streak(weeks, this_monday),
    )


def stats_profile_section(member: User, viewer: User | AnonymousUser) -> ProfileSection | None:
    """The figures on a member's profile (members.profile_sections): always for the member
    themself, with a way to share them; for other signed-in members who see the profile
    only when the member shares them; never for visitors."""
    if not viewer.is_authenticated:
        return None  # visitors of a public profile: members only, as "in focus" is
    is_self = viewer.pk == member.pk
    shared = FocusMember.objects.filter(user=member, share_stats=True).exists()
    if not (is_self or shared):
        return None
    stats = member_stats(user=member, now=timezone.now())
    if not stats.sessions:
        return None  # a card of zeros, before the first session, tells nobody anything
    return ProfileSection(
        template="focus/_profile_stats.html",
        context={
            "stats": stats,
            "is_self": is_self,
            "shared": shared,
        },
    )

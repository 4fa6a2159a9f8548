"""The dashboard page's content: the metrics of one period, turned into numbers and charts."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dashboard import charts, metrics
from dashboard.charts import Chart, Series
from dashboard.daily import midnight
from dashboard.models import DailyFigures
from dashboard.services import daily_figures_refresh
from matching.apps import COMMUNITY_SLUG


def _count(value: float) -> str:
    return number_format(round(value), force_grouping=True)


def _hours(value: float) -> str:
    return number_format(round(value, 1), decimal_pos=1, force_grouping=True)


def _percent(value: float) -> str:
    return _("%(percent)s%%") % {"percent": number_format(round(value * 100))}


def _bucket_label(day: date, period: metrics.Period) -> str:
    # "3 Mar" for a day ("3 mar" in Spanish, whose months are lower case); weeks are named
    # by their Monday, except the week the period starts inside: by the period's first day,
    # so that its shorter bar reads as the few days it holds, not as a slump.
    first = period.start.astimezone(metrics.community_zone()).date()
    return date_format(max(day, first), _("j M"))


@dataclass(frozen=True)
class Headline:
    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    headlines: list[Headline]
    charts: list[Chart]
    note: str = ""


def _members_section(period: metrics.Period, stats: metrics.MemberStats) -> Section:
    labels = [_bucket_label(day, period) for day, _new, _total in stats.joined]
    unit = _("week") if period.by_week else _("day")
    new_chart = charts.bar_chart(
        key="members-new",
        title=_("New members per %(unit)s") % {"unit": unit},
        description=ngettext(
            "%(count)s member joined in the last %(days)s days.",
            "%(count)s members joined in the last %(days)s days.",
            stats.new,
        )
        % {"count": _count(stats.new), "days": period.days},
        labels=labels,
        series=[Series(_("New members"), [new for _day, new, _total in stats.joined])],
        formatter=_count,
        label_column=_("Week of") if period.by_week else _("Day"),
    )
    total_chart = charts.bar_chart(
        key="members-total",
        title=_("Members at the end of each %(unit)s") % {"unit": unit},
        description=ngettext(
            "From %(first)s to %(last)s member.", "From %(first)s to %(last)s members.", stats.total
        )
        % {
            "first": _count(stats.joined[0][2] if stats.joined else 0),
            "last": _count(stats.total),
        },
        labels=labels,
        series=[Series(_("Members"), [total for _day, _new, total in stats.joined])],
        formatter=_count,
        label_column=_("Week of") if period.by_week else _("Day"),
    )
    return Section(
        key="members",
        title=_("Members"),
        headlines=[
            Headline(_("Members"), _count(stats.total)),
            Headline(
                _("New"),
                _count(stats.new),
                _("in the last %(days)s days") % {"days": period.days},
            ),
            Headline(_("Active, last 7 days"), _count(stats.active_7)),
            Headline(_("Active, last 30 days"), _count(stats.active_30)),
        ],
        charts=[total_chart, new_chart],
    )


def _round_label(stats: metrics.RoundStats) -> str:
    return date_format(timezone.localtime(stats.scheduled_for, metrics.community_zone()), _("j M"))


def _pairs_section(
    period: metrics.Period, opt_in: metrics.OptIn, rounds: list[metrics.RoundStats]
) -> Section:
    labels = [_round_label(r) for r in rounds]
    # A round still waiting for answers would count its unanswered seats as not met.
    settled = [r for r in rounds if not r.answers_pending(period.end)]
    pending = len(rounds) - len(settled)
    known = [r for r in settled if r.seats]
    overall = sum(r.met for r in known) / sum(r.seats for r in known) if known else None
    left_out = (
        ngettext(
            "%(count)s round still waiting for answers is left out.",
            "%(count)s rounds still waiting for answers are left out.",
            pending,
        )
        % {"count": pending}
        if pending
        else ""
    )
    met_description = _("Share of introduced members who answered “we met”: %(rate)s overall.") % {
        "rate": _percent(overall) if overall is not None else "–"
    }
    pairs_chart = charts.bar_chart(
        key="pairs-per-round",
        title=_("Pairs per round"),
        description=ngettext(
            "%(count)s round in the period.", "%(count)s rounds in the period.", len(rounds)
        )
        % {"count": len(rounds)},
        labels=labels,
        series=[
            Series(_("Pairs and trios"), [r.groups for r in rounds]),
            Series(_("Agreed on a time"), [r.scheduled for r in rounds]),
        ],
        formatter=_count,
        label_column=_("Round"),
    )
    # Only rounds whose first 2 days are over: a round sent an hour ago has had no time yet.
    judged = [r for r in rounds if r.scheduled_for + metrics.SCHEDULED_SOON <= period.end]
    groups = sum(r.groups for r in judged)
    soon = sum(r.scheduled_soon for r in judged) / groups if groups else None
    met_chart = charts.bar_chart(
        key="met-rate",
        title=_("Met rate per round"),
        description=f"{met_description} {left_out}".strip(),
        labels=[_round_label(r) for r in settled],
        series=[Series(_("Met rate"), [r.met_rate for r in settled])],
        formatter=_percent,
        label_column=_("Round"),
        maximum=1.0,
    )
    agreed = [r for r in rounds if r.hours_to_agree is not None]
    agree_chart = charts.bar_chart(
        key="time-to-agree",
        title=_("Hours to agree on a time"),
        description=_(
            "Average hours from the intro to an accepted time, per round, over the pairs "
            "and trios that agreed on one."
        ),
        labels=[_round_label(r) for r in agreed],
        series=[Series(_("Hours"), [r.hours_to_agree for r in agreed])],
        formatter=_hours,
        label_column=_("Round"),
    )
    return Section(
        key="pairs",
        title=_("Coffee pairs"),
        headlines=[
            Headline(
                _("Opt-in rate"),
                _percent(opt_in.rate) if opt_in.rate is not None else "–",
                ngettext(
                    "%(opted)s of %(members)s member",
                    "%(opted)s of %(members)s members",
                    opt_in.members,
                )
                % {"opted": _count(opt_in.opted_in), "members": _count(opt_in.members)},
            ),
            Headline(_("Opted in but paused"), _count(opt_in.paused)),
            Headline(_("Rounds"), _count(len(rounds))),
            Headline(_("Met rate"), _percent(overall) if overall is not None else "–", left_out),
            Headline(
                _("Agreed on a time within 2 days"),
                _percent(soon) if soon is not None else "–",
                _("of the pairs and trios introduced in the period, 2 days ago or more"),
            ),
        ],
        charts=[pairs_chart, met_chart, agree_chart],
    )


def _weekday_names() -> list[str]:
    # 2024-01-01 was a Monday: ISO weekdays 1..7 as the locale abbreviates them.
    return [date_format(date(2024, 1, day), "D") for day in range(1, 8)]


def _rooms_section(period: metrics.Period, use: dict[str, metrics.RoomUse]) -> Section:
    weekdays = _weekday_names()
    hours = [f"{hour:02d}" for hour in metrics.HOURS]
    zone = metrics.community_zone().key
    made = []
    for kind, title in (
        ("cafeteria", _("People-hours in the cafeteria")),
        ("meeting", _("People-hours in meeting rooms")),
    ):
        grid = use[kind]
        made.append(
            charts.heatmap(
                key=f"rooms-{kind}",
                title=title,
                description=_(
                    "By weekday and hour (%(zone)s), %(hours)s people-hours in all; "
                    "darker is busier."
                )
                % {"zone": zone, "hours": _hours(grid.total)},
                row_labels=weekdays,
                column_labels=hours,
                # Rows are ISO weekdays from 1, columns hours from 0.
                value=lambda row, column, grid=grid: grid.at(row + 1, column),  # type: ignore[misc]
                formatter=_hours,
                corner=_("Day / hour"),
            )
        )
    return Section(
        key="rooms",
        title=_("Rooms"),
        headlines=[
            Headline(_("Cafeteria"), _hours(use["cafeteria"].total), _("people-hours")),
            Headline(_("Meeting rooms"), _hours(use["meeting"].total), _("people-hours")),
        ],
        charts=made,
        note=_("Hours are in the community's time zone, %(zone)s.") % {"zone": zone},
    )


def _events_section(period: metrics.Period, buckets: list[metrics.EventBucket]) -> Section:
    going = sum(b.going for b in buckets)
    attended = sum(b.attended for b in buckets)
    held = sum(b.events for b in buckets)
    counted = sum(b.counted for b in buckets)
    chart = charts.bar_chart(
        key="events-attendance",
        title=_("RSVPs and attendance"),
        description=" ".join(
            (
                ngettext("%(count)s event held.", "%(count)s events held.", held)
                % {"count": _count(held)},
                ngettext(
                    "%(count)s member said they were going.",
                    "%(count)s members said they were going.",
                    going,
                )
                % {"count": _count(going)},
                ngettext(
                    "%(count)s member was in the room.",
                    "%(count)s members were in the room.",
                    attended,
                )
                % {"count": _count(attended)},
            )
        ),
        labels=[_bucket_label(b.day, period) for b in buckets],
        series=[
            Series(_("Going (RSVP)"), [b.going for b in buckets]),
            Series(_("Attended"), [b.attended for b in buckets]),
        ],
        formatter=_count,
        label_column=_("Week of") if period.by_week else _("Day"),
    )
    return Section(
        key="events",
        title=_("Events"),
        headlines=[
            Headline(_("Events held"), _count(held)),
            Headline(_("Going (RSVP)"), _count(going)),
            Headline(
                _("Attended"),
                _count(attended),
                ngettext(
                    "%(counted)s of %(held)s event counted",
                    "%(counted)s of %(held)s events counted",
                    held,
                )
                % {"counted": counted, "held": held},
            ),
        ],
        charts=[chart],
    )


def _focus_section(period: metrics.Period, stats: metrics.FocusStats) -> Section:
    zone = metrics.community_zone().key
    unit = _("week") if period.by_week else _("day")
    sessions_chart = charts.bar_chart(
        key="focus-sessions",
        title=_("Focus sessions per %(unit)s") % {"unit": unit},
        description=" ".join(
            (
                ngettext("%(count)s block held.", "%(count)s blocks held.", stats.blocks)
                % {"count": _count(stats.blocks)},
                ngettext(
                    "Members sat in them %(count)s time in all.",
                    "Members sat in them %(count)s times in all.",
                    stats.attended,
                )
                % {"count": _count(stats.attended)},
            )
        ),
        labels=[_bucket_label(b.day, period) for b in stats.buckets],
        series=[
            Series(_("Blocks held"), [b.blocks for b in stats.buckets]),
            Series(_("Members who came"), [b.attended for b in stats.buckets]),
        ],
        formatter=_count,
        label_column=_("Week of") if period.by_week else _("Day"),
    )
    hours_chart = charts.bar_chart(
        key="focus-hours",
        title=_("When members work together"),
        description=_("Members who came to a focus block, by the hour it started (%(zone)s).")
        % {"zone": zone},
        labels=[f"{hour:02d}" for hour in metrics.HOURS],
        series=[Series(_("Members who came"), [stats.by_hour.get(h, 0) for h in metrics.HOURS])],
        formatter=_count,
        label_column=_("Hour"),
    )
    return Section(
        key="focus",
        title=_("Focus sessions"),
        headlines=[
            Headline(_("Blocks held"), _count(stats.blocks)),
            Headline(_("Members who came"), _count(stats.attended), _("seats, counted per block")),
            Headline(
                _("Fill rate"),
                _percent(stats.fill_rate) if stats.fill_rate is not None else "–",
                _("%(booked)s of %(capacity)s seats booked")
                % {"booked": _count(stats.booked), "capacity": _count(stats.capacity)},
            ),
            Headline(
                _("No-show rate"),
                _percent(stats.no_show_rate) if stats.no_show_rate is not None else "–",
                _("%(missed)s of %(expected)s seats of ended blocks")
                % {"missed": _count(stats.no_shows), "expected": _count(stats.expected)},
            ),
        ],
        charts=[sessions_chart, hours_chart],
        note=_("Hours are in the community's time zone, %(zone)s.") % {"zone": zone},
    )


def _newsletter_section(period: metrics.Period, stats: metrics.NewsletterStats) -> Section:
    chart = charts.bar_chart(
        key="newsletter",
        title=_("Newsletter: confirmations and unsubscribes"),
        description=_(
            "%(confirmed)s addresses confirmed and %(unsubscribed)s unsubscribed in the last "
            "%(days)s days; %(subscribers)s subscribers now."
        )
        % {
            "confirmed": _count(stats.confirmed),
            "unsubscribed": _count(stats.unsubscribed),
            "days": period.days,
            "subscribers": _count(stats.subscribers),
        },
        labels=[_bucket_label(day, period) for day, _c, _u in stats.buckets],
        series=[
            Series(_("Confirmed"), [confirmed for _day, confirmed, _u in stats.buckets]),
            Series(_("Unsubscribed"), [unsubscribed for _day, _c, unsubscribed in stats.buckets]),
        ],
        formatter=_count,
        label_column=_("Week of") if period.by_week else _("Day"),
    )
    return Section(
        key="newsletter",
        title=_("Newsletter"),
        headlines=[
            Headline(_("Subscribers"), _count(stats.subscribers)),
            Headline(_("Waiting for confirmation"), _count(stats.pending)),
            Headline(_("Unsubscribed"), _count(stats.unsubscribed)),
            Headline(_("Undeliverable"), _count(stats.undeliverable)),
        ],
        charts=[chart],
    )


@dataclass(frozen=True)
class Figures:
    """Everything the page counts for one period, as plain data (no text)."""

    period: metrics.Period
    # When the stored days were counted: the figures other than rounds and focus are as of then.
    counted_at: datetime
    members: metrics.MemberStats
    opt_in: metrics.OptIn
    rounds: list[metrics.RoundStats]
    room_use: dict[str, metrics.RoomUse]
    events: list[metrics.EventBucket]
    newsletter: metrics.NewsletterStats | None
    focus: metrics.FocusStats


# Beat counts today every five minutes (dashboard.tasks.daily_figures_tick); a page finding
# an older count (no worker running, a fresh install) counts the days itself.
STALE_AFTER = timedelta(minutes=10)


def stored_days(period: metrics.Period) -> list[DailyFigures]:
    """The period's stored days, oldest first and today last: counted now first when one is
    missing, was last counted before it ended, or today's count is older than STALE_AFTER."""
    zone = metrics.community_zone()
    first = period.start.astimezone(zone).date()
    today = period.end.astimezone(zone).date()

    def read() -> list[DailyFigures]:
        return list(DailyFigures.objects.filter(day__gte=first, day__lte=today).order_by("day"))

    days = read()
    # A past day last counted before it ended (beat was down then) is counted again.
    unfinished = {
        stored.day
        for stored in days
        if stored.day < today and stored.computed_at < midnight(stored.day + timedelta(days=1))
    }
    fresh = days and days[-1].day == today and days[-1].computed_at >= period.end - STALE_AFTER
    if len(days) == (today - first).days + 1 and fresh and not unfinished:
        return days
    missing = {first + timedelta(days=n) for n in range((today - first).days + 1)} - {
        stored.day for stored in days
    }
    # Yesterday too: its last count may have come before its last events ended.
    oldest = min(missing | unfinished | {today - timedelta(days=1)})
    daily_figures_refresh(now=period.end, days=(today - oldest).days + 1)
    return read()


def figures_for(*, days: int, now: datetime, programme: str = COMMUNITY_SLUG) -> Figures:
    period = metrics.Period.ending(now, days=days)
    stored = stored_days(period)
    return Figures(
        period=period,
        counted_at=stored[-1].computed_at,
        members=metrics.members(period, stored),
        opt_in=metrics.pairing_opt_in(stored[-1], programme),
        rounds=metrics.rounds(period, programme),
        room_use=metrics.room_use(stored),
        events=metrics.events(period, stored),
        newsletter=metrics.newsletter(period, stored) if metrics.newsletter_installed() else None,
        focus=metrics.focus(period),
    )


@dataclass(frozen=True)
class Dashboard:
    period: metrics.Period
    counted_at: datetime
    sections: list[Section]


def dashboard_for(*, days: int, now: datetime, programme: str = COMMUNITY_SLUG) -> Dashboard:
    figures = figures_for(days=days, now=now, programme=programme)
    period = figures.period
    sections = [
        _members_section(period, figures.members),
        _pairs_section(period, figures.opt_in, figures.rounds),
        _rooms_section(period, figures.room_use),
        _events_section(period, figures.events),
        _focus_section(period, figures.focus),
    ]
    if figures.newsletter is not None:
        sections.append(_newsletter_section(period, figures.newsletter))
    return Dashboard(period=period, counted_at=figures.counted_at, sections=sections)

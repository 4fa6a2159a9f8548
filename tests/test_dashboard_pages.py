"""The staff dashboard: who may see it, what it counts (checked against known data), and a
bounded number of queries whatever the size of the community."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.test import Client

from dashboard import metrics
from dashboard.metrics import Period
from dashboard.models import DailyFigures
from dashboard.selectors import stored_days
from dashboard.services import daily_figures_refresh
from dashboard.tasks import daily_figures_tick
from matching.models import Meeting, Participation, Round
from members.models import User
from newsletter.models import Subscriber
from rooms.models import HourlyUsage, Room
from rooms.services import cafeteria_get
from tests.factories import (
    EventFactory,
    GroupFactory,
    GroupMemberFactory,
    ProgrammeFactory,
    RoomFactory,
    RoundFactory,
    RsvpFactory,
    UserFactory,
    client_for,
)

# A Wednesday in March: Madrid is UTC+1 until the end of the month.
NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture(autouse=True)
def _frozen(settings: Any) -> Any:
    settings.TIME_ZONE = "Europe/Madrid"
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff(staff: User) -> User:
    """Staff (tests/conftest.py), here for over a year and seen a moment ago: the dashboard
    counts them like any member."""
    staff.date_joined, staff.last_seen_at = days_ago(400), days_ago(0.01)
    staff.save(update_fields=["date_joined", "last_seen_at"])
    return staff


@pytest.fixture
def community(staff: User) -> dict[str, Any]:
    """Seven living members (the staff member among them), one deleted, one suspended."""
    old = [
        UserFactory.create(date_joined=days_ago(100), last_seen_at=days_ago(3)),
        UserFactory.create(date_joined=days_ago(100), last_seen_at=days_ago(20)),
        UserFactory.create(date_joined=days_ago(100)),
    ]
    new = [
        UserFactory.create(date_joined=days_ago(5)),
        UserFactory.create(date_joined=days_ago(5)),
        UserFactory.create(date_joined=days_ago(10), last_seen_at=days_ago(1)),
    ]
    UserFactory.create(
        date_joined=days_ago(5), is_active=False, deleted_at=days_ago(1), last_seen_at=NOW
    )
    UserFactory.create(date_joined=days_ago(100), is_active=False, last_seen_at=days_ago(2))
    return {"old": old, "new": new, "everyone": [staff, *old, *new]}


def test_visitors_are_sent_to_log_in(db: None) -> None:
    for url in ("/staff/", "/staff/moderation/"):
        response = Client(HTTP_ACCEPT_LANGUAGE="en").get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={url}"


def test_members_who_are_not_staff_are_refused(outsider: User) -> None:
    for url in ("/staff/", "/staff/moderation/"):
        assert client_for(outsider).get(url).status_code == 403
    assert (
        client_for(outsider).post("/staff/moderation/1/", {"action": "dismiss"}).status_code == 403
    )


def test_staff_see_every_chart_with_its_table(staff: User) -> None:
    response = client_for(staff).get("/staff/")

    assert response.status_code == 200
    html = response.content.decode()
    for key in (
        "members-total",
        "members-new",
        "pairs-per-round",
        "met-rate",
        "time-to-agree",
        "rooms-cafeteria",
        "rooms-meeting",
        "events-attendance",
        "focus-sessions",
        "focus-hours",
        "newsletter",
    ):
        assert f'<figure class="chart-figure card" aria-labelledby="{key}-caption">' in html
    # Only the staff member is here: the other charts say so instead of drawing empty frames.
    assert html.count('role="img"') == 1
    assert html.count("Nothing to show for this period yet.") == 10


@time_machine.travel(datetime(2026, 12, 10, 12, 0, tzinfo=UTC), tick=False)
def test_chart_days_are_named_in_the_reader_s_language(staff: User) -> None:
    """Spanish writes its months in lower case ("1 dic"), English does not ("1 Dec")."""
    client = Client()
    client.force_login(staff)

    spanish = client.get("/staff/?days=30", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    english = client.get("/staff/?days=30", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "1 dic" in spanish and "1 Dic" not in spanish
    assert "1 Dec" in english


def test_the_navigation_offers_the_dashboard_to_staff_only(staff: User, outsider: User) -> None:
    assert 'href="/staff/"' in client_for(staff).get("/").content.decode()
    assert 'href="/staff/"' not in client_for(outsider).get("/").content.decode()
    assert 'href="/staff/"' not in Client(HTTP_ACCEPT_LANGUAGE="en").get("/").content.decode()


def test_the_admin_index_links_to_the_dashboard(staff: User) -> None:
    assert 'href="/staff/"' in client_for(staff).get("/admin/").content.decode()


def stored(days: int) -> tuple[Period, list[DailyFigures]]:
    """A period ending now and its days, counted and stored as the page finds them."""
    period = Period.ending(NOW, days=days)
    return period, stored_days(period)


def latest() -> DailyFigures:
    """Today's figures, counted now."""
    daily_figures_refresh(now=NOW, days=1)
    return DailyFigures.objects.get(day=NOW.date())


def test_member_numbers(community: dict[str, Any]) -> None:
    stats = metrics.members(*stored(30))

    assert (stats.total, stats.new, stats.active_7, stats.active_30) == (7, 3, 3, 4)
    # Daily buckets in Madrid's calendar; the last one is today and holds everyone.
    assert stats.joined[-1][2] == 7
    assert stats.joined[0][2] == 4  # those who were already here
    assert sum(new for _day, new, _total in stats.joined) == 3
    joined_on = {day.isoformat(): new for day, new, _total in stats.joined if new}
    assert joined_on == {"2026-03-08": 1, "2026-03-13": 2}


def test_sign_ups_nobody_confirmed_are_not_members_yet(community: dict[str, Any]) -> None:
    for n in range(5):  # a spam wave: addresses nobody confirmed, never signed in
        spam = UserFactory.create(date_joined=days_ago(2), email=f"spam{n}@example.com")
        EmailAddress.objects.filter(user=spam).update(verified=False)
    UserFactory.create(date_joined=days_ago(2), email="real@example.com")  # confirmed

    stats = metrics.members(*stored(30))

    assert (stats.total, stats.new) == (8, 4)  # the community's seven and one real newcomer


def test_a_year_is_counted_by_week(community: dict[str, Any]) -> None:
    stats = metrics.members(*stored(365))

    assert len(stats.joined) == 53
    assert all(day.weekday() == 0 for day, _new, _total in stats.joined)
    assert (stats.new, stats.joined[-1][2]) == (6, 7)


def test_pairing_numbers(community: dict[str, Any]) -> None:
    programme = ProgrammeFactory.create(slug="community", name="Coffee pairs")
    other = ProgrammeFactory.create()
    _staff, a, b, c, d, e, f = community["everyone"]
    for user in (a, b, c):
        Participation.objects.create(programme=programme, user=user)
    Participation.objects.create(programme=programme, user=d, paused_until=NOW.date())
    Participation.objects.create(programme=programme, user=e, opted_in=False)
    Participation.objects.create(programme=other, user=f)

    opt_in = metrics.pairing_opt_in(latest())
    assert (opt_in.opted_in, opt_in.paused, opt_in.members) == (4, 1, 7)
    assert opt_in.rate == pytest.approx(4 / 7)

    early = RoundFactory.create(programme=programme, scheduled_for=days_ago(20))
    late = RoundFactory.create(programme=programme, scheduled_for=days_ago(6))
    RoundFactory.create(programme=programme, scheduled_for=days_ago(40))  # before the period
    RoundFactory.create(programme=other, scheduled_for=days_ago(6))  # another programme
    pair, another = GroupFactory.create_batch(2, round=early)
    GroupMemberFactory.create(group=pair, user=a, answer="met")
    GroupMemberFactory.create(group=pair, user=b, answer="met")
    GroupMemberFactory.create(group=another, user=c)
    GroupMemberFactory.create(group=another, user=d, answer="not_yet")
    trio = GroupFactory.create(round=late)
    for user in (a, b, c):
        GroupMemberFactory.create(group=trio, user=user, answer="met")

    # The pair agreed on a time a day after the intro, the trio five days after; the other
    # pair has a proposal nobody accepted.
    Meeting.objects.create(
        group=pair, starts_at=days_ago(17), accepted_at=days_ago(19), proposed_by=a
    )
    Meeting.objects.create(group=another, starts_at=days_ago(15), proposed_by=c)
    Meeting.objects.create(group=trio, starts_at=days_ago(0), accepted_at=days_ago(1))

    rounds = metrics.rounds(Period.ending(NOW, days=30))
    # Answered for good: "not yet" may still become "we met".
    assert [(r.scheduled_for, r.groups, r.seats, r.met, r.answered) for r in rounds] == [
        (days_ago(20), 2, 4, 2, 2),
        (days_ago(6), 1, 3, 3, 3),
    ]
    assert [r.met_rate for r in rounds] == [0.5, 1.0]
    assert [(r.scheduled, r.scheduled_soon) for r in rounds] == [(1, 1), (1, 0)]
    assert [r.hours_to_agree for r in rounds] == [24.0, 120.0]
    # Each programme has its own figures.
    others = metrics.rounds(Period.ending(NOW, days=30), other.slug)
    assert [r.scheduled_for for r in others] == [days_ago(6)]
    assert metrics.pairing_opt_in(latest(), programme=other.slug).opted_in == 1


def test_the_met_rate_leaves_out_rounds_still_waiting_for_answers(
    staff: User, community: dict[str, Any]
) -> None:
    # The community programme asks "did you meet?" 5 days after a round; a week later the
    # answers are in. Until then a round's unanswered seats are not news.
    programme = ProgrammeFactory.create(slug="community", name="Coffee pairs")
    _staff, a, b, c, d, _e, _f = community["everyone"]

    def round_with(days: float, answers: dict[User, str]) -> None:
        round_ = RoundFactory.create(programme=programme, scheduled_for=days_ago(days))
        group = GroupFactory.create(round=round_)
        for user, answer in answers.items():
            GroupMemberFactory.create(group=group, user=user, answer=answer)

    round_with(20, {a: "met", b: "met", c: "", d: "not_yet"})  # answers are in: 50 %
    round_with(13, {a: "met", b: "", c: ""})  # a week after the follow-up: 1 in 3
    round_with(6, {b: "", d: "met"})  # asked yesterday: waiting
    round_with(3, {a: "met", d: "met"})  # not asked yet, but everyone answered: 100 %
    round_with(2, {b: "scheduled", c: "not_yet"})  # answered, but not for good: waiting

    response = client_for(staff).get("/staff/?days=30")

    pairs = {section.key: section for section in response.context["dashboard"].sections}["pairs"]
    headlines = {headline.label: headline for headline in pairs.headlines}
    assert headlines["Rounds"].value == "5"
    assert headlines["Met rate"].value == "56%"  # 5 of 9 seats, the waiting rounds left out
    assert headlines["Met rate"].note == "2 rounds still waiting for answers are left out."
    (met_chart,) = (chart for chart in pairs.charts if chart.key == "met-rate")
    html = response.content.decode()
    assert "56% overall. 2 rounds still waiting for answers are left out." in html
    assert [row[0] for row in met_chart.rows] == ["26 Feb", "5 Mar", "15 Mar"]


def test_room_hours_by_weekday_and_hour_in_the_community_zone(staff: User) -> None:
    cafeteria = cafeteria_get()
    meeting = RoomFactory.create(created_by=staff)
    # Mondays 08:00 UTC = 09:00 in Madrid; a Tuesday 17:00 UTC = 18:00.
    HourlyUsage.objects.create(
        room=cafeteria, hour=datetime(2026, 3, 16, 8, tzinfo=UTC), seconds=5400
    )
    HourlyUsage.objects.create(
        room=cafeteria, hour=datetime(2026, 3, 9, 8, tzinfo=UTC), seconds=1800
    )
    HourlyUsage.objects.create(
        room=meeting, hour=datetime(2026, 3, 17, 17, tzinfo=UTC), seconds=7200
    )
    HourlyUsage.objects.create(room=meeting, hour=days_ago(40), seconds=3600)  # too early
    # Work at a focus block's tables: the focus section's, not a meeting.
    focus = RoomFactory.create(created_by=staff, kind=Room.Kind.FOCUS)
    HourlyUsage.objects.create(room=focus, hour=datetime(2026, 3, 17, 17, tzinfo=UTC), seconds=3000)

    _period, days = stored(30)
    use = metrics.room_use(days)

    assert use["cafeteria"].hours == {(1, 9): 2.0}
    assert use["meeting"].hours == {(2, 18): 2.0}
    assert (use["cafeteria"].total, use["meeting"].total) == (2.0, 2.0)


def test_event_rsvps_and_attendance(community: dict[str, Any]) -> None:
    staff, *members = community["everyone"]

    def event(starts: datetime, **fields: Any) -> Any:
        return EventFactory.create(
            host=staff, starts_at=starts, ends_at=starts + timedelta(hours=1), **fields
        )

    held = event(days_ago(3), attendance_count=4)
    uncounted = event(days_ago(2))
    cancelled = event(days_ago(10), cancelled_at=days_ago(11), attendance_count=9)
    future = event(NOW + timedelta(days=2))
    for user in members[:5]:
        RsvpFactory.create(event=held, user=user, status="going")
    RsvpFactory.create(event=held, user=members[5], status="maybe")
    RsvpFactory.create(event=held, user=staff, status="not_going")
    for user in members[:2]:
        RsvpFactory.create(event=uncounted, user=user, status="going")
        RsvpFactory.create(event=cancelled, user=user, status="going")
        RsvpFactory.create(event=future, user=user, status="going")

    buckets = metrics.events(*stored(30))

    assert len(buckets) == 30
    assert sum(b.events for b in buckets) == 2
    assert sum(b.going for b in buckets) == 7
    assert sum(b.attended for b in buckets) == 4
    assert sum(b.counted for b in buckets) == 1
    by_day = {b.day.isoformat(): (b.events, b.going, b.attended) for b in buckets if b.events}
    assert by_day == {"2026-03-15": (1, 5, 4), "2026-03-16": (1, 2, 0)}


def seed_everything(staff: User, community: dict[str, Any], *, scale: int) -> None:
    programme = ProgrammeFactory.create(slug="community", name="Coffee pairs")
    members = community["everyone"][1:]
    for _number in range(scale):
        number = Round.objects.count()
        round_ = RoundFactory.create(programme=programme, scheduled_for=days_ago(2 + number))
        group = GroupFactory.create(round=round_)
        for user in members[:2]:
            GroupMemberFactory.create(group=group, round=round_, user=user, answer="met")
        event = EventFactory.create(
            host=staff,
            starts_at=days_ago(1 + number),
            ends_at=days_ago(1 + number) + timedelta(hours=1),
            attendance_count=1,
        )
        RsvpFactory.create(event=event, user=members[0])
        Subscriber.objects.create(
            email=f"reader{number}@example.com",
            consent_source="site_form",
            status="unsubscribed",
            confirmed_at=days_ago(5 + number),
            unsubscribed_at=days_ago(1 + number),
        )
        for room in (cafeteria_get(), RoomFactory.create(created_by=staff)):
            HourlyUsage.objects.create(
                room=room, hour=days_ago(1 + number).replace(minute=0), seconds=600
            )


# Twelve for the charts, the rest is the session, the user and what the site's middleware and
# header read on every page.
MAX_QUERIES = 22


def test_the_page_makes_a_bounded_number_of_queries(
    staff: User, community: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    client = client_for(staff)
    client.get("/staff/")  # the hourly last-seen write happens on the first visit only
    counts = []
    for scale in (1, 6):
        seed_everything(staff, community, scale=scale)
        daily_figures_refresh(now=NOW, days=90)  # as beat would, within five minutes
        with django_assert_max_num_queries(MAX_QUERIES) as captured:
            response = client.get("/staff/?days=90")
        assert response.status_code == 200
        assert response.content.decode().count('role="img"') == 8
        counts.append(len(captured))

    assert counts[0] == counts[1]  # more history, not more queries


def test_the_page_shows_the_seeded_numbers(staff: User, community: dict[str, Any]) -> None:
    seed_everything(staff, community, scale=2)

    response = client_for(staff).get("/staff/?days=30")

    sections = {section.key: section for section in response.context["dashboard"].sections}
    headlines = {h.label: h.value for s in sections.values() for h in s.headlines}
    assert headlines["Members"] == "7"
    assert headlines["New"] == "3"
    assert headlines["Active, last 7 days"] == "3"
    assert headlines["Active, last 30 days"] == "4"
    assert headlines["Rounds"] == "2"
    assert headlines["Met rate"] == "100%"
    assert headlines["Events held"] == "2"
    assert headlines["Cafeteria"] == "0.3"
    html = response.content.decode()
    assert '<title id="met-rate-title">Met rate per round</title>' in html
    assert "<table>" in html


def test_staff_choose_whose_coffee_pairs_the_dashboard_shows(
    staff: User, community: dict[str, Any]
) -> None:
    seed_everything(staff, community, scale=2)
    english = ProgrammeFactory.create(slug="english-practice", name="English practice")
    RoundFactory.create(programme=english, scheduled_for=days_ago(3))

    response = client_for(staff).get("/staff/?days=30&programme=english-practice")

    headlines = {
        h.label: h.value for s in response.context["dashboard"].sections for h in s.headlines
    }
    assert headlines["Rounds"] == "1"
    assert '<option value="english-practice" selected>English practice</option>' in (
        response.content.decode()
    )
    # An unknown programme falls back to the community's.
    response = client_for(staff).get("/staff/?days=30&programme=nope")
    headlines = {
        h.label: h.value for s in response.context["dashboard"].sections for h in s.headlines
    }
    assert headlines["Rounds"] == "2"


def test_a_round_is_named_by_its_community_day_whatever_the_reader_s_zone(staff: User) -> None:
    User.objects.filter(pk=staff.pk).update(time_zone="America/Mexico_City")
    # 03:00 on 15 March in Madrid: still the 14th in Mexico City.
    RoundFactory.create(scheduled_for=datetime(2026, 3, 15, 2, 0, tzinfo=UTC))

    response = client_for(staff).get("/staff/?days=30", HTTP_ACCEPT_LANGUAGE="en")

    [chart] = [
        c
        for s in response.context["dashboard"].sections
        for c in s.charts
        if c.key == "pairs-per-round"
    ]
    assert [row[0] for row in chart.rows] == ["15 Mar"]


def test_an_unknown_period_falls_back_to_thirty_days(staff: User) -> None:
    response = client_for(staff).get("/staff/?days=7")

    assert response.status_code == 200
    assert response.context["dashboard"].period.days == 30


def test_the_page_shows_the_last_count_and_counts_itself_when_beat_is_late(
    staff: User, community: dict[str, Any]
) -> None:
    client = client_for(staff)
    first = client.get("/staff/?days=90")  # nothing stored yet: the page counts the 90 days
    UserFactory.create()  # joins after the figures were counted

    with time_machine.travel(NOW + timedelta(minutes=4), tick=False):
        again = client.get("/staff/?days=90")
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        daily_figures_tick.delay()
        ticked = client.get("/staff/?days=90")
    UserFactory.create()
    # No count for eleven minutes (no worker): the page counts today and yesterday itself.
    with time_machine.travel(NOW + timedelta(minutes=16), tick=False):
        later = client.get("/staff/?days=90")

    responses = (first, again, ticked, later)
    members = [r.context["dashboard"].sections[0].headlines[0].value for r in responses]
    assert members == ["7", "7", "8", "9"]
    counted = [r.context["dashboard"].counted_at for r in responses]
    assert counted == [NOW, NOW, NOW + timedelta(minutes=5), NOW + timedelta(minutes=16)]
    assert "Counted at 13:05;" in ticked.content.decode()  # Madrid's time


def test_newsletter_numbers(db: None) -> None:
    def subscriber(email: str, status: str, **dates: Any) -> None:
        Subscriber.objects.create(email=email, consent_source="site_form", status=status, **dates)

    subscriber("a@example.com", "confirmed", confirmed_at=days_ago(3))
    subscriber("b@example.com", "confirmed", confirmed_at=days_ago(50))
    subscriber("c@example.com", "pending")
    subscriber(
        "d@example.com", "unsubscribed", confirmed_at=days_ago(40), unsubscribed_at=days_ago(3)
    )
    subscriber(
        "e@example.com", "unsubscribed", confirmed_at=days_ago(9), unsubscribed_at=days_ago(2)
    )
    subscriber(
        "f@example.com", "undeliverable", confirmed_at=days_ago(60), undeliverable_at=days_ago(1)
    )

    stats = metrics.newsletter(*stored(30))

    assert (stats.subscribers, stats.pending) == (2, 1)
    assert (stats.confirmed, stats.unsubscribed, stats.undeliverable) == (2, 2, 1)
    changes = {day.isoformat(): (c, u) for day, c, u in stats.buckets if c or u}
    assert changes == {"2026-03-09": (1, 0), "2026-03-15": (1, 1), "2026-03-16": (0, 1)}


def test_the_two_day_goal_counts_the_rounds_that_have_had_their_two_days(
    staff: User, community: dict[str, Any]
) -> None:
    programme = ProgrammeFactory.create(slug="community", name="Coffee pairs")
    _staff, a, b, c, d, _e, _f = community["everyone"]
    for days, (first, second) in ((10, (a, b)), (1 / 24, (c, d))):  # the second: an hour ago
        round_ = RoundFactory.create(programme=programme, scheduled_for=days_ago(days))
        group = GroupFactory.create(round=round_)
        for user in (first, second):
            GroupMemberFactory.create(group=group, user=user)
        if days == 10:  # agreed within 6 hours
            Meeting.objects.create(
                group=group,
                starts_at=days_ago(8),
                accepted_at=days_ago(days) + timedelta(hours=6),
                proposed_by=first,
            )

    response = client_for(staff).get("/staff/?days=30")

    pairs = {section.key: section for section in response.context["dashboard"].sections}["pairs"]
    headlines = {headline.label: headline for headline in pairs.headlines}
    assert headlines["Agreed on a time within 2 days"].value == "100%"


def test_a_round_where_nobody_met_is_charted_at_zero(
    staff: User, community: dict[str, Any]
) -> None:
    programme = ProgrammeFactory.create(slug="community", name="Coffee pairs")
    _staff, a, b, *_others = community["everyone"]
    group = GroupFactory.create(
        round=RoundFactory.create(programme=programme, scheduled_for=days_ago(20))
    )
    for user in (a, b):
        GroupMemberFactory.create(group=group, user=user, answer="wont_happen")

    response = client_for(staff).get("/staff/?days=30")

    pairs = {section.key: section for section in response.context["dashboard"].sections}["pairs"]
    (met_chart,) = (chart for chart in pairs.charts if chart.key == "met-rate")
    assert met_chart.has_data and met_chart.rows[0][1] == "0%"


def test_a_year_s_first_week_is_named_by_the_first_day_it_holds(staff: User) -> None:
    response = client_for(staff).get("/staff/?days=365", HTTP_ACCEPT_LANGUAGE="en")

    members_section = response.context["dashboard"].sections[0]
    first_row = members_section.charts[0].rows[0]
    # 365 days up to Wednesday 18 March 2026 start on Thursday 19 March 2025.
    assert first_row[0] == "19 Mar"


@pytest.mark.parametrize(
    ("language", "sentences"),
    [
        ("en", ["1 member joined in the last 30 days.", "From 0 to 1 member.", "0 of 1 member"]),
        (
            "es",
            ["1 miembro se unió en los últimos 30 días.", "De 0 a 1 miembro.", "0 de 1 miembro"],
        ),
    ],
)
def test_a_community_of_one_is_counted_in_the_singular(
    staff: User, language: str, sentences: list[str]
) -> None:
    """The first day of a new community: its owner, joined this week, alone."""
    staff.date_joined = days_ago(2)
    staff.save(update_fields=["date_joined"])

    page = client_for(staff).get("/staff/?days=30", HTTP_ACCEPT_LANGUAGE=language)

    html = page.content.decode()
    for sentence in sentences:
        assert sentence in html

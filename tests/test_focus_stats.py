"""A member's focus figures (docs/focus.md, "No-shows, streaks and the dashboard"): sessions
this week in their own week, focused hours, goals done and the weekly streak, counted in two
queries; on their profile, for them alone unless they share them."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from focus.models import FocusBlock, FocusMember, Seat
from focus.stats import member_stats
from members.models import User
from tests.factories import client_for

pytestmark = pytest.mark.django_db

# Wednesday 9 December 2026, noon UTC; that week's Monday is the 7th.
NOW = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)


def sat(
    user: User,
    starts_at: datetime,
    *,
    minutes: int = 50,
    came: bool = True,
    outcome: str = "",
    given_back: bool = False,
) -> Seat:
    block = FocusBlock.objects.create(starts_at=starts_at, minutes=minutes)
    return Seat.objects.create(
        block=block,
        user=user,
        booked_at=starts_at - timedelta(days=1),
        arrived_at=starts_at if came else None,
        no_show=not came,
        outcome=outcome,
        cancelled_at=starts_at if given_back else None,
    )


@pytest.fixture
def history(alice: User) -> User:
    """Alice (Madrid) came this week, last week and the week before, not the one before that,
    and once four weeks ago."""
    # Monday 00:30 in Madrid, still Sunday in UTC: this week for her.
    sat(alice, datetime(2026, 12, 6, 23, 30, tzinfo=UTC), outcome="done")
    sat(alice, datetime(2026, 12, 8, 17, 0, tzinfo=UTC), minutes=25, outcome="partly")
    sat(alice, datetime(2026, 12, 9, 9, 0, tzinfo=UTC), came=False)  # a no-show
    sat(alice, datetime(2026, 12, 9, 10, 0, tzinfo=UTC), given_back=True)  # came, then left
    sat(alice, datetime(2026, 12, 1, 9, 0, tzinfo=UTC), minutes=75, outcome="done")
    sat(alice, datetime(2026, 11, 26, 9, 0, tzinfo=UTC), outcome="not")
    sat(alice, datetime(2026, 11, 10, 9, 0, tzinfo=UTC), outcome="done")
    return alice


def test_the_figures_count_sessions_attended_in_the_members_own_weeks(
    history: User, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(2):
        stats = member_stats(user=history, now=NOW)

    assert stats.sessions_this_week == 2
    # Work phases only: each block less its 3 minutes of check-in and 3 of check-out.
    assert stats.focused_hours == pytest.approx((44 + 19 + 69 + 44 + 44) / 60)
    assert stats.goals_done == 3
    assert stats.streak_weeks == 3


def test_weeks_follow_the_members_zone(history: User) -> None:
    # In Mexico City the first session was on Sunday, last week.
    history.time_zone = "America/Mexico_City"
    history.save(update_fields=["time_zone"])

    stats = member_stats(user=history, now=NOW)

    assert (stats.sessions_this_week, stats.streak_weeks) == (1, 3)


def test_a_streak_lasts_until_a_whole_week_goes_by_without_a_session(alice: User) -> None:
    sat(alice, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    sat(alice, datetime(2026, 11, 24, 9, 0, tzinfo=UTC))

    # This week has no session yet: the streak still stands on last week's.
    assert member_stats(user=alice, now=NOW).streak_weeks == 2
    # A week later, with none in the week between, it is over.
    assert member_stats(user=alice, now=NOW + timedelta(weeks=1)).streak_weeks == 0
    assert member_stats(user=alice, now=NOW + timedelta(weeks=1)).sessions_this_week == 0


def test_nothing_yet_is_all_zeros(alice: User) -> None:
    stats = member_stats(user=alice, now=NOW)

    assert (stats.sessions_this_week, stats.focused_hours, stats.goals_done) == (0, 0, 0)
    assert stats.streak_weeks == 0


def profile(client: Client, member: User) -> str:
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"/members/{member.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_profile_shows_the_figures_to_their_owner_only_until_shared(
    history: User, bob: User
) -> None:
    mine = profile(client_for(history), history)
    assert "Sessions this week" in mine and "3 weeks in a row" in mine
    assert "Only you see these." in mine
    assert "Show my focus figures on my profile" in mine
    assert "Sessions this week" not in profile(client_for(bob), history)

    with time_machine.travel(NOW, tick=False):
        shared = client_for(history).post("/focus/share-stats/", {"share": "1", "back": "profile"})
    assert shared["Location"] == f"/members/{history.pk}/"
    assert FocusMember.objects.get(user=history).share_stats

    theirs = profile(client_for(bob), history)
    assert "Sessions this week" in theirs and "3 weeks in a row" in theirs
    assert "Only you see these." not in theirs
    assert "Show my focus figures" not in theirs
    assert "Members who open your profile see these too." in profile(client_for(history), history)
    # Bob shares nothing: Alice sees no figures on his profile.
    assert "Sessions this week" not in profile(client_for(history), bob)
    # Visitors of a public profile never see them, shared or not.
    history.profile.public = True
    history.profile.save(update_fields=["public"])
    visitor = Client().get(f"/members/{history.pk}/")
    assert visitor.status_code == 200
    assert "Sessions this week" not in visitor.content.decode()


def test_a_member_who_never_came_to_a_block_is_shown_no_card_of_zeros(alice: User) -> None:
    mine = profile(client_for(alice), alice)

    assert "Sessions this week" not in mine and "Focused hours" not in mine


def test_sharing_is_turned_off_from_the_blocks_page(alice: User, bob: User) -> None:
    FocusMember.objects.create(user=alice, share_stats=True)
    client = client_for(alice)
    assert "Stop showing my focus figures on my profile" in client.get("/focus/").content.decode()

    page = client.post("/focus/share-stats/", {"share": "0"}, follow=True)

    assert page.redirect_chain == [("/focus/", 302)]
    assert "Your focus figures are yours alone again." in page.content.decode()
    assert not FocusMember.objects.get(user=alice).share_stats
    assert "Sessions this week" not in profile(client_for(bob), alice)


def test_only_members_by_post_change_their_own_sharing(alice: User) -> None:
    anonymous = Client().post("/focus/share-stats/", {"share": "1"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert client_for(alice).get("/focus/share-stats/").status_code == 405
    assert not FocusMember.objects.exists()

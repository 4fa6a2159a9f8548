"""The settled rounds' stored figures (dashboard.models.RoundFigures): the dashboard shows the
same numbers from them as from the seats, and the hourly refresh is idempotent."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from dashboard import metrics
from dashboard.metrics import Period
from dashboard.models import RoundFigures
from dashboard.services import round_figures_refresh
from dashboard.tasks import round_figures_tick
from matching.models import GroupMember, Meeting, Programme, Round
from tests.factories import (
    GroupFactory,
    GroupMemberFactory,
    ProgrammeFactory,
    RoundFactory,
    UserFactory,
)

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def programme(db: None) -> Programme:
    """The community's coffee pairs with a year of rounds, every fortnight: pairs and trios,
    answers of every kind, times agreed soon, late or never. The programme asks "did you
    meet?" 5 days after a round and waits a week more, so the last round is not settled."""
    programme = ProgrammeFactory.create(slug="community", follow_up_after_days=5)
    people = UserFactory.create_batch(7)
    answers = ["met", "met", "", "not_yet", "met", "", "met"]
    for number in range(26):
        scheduled = days_ago(1 + 14 * number)
        round_ = RoundFactory.create(programme=programme, scheduled_for=scheduled)
        for size, first in ((2, 0), (3, 2), (2, 5)):
            group = GroupFactory.create(round=round_)
            for seat in range(first, first + size):
                answer = answers[(seat + number) % len(answers)]
                GroupMemberFactory.create(
                    group=group, round=round_, user=people[seat], answer=answer
                )
            if (number + first) % 3:
                Meeting.objects.create(
                    group=group,
                    starts_at=scheduled + timedelta(days=4),
                    accepted_at=scheduled + timedelta(hours=6 + 20 * ((number + first) % 4)),
                    proposed_by=people[first],
                )
    RoundFactory.create(programme=programme, scheduled_for=days_ago(200))  # nobody seated
    return programme


def live_rounds(programme: str = "community") -> list[metrics.RoundStats]:
    """metrics.rounds as counted from the seats, whatever is stored."""
    saved = list(RoundFigures.objects.all())
    RoundFigures.objects.all().delete()
    try:
        return metrics.rounds(Period.ending(NOW, days=365), programme)
    finally:
        RoundFigures.objects.bulk_create(saved)


def test_the_stored_figures_are_the_live_ones(programme: Programme) -> None:
    before = metrics.rounds(Period.ending(NOW, days=365))

    written = round_figures_refresh(now=NOW)

    # Every round but the one still waiting for answers (a day old) is stored, the one
    # where nobody sat too.
    assert written == RoundFigures.objects.count() == 26
    assert not RoundFigures.objects.filter(round__scheduled_for__gte=days_ago(12)).exists()
    assert metrics.rounds(Period.ending(NOW, days=365)) == before == live_rounds()
    assert len(before) == 27
    assert any(r.hours_to_agree for r in before) and any(r.scheduled_soon for r in before)
    # Against a count in Python from the seats and meetings themselves.
    for row in RoundFigures.objects.select_related("round"):
        seats = list(GroupMember.objects.filter(round=row.round))
        groups = {seat.group_id for seat in seats}
        meetings = Meeting.objects.filter(group_id__in=groups, accepted_at__isnull=False)
        waits = [
            meeting.accepted_at - row.round.scheduled_for
            for meeting in meetings
            if meeting.accepted_at is not None
        ]
        assert (
            row.groups,
            row.seats,
            row.met,
            row.answered,
            row.scheduled,
            row.scheduled_soon,
            row.to_agree,
        ) == (
            len(groups),
            len(seats),
            sum(seat.answer == "met" for seat in seats),
            sum(seat.answer in ("met", "wont_happen") for seat in seats),
            len(waits),
            sum(wait <= timedelta(days=2) for wait in waits),
            sum(waits, timedelta()) / len(waits) if waits else None,
        )


def test_a_second_refresh_writes_nothing(programme: Programme) -> None:
    assert round_figures_tick.delay().get() == 26
    stored = {row.pk: row.computed_at for row in RoundFigures.objects.all()}

    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        assert round_figures_refresh(now=NOW + timedelta(minutes=5)) == 0

    assert {row.pk: row.computed_at for row in RoundFigures.objects.all()} == stored


def test_a_late_change_to_a_settled_round_is_stored_again(programme: Programme) -> None:
    round_figures_refresh(now=NOW)
    seat = GroupMember.objects.filter(answer="", round__scheduled_for__lt=days_ago(100)).first()
    assert seat is not None
    seat.answer = "met"
    seat.save(update_fields=["answer"])
    assert metrics.rounds(Period.ending(NOW, days=365)) != live_rounds()

    assert round_figures_refresh(now=NOW) == 1

    assert metrics.rounds(Period.ending(NOW, days=365)) == live_rounds()


def test_a_round_is_stored_once_its_follow_ups_close(programme: Programme) -> None:
    round_figures_refresh(now=NOW)
    waiting = Round.objects.get(scheduled_for=days_ago(1))

    # A day ago + 5 days + a week: closed in 11 days.
    assert round_figures_refresh(now=NOW + timedelta(days=11) - timedelta(seconds=1)) == 0
    assert round_figures_refresh(now=NOW + timedelta(days=11)) == 1
    assert RoundFigures.objects.filter(round=waiting).exists()

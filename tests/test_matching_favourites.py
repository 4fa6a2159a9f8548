"""Favourite partners: when both wish to meet again, they are paired again at the slower of
their two paces, outside the rounds, once per turn; a one-sided wish, a block or leaving the
programme stops it; only someone one was paired with can be wished for."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from matching import favourites, services, tasks
from matching.apps import ON_DEMAND_SLUG
from matching.models import GroupMember, MeetAgain, Participation
from members.models import User
from tests.factories import BlockFactory
from tests.test_matching_rounds import community, participant

pytestmark = pytest.mark.django_db

ROUND = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


def paired_once() -> tuple[User, User]:
    ana, ben = participant(email="ana@example.com"), participant(email="ben@example.com")
    with time_machine.travel(ROUND, tick=False):
        services.round_create(programme=community(), scheduled_for=ROUND)
    return ana, ben


def again_count() -> int:
    return GroupMember.objects.filter(round__programme__slug=ON_DEMAND_SLUG).count() // 2


def tick(at: datetime) -> None:
    with time_machine.travel(at, tick=False):
        tasks.favourites_tick()


def test_both_wishing_it_meet_again_at_the_slower_pace_once_per_turn() -> None:
    ana, ben = paired_once()
    client = Client()
    with time_machine.travel(ROUND + timedelta(days=3), tick=False):
        client.force_login(ana)
        page = client.get("/pairs/").content.decode()
        assert f'action="/pairs/again/{ben.pk}/"' in page
        assert client.get(f"/pairs/again/{ben.pk}/").status_code == 405
        client.post(f"/pairs/again/{ben.pk}/", {f"again-{ben.pk}-every_weeks": "2"})
    assert MeetAgain.objects.get(user=ana).every_weeks == 2

    tick(ROUND + timedelta(weeks=5))
    assert again_count() == 0  # one-sided: nothing
    favourites.meet_again_set(user=ben, partner=ana, every_weeks=4)

    tick(ROUND + timedelta(weeks=3))
    assert again_count() == 0  # Ben's pace, the slower one, is 4 weeks
    tick(ROUND + timedelta(weeks=4, days=1))
    tick(ROUND + timedelta(weeks=4, days=2))
    assert again_count() == 1
    tick(ROUND + timedelta(weeks=8, days=2))
    assert again_count() == 2

    # Leaving the programme, or a block, stops it.
    Participation.objects.filter(user=ben).update(opted_in=False)
    tick(ROUND + timedelta(weeks=13))
    assert again_count() == 2
    Participation.objects.filter(user=ben).update(opted_in=True)
    BlockFactory.create(blocker=ana, blocked=ben)
    tick(ROUND + timedelta(weeks=13))
    assert again_count() == 2


def test_only_a_past_partner_can_be_wished_for_and_not_planned_drops_the_wish() -> None:
    ana, ben = paired_once()
    stranger = participant(email="carla@example.com")
    with pytest.raises(favourites.WishRefused):
        favourites.meet_again_set(user=ana, partner=stranger, every_weeks=2)
    client = Client()
    client.force_login(ana)
    client.post(f"/pairs/again/{ben.pk}/", {f"again-{ben.pk}-every_weeks": "8"})
    assert MeetAgain.objects.filter(user=ana, partner=ben, every_weeks=8).exists()
    client.post(f"/pairs/again/{ben.pk}/", {f"again-{ben.pk}-every_weeks": "3"})  # not a choice
    assert MeetAgain.objects.get(user=ana).every_weeks == 8
    client.post(f"/pairs/again/{ben.pk}/", {f"again-{ben.pk}-every_weeks": ""})
    assert not MeetAgain.objects.exists()

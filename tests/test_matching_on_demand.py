""" "Pair me now": two members who ask are paired at once; one who waits a day is paired with
a member happy to be asked, never across a block or without a shared language, someone new
first; one extra coffee a week; the page by POST only."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client

from matching import on_demand, services, tasks
from matching.apps import ON_DEMAND_SLUG
from matching.models import GroupMember, PairRequest, Participation
from members import services as member_services
from members.models import Profile, User
from notifications.models import Channel, Kind, Notification, Preference
from tests.factories import BlockFactory
from tests.test_matching_rounds import community, participant

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 24, 10, 0, tzinfo=UTC)


def willing(user: User) -> User:
    Participation.objects.filter(user=user).update(on_demand=True)
    return user


def partner_of(user: User) -> User | None:
    seat = GroupMember.objects.filter(user=user, round__programme__slug=ON_DEMAND_SLUG).first()
    if seat is None:
        return None
    return GroupMember.objects.exclude(user=user).get(group_id=seat.group_id).user


def test_two_who_ask_are_paired_at_once_and_introduced(
    django_capture_on_commit_callbacks: Any,
) -> None:
    ana, ben = participant(email="ana@example.com"), participant(email="ben@example.com")
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        first = on_demand.request_make(user=ana)
        assert first.is_open
        assert on_demand.request_make(user=ana).pk == first.pk  # a double click: one request
        second = on_demand.request_make(user=ben)

    assert not second.is_open
    assert partner_of(ana) == ben
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.com", "ben@example.com"]
    # One extra coffee a week.
    with (
        time_machine.travel(NOW + timedelta(days=3), tick=False),
        pytest.raises(on_demand.RequestRefused),
    ):
        on_demand.request_make(user=ana)
    with time_machine.travel(NOW + timedelta(days=8), tick=False):
        assert on_demand.request_make(user=ana).is_open


def test_after_a_day_a_willing_member_with_time_in_common_and_no_block_is_found() -> None:
    asking = participant(email="asking@example.com", zone="Europe/Madrid")
    blocked = willing(participant(email="blocked@example.com"))
    BlockFactory.create(blocker=blocked, blocked=asking)
    willing(participant(email="english@example.com", languages=("en",)))
    participant(email="unwilling@example.com")  # takes part, but not on demand
    met = willing(participant(email="met@example.com"))
    new = willing(participant(email="new@example.com"))
    # `met` was asking's pair in the last community round: someone new comes first.
    with time_machine.travel(NOW - timedelta(days=10), tick=False):
        Participation.objects.exclude(user__in=[asking, met]).update(opted_in=False)
        services.round_create(programme=community(), scheduled_for=NOW - timedelta(days=10))
        Participation.objects.update(opted_in=True)
    assert GroupMember.objects.get(user=asking).group.members.filter(user=met).exists()

    with time_machine.travel(NOW, tick=False):
        request = on_demand.request_make(user=asking)
    assert request.is_open  # nobody else asked, and willing members wait a day
    with time_machine.travel(NOW + timedelta(hours=23), tick=False):
        tasks.pair_requests_tick()
    assert partner_of(asking) is None
    with time_machine.travel(NOW + timedelta(hours=25), tick=False):
        tasks.pair_requests_tick()
        tasks.pair_requests_tick()  # twice: nothing more
    assert partner_of(asking) == new
    assert GroupMember.objects.filter(round__programme__slug=ON_DEMAND_SLUG).count() == 2


def test_a_willing_member_whose_hours_never_meet_the_asker_s_is_not_asked_to() -> None:
    asking = participant(email="asking@example.com", zone="Europe/Madrid")  # 8-16 UTC
    owl = willing(participant(email="owl@example.com", zone="America/Mexico_City"))
    Profile.objects.filter(user=owl).update(  # 19-24 UTC
        working_hours_start=time(13), working_hours_end=time(18)
    )
    with time_machine.travel(NOW, tick=False):
        on_demand.request_make(user=asking)

    with time_machine.travel(NOW + timedelta(hours=25), tick=False):
        tasks.pair_requests_tick()

    assert partner_of(asking) is None


def test_the_page_asks_by_post_shows_the_wait_and_stops_looking(client: Client) -> None:
    ana = participant(email="ana@example.com")
    with time_machine.travel(NOW, tick=False):
        client.force_login(ana)
        assert client.get("/pairs/now/").status_code == 405
        page = client.get("/pairs/").content.decode()
        assert 'action="/pairs/now/"' in page
        client.post("/pairs/now/")
        page = client.get("/pairs/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert 'action="/pairs/now/cancel/"' in page
        assert "(you asked a moment ago)" in page
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        page = client.get("/pairs/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "(you asked 5\xa0minutes ago)" in page
        client.post("/pairs/now/cancel/")
        assert not PairRequest.objects.filter(matched_at__isnull=True, cancelled_at__isnull=True)
        # Not taking part: asked to join first, nothing recorded.
        Participation.objects.filter(user=ana).update(opted_in=False)
        response = client.post("/pairs/now/", follow=True)
        assert PairRequest.objects.count() == 1
        assert response.status_code == 200


def test_an_opted_out_member_is_told_so_and_not_offered_an_extra_coffee(client: Client) -> None:
    ana = participant(email="ana@example.com")
    client.force_login(ana)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with time_machine.travel(NOW, tick=False):
        client.post("/pairs/settings/", {})  # "Take part in coffee pairs" unticked
        page = client.get("/pairs/").content.decode()
        assert "You are not taking part in coffee pairs" in page
        assert "the person we introduce you to will appear here" not in page
        assert 'action="/pairs/now/"' not in page

        response = client.post("/pairs/now/", follow=True)

    page = response.content.decode()
    assert "Take part in coffee pairs (and finish your profile) first." in page
    assert "We are looking for someone for you" not in page
    assert not PairRequest.objects.exists()


def test_opting_out_while_asking_stops_looking(client: Client) -> None:
    ana = participant(email="ana@example.com")
    client.force_login(ana)
    with time_machine.travel(NOW, tick=False):
        client.post("/pairs/now/")
        client.post("/pairs/settings/", {})  # opted out while we were looking

        response = client.post("/pairs/now/", follow=True)

    assert not PairRequest.objects.filter(matched_at__isnull=True, cancelled_at__isnull=True)
    assert 'action="/pairs/now/cancel/"' not in response.content.decode()


@pytest.mark.parametrize(
    "settings_sent",
    [
        {"opted_in": "on", "paused_until": "2027-04-07"},
        {"opted_in": "on", "skip_next_round": "on"},
    ],
    ids=["pausing", "skipping a round"],
)
def test_pausing_or_skipping_while_asking_stops_looking(
    client: Client, settings_sent: dict[str, str]
) -> None:
    ana = participant(email="ana@example.com")
    client.force_login(ana)
    with time_machine.travel(NOW, tick=False):
        client.post("/pairs/now/")
        assert client.post("/pairs/settings/", settings_sent).status_code == 302

    assert not PairRequest.objects.filter(matched_at__isnull=True, cancelled_at__isnull=True)


def test_a_paused_member_is_told_to_resume_rather_than_offered_an_extra_coffee(
    client: Client,
) -> None:
    ana = participant(email="ana@example.com")
    Participation.objects.filter(user=ana).update(paused_until=NOW.date() + timedelta(days=7))
    client.force_login(ana)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with time_machine.travel(NOW, tick=False):
        page = client.get("/pairs/").content.decode()

    assert "Your introductions are paused: resume them in your settings below" in page
    assert 'action="/pairs/now/"' not in page


def test_a_willing_member_is_asked_once_a_week_at_most() -> None:
    helpful = willing(participant(email="helpful@example.com"))
    first, second = (participant(email=f"{name}@example.com") for name in ("first", "second"))
    # Asked one after the other, they are not each other's partners.
    BlockFactory.create(blocker=first, blocked=second)
    with time_machine.travel(NOW, tick=False):
        on_demand.request_make(user=first)
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        on_demand.request_make(user=second)

    for later in (timedelta(days=1, hours=2), timedelta(days=1, hours=2, minutes=10)):
        with time_machine.travel(NOW + later, tick=False):
            tasks.pair_requests_tick()  # the next tick too
    after_a_day = (partner_of(first), partner_of(second))
    with time_machine.travel(NOW + timedelta(days=8, hours=3), tick=False):
        tasks.pair_requests_tick()  # a week after helping

    assert after_a_day == (helpful, None)
    assert partner_of(second) == helpful


def test_a_member_on_the_other_side_of_a_block_is_never_the_willing_partner() -> None:
    asking = participant(email="asking@example.com")
    BlockFactory.create(blocker=willing(participant(email="blocker@example.com")), blocked=asking)
    with time_machine.travel(NOW, tick=False):
        on_demand.request_make(user=asking)

    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        tasks.pair_requests_tick()

    assert partner_of(asking) is None


def test_a_pause_lasts_to_the_end_of_its_day_in_the_member_s_own_zone() -> None:
    """Read as a UTC date, a pause in Mexico City ended at 18:00 there, the evening before
    the day the form promised it would still hold."""
    asking = participant(email="asking@example.com", zone="Europe/Madrid")
    paused = willing(participant(email="paused@example.com", zone="America/Mexico_City"))
    services.participation_update(
        participation=Participation.objects.get(user=paused),
        opted_in=True,
        skip_next_round=False,
        paused_until=date(2027, 3, 24),
        on_demand=True,
    )
    with time_machine.travel(datetime(2027, 3, 23, 19, 0, tzinfo=UTC), tick=False):
        assert on_demand.request_make(user=asking).is_open
    # Wednesday 24 March, 19:00 in Mexico City (Thursday 01:00 UTC): still her pause.
    with time_machine.travel(datetime(2027, 3, 25, 1, 0, tzinfo=UTC), tick=False):
        tasks.pair_requests_tick()
    assert partner_of(asking) != paused
    # Her Thursday: paired.
    with time_machine.travel(datetime(2027, 3, 25, 7, 0, tzinfo=UTC), tick=False):
        tasks.pair_requests_tick()
    assert partner_of(asking) == paused


def test_a_request_still_young_reads_nobody_willing() -> None:
    """The tick runs every ten minutes: while no request has waited a day, the willing (a
    quarter of a community, perhaps) are not read at all."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    asking = participant(email="asking@example.com")
    for n in range(3):
        willing(participant(email=f"willing{n}@example.com"))
    with time_machine.travel(NOW, tick=False):
        on_demand.request_make(user=asking)

    with (
        time_machine.travel(NOW + timedelta(hours=1), tick=False),
        CaptureQueriesContext(connection) as queries,
    ):
        tasks.pair_requests_tick()
    read_willing = [q["sql"] for q in queries.captured_queries if '"on_demand"' in q["sql"]]
    assert read_willing == []
    assert partner_of(asking) is None


def test_a_request_nobody_is_found_for_in_a_week_is_closed_and_the_member_told(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    """In a small community nobody else may ask, nor be happy to be asked."""
    ana = participant(email="ana@example.com", language="en")
    participant(email="ben@example.com")  # takes part, but neither asks nor is willing
    with time_machine.travel(NOW, tick=False):
        asked = on_demand.request_make(user=ana)
    with (
        time_machine.travel(NOW + on_demand.GIVE_UP_AFTER - timedelta(minutes=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.pair_requests_tick()
    asked.refresh_from_db()
    assert asked.is_open
    assert not Notification.objects.filter(user=ana) and not mail.outbox

    with (
        time_machine.travel(NOW + on_demand.GIVE_UP_AFTER, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.pair_requests_tick()
        tasks.pair_requests_tick()  # a second run tells nobody again
        tasks.pair_request_gave_up_send(asked.pk)  # nor does the task run twice
    with time_machine.travel(NOW + on_demand.GIVE_UP_AFTER, tick=False):
        client.force_login(ana)
        page = client.get("/pairs/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    asked.refresh_from_db()
    assert not asked.is_open and asked.matched_at is None and asked.gave_up_at is not None
    (notice,) = Notification.objects.filter(user=ana)
    assert notice.text == (
        "Nobody was free for an extra coffee this week, so we stopped looking. "
        "Ask again whenever you like."
    )
    assert notice.url == "/pairs/" and notice.in_app
    (told,) = mail.outbox
    assert told.to == ["ana@example.com"] and told.subject == "No extra coffee this week"
    assert "so we stopped looking" in told.body and "/pairs/" in told.body
    # Asking again is offered, and works.
    assert 'action="/pairs/now/"' in page
    with time_machine.travel(NOW + on_demand.GIVE_UP_AFTER + timedelta(hours=1), tick=False):
        assert on_demand.request_make(user=ana).is_open


def test_a_member_told_by_email_only_hears_that_the_request_was_given_up(
    django_capture_on_commit_callbacks: Any,
) -> None:
    ana = participant(email="ana@example.com", language="es")
    Preference.objects.create(user=ana, kind=Kind.PAIR_CREATED, channel=Channel.EMAIL)
    with time_machine.travel(NOW, tick=False):
        on_demand.request_make(user=ana)
    with (
        time_machine.travel(NOW + on_demand.GIVE_UP_AFTER, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.pair_requests_tick()

    (told,) = mail.outbox
    assert told.subject == "No hay café extra esta semana"
    assert not Notification.objects.filter(user=ana, in_app=True)


def test_the_next_community_round_does_not_pair_again_two_who_just_had_their_coffee(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """ "Pair me now" reads the community's rounds for someone new: the community's round
    reads the "pair me now" coffees too, though the two share the most."""
    monday = datetime(2027, 3, 29, 7, 0, tzinfo=UTC)  # a round's Monday, 09:00 in Madrid
    ana, ben, cai, dan = (participant(email=f"{name}@example.com") for name in "abcd")
    for user in (ana, ben):
        member_services.profile_update(
            profile=user.profile,
            interests=member_services.interests_from_names(names=["Café", "Python", "Django"]),
        )
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        on_demand.request_make(user=ana)
        on_demand.request_make(user=ben)
    assert partner_of(ana) == ben

    with time_machine.travel(monday, tick=False), django_capture_on_commit_callbacks(execute=True):
        round_, _created = services.round_create(programme=community(), scheduled_for=monday)

    groups = {
        frozenset(group.members.values_list("user_id", flat=True)) for group in round_.groups.all()
    }
    assert frozenset({ana.pk, ben.pk}) not in groups
    assert groups == {frozenset({ana.pk, cai.pk}), frozenset({ben.pk, dan.pk})} or groups == {
        frozenset({ana.pk, dan.pk}),
        frozenset({ben.pk, cai.pk}),
    }


def test_a_suspension_withdraws_an_open_request_and_tells_of_no_giving_up(
    staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    ana = participant(email="ana@example.com", language="en")
    participant(email="ben@example.com")
    with time_machine.travel(NOW, tick=False):
        asked = on_demand.request_make(user=ana)
        member_services.member_suspend(user=ana, by=staff)
    asked.refresh_from_db()
    assert not asked.is_open

    member_services.member_reinstate(user=ana)
    with (
        time_machine.travel(NOW + on_demand.GIVE_UP_AFTER, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.pair_requests_tick()
    assert not Notification.objects.filter(user=ana).exists()  # no "we found nobody"

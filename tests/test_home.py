"""The home page: an invitation for visitors, a dashboard for members, a safe layout for all."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from allauth.usersessions.models import UserSession
from django.test import Client

from events.models import Event
from matching.apps import COMMUNITY_SLUG
from matching.models import Participation, Programme
from members.models import User
from rooms.models import Presence
from rooms.services import cafeteria_get
from tests.factories import (
    PASSWORD,
    BlockFactory,
    EventFactory,
    GroupFactory,
    GroupMemberFactory,
    RoundFactory,
    UserFactory,
)


@pytest.mark.django_db
def test_visitors_are_invited_to_join(client: Client) -> None:
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Join the community" in page
    assert 'href="/accounts/signup/"' in page
    assert 'href="/accounts/login/"' in page
    assert "Account menu" not in page


@pytest.mark.django_db
def test_members_see_their_dashboard_and_account_menu(client: Client) -> None:
    member = UserFactory.create(display_name="Lucía Pérez")
    client.force_login(member)

    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert "Hello, Lucía Pérez" in page
    assert "Your coffee pair" in page
    assert 'action="/accounts/logout/"' in page
    assert "/admin/" not in page


@pytest.mark.django_db
def test_staff_get_a_link_to_the_administration(client: Client) -> None:
    client.force_login(UserFactory.create(is_staff=True))

    assert 'href="/admin/"' in client.get("/").content.decode()


@pytest.mark.django_db
def test_names_are_escaped_in_the_layout(client: Client) -> None:
    client.force_login(UserFactory.create(display_name="<script>alert(1)</script>"))

    page = client.get("/").content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.django_db
def test_every_page_carries_a_strict_content_security_policy(client: Client) -> None:
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )

    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy


@pytest.mark.django_db
def test_pages_have_no_inline_scripts_or_styles(client: Client) -> None:
    client.force_login(UserFactory.create())

    for path in ["/", "/accounts/email/"]:
        page = client.get(path).content.decode()
        assert "<script>" not in page and "<style" not in page and " style=" not in page, path


@pytest.mark.django_db
def test_navigation_shows_only_pages_that_exist(client: Client) -> None:
    client.force_login(UserFactory.create())

    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<a href="/" aria-current="page">Home</a>' in page


@pytest.mark.django_db
def test_the_rooms_card_counts_who_is_in_the_cafeteria_as_the_viewer_may_see(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    alice = UserFactory.create(display_name="Alice Aranda")
    bob, carla, dan = (UserFactory.create(display_name=n) for n in ("Bob", "Carla", "Dan"))
    cafeteria = cafeteria_get()
    for person in (bob, carla, dan):
        Presence.objects.create(room=cafeteria, user=person, channel_name=f"c-{person.pk}")
    BlockFactory.create(blocker=carla, blocked=alice)
    client.force_login(alice)
    client.get("/")  # Warm up the session.

    with django_assert_max_num_queries(15) as few:
        page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "2 people in the cafeteria" in page
    assert "Bob" in page and "Dan" in page and "Carla" not in page
    assert '<a href="/rooms/cafeteria/">Go to the cafeteria</a>' in page
    assert '<a href="/rooms/">All rooms</a>' in page
    for _ in range(5):
        person = UserFactory.create()
        Presence.objects.create(room=cafeteria, user=person, channel_name=f"c-{person.pk}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert (
            "7 people in the cafeteria"
            in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        )


@pytest.mark.django_db
def test_the_rooms_card_shows_the_first_six_by_name_and_counts_each_member_once(
    client: Client,
) -> None:
    cafeteria = cafeteria_get()
    # Names as members see them: the display name, else the full name, else "New member"
    # (never part of the email address).
    people = [
        UserFactory.create(display_name=name)
        for name in ("zoe", "Yago", "Xenia", "Wendy", "Víctor", "Úrsula", "Tomás")
    ]
    people.append(UserFactory.create(display_name="", first_name="Ana", last_name="Zamora"))
    people.append(UserFactory.create(display_name="", email="bea@example.com"))
    for k, person in enumerate(people):
        Presence.objects.create(room=cafeteria, user=person, channel_name=f"c-{k}")
    # A second tab: still one person.
    Presence.objects.create(room=cafeteria, user=people[0], channel_name="c-zoe-2")
    viewer = UserFactory.create()
    client.force_login(viewer)

    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "9 people in the cafeteria" in page
    faces = page.split('class="plain room-faces"')[1].split("</ul>")[0]
    # In alphabetical order, accents aside ("Úrsula" comes before "Víctor", not after "zoe").
    places = [
        faces.index(f"<span>{name}</span>")
        for name in ("Ana Zamora", "New member", "Tomás", "Úrsula", "Víctor", "Wendy")
    ]
    assert places == sorted(places)
    for hidden in ("Xenia", "Yago", "zoe", "bea"):
        assert f"<span>{hidden}</span>" not in faces


@pytest.mark.django_db
def test_the_rooms_card_leaves_out_a_closed_account_whose_row_is_left_over(
    client: Client,
) -> None:
    gone = UserFactory.create(display_name="Ana Ida", deleted_at=datetime.now(UTC))
    Presence.objects.create(room=cafeteria_get(), user=gone, channel_name="c-gone")
    client.force_login(UserFactory.create())

    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "0 people in the cafeteria" in page and "Former member" not in page


@pytest.mark.django_db
def test_the_rooms_card_speaks_of_one_person_in_the_singular(client: Client) -> None:
    alice = UserFactory.create()
    Presence.objects.create(room=cafeteria_get(), user=alice, channel_name="c-alice")
    client.force_login(alice)

    assert (
        "1 person in the cafeteria" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )


def _pair(*users: User) -> None:
    """`users` in one group of a new round of the community programme (the latest)."""
    programme = Programme.objects.get(slug=COMMUNITY_SLUG)
    group = GroupFactory.create(round=RoundFactory.create(programme=programme))
    for user in users:
        GroupMemberFactory.create(group=group, user=user)


@pytest.mark.django_db
def test_the_pair_card_shows_the_partners_of_the_latest_round_only(
    client: Client, alice: User, bob: User
) -> None:
    carla = UserFactory.create(display_name="Carla Campos")
    _pair(alice, carla)
    _pair(alice, bob)
    client.force_login(alice)

    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Bob Bravo" in page and f'href="/members/{bob.pk}/"' in page
    assert "Data nerd" in page
    assert "Carla Campos" not in page
    assert "Alice Arias</a>" not in page  # the member is not her own partner
    assert "When the next round starts" not in page


@pytest.mark.django_db
def test_a_member_left_out_of_the_latest_round_is_told_why_and_what_to_do(
    client: Client, alice: User, bob: User
) -> None:
    _pair(alice, bob)
    _pair(bob, UserFactory.create())
    client.force_login(alice)

    def card() -> str:
        page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "Bob Bravo" not in page
        return page[page.index('id="pair-title"') : page.index('id="rooms-title"')]

    # Never joined: nobody will be introduced, and the card says where to join.
    assert "You are not taking part in coffee pairs" in card()
    assert '<a href="/pairs/">Join the coffee pairs</a>' in card()
    participation = Participation.objects.create(
        programme=Programme.objects.get(slug=COMMUNITY_SLUG), user=alice, opted_in=True
    )
    assert "When the next round starts" in card()
    participation.paused_until = datetime.now(UTC).date() + timedelta(days=7)
    participation.save()
    assert "Your introductions are paused" in card()
    assert '<a href="/pairs/">Resume my introductions</a>' in card()
    participation.paused_until = None
    participation.skip_next_round = True
    participation.save()
    assert "You are skipping the next round" in card()


@pytest.mark.django_db
def test_the_events_card_lists_the_next_three_and_what_is_on_now(
    client: Client, alice: User
) -> None:
    now = datetime.now(UTC)
    EventFactory.create(
        title="Over", starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=2)
    )
    EventFactory.create(
        title="Live now", starts_at=now - timedelta(minutes=10), ends_at=now + timedelta(hours=1)
    )
    for hours in (1, 2, 3):
        EventFactory.create(
            title=f"In {hours} h",
            starts_at=now + timedelta(hours=hours),
            ends_at=now + timedelta(hours=hours, minutes=30),
        )
    EventFactory.create(
        title="Called off",
        starts_at=now + timedelta(minutes=30),
        ends_at=now + timedelta(hours=1),
        cancelled_at=now,
    )
    client.force_login(alice)

    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    listed = [event.title for event in Event.objects.all() if event.title in page]
    assert sorted(listed) == ["In 1 h", "In 2 h", "Live now"]
    # Every event carries the flag for a page left open (static/js/site.js), shown on one.
    shown = '"> · <strong>Starting now'
    assert page.count(shown) == 1 and page.count(" hidden> · <strong>Starting now") == 2
    assert page.index("Live now") < page.index(shown) < page.index("In 1 h")


@pytest.mark.django_db
def test_a_members_home_takes_a_fixed_number_of_queries(
    client: Client, alice: User, bob: User, django_assert_max_num_queries: Any
) -> None:
    _pair(alice, bob)
    Presence.objects.create(room=cafeteria_get(), user=bob, channel_name="c-bob")
    client.force_login(alice)
    client.get("/")  # The session's activity is noted on the first page (see below).

    # The user; the cafeteria, the viewer's blocks, the names of who is there and the
    # faces shown; the pair; the events; the first steps; the header's two counters. The
    # session comes from the cache.
    with django_assert_max_num_queries(10):
        page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Bob Bravo" in page

    # Without a partner this round, one more: whether they take part (what the card says).
    alice.pair_seats.all().delete()
    with django_assert_max_num_queries(11):
        page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "You are not taking part in coffee pairs" in page


def _log_in(client: Client, user: User) -> None:
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.django_db
def test_where_you_are_signed_in_shows_when_each_session_was_last_used(alice: User) -> None:
    client = Client(HTTP_USER_AGENT="Firefox")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        _log_in(client, alice)
    session = UserSession.objects.get(user=alice)

    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        client.get("/")
    # Within a few minutes of the last note a page writes nothing.
    with time_machine.travel(start + timedelta(minutes=4), tick=False):
        client.get("/")
    session.refresh_from_db()
    assert session.last_seen_at == start + timedelta(minutes=2)

    with time_machine.travel(start + timedelta(minutes=8), tick=False):
        client.get("/")
    session.refresh_from_db()
    assert session.last_seen_at == start + timedelta(minutes=8)


@pytest.mark.django_db
def test_a_session_used_from_another_browser_is_noted_at_once(alice: User) -> None:
    client = Client(HTTP_USER_AGENT="Firefox")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        _log_in(client, alice)
        client.get("/")

    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        client.get("/", HTTP_USER_AGENT="Chromium")

    session = UserSession.objects.get(user=alice)
    assert session.user_agent == "Chromium"
    assert session.last_seen_at == start + timedelta(minutes=1)

"""The home page: an invitation for visitors, a dashboard for members, a safe layout for all."""

from typing import Any

import pytest
from django.test import Client

from rooms.models import Presence
from rooms.services import cafeteria_get
from tests.factories import BlockFactory, UserFactory


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
def test_the_rooms_card_speaks_of_one_person_in_the_singular(client: Client) -> None:
    alice = UserFactory.create()
    Presence.objects.create(room=cafeteria_get(), user=alice, channel_name="c-alice")
    client.force_login(alice)

    assert (
        "1 person in the cafeteria" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )

"""A new member's first steps on the home page, through the HTTP client (and the room socket
for the hello): each step is ticked by the real action, and the list goes once all are done."""

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from coworking import onboarding
from matching.apps import COMMUNITY_SLUG
from matching.models import Participation, Programme
from members.models import Profile, User
from rooms.models import Room
from rooms.services import cafeteria_get
from tests.factories import (
    GroupMemberFactory,
    MessageFactory,
    RoundFactory,
    UserFactory,
    client_for,
    onboarded_member,
)
from tests.test_members_profile import VALID, image_bytes
from tests.test_rooms_socket import join, next_of

STEPS = ["photo", "interests", "working_hours", "coffee_pairs", "hello"]
STEP = re.compile(r'<li class="checklist-step( is-done)?" data-step="(\w+)">')

# The community programme pairs every 14 days on Mondays at 09:00 in Madrid, from
# 5 January 2026. A Wednesday between two rounds (4 and 18 January 2027):
BETWEEN_ROUNDS = datetime(2027, 1, 13, 12, 0, tzinfo=UTC)


def home(client: Client) -> str:
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return str(response.content.decode())


def steps_on(page: str) -> dict[str, bool]:
    """Each step the home page lists, and whether it is ticked."""
    return {key: bool(done) for done, key in STEP.findall(page)}


def done_after(client: Client) -> set[str]:
    return {key for key, done in steps_on(home(client)).items() if done}


def onboarding_form(**changes: Any) -> dict[str, Any]:
    """The onboarding form with nothing from the checklist chosen but the working hours."""
    return {**VALID, "interest_names": "", **changes}


def say_hello_in_the_cafeteria(member: User) -> None:
    """Through the room socket, as the page sends it."""
    cafeteria = cafeteria_get()
    session = client_for(member).cookies["sessionid"].value

    async def send() -> None:
        communicator, _hello = await join(cafeteria, session)
        await communicator.send_json_to(
            {"type": "chat.send", "text": "¡Hola a todos!", "client_id": str(uuid.uuid4())}
        )
        await next_of(communicator, "chat.ack")
        await communicator.disconnect()

    async_to_sync(send)()


@pytest.mark.django_db
def test_a_new_member_sees_every_step_still_to_do_whatever_others_did(client: Client) -> None:
    # Bob has done everything; none of it counts for the newcomer.
    bob = onboarded_member("Bob Bravo", interests=["Python"])
    Profile.objects.filter(user=bob).update(photo="photos/bob.webp")
    Participation.objects.create(programme=Programme.objects.get(slug=COMMUNITY_SLUG), user=bob)
    MessageFactory.create(room=cafeteria_get(), author=bob)
    GroupMemberFactory.create(user=bob)
    newcomer = UserFactory.create()  # just signed up: no profile yet
    client.force_login(newcomer)

    page = home(client)

    assert "Your first steps" in page
    assert "0 of 5 done" in page
    assert steps_on(page) == dict.fromkeys(STEPS, False)
    # Each step links to the place where it is done; the profile form is onboarding's.
    assert 'href="/members/welcome/#id_photo_upload"' in page
    assert 'href="/members/welcome/#id_interest_names"' in page
    assert 'href="/members/welcome/#id_working_hours_start"' in page
    assert 'href="/pairs/#id_opted_in"' in page
    assert 'href="/rooms/cafeteria/#chat"' in page
    assert "Your first coffee pair" not in page


@pytest.mark.django_db(transaction=True)
def test_each_step_is_ticked_by_doing_it_and_the_list_goes_when_all_are_done() -> None:
    Room.objects.get_or_create(
        kind=Room.Kind.CAFETERIA, defaults={"name": "Cafeteria", "slug": "cafeteria"}
    )
    member = UserFactory.create()
    client = client_for(member)
    assert done_after(client) == set()

    # Onboarding with the hours only (no photo, no interests, no coffee pairs).
    response = client.post("/members/welcome/", onboarding_form())
    assert response.status_code == 302
    assert done_after(client) == {"working_hours"}
    # Once onboarded, the profile steps lead to the profile form.
    assert 'href="/members/me/edit/#id_photo_upload"' in home(client)

    photo = SimpleUploadedFile("me.png", image_bytes(), content_type="image/png")
    client.post("/members/me/edit/", onboarding_form(photo_upload=photo))
    assert done_after(client) == {"working_hours", "photo"}

    client.post("/members/me/edit/", onboarding_form(interest_names="Tipografía, UX"))
    assert done_after(client) == {"working_hours", "photo", "interests"}

    client.post("/pairs/settings/", {"opted_in": "on"})
    assert done_after(client) == {"working_hours", "photo", "interests", "coffee_pairs"}
    assert "4 of 5 done" in home(client)

    say_hello_in_the_cafeteria(member)

    page = home(client)
    assert "Your first steps" not in page
    assert steps_on(page) == {}
    assert "Hello, Lucía Pérez" in page  # the rest of the dashboard stays


@pytest.mark.django_db
def test_working_hours_without_a_single_working_day_are_not_set(client: Client) -> None:
    member = UserFactory.create()
    client.force_login(member)

    client.post("/members/welcome/", onboarding_form(working_days=[]))

    assert "working_hours" not in done_after(client)


@pytest.mark.django_db
def test_leaving_the_coffee_pairs_unticks_the_step(client: Client, alice: User) -> None:
    client.force_login(alice)
    client.post("/pairs/settings/", {"opted_in": "on"})
    assert "coffee_pairs" in done_after(client)

    client.post("/pairs/settings/", {})

    assert "coffee_pairs" not in done_after(client)


@pytest.mark.parametrize(
    ("zone", "choices", "first_pair"),
    [
        # The next round, on its day in the member's zone (09:00 in Madrid is the evening
        # before in Honolulu).
        ("Europe/Madrid", {}, "Monday, 18 January 2027"),
        ("Pacific/Honolulu", {}, "Sunday, 17 January 2027"),
        # Skipping the next round, or pausing over it, makes it a later one.
        ("Europe/Madrid", {"skip_next_round": "on"}, "Monday, 1 February 2027"),
        ("Europe/Madrid", {"paused_until": "2027-02-01"}, "Monday, 15 February 2027"),
    ],
)
@pytest.mark.django_db
def test_joining_between_rounds_tells_the_date_of_the_first_pair_in_the_member_s_zone(
    client: Client, zone: str, choices: dict[str, str], first_pair: str
) -> None:
    with time_machine.travel(BETWEEN_ROUNDS, tick=False):
        member = onboarded_member("Nora Nieto", time_zone=zone)
        client.force_login(member)

        client.post("/pairs/settings/", {"opted_in": "on", **choices})

        assert f"Your first coffee pair comes on {first_pair}." in home(client)
        # And where they opted in.
        pairs_page = client.get("/pairs/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert f"Your first coffee pair comes on {first_pair}." in pairs_page


@pytest.mark.django_db
def test_a_round_due_but_not_started_yet_is_the_first_pair(client: Client) -> None:
    # Monday 18 January 2027, 09:05 in Madrid: the round's time has come, the tick has not.
    with time_machine.travel(datetime(2027, 1, 18, 8, 5, tzinfo=UTC), tick=False):
        member = onboarded_member("Nora Nieto")
        client.force_login(member)
        client.post("/pairs/settings/", {"opted_in": "on"})
        assert "Your first coffee pair comes on Monday, 18 January 2027." in home(client)

        # Once it has run without her, the first pair is the round after.
        RoundFactory.create(scheduled_for=datetime(2027, 1, 18, 8, 0, tzinfo=UTC))

        assert "Your first coffee pair comes on Monday, 1 February 2027." in home(client)


@pytest.mark.django_db
def test_no_first_pair_date_for_members_paired_before_or_not_taking_part(
    client: Client, alice: User
) -> None:
    with time_machine.travel(BETWEEN_ROUNDS, tick=False):
        client.force_login(alice)
        assert "Your first coffee pair" not in home(client)  # not taking part

        client.post("/pairs/settings/", {"opted_in": "on"})
        assert "Your first coffee pair" in home(client)
        assert "you are ready for your first coffee pair" in home(client)

        GroupMemberFactory.create(user=alice)

        assert "Your first coffee pair" not in home(client)
        # The steps she has left no longer speak of a first pair either.
        assert "first coffee pair" not in home(client)
        assert "your place in the office is complete" in home(client)


@pytest.mark.django_db
def test_a_member_who_did_everything_long_ago_sees_no_list(client: Client, alice: User) -> None:
    # Alice (tests/conftest.py) has interests, hours and a profile; the rest is added here.
    Profile.objects.filter(user=alice).update(photo="photos/alice.webp")
    Participation.objects.create(programme=Programme.objects.get(slug=COMMUNITY_SLUG), user=alice)
    MessageFactory.create(room=cafeteria_get(), author=alice)
    client.force_login(alice)

    page = home(client)

    assert "Your first steps" not in page
    assert "Hello, Alice Arias" in page


@pytest.mark.django_db
def test_once_all_are_done_the_list_is_gone_for_good_and_no_longer_read(
    client: Client, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    Profile.objects.filter(user=alice).update(photo="photos/alice.webp")
    Participation.objects.create(programme=Programme.objects.get(slug=COMMUNITY_SLUG), user=alice)
    MessageFactory.create(room=cafeteria_get(), author=alice)
    client.force_login(alice)
    assert "Your first steps" not in home(client)
    alice.refresh_from_db()
    assert alice.first_steps_done_at is not None

    # Leaving the coffee pairs would untick a step; the list, a welcome, stays gone, and the
    # steps are not read again.
    client.post("/pairs/settings/", {})

    def read(**kwargs: Any) -> Any:
        raise AssertionError("the first steps were read again")

    monkeypatch.setattr(onboarding, "onboarding_checklist", read)
    page = home(client)
    assert "Your first steps" not in page and "Hello, Alice Arias" in page

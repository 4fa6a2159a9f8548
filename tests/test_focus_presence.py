"""Who is in focus, and "In focus until 11:50" where members are listed (docs/focus.md, "In
focus: presence and held notifications"): the directory and profiles, the rooms' lobby and
conversations, in the viewer's zone; never for someone who has not arrived or whose block
is over, never for visitors."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from conversations.services import direct_conversation_start, group_create, message_post
from focus.models import FocusBlock, Seat
from focus.presence import in_focus_until
from members.models import User
from members.status import busy_until
from rooms.models import Presence, Room
from rooms.services import cafeteria_get
from tests.factories import AcquaintanceFactory, RoomFactory, client_for, onboarded_member

pytestmark = pytest.mark.django_db

# Monday 7 December 2026, 10:00 UTC: 11:00 in Madrid, 04:00 in Mexico City.
TEN = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
DURING = TEN + timedelta(minutes=20)
# A 50-minute block from TEN ends at 10:50 UTC: 11:50 in Madrid, where the viewers live.
BADGE = "In focus until 11:50"


@pytest.fixture(autouse=True)
def _during_the_block() -> Iterator[None]:
    with time_machine.travel(DURING, tick=False):
        yield


def seat(user: User, *, starts_at: datetime = TEN, minutes: int = 50, **fields: Any) -> Seat:
    block = FocusBlock.objects.create(starts_at=starts_at, minutes=minutes)
    fields.setdefault("arrived_at", starts_at + timedelta(minutes=2))
    return Seat.objects.create(block=block, user=user, **fields)


def member(name: str, **fields: Any) -> User:
    email = name.lower().replace(" ", ".") + "@example.com"
    return onboarded_member(name, email=email, language="en", **fields)


def be_in(room: Room, user: User) -> None:
    Presence.objects.create(room=room, user=user, channel_name=f"c-{room.pk}-{user.pk}")


def test_a_member_is_in_focus_from_arriving_until_the_block_ends(
    django_assert_num_queries: Any,
) -> None:
    focused, late, gone, missed = (member(n) for n in ("Fe", "Lu", "Go", "Mi"))
    cancelled_block, elsewhere = member("Ca"), member("El")
    seat(focused)
    seat(late, arrived_at=None)  # booked, not there (yet)
    seat(gone, cancelled_at=TEN - timedelta(hours=1))
    seat(missed, no_show=True)
    FocusBlock.objects.filter(pk=seat(cancelled_block).block_id).update(
        cancelled_at=TEN - timedelta(hours=2)
    )
    seat(elsewhere, starts_at=TEN + timedelta(minutes=30))  # not started yet
    everyone = [u.pk for u in (focused, late, gone, missed, cancelled_block, elsewhere)]

    with django_assert_num_queries(1):
        now = in_focus_until(user_ids=everyone, now=DURING)

    assert now == {focused.pk: TEN + timedelta(minutes=50)}
    assert in_focus_until(user_ids=everyone, now=TEN - timedelta(seconds=1)) == {}
    # At 10:50 Fe's block is over, and the one El booked at 10:30 is on.
    assert in_focus_until(user_ids=everyone, now=TEN + timedelta(minutes=50)) == {
        elsewhere.pk: TEN + timedelta(minutes=80)
    }
    # The longest blocks too, up to their last second.
    seat(late, starts_at=TEN - timedelta(minutes=30), minutes=75)
    assert in_focus_until(user_ids=[late.pk], now=TEN + timedelta(minutes=44)) == {
        late.pk: TEN + timedelta(minutes=45)
    }
    with django_assert_num_queries(0):
        assert in_focus_until(user_ids=[], now=DURING) == {}


def test_focus_fills_the_members_status_registry() -> None:
    focused = member("Fe")
    seat(focused)

    assert busy_until(user_ids=[focused.pk, focused.pk + 1000], now=DURING) == {
        focused.pk: TEN + timedelta(minutes=50)
    }


def test_the_directory_and_the_profile_show_the_badge_in_the_viewer_s_zone() -> None:
    viewer = member("Vera Vidal")
    focused, not_arrived = member("Fede Foco"), member("Nora Nollegó")
    seat(focused)
    seat(not_arrived, arrived_at=None)

    directory = client_for(viewer).get("/members/").content.decode()
    card = directory[directory.index("Fede Foco") :]
    card = card[: card.index("</li>")]
    assert BADGE in card and 'class="focus-badge"' in card
    other = directory[directory.index("Nora Nollegó") :]
    assert "In focus" not in other[: other.index("</li>")]
    assert directory.count("In focus until") == 1

    profile = client_for(viewer).get(f"/members/{focused.pk}/").content.decode()
    assert BADGE in profile
    assert "In focus" not in client_for(viewer).get(f"/members/{not_arrived.pk}/").content.decode()

    # Someone in Mexico City reads the same end in their own time.
    mexico = member("Mateo Mex", time_zone="America/Mexico_City")
    profile = client_for(mexico).get(f"/members/{focused.pk}/").content.decode()
    assert "In focus until 04:50" in profile


def test_the_badge_goes_when_the_block_ends() -> None:
    viewer, focused = member("Vera Vidal"), member("Fede Foco")
    seat(focused)
    browser = client_for(viewer)
    assert BADGE in browser.get("/members/").content.decode()

    with time_machine.travel(TEN + timedelta(minutes=50), tick=False):
        assert "In focus" not in browser.get("/members/").content.decode()
        assert "In focus" not in browser.get(f"/members/{focused.pk}/").content.decode()


def test_visitors_of_a_public_profile_do_not_learn_who_is_in_focus(client: Client) -> None:
    focused = member("Fede Foco")
    focused.profile.public = True
    focused.profile.save(update_fields=["public"])
    seat(focused)

    page = client.get(f"/members/{focused.pk}/", HTTP_ACCEPT_LANGUAGE="en")

    assert page.status_code == 200 and "Fede Foco" in page.content.decode()
    assert "In focus" not in page.content.decode()


def test_the_lobby_shows_who_inside_is_in_focus_and_its_live_list_too() -> None:
    viewer, focused, chatting = member("Vera Vidal"), member("Fede Foco"), member("Charo Charla")
    seat(focused)
    be_in(cafeteria_get(), focused)
    be_in(cafeteria_get(), chatting)
    browser = client_for(viewer)

    for url in ("/rooms/", "/rooms/?partial=1"):  # the page, and the list it fetches live
        html = browser.get(url).content.decode()
        person = html[html.index("Fede Foco") :]
        assert BADGE in person[: person.index("</li>")]
        person = html[html.index("Charo Charla") :]
        assert "In focus" not in person[: person.index("</li>")]


def test_the_lobby_reads_as_many_queries_with_many_in_focus(
    django_assert_max_num_queries: Any,
) -> None:
    browser = client_for(member("Vera Vidal"))

    def fill(count: int) -> None:
        for _ in range(count):
            room = RoomFactory.create()
            for _ in range(2):
                someone = onboarded_member("Someone")
                seat(someone)
                be_in(room, someone)

    fill(1)
    browser.get("/rooms/")
    with django_assert_max_num_queries(14) as few:
        browser.get("/rooms/")
    fill(4)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert browser.get("/rooms/").content.decode().count("In focus until") == 10


def test_conversations_show_who_is_in_focus_on_the_page_and_in_the_list() -> None:
    ana, fede, gina = member("Ana Arias"), member("Fede Foco"), member("Gina Gil")
    seat(fede)
    direct = direct_conversation_start(starter=ana, other=fede)
    message_post(conversation=direct, author=fede, text="Hola", client_id=uuid.uuid4())
    for other in (fede, gina):
        AcquaintanceFactory.create(owner=ana, other=other)
    group = group_create(creator=ana, title="Equipo", members=[fede, gina])
    anas = client_for(ana)

    page = anas.get(direct.get_absolute_url()).content.decode()
    assert BADGE in page
    group_page = anas.get(group.get_absolute_url()).content.decode()
    assert "Fede Foco is in focus until 11:50" in group_page
    assert "Gina Gil is in focus" not in group_page

    listed = anas.get("/messages/").content.decode()
    assert listed.count(BADGE) == 1 and listed.count("Fede Foco is in focus until 11:50") == 1
    # Fede's own pages show nobody in focus: Ana is not.
    assert "In focus" not in client_for(fede).get(direct.get_absolute_url()).content.decode()

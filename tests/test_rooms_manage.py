"""Opening, closing and inviting to rooms, closed and full rooms, as members' browsers do it.

Personas (tests/conftest.py): Alice opens rooms; Bob is someone she has met; the outsider
(Carol) has no part in any room; staff run the site. Carla is a member Alice reaches by email.
"""

import asyncio
import re
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.test import Client
from django.utils import timezone

from members.models import User
from members.services import member_suspend
from notifications.models import Kind, Notification
from rooms.broadcast import room_group
from rooms.models import Presence, Room, RoomParticipation
from rooms.services import (
    ROOMS_PER_DAY,
    cafeteria_get,
    room_create,
    room_invite,
    room_member_remove,
)
from rooms.tasks import invitation_notify
from tests.factories import (
    AcquaintanceFactory,
    BlockFactory,
    MessageFactory,
    RoomFactory,
    client_for,
    onboarded_member,
)

NEW = "/rooms/new/"


def be_in(room: Room, user: User) -> Presence:
    return Presence.objects.create(room=room, user=user, channel_name=f"c-{room.pk}-{user.pk}")


def was_in(room: Room, user: User) -> RoomParticipation:
    now = timezone.now()
    return RoomParticipation.objects.create(
        room=room, user=user, first_seen_at=now, last_seen_at=now
    )


def form_data(**overrides: Any) -> dict[str, Any]:
    return {"name": "Logo feedback", "description": "", "access": "public", **overrides}


@pytest.fixture
def bob(bob: User, alice: User) -> User:
    """Bob (tests/conftest.py), whom Alice has met."""
    AcquaintanceFactory.create(owner=alice, other=bob)
    return bob


@pytest.fixture
def carla() -> User:
    return onboarded_member("Carla Cano", email="carla@example.com")


# opening a room ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_visitors_are_sent_to_log_in(client: Client) -> None:
    room = RoomFactory.create()
    for method, url in [
        ("get", NEW),
        ("post", NEW),
        ("post", f"/rooms/{room.slug}/close/"),
        ("post", f"/rooms/{room.slug}/invite/"),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/")
    assert Room.objects.get(pk=room.pk).is_open


@pytest.mark.django_db
def test_the_lobby_has_an_open_a_room_button(alice: User) -> None:
    html = client_for(alice).get("/rooms/").content.decode()
    assert f'href="{NEW}"' in html and "Open a room" in html


@pytest.mark.django_db
def test_the_form_is_labelled_and_groups_its_choices(alice: User, bob: User) -> None:
    html = client_for(alice).get(NEW).content.decode()

    assert 'name="csrfmiddlewaretoken"' in html
    assert '<label for="id_name">Topic' in html
    assert '<label for="id_capacity">Capacity' in html
    assert "<legend>Who may come in</legend>" in html
    assert "<legend>People you have met</legend>" in html
    assert "Bob Bravo" in html and 'type="checkbox"' in html
    assert "Permanent room" not in html


@pytest.mark.django_db
def test_a_member_opens_a_public_room(alice: User, outsider: User) -> None:
    response = client_for(alice).post(
        NEW, form_data(description="Bring your sketches", capacity="8")
    )

    room = Room.objects.get(name="Logo feedback")
    assert response.status_code == 302
    assert response["Location"] == f"/rooms/{room.slug}/"
    assert room.kind == Room.Kind.MEMBER and room.created_by == alice
    assert not room.private and room.capacity == 8
    assert room.description == "Bring your sketches"
    # Anyone may come in.
    assert client_for(outsider).get(f"/rooms/{room.slug}/").status_code == 200


@pytest.mark.django_db
def test_a_private_room_invites_acquaintances_and_members_by_email(
    alice: User, bob: User, carla: User, outsider: User
) -> None:
    response = client_for(alice).post(
        NEW,
        form_data(access="private", acquaintances=[bob.pk], emails="CARLA@example.com,\n"),
    )

    room = Room.objects.get(name="Logo feedback")
    assert response.status_code == 302
    assert room.private
    assert set(room.invitees.all()) == {bob, carla}
    for invited in (bob, carla):
        assert client_for(invited).get(f"/rooms/{room.slug}/").status_code == 200
    assert client_for(outsider).get(f"/rooms/{room.slug}/").status_code == 403
    assert "Logo feedback" not in client_for(outsider).get("/rooms/").content.decode()


@pytest.mark.django_db
def test_only_acquaintances_can_be_ticked(alice: User, outsider: User) -> None:
    response = client_for(alice).post(NEW, form_data(access="private", acquaintances=[outsider.pk]))

    assert response.status_code == 400
    assert not Room.objects.filter(name="Logo feedback").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("capacity", ["1", "51", "many"])
def test_capacity_is_between_2_and_50(alice: User, capacity: str) -> None:
    response = client_for(alice).post(NEW, form_data(capacity=capacity))

    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Room.objects.filter(name="Logo feedback").exists()


@pytest.mark.django_db
def test_bad_input_keeps_everything_typed(alice: User, bob: User) -> None:
    response = client_for(alice).post(
        NEW,
        form_data(
            name="  ",
            description="Bring your sketches",
            access="private",
            acquaintances=[bob.pk],
            emails="carla@example.com",
            capacity="6",
        ),
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in html
    assert "Bring your sketches" in html
    assert "carla@example.com" in html
    assert 'value="6"' in html
    assert f'value="{bob.pk}"' in html and "checked" in html
    assert not Room.objects.exclude(kind=Room.Kind.CAFETERIA).exists()


@pytest.mark.django_db
def test_nobody_on_either_side_of_a_block_is_offered_as_an_invitee(
    alice: User, bob: User, carla: User, outsider: User
) -> None:
    for other in (carla, outsider):
        AcquaintanceFactory.create(owner=alice, other=other)
    BlockFactory.create(blocker=carla, blocked=alice)
    BlockFactory.create(blocker=alice, blocked=outsider)

    html = client_for(alice).get(NEW).content.decode()

    assert f'value="{bob.pk}"' in html
    assert f'value="{carla.pk}"' not in html and carla.name not in html
    assert f'value="{outsider.pk}"' not in html


@pytest.mark.django_db
def test_unknown_and_former_members_addresses_are_left_out(alice: User, carla: User) -> None:
    """Without a word: the form must not tell who has an account (tests/test_enumeration.py)."""
    onboarded_member("Gone Member", email="gone@example.com", is_active=False)

    response = client_for(alice).post(
        NEW,
        form_data(
            access="private", emails="nobody@example.com\ncarla@example.com, gone@example.com"
        ),
    )

    room = Room.objects.get(name="Logo feedback")
    assert response.status_code == 302 and response["Location"] == f"/rooms/{room.slug}/"
    assert list(room.invitees.all()) == [carla]


@pytest.mark.django_db
def test_malformed_addresses_are_named(alice: User) -> None:
    response = client_for(alice).post(NEW, form_data(access="private", emails="carla-at-example"))

    assert response.status_code == 400
    assert "These are not email addresses: carla-at-example" in response.content.decode()


@pytest.mark.django_db
def test_members_on_either_side_of_a_block_are_silently_left_out(
    alice: User, bob: User, carla: User
) -> None:
    BlockFactory.create(blocker=carla, blocked=alice)
    BlockFactory.create(blocker=alice, blocked=bob)

    response = client_for(alice).post(
        NEW, form_data(access="private", acquaintances=[bob.pk], emails="carla@example.com")
    )

    # Exactly as if they had been invited: no error, nothing that tells of a block.
    assert response.status_code == 302
    room = Room.objects.get(name="Logo feedback")
    assert not room.invitees.exists()
    assert client_for(carla).get(f"/rooms/{room.slug}/").status_code == 403


@pytest.mark.django_db
def test_invitations_are_for_private_rooms(alice: User, carla: User) -> None:
    response = client_for(alice).post(NEW, form_data(emails="carla@example.com"))

    assert response.status_code == 400
    assert "Invitations are for private rooms" in response.content.decode()


@pytest.mark.django_db
def test_only_staff_can_open_permanent_rooms(alice: User, staff: User) -> None:
    client_for(alice).post(NEW, form_data(name="Sneaky", permanent="on"))
    assert Room.objects.get(name="Sneaky").kind == Room.Kind.MEMBER

    as_staff = client_for(staff)
    assert "Permanent room" in as_staff.get(NEW).content.decode()
    as_staff.post(NEW, form_data(name="Library", permanent="on"))
    assert Room.objects.get(name="Library").kind == Room.Kind.PERMANENT


@pytest.mark.django_db
def test_a_room_called_new_does_not_hide_the_form(alice: User) -> None:
    client_for(alice).post(NEW, form_data(name="New"))

    assert Room.objects.get(name="New").slug != "new"
    assert "<h1>Open a room</h1>" in client_for(alice).get(NEW).content.decode()


# closing ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_creator_and_staff_see_the_room_actions_others_do_not(
    alice: User, outsider: User, staff: User
) -> None:
    room = RoomFactory.create(created_by=alice)
    close_url = f'action="/rooms/{room.slug}/close/"'

    assert close_url in client_for(alice).get(f"/rooms/{room.slug}/").content.decode()
    assert close_url in client_for(staff).get(f"/rooms/{room.slug}/").content.decode()
    assert close_url not in client_for(outsider).get(f"/rooms/{room.slug}/").content.decode()
    cafeteria = client_for(staff).get("/rooms/cafeteria/").content.decode()
    assert "/close/" not in cafeteria and "Close this room" not in cafeteria


@pytest.mark.django_db
def test_the_creator_closes_their_room(alice: User) -> None:
    room = RoomFactory.create(created_by=alice, name="Logo feedback")

    response = client_for(alice).post(f"/rooms/{room.slug}/close/", follow=True)

    assert response.redirect_chain == [("/rooms/", 302)]
    assert "You closed “Logo feedback”" in response.content.decode()
    assert not Room.objects.get(pk=room.pk).is_open


@pytest.mark.django_db
def test_staff_close_anyones_room(alice: User, staff: User) -> None:
    room = RoomFactory.create(created_by=alice)
    assert client_for(staff).post(f"/rooms/{room.slug}/close/").status_code == 302
    assert not Room.objects.get(pk=room.pk).is_open


@pytest.mark.django_db
def test_others_cannot_close_a_room(alice: User, outsider: User) -> None:
    room = RoomFactory.create(created_by=alice)
    as_outsider = client_for(outsider)

    assert as_outsider.post(f"/rooms/{room.slug}/close/").status_code == 403
    assert as_outsider.get(f"/rooms/{room.slug}/close/").status_code == 405
    assert client_for(alice).get(f"/rooms/{room.slug}/close/").status_code == 405
    assert Room.objects.get(pk=room.pk).is_open


@pytest.mark.django_db
def test_a_creator_staff_sent_out_of_their_room_runs_it_no_more(alice: User, staff: User) -> None:
    room = RoomFactory.create(created_by=alice, private=True)
    room_member_remove(room=room, member=alice, by=staff)
    as_alice = client_for(alice)

    assert as_alice.get(f"/rooms/{room.slug}/invite/").status_code == 403
    assert as_alice.post(f"/rooms/{room.slug}/close/").status_code == 403
    assert Room.objects.get(pk=room.pk).is_open


@pytest.mark.django_db
def test_nobody_closes_the_cafeteria(staff: User) -> None:
    assert client_for(staff).post("/rooms/cafeteria/close/").status_code == 403
    assert cafeteria_get().is_open


@pytest.mark.django_db
def test_closing_needs_the_csrf_token(alice: User) -> None:
    room = RoomFactory.create(created_by=alice)
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    assert client.post(f"/rooms/{room.slug}/close/").status_code == 403
    assert Room.objects.get(pk=room.pk).is_open


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_closing_tells_the_rooms_sockets(alice: User) -> None:
    room = await database_sync_to_async(RoomFactory.create)(created_by=alice)
    layer = get_channel_layer()
    assert layer is not None
    listener = await layer.new_channel()
    await layer.group_add(room_group(room.pk), listener)

    status = await database_sync_to_async(
        lambda: client_for(alice).post(f"/rooms/{room.slug}/close/").status_code
    )()

    assert status == 302
    assert await asyncio.wait_for(layer.receive(listener), timeout=5) == {
        "type": "room.closed",
        "fanout_group": room_group(room.pk),
    }


# inviting ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_creator_invites_more_members(alice: User, bob: User, carla: User) -> None:
    room = RoomFactory.create(created_by=alice, private=True, name="Ana y Bob, 1:1")
    # Not invited yet: told how to get in, not the room's name.
    refused = client_for(carla).get(f"/rooms/{room.slug}/")
    assert refused.status_code == 403
    assert "ask them to invite you" in refused.content.decode()
    assert "1:1" not in refused.content.decode()
    creator = client_for(alice)
    page = creator.get(f"/rooms/{room.slug}/").content.decode()
    assert f'action="/rooms/{room.slug}/invite/"' in page and "Bob Bravo" in page

    response = creator.post(
        f"/rooms/{room.slug}/invite/", {"acquaintances": [bob.pk], "emails": "carla@example.com"}
    )

    assert response.status_code == 302 and response["Location"] == f"/rooms/{room.slug}/"
    assert set(room.invitees.all()) == {bob, carla}
    assert client_for(carla).get(f"/rooms/{room.slug}/").status_code == 200


@pytest.mark.django_db
def test_invite_errors_name_the_addresses_and_keep_the_input(alice: User, bob: User) -> None:
    room = RoomFactory.create(created_by=alice, private=True)

    response = client_for(alice).post(
        f"/rooms/{room.slug}/invite/",
        {"acquaintances": [bob.pk], "emails": "nobody-at-example.com"},
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "These are not email addresses: nobody-at-example.com" in html
    assert "nobody-at-example.com</textarea>" in html
    assert "checked" in html
    assert not room.invitees.exists()


@pytest.mark.django_db
def test_invitations_are_rate_limited_keeping_what_was_typed(alice: User, bob: User) -> None:
    room = RoomFactory.create(created_by=alice, private=True)
    creator = client_for(alice)
    for _ in range(10):
        creator.post(f"/rooms/{room.slug}/invite/", {"emails": "carla@example.com"})

    response = creator.post(f"/rooms/{room.slug}/invite/", {"acquaintances": [bob.pk]})

    assert response.status_code == 429
    assert "You have sent many invitations lately." in response.content.decode()
    assert not room.invitees.filter(pk=bob.pk).exists()


@pytest.mark.django_db
def test_inviting_nobody_is_an_error(alice: User) -> None:
    room = RoomFactory.create(created_by=alice, private=True)
    response = client_for(alice).post(f"/rooms/{room.slug}/invite/", {"emails": ""})
    assert response.status_code == 400
    assert "Tick someone you have met" in response.content.decode()


@pytest.mark.django_db
def test_inviting_a_blocked_member_looks_like_inviting_anyone(alice: User, carla: User) -> None:
    BlockFactory.create(blocker=carla, blocked=alice)
    room = RoomFactory.create(created_by=alice, private=True)

    response = client_for(alice).post(
        f"/rooms/{room.slug}/invite/", {"emails": "carla@example.com"}, follow=True
    )

    assert "may come in now" in response.content.decode()
    assert not room.invitees.exists()


@pytest.mark.django_db
def test_an_invitation_follows_who_may_write_to_the_member_first(
    alice: User, django_capture_on_commit_callbacks: Any
) -> None:
    """An invitation is a first contact: someone who takes none (or only from people they
    have met) is left out, with the same answer as anyone, and hears nothing."""
    from members.models import MessagesFrom, Profile

    people = {
        name: onboarded_member(name, email=f"{name.lower()}@example.com")
        for name in ("Nadie", "Conocida", "Desconocida", "Cualquiera")
    }
    for name, setting in (
        ("Nadie", MessagesFrom.NOBODY),
        ("Conocida", MessagesFrom.MET),
        ("Desconocida", MessagesFrom.MET),
    ):
        Profile.objects.filter(user=people[name]).update(messages_from=setting)
    AcquaintanceFactory.create(owner=people["Conocida"], other=alice)
    room = RoomFactory.create(created_by=alice, private=True)
    emails = " ".join(person.email for person in people.values())

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(alice).post(
            f"/rooms/{room.slug}/invite/", {"emails": emails}, follow=True
        )

    assert "may come in now" in response.content.decode()
    invited = {user.display_name for user in room.invitees.all()}
    assert invited == {"Conocida", "Cualquiera"}
    told = Notification.objects.filter(kind=Kind.ROOM_INVITED).values_list(
        "user__display_name", flat=True
    )
    assert set(told) == invited


@pytest.mark.django_db
def test_others_cannot_invite(alice: User, carla: User, outsider: User) -> None:
    room = RoomFactory.create(created_by=alice, private=True)
    room.invitees.add(carla)

    for someone in (outsider, carla):
        response = client_for(someone).post(
            f"/rooms/{room.slug}/invite/", {"emails": "carol@example.com"}
        )
        assert response.status_code == 403
    assert list(room.invitees.all()) == [carla]


@pytest.mark.django_db
def test_staff_invite_to_a_private_room(alice: User, staff: User, carla: User) -> None:
    room = RoomFactory.create(created_by=alice, private=True)
    client_for(staff).post(f"/rooms/{room.slug}/invite/", {"emails": "carla@example.com"})
    assert list(room.invitees.all()) == [carla]


@pytest.mark.django_db
def test_public_and_closed_rooms_take_no_invitations(alice: User, carla: User) -> None:
    public = RoomFactory.create(created_by=alice)
    closed = RoomFactory.create(created_by=alice, private=True)
    closed.close()

    for room in (public, closed):
        response = client_for(alice).post(
            f"/rooms/{room.slug}/invite/", {"emails": "carla@example.com"}
        )
        assert response.status_code == 302
        assert not room.invitees.exists()
    page = client_for(alice).get(f"/rooms/{public.slug}/").content.decode()
    assert "/invite/" not in page


# closed rooms -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_closed_room_is_read_only_for_those_who_were_in(alice: User, bob: User) -> None:
    room = RoomFactory.create(created_by=alice, name="Logo feedback")
    was_in(room, bob)
    MessageFactory.create(room=room, author=alice, text="<script>alert(1)</script>\nsee you")
    room.close()

    response = client_for(bob).get(f"/rooms/{room.slug}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert response.templates[0].name == "rooms/room_closed.html"
    assert "This room closed on" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\nsee you" in html
    assert "<script>alert(1)" not in html
    assert 'id="chat-form"' not in html and "room.js" not in html
    assert "/close/" not in html


@pytest.mark.django_db
def test_a_closed_room_s_whole_history_can_be_read_page_by_page(alice: User, bob: User) -> None:
    room = RoomFactory.create(created_by=alice, name="Logo feedback")
    was_in(room, bob)
    for number in range(1, 56):
        MessageFactory.create(room=room, author=alice, text=f"Mensaje {number:02d}")
    room.close()
    bobs = client_for(bob)

    latest = bobs.get(f"/rooms/{room.slug}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Mensaje 55" in latest and "Mensaje 06" in latest and "Mensaje 05" not in latest
    assert "Latest messages" not in latest
    older = re.search(r'href="(\?before=\d+)">Older messages', latest)
    assert older is not None

    first = bobs.get(f"/rooms/{room.slug}/{older[1]}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Mensaje 01" in first and "Mensaje 05" in first and "Mensaje 06" not in first
    assert "Older messages" not in first
    assert f'href="/rooms/{room.slug}/">Latest messages' in first
    # A bogus page is the latest one.
    bogus = bobs.get(f"/rooms/{room.slug}/?before=x", HTTP_ACCEPT_LANGUAGE="en")
    assert "Mensaje 55" in bogus.content.decode()


@pytest.mark.django_db
def test_a_closed_room_is_refused_to_those_who_were_not_in(
    alice: User, carla: User, outsider: User, staff: User
) -> None:
    room = RoomFactory.create(created_by=alice, private=True)
    room.invitees.add(carla)  # Invited, but never came.
    removed = onboarded_member("Rita Removed")
    RoomParticipation.objects.create(
        room=room, user=removed, first_seen_at=timezone.now(), removed_at=timezone.now()
    )
    room.close()

    for someone in (outsider, carla, removed):
        response = client_for(someone).get(f"/rooms/{room.slug}/", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 403
        # Said as it is, with the way on, and without the private room's name.
        page = response.content.decode()
        assert "This room closed on" in page and "stays with those who were in it" in page
        assert room.name not in page and 'id="messages"' not in page
        assert 'href="/rooms/cafeteria/"' in page
    assert client_for(staff).get(f"/rooms/{room.slug}/").status_code == 200


@pytest.mark.django_db
def test_a_closed_public_room_tells_a_member_who_was_not_in_it_that_it_closed(
    alice: User, outsider: User
) -> None:
    room = RoomFactory.create(created_by=alice, name="Logo feedback")
    MessageFactory.create(room=room, author=alice, text="Solo para quienes estuvieron")
    room.close()

    response = client_for(outsider).get(f"/rooms/{room.slug}/", HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert response.status_code == 403
    assert "<h1>Logo feedback</h1>" in page and "This room closed on" in page
    assert "Solo para quienes estuvieron" not in page
    assert "only for some members" not in page


@pytest.mark.django_db
def test_the_lobby_lists_the_closed_rooms_you_were_in(
    alice: User, bob: User, django_assert_max_num_queries: Any
) -> None:
    recent = RoomFactory.create(name="Recent chat")
    old = RoomFactory.create(name="Ancient chat")
    not_mine = RoomFactory.create(name="Someone else's chat")
    for room in (recent, old):
        was_in(room, bob)
    was_in(not_mine, alice)
    recent.close()
    old.close(now=timezone.now() - timedelta(days=31))
    not_mine.close()
    lobby = client_for(bob)
    lobby.get("/rooms/")  # Warm up the session.

    with django_assert_max_num_queries(16) as few:
        html = lobby.get("/rooms/").content.decode()

    assert "Rooms you were in" in html
    assert f'href="/rooms/{recent.slug}/"' in html
    assert "Ancient chat" not in html and "Someone else" not in html
    for _ in range(5):
        room = RoomFactory.create()
        was_in(room, bob)
        room.close()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert lobby.get("/rooms/").status_code == 200
    # Not in the partial the lobby refreshes itself with.
    assert "Rooms you were in" not in lobby.get("/rooms/", {"partial": "1"}).content.decode()


# full rooms -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_full_room_says_so_and_shows_who_is_inside(
    alice: User, bob: User, carla: User, outsider: User, django_assert_max_num_queries: Any
) -> None:
    room = RoomFactory.create(created_by=alice, capacity=2)
    be_in(room, bob)
    be_in(room, carla)
    as_outsider = client_for(outsider)
    as_outsider.get("/rooms/")  # Warm up the session.

    with django_assert_max_num_queries(16) as few:
        response = as_outsider.get(f"/rooms/{room.slug}/")

    html = response.content.decode()
    assert response.status_code == 409
    assert "This room is full" in html
    assert "Bob Bravo" in html and "Carla Cano" in html
    assert 'id="chat-form"' not in html and "room.js" not in html
    for name in ("Eva", "Fran", "Gus"):
        be_in(room, onboarded_member(name))  # Over capacity: staff may bring people in.
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "Gus" in as_outsider.get(f"/rooms/{room.slug}/").content.decode()
    # Someone already inside (another tab) is not kept out.
    assert 'id="chat-form"' in client_for(bob).get(f"/rooms/{room.slug}/").content.decode()


# admin ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_close_rooms_from_the_admin_but_not_the_cafeteria(alice: User, staff: User) -> None:
    room = RoomFactory.create(created_by=alice)
    cafeteria = cafeteria_get()

    response = client_for(staff).post(
        "/admin/rooms/room/",
        {"action": "close_rooms", "_selected_action": [room.pk, cafeteria.pk], "confirm": "yes"},
        follow=True,
    )

    html = response.content.decode()
    assert "1 room closed." in html
    assert "The cafeteria cannot be closed" in html
    assert not Room.objects.get(pk=room.pk).is_open
    assert cafeteria_get().is_open


@pytest.mark.django_db
def test_a_member_opens_at_most_ten_rooms_a_day_and_staff_are_not_counted(
    alice: User, staff: User
) -> None:
    as_alice = client_for(alice)
    for n in range(ROOMS_PER_DAY):
        assert as_alice.post(NEW, form_data(name=f"Room {n}")).status_code == 302

    response = as_alice.post(NEW, form_data(name="One more"))

    assert response.status_code == 400
    assert "rooms in the last 24 hours" in response.content.decode()
    assert not Room.objects.filter(name="One more").exists()
    # Yesterday's rooms no longer count.
    Room.objects.filter(created_by=alice).update(created_at=timezone.now() - timedelta(days=1))
    assert as_alice.post(NEW, form_data(name="One more")).status_code == 302
    for n in range(ROOMS_PER_DAY + 1):
        assert client_for(staff).post(NEW, form_data(name=f"Staff {n}")).status_code == 302


@pytest.mark.django_db
def test_the_invited_hear_of_it_once_on_the_site_and_the_blocked_never(
    alice: User, bob: User, carla: User, django_capture_on_commit_callbacks: Any
) -> None:
    BlockFactory.create(blocker=carla, blocked=alice)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(alice).post(
            NEW, form_data(access="private", acquaintances=[bob.pk], emails="carla@example.com")
        )
    room = Room.objects.get(name="Logo feedback")
    with django_capture_on_commit_callbacks(execute=True) as queued:
        room_invite(room=room, by=alice, invitees=[bob])  # again: nothing new to say
    assert not [task for task in queued if getattr(task, "func", None) == invitation_notify.delay]

    [notice] = Notification.objects.filter(kind=Kind.ROOM_INVITED)
    assert notice.user == bob and notice.url == f"/rooms/{room.slug}/"
    assert list(notice.about.all()) == [alice]
    # Written in Bob's language (the default, Spanish), as his notifications page shows it.
    page = client_for(bob).get("/notifications/").content.decode()
    assert f"{alice.name} te ha invitado a la sala «Logo feedback»." in page


@pytest.mark.parametrize("since", ["suspended", "blocked"])
def test_an_invitation_told_late_says_nothing_of_an_inviter_suspended_or_blocked_since(
    alice: User, bob: User, staff: User, since: str
) -> None:
    """The task may run long after the invitation (a queue's backlog, a focus block)."""
    room = room_create(creator=alice, name="Relojes", private=True)
    room.invitees.add(bob)
    if since == "suspended":
        member_suspend(user=alice, by=staff)
    else:
        BlockFactory.create(blocker=bob, blocked=alice)

    invitation_notify(room.pk, bob.pk, alice.pk)

    assert not Notification.objects.filter(user=bob).exists()


def test_a_suspended_member_s_own_rooms_close_and_leave_the_lobby(
    alice: User, bob: User, staff: User
) -> None:
    """A spammer's room names were theirs to choose: they went on showing until idle. A
    private room stays for its invitees (a pair's coffee table is opened by whichever
    partner comes first)."""
    room_create(creator=alice, name="Relojes baratos")
    room_create(creator=alice, name="Café de Alice y Bob", private=True, invitees=[bob])

    member_suspend(user=alice, by=staff)

    assert Room.objects.get(name="Relojes baratos").closed_at is not None
    assert "Relojes baratos" not in client_for(bob).get("/rooms/").content.decode()
    assert Room.objects.get(name="Café de Alice y Bob").closed_at is None

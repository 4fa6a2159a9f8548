"""The stage page over HTTP: who gets one (staff rooms and training sessions or talks, made
at a host's first visit), who is refused, what it says when the media server is missing,
and attendance on the stage page counting as being in the event's room."""

from datetime import timedelta

import pytest
import time_machine
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client, override_settings
from django.utils import timezone

from coworking.asgi import application
from events.attendance import event_attendee_ids
from events.models import Event, EventKind
from events.stage import STAGE_OVERRUN
from events.tasks import events_wrap_up_tick
from members.models import User
from members.services import member_suspend
from rooms.models import Room
from stage.models import Hand, Speaker, Stage, StageError
from stage.services import NotHost, stage_for_room, stage_invite, stage_may_host, stage_remove
from tests.factories import BlockFactory, RoomFactory, UserFactory, client_for

pytestmark = pytest.mark.django_db


def talk(host: User, room: Room, kind: str = EventKind.TALK) -> Event:
    now = timezone.now()
    return Event.objects.create(
        kind=kind,
        title="#SinFiltros",
        host=host,
        room=room,
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
    )


def test_a_staff_rooms_stage_page_waits_for_a_host_to_start_it(staff: User, alice: User) -> None:
    room = RoomFactory.create(kind=Room.Kind.PERMANENT, slug="formacion", name="Formación")
    # A member who comes first waits on the stage page; nobody hosts it until it starts.
    assert client_for(alice).get("/stage/formacion/").status_code == 200
    assert Stage.objects.get(room=room).host is None

    page = client_for(staff).get("/stage/formacion/")

    assert page.status_code == 200
    assert "Start the session" in page.content.decode()
    member_page = client_for(alice).get("/stage/formacion/").content.decode()
    assert "The session has not started yet." in member_page
    assert "Start the session" not in member_page


def test_a_full_rooms_stage_says_it_is_full(staff: User, alice: User, bob: User) -> None:
    from rooms.models import Presence

    room = RoomFactory.create(kind=Room.Kind.PERMANENT, slug="taller", name="Taller", capacity=1)
    Presence.objects.create(room=room, user=bob, channel_name="bob-1")

    page = client_for(alice).get("/stage/taller/")

    # 409, as a full room's own page: the stage's refused socket looks for why, and shows it.
    assert page.status_code == 409
    assert "This room is full" in page.content.decode()


def test_a_talks_host_hosts_its_rooms_stage_and_the_event_page_links_to_it(
    alice: User, bob: User
) -> None:
    room = RoomFactory.create(created_by=alice, slug="charla", name="Charla")
    event = talk(alice, room)

    event_page = client_for(bob).get(f"/events/{event.pk}/").content.decode()
    assert 'href="/stage/charla/"' in event_page
    assert client_for(alice).get("/stage/charla/").status_code == 200
    assert Stage.objects.get(room=room).host is None  # until someone starts it
    # A meetup's room has no stage, and a member's own room none either.
    meetup_room = RoomFactory.create(created_by=bob, slug="quedada")
    talk(bob, meetup_room, kind=EventKind.MEETUP)
    assert client_for(bob).get("/stage/quedada/").status_code == 404


def test_a_talk_in_an_always_open_room_offers_its_stage_only_from_shortly_before(
    alice: User, bob: User
) -> None:
    room = RoomFactory.create(kind=Room.Kind.PERMANENT, slug="formacion", name="Formación")
    event = talk(alice, room)
    Event.objects.filter(pk=event.pk).update(
        starts_at=event.starts_at + timedelta(days=2), ends_at=event.ends_at + timedelta(days=2)
    )
    page = client_for(bob).get(f"/events/{event.pk}/").content.decode()
    assert 'href="/stage/formacion/"' not in page
    assert "Its stage opens on" in page and 'href="/rooms/formacion/"' in page

    with time_machine.travel(event.starts_at + timedelta(days=2) - timedelta(minutes=9)):
        page = client_for(bob).get(f"/events/{event.pk}/").content.decode()
    assert 'href="/stage/formacion/"' in page


def test_a_talks_host_who_is_not_staff_removes_a_member_from_the_event(
    alice: User, bob: User, outsider: User
) -> None:
    room = RoomFactory.create(created_by=alice, slug="charla", name="Charla")
    talk(alice, room)
    stage = stage_for_room(room=room, user=alice)
    assert stage is not None and not alice.is_staff

    stage_remove(stage=stage, by=alice, user_id=bob.pk)

    assert client_for(bob).get("/stage/charla/").status_code == 404
    with pytest.raises(NotHost):  # nobody else hosts it
        stage_remove(stage=stage, by=outsider, user_id=alice.pk)


def test_a_hosts_rights_last_from_the_rooms_opening_to_the_events_overrun(
    alice: User, bob: User, staff: User
) -> None:
    room = RoomFactory.create(created_by=alice, slug="charla", name="Charla")
    event = talk(alice, room)
    stage = stage_for_room(room=room, user=alice)
    assert stage is not None and stage_may_host(stage=stage, user=alice)
    # Nobody who may host is sent out by another host.
    with pytest.raises(StageError):
        stage_remove(stage=stage, by=alice, user_id=staff.pk)

    with time_machine.travel(event.ends_at + STAGE_OVERRUN - timedelta(minutes=1)):
        assert stage_may_host(stage=stage, user=alice)  # the talk runs a little over
    with time_machine.travel(event.ends_at + STAGE_OVERRUN + timedelta(minutes=1)):
        assert not stage_may_host(stage=stage, user=alice)
        with pytest.raises(NotHost):
            stage_remove(stage=stage, by=alice, user_id=bob.pk)
    with time_machine.travel(event.starts_at - timedelta(hours=1)):
        assert not stage_may_host(stage=stage, user=alice)


def test_outsiders_of_a_private_room_get_no_stage(staff: User, outsider: User) -> None:
    RoomFactory.create(kind=Room.Kind.PERMANENT, slug="equipo", private=True)
    assert client_for(staff).get("/stage/equipo/").status_code == 200
    assert client_for(outsider).get("/stage/equipo/").status_code == 404
    assert Client().get("/stage/equipo/").status_code == 302  # to the login page


def test_without_a_media_server_the_page_says_so_and_offers_the_rooms_call(
    staff: User,
) -> None:
    RoomFactory.create(kind=Room.Kind.PERMANENT, slug="sin-janus")
    # Browsers could not reach it: no secret to sign their tokens.
    with override_settings(
        JANUS_API_SECRET="set", JANUS_ROOM_ADMIN_KEY="set", JANUS_TOKEN_SECRET=""
    ):
        page = client_for(staff).get("/stage/sin-janus/").content.decode()

    assert "media server is not answering right now" in page
    assert 'href="/rooms/sin-janus/"' in page  # the mesh, for up to 6 people
    assert 'id="stage-unavailable" class="stage-notice">' in page  # shown, not hidden


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_watching_the_stage_counts_as_attending_the_event() -> None:
    host = await database_sync_to_async(UserFactory.create)()
    watcher = await database_sync_to_async(UserFactory.create)()
    room = await database_sync_to_async(RoomFactory.create)(created_by=host, slug="taller")
    event = await database_sync_to_async(talk)(host, room, EventKind.TRAINING)
    await database_sync_to_async(Stage.objects.create)(room=room, host=host)
    client = Client()
    await database_sync_to_async(client.force_login)(watcher)
    headers = [
        (b"origin", b"http://127.0.0.1:8000"),
        (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
    ]
    communicator = WebsocketCommunicator(application, "/ws/stage/taller/", headers=headers)
    assert (await communicator.connect(timeout=5))[0]
    while (await communicator.receive_json_from(timeout=5))["type"] != "stage.hello":
        pass
    await communicator.disconnect()

    attended = await database_sync_to_async(event_attendee_ids)(event=event)
    assert watcher.pk in attended


def test_a_host_who_deletes_their_account_leaves_their_stage_without_a_host(staff: User) -> None:
    from members.privacy import account_delete

    room = RoomFactory.create(kind=Room.Kind.PERMANENT, name="Formación", slug="formacion")
    stage = Stage.objects.create(room=room, host=staff)

    account_delete(user=staff)

    stage.refresh_from_db()
    assert stage.host is None


def test_a_stage_left_live_after_its_talk_is_ended_once_the_overrun_is_over(
    alice: User, bob: User, staff: User
) -> None:
    """Nobody but staff could end it by then, and next week's talk in the room would find
    this one's speakers on stage."""
    room = RoomFactory.create(kind=Room.Kind.PERMANENT, slug="charla", name="Charla")
    event = talk(alice, room)
    stage = Stage.objects.create(
        room=room, host=alice, state=Stage.State.LIVE, started_at=event.starts_at
    )
    Speaker.objects.create(stage=stage, user=bob, invited_by=alice)
    Hand.objects.create(stage=stage, user=staff)
    # Staff's own session in another staff room, started with no talk on, stays theirs;
    # as does a stage whose next talk has begun.
    own = Stage.objects.create(
        room=RoomFactory.create(kind=Room.Kind.PERMANENT, slug="equipo"),
        host=staff,
        state=Stage.State.LIVE,
        started_at=event.ends_at,
    )
    next_room = RoomFactory.create(kind=Room.Kind.PERMANENT, slug="taller")
    talk(alice, next_room)
    following = talk(bob, next_room)
    Event.objects.filter(pk=following.pk).update(
        starts_at=event.ends_at + timedelta(minutes=20),
        ends_at=event.ends_at + timedelta(hours=2),
    )
    taken_over = Stage.objects.create(
        room=next_room, host=alice, state=Stage.State.LIVE, started_at=event.starts_at
    )

    with time_machine.travel(event.ends_at + STAGE_OVERRUN - timedelta(minutes=1)):
        events_wrap_up_tick()
    assert Stage.objects.get(pk=stage.pk).state == Stage.State.LIVE
    with time_machine.travel(event.ends_at + STAGE_OVERRUN + timedelta(minutes=1)):
        events_wrap_up_tick()
        events_wrap_up_tick()  # a second tick finds nothing more to do

    stage.refresh_from_db()
    assert (stage.state, stage.speakers.count(), stage.hands.count()) == (Stage.State.ENDED, 0, 0)
    assert Stage.objects.get(pk=own.pk).state == Stage.State.LIVE
    assert Stage.objects.get(pk=taken_over.pk).state == Stage.State.LIVE


@pytest.mark.parametrize("blocker", ["speaker", "invited"])
def test_the_host_cannot_bring_on_stage_someone_on_either_side_of_a_block_with_a_speaker(
    staff: User, alice: User, bob: User, blocker: str
) -> None:
    """Speakers meet face to face in the green room, as at a call's table."""
    room = RoomFactory.create(kind=Room.Kind.PERMANENT, name="Formación", slug="formacion")
    stage = Stage.objects.create(room=room, host=staff, state=Stage.State.LIVE)
    Speaker.objects.create(stage=stage, user=staff, invited_by=staff)
    Speaker.objects.create(stage=stage, user=alice, invited_by=staff)
    if blocker == "speaker":
        BlockFactory.create(blocker=alice, blocked=bob)
    else:
        BlockFactory.create(blocker=bob, blocked=alice)

    with pytest.raises(StageError):
        stage_invite(stage=stage, by=staff, user_id=bob.pk)

    assert list(stage.speakers.values_list("user_id", flat=True).order_by("pk")) == [
        staff.pk,
        alice.pk,
    ]
    # Once that speaker is back in the audience, the host may.
    stage.speakers.filter(user=alice).delete()
    stage_invite(stage=stage, by=staff, user_id=bob.pk)
    assert stage.speakers.filter(user=bob).exists()


def test_a_suspended_speaker_and_raised_hand_leave_the_stage(
    staff: User, alice: User, bob: User
) -> None:
    """As for a deletion: the host could not take them off, and everyone saw their names."""
    room = RoomFactory.create(kind=Room.Kind.PERMANENT, name="Formación", slug="formacion")
    stage = Stage.objects.create(room=room, host=staff, state=Stage.State.LIVE)
    Speaker.objects.create(stage=stage, user=staff, invited_by=staff)
    Speaker.objects.create(stage=stage, user=alice, invited_by=staff)
    Hand.objects.create(stage=stage, user=bob)

    for member in (alice, bob):
        member_suspend(user=member, by=staff)

    assert list(stage.speakers.values_list("user_id", flat=True)) == [staff.pk]
    assert not stage.hands.exists()

"""A coffee group's own table: a private room for its members only, opened on the first visit
(by POST), and met detection: two members in it together for 10 minutes, through two sockets
on the Redis channel layer, count as having met without being asked."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from channels.db import database_sync_to_async
from django.core import mail
from django.test import Client

from conversations import coffee_tables
from conversations.models import CoffeeTable
from conversations.services import direct_conversation_start
from matching import links, services, tasks
from matching.models import Answer, GroupMember
from matching.services import round_create
from members.models import User
from members.privacy import account_delete
from notifications.models import Notification
from rooms.models import Room
from rooms.services import room_can_enter, room_create
from tests.factories import PASSWORD, UserFactory, onboarded_member
from tests.test_matching_rounds import community, participant
from tests.test_members_profile import VALID
from tests.test_rooms_socket import join

T = datetime(2027, 3, 25, 16, 0, tzinfo=UTC)


def paired() -> tuple[GroupMember, GroupMember]:
    luis = participant(email="luis@example.com")
    ana = participant(email="ana@example.com")
    round_create(programme=community(), scheduled_for=T - timedelta(days=2))
    seats = GroupMember.objects.select_related("user")
    return seats.get(user=luis), seats.get(user=ana)


@pytest.mark.django_db
def test_the_table_opens_on_the_first_visit_for_the_pair_only() -> None:
    with time_machine.travel(T, tick=False):
        luis, ana = paired()
        page = f"/pairs/meeting/{luis.group_id}/table/"
        client = Client()
        client.force_login(luis.user)
        assert client.get(page).status_code == 405  # a link opened by a scanner makes no room
        assert not Room.objects.filter(private=True).exists()

        first = client.post(page)
        assert first.status_code == 302
        room = CoffeeTable.objects.get(group=luis.group).room
        assert room is not None and room.private
        assert first["Location"] == f"/rooms/{room.slug}/"
        other = Client()
        other.force_login(ana.user)
        assert other.post(page)["Location"] == first["Location"]
        assert Room.objects.filter(private=True).count() == 1

        stranger = onboarded_member("Carla")
        assert room_can_enter(room=room, user=luis.user)
        assert room_can_enter(room=room, user=ana.user)
        assert not room_can_enter(room=room, user=stranger)
        outsider = Client()
        outsider.force_login(stranger)
        assert outsider.post(page).status_code == 404

        # Closed while idle: the next visit opens a new one.
        Room.objects.filter(pk=room.pk).update(closed_at=T)
        again = client.post(page)
        assert again["Location"] != first["Location"]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_ten_minutes_together_at_the_table_count_as_met_without_asking() -> None:
    with time_machine.travel(T, tick=False):
        luis, ana = await database_sync_to_async(paired)()
        await database_sync_to_async(coffee_tables.table_url)(luis)
        table = await database_sync_to_async(CoffeeTable.objects.select_related("room").get)()
        assert table.room is not None
        sessions = []
        for seat in (luis, ana):
            client = Client()
            await database_sync_to_async(client.force_login)(seat.user)
            sessions.append(client.cookies["sessionid"].value)

    with time_machine.travel(T + timedelta(minutes=1), tick=False):
        luis_socket, _ = await join(table.room, sessions[0])
        ana_socket, _ = await join(table.room, sessions[1])

    detect: Any = database_sync_to_async(coffee_tables.tables_met_detect)
    assert await detect(now=T + timedelta(minutes=9)) == 0
    assert await detect(now=T + timedelta(minutes=11, seconds=30)) == 1
    assert await detect(now=T + timedelta(minutes=12)) == 0  # found once

    answers = await database_sync_to_async(
        lambda: dict(GroupMember.objects.values_list("user__email", "answer"))
    )()
    assert answers == {"luis@example.com": Answer.MET, "ana@example.com": Answer.MET}
    await luis_socket.disconnect()
    await ana_socket.disconnect()


@pytest.mark.django_db
def test_a_short_visit_or_one_member_alone_is_not_a_meeting() -> None:
    luis, ana = paired()
    coffee_tables.table_url(luis)
    table = CoffeeTable.objects.select_related("room").get()
    assert table.room is not None
    # Recorded stays: Luis 20 minutes alone, then Ana for 5 minutes with him.
    table.room.visits.create(user=luis.user, started_at=T, ended_at=T + timedelta(minutes=25))
    table.room.visits.create(
        user=ana.user, started_at=T + timedelta(minutes=20), ended_at=T + timedelta(minutes=40)
    )
    assert coffee_tables.tables_met_detect(now=T + timedelta(hours=1)) == 0
    # A second stay of Ana's, together for 6 more minutes: 11 in all.
    table.room.visits.create(
        user=luis.user, started_at=T + timedelta(minutes=30), ended_at=T + timedelta(minutes=36)
    )
    assert coffee_tables.tables_met_detect(now=T + timedelta(hours=1)) == 1
    assert set(GroupMember.objects.values_list("answer", flat=True)) == {Answer.MET}


@pytest.mark.django_db
def test_a_pair_found_met_is_only_asked_how_it_was_privately(
    django_capture_on_commit_callbacks: Any,
) -> None:
    luis, ana = paired()
    coffee_tables.table_url(luis)
    room = CoffeeTable.objects.get().room
    assert room is not None
    for seat in (luis, ana):
        room.visits.create(user=seat.user, started_at=T, ended_at=T + timedelta(minutes=25))
    coffee_tables.tables_met_detect(now=T + timedelta(hours=1))
    GroupMember.objects.filter(pk__in=[luis.pk, ana.pk]).update(intro_sent_at=T)

    due = services.follow_ups_due(now=T + timedelta(days=4))
    assert sorted(due) == sorted([luis.pk, ana.pk])
    mail.outbox.clear()
    for seat_id in due + due:
        tasks.follow_up_send(seat_id)
    assert len(mail.outbox) == 2
    message = next(m for m in mail.outbox if m.to == [luis.user.email])
    text = str(message.body)
    assert "Did you meet" not in text and "¿Os visteis" not in text
    tokens = re.findall(r"/pairs/rating/([^/\s]+)/", text)
    assert [links.rating_from_token(token) for token in tokens] == [
        (luis.pk, n) for n in range(1, 6)
    ]

    client = Client()
    page = f"/pairs/rating/{tokens[3]}/"
    assert client.get(page).status_code == 200
    assert GroupMember.objects.get(pk=luis.pk).rating is None  # opening the link records nothing
    recorded = client.post(page, {"rating": "4"})
    assert (recorded.status_code, recorded["Location"]) == (302, f"{page}?saved=1")
    assert GroupMember.objects.get(pk=luis.pk).rating == 4
    assert "4 of 5" in client.get(recorded["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert client.post(page, {"rating": "9"}).status_code == 400
    assert GroupMember.objects.get(pk=luis.pk).rating == 4
    # Rated: not asked again; and staff do not see the mark.
    assert luis.pk not in services.follow_ups_due(now=T + timedelta(days=4))
    staff = Client()
    staff.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    change = staff.get(f"/admin/matching/groupmember/{luis.pk}/change/").content.decode()
    assert "rating" not in change


@pytest.mark.django_db
def test_the_pairs_conversation_leads_to_their_meeting_and_table() -> None:
    luis, ana = paired()
    with time_machine.travel(T, tick=False):
        client = Client()
        client.force_login(luis.user)
        conversation = direct_conversation_start(starter=luis.user, other=ana.user)
        page = client.get(f"/messages/{conversation.pk}/").content.decode()
        assert f'href="/pairs/meeting/{luis.group_id}/"' in page

        carla = onboarded_member("Carla")
        other = direct_conversation_start(starter=luis.user, other=carla)
        assert "/pairs/meeting/" not in client.get(f"/messages/{other.pk}/").content.decode()


@pytest.mark.django_db
def test_a_member_who_deletes_their_account_leaves_the_table_s_name() -> None:
    luis, ana = paired()
    User.objects.filter(pk=ana.user_id).update(display_name="Ana Vallquintana")
    luis.user.display_name = "Luis Luna"
    luis.user.save()
    coffee_tables.table_url(luis)
    room = CoffeeTable.objects.select_related("room").get().room
    assert room is not None and "Vallquintana" in room.name

    account_delete(user=ana.user)

    room.refresh_from_db()
    assert "Vallquintana" not in room.name and "Luis Luna" in room.name
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(luis.user)
    assert "Vallquintana" not in client.get("/rooms/").content.decode()


def trio_at_a_table_closed_and_opened_again(
    capture: Any, *, names: tuple[str, str, str], old_slug: str = ""
) -> tuple[list[User], Room, Room, Notification]:
    """Alba, Bruno and Zoë (named `names`, short enough for the table's name to hold them
    whole, reading English) in one group, their table opened, closed while idle (under
    `old_slug`, as before tables had addresses of their own, and Bruno's notices linking
    there) and opened again: the three, the earlier room, the later one, and Bruno's
    invitation to it, which quotes the table's name."""
    people = [participant(email=f"{name}@example.com") for name in ("alba", "bruno", "zoe")]
    for person, name in zip(people, names, strict=True):
        person.display_name, person.language = name, "en"
        person.save(update_fields=["display_name", "language"])
    round_create(programme=community(), scheduled_for=T - timedelta(days=2))
    alba, bruno = (GroupMember.objects.get(user=person) for person in people[:2])
    with capture(execute=True):
        coffee_tables.table_url(alba)
    earlier = CoffeeTable.objects.get().room
    assert earlier is not None and earlier.slug.startswith("cafe")
    Room.objects.filter(pk=earlier.pk).update(
        slug=old_slug or earlier.slug, closed_at=T - timedelta(days=1)
    )
    if old_slug:
        Notification.objects.filter(user=bruno.user).update(url=f"/rooms/{old_slug}/")
    with capture(execute=True):
        coffee_tables.table_url(alba)
    later = CoffeeTable.objects.get().room
    assert later is not None and later.pk != earlier.pk
    invitation = Notification.objects.filter(user=bruno.user).last()
    assert invitation is not None and names[2] in invitation.text
    return people, earlier, later, invitation


@pytest.mark.django_db
def test_a_member_who_deletes_their_account_leaves_every_table_room_and_its_notices(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The rename took the open room's name only: its address was made of the names, a
    room closed while idle kept all of them, and a tablemate's invitation quoted them."""
    # As a table opened before its address was its own: made of the names.
    (_alba, bruno, _zoe), earlier, later, _invitation = trio_at_a_table_closed_and_opened_again(
        django_capture_on_commit_callbacks,
        names=("Alba", "Bruno", "Zoë Vallquintana"),
        old_slug="alba-bruno-zoe-vallquintana",
    )

    account_delete(user=User.objects.get(email="zoe@example.com"))

    for room in Room.objects.filter(pk__in=[earlier.pk, later.pk]):
        assert "Vallquintana" not in room.name and "vallquintana" not in room.slug
        assert bruno.name in room.name
    for notice in Notification.objects.filter(user=bruno):
        assert "Vallquintana" not in notice.text and "vallquintana" not in notice.url
    earlier.refresh_from_db()
    assert Notification.objects.filter(user=bruno, url=f"/rooms/{earlier.slug}/").exists()


@pytest.mark.django_db
def test_a_table_opened_by_a_spanish_speaker_reads_the_same_to_an_english_speaker() -> None:
    luis, ana = paired()
    User.objects.filter(pk=luis.user_id).update(display_name="Luis Luna", language="es")
    User.objects.filter(pk=ana.user_id).update(display_name="Ana Arias", language="en")
    spanish = Client(HTTP_ACCEPT_LANGUAGE="es")
    spanish.force_login(luis.user)
    table = spanish.post(f"/pairs/meeting/{luis.group_id}/table/")["Location"]

    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    english.force_login(ana.user)
    page = english.get(table).content.decode()

    assert "<h1>☕ Luis Luna · Ana Arias</h1>" in page
    assert "Café" not in page and "nadie más" not in page


@pytest.mark.django_db
def test_a_partner_s_deletion_leaves_rooms_that_are_not_their_table_alone() -> None:
    """Any room a member of the group had opened with a cup in its name was taken for a
    table: renamed after the group and given another address."""
    with time_machine.travel(T, tick=False):
        luis, ana = paired()
        own = room_create(creator=luis.user, name="☕ Club del café de la mañana")
        slug = own.slug
        account_delete(user=ana.user)
        own.refresh_from_db()
        assert (own.name, own.slug) == ("☕ Club del café de la mañana", slug)


@pytest.mark.django_db
def test_a_renamed_member_s_tables_and_notices_take_the_new_name_and_lose_it_on_deletion(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """What was written with the old name (the table's rooms, open and closed, and a
    tablemate's invitation) says the new one: a deletion after the rename, which looks for
    the name the member has then, used to leave the old one behind."""
    people, earlier, later, invitation = trio_at_a_table_closed_and_opened_again(
        django_capture_on_commit_callbacks, names=("Alba", "Bruno", "Zoë Vallquintana")
    )
    zoe = Client(HTTP_ACCEPT_LANGUAGE="en")
    zoe.force_login(people[2])

    with django_capture_on_commit_callbacks(execute=True):
        saved = zoe.post("/members/me/edit/", {**VALID, "display_name": "Zoë Vidal"})
    assert saved.status_code == 302

    rooms = Room.objects.filter(pk__in=[earlier.pk, later.pk])
    assert sorted(room.name for room in rooms) == ["☕ Alba · Bruno · Zoë Vidal"] * 2
    invitation.refresh_from_db()
    assert "Vallquintana" not in invitation.text and "Zoë Vidal" in invitation.text

    assert zoe.post("/members/me/delete/", {"password": PASSWORD}).status_code == 302

    assert sorted(room.name for room in rooms.all()) == ["☕ Alba · Bruno"] * 2
    invitation.refresh_from_db()
    assert "Zoë" not in invitation.text and "Former member" in invitation.text


@pytest.mark.django_db
def test_detection_reads_only_tables_sat_at_lately_in_queries_that_do_not_grow() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for name in ("ana", "ben", "carla", "dan", "eva", "fede"):
        participant(email=f"{name}@example.com")
    round_create(programme=community(), scheduled_for=T - timedelta(days=2))
    # Three tables, each pair at theirs together for 15 minutes, two days before the tick.
    for group_id in GroupMember.objects.values_list("group_id", flat=True).distinct():
        seats = list(GroupMember.objects.filter(group_id=group_id).select_related("user"))
        coffee_tables.table_url(seats[0])
        table = CoffeeTable.objects.select_related("room").get(group_id=group_id)
        assert table.room is not None
        for seat in seats:
            table.room.visits.create(
                user=seat.user, started_at=T, ended_at=T + timedelta(minutes=15)
            )
    assert CoffeeTable.objects.count() == 3
    with CaptureQueriesContext(connection) as old:
        assert coffee_tables.tables_met_detect(now=T + timedelta(days=2)) == 0  # found then
    assert len(old.captured_queries) == 1  # the candidates: none

    with CaptureQueriesContext(connection) as recent:
        assert coffee_tables.tables_met_detect(now=T + timedelta(hours=1)) == 3
    # The candidates' stays and who is there now: once for all tables, not once a table.
    for table_name in ("rooms_visit", "rooms_presence"):
        reads = [
            q for q in recent.captured_queries if q["sql"].startswith(f'SELECT "{table_name}"')
        ]
        assert len(reads) == 1, table_name

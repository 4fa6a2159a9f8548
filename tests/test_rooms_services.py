import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from members.models import User
from rooms import selectors, services
from rooms.models import CafeteriaProtected, Message, Room, RoomParticipation
from tests.factories import BlockFactory, MessageFactory, ProfileFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db


def post(room: Room, author: User, text: str = "hola") -> Message:
    message, _ = services.message_post(room=room, author=author, text=text, client_id=uuid.uuid4())
    return message


# the cafeteria ----------------------------------------------------------------------------


def test_the_cafeteria_exists_from_migrate_and_is_open_to_every_member(outsider: User) -> None:
    cafeteria = services.cafeteria_get()
    assert cafeteria.slug == "cafeteria"
    assert cafeteria.is_open and not cafeteria.private
    assert services.room_can_enter(room=cafeteria, user=outsider)


def test_the_cafeteria_cannot_be_deleted_or_closed(staff: User) -> None:
    cafeteria = services.cafeteria_get()
    with pytest.raises(CafeteriaProtected) as refused:
        cafeteria.delete()
    assert refused.value.code == "cafeteria_protected"
    with pytest.raises(CafeteriaProtected):
        services.room_close(room=cafeteria, by=staff)
    with pytest.raises(CafeteriaProtected):
        cafeteria.close()
    # Not even behind the model's back.
    with pytest.raises(IntegrityError), transaction.atomic():
        Room.objects.filter(pk=cafeteria.pk).update(closed_at=timezone.now())
    assert Room.objects.get(pk=cafeteria.pk).is_open


def test_there_is_only_one_cafeteria() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Room.objects.create(kind=Room.Kind.CAFETERIA, name="Another", slug="another")


def test_idle_closing_never_closes_the_cafeteria() -> None:
    Room.objects.filter(kind=Room.Kind.CAFETERIA).update(
        last_activity_at=timezone.now() - timedelta(days=30)
    )
    services.rooms_close_idle(now=timezone.now(), idle_for=timedelta(minutes=1))
    assert services.cafeteria_get().is_open


# creating rooms and entering --------------------------------------------------------------


def test_room_create_makes_a_unique_slug(alice: User) -> None:
    first = services.room_create(creator=alice, name="Daily stand-up")
    second = services.room_create(creator=alice, name="Daily stand-up")
    assert first.slug == "daily-stand-up"
    assert second.slug != first.slug and second.slug.startswith("daily-stand-up-")
    assert first.kind == Room.Kind.MEMBER and first.created_by == alice


def test_only_staff_make_permanent_rooms(alice: User, staff: User) -> None:
    with pytest.raises(services.NotAllowed):
        services.room_create(creator=alice, name="Library", permanent=True)
    room = services.room_create(creator=staff, name="Library", permanent=True)
    assert room.kind == Room.Kind.PERMANENT


def test_a_room_needs_a_name(alice: User) -> None:
    with pytest.raises(services.RoomError):
        services.room_create(creator=alice, name="   ")


def test_private_room_refuses_the_outsider_and_admits_creator_invitee_and_staff(
    alice: User, bob: User, outsider: User, staff: User
) -> None:
    room = services.room_create(creator=alice, name="Secret", private=True, invitees=[bob])
    assert services.room_can_enter(room=room, user=alice)
    assert services.room_can_enter(room=room, user=bob)
    assert services.room_can_enter(room=room, user=staff)
    assert not services.room_can_enter(room=room, user=outsider)
    with pytest.raises(services.RoomAccessDenied):
        services.room_enter(room=room, user=outsider)
    with pytest.raises(services.RoomAccessDenied):
        post(room, outsider)
    with pytest.raises(services.RoomAccessDenied):
        selectors.history(room=room, viewer=outsider)


def test_invitations_skip_blocked_members_and_only_the_creator_or_staff_invite(
    alice: User, bob: User, outsider: User
) -> None:
    BlockFactory.create(blocker=outsider, blocked=alice)
    room = services.room_create(creator=alice, name="Secret", private=True, invitees=[outsider])
    assert not services.room_can_enter(room=room, user=outsider)
    with pytest.raises(services.NotAllowed):
        services.room_invite(room=room, by=bob, invitees=[bob])
    assert services.room_invite(room=room, by=alice, invitees=[bob]) == [bob]
    assert services.room_can_enter(room=room, user=bob)


def test_public_room_admits_any_member_but_not_inactive_or_deleted_ones(alice: User) -> None:
    room = RoomFactory.create()
    assert services.room_can_enter(room=room, user=alice)
    inactive = UserFactory.create(is_active=False)
    deleted = UserFactory.create(deleted_at=timezone.now())
    assert not services.room_can_enter(room=room, user=inactive)
    assert not services.room_can_enter(room=room, user=deleted)


def test_closed_room_refuses_entry_but_keeps_history_for_those_who_were_in(
    alice: User, bob: User, outsider: User
) -> None:
    room = services.room_create(creator=alice, name="Retro")
    services.room_enter(room=room, user=bob)
    message = post(room, bob)
    assert services.room_close(room=room, by=alice)
    room.refresh_from_db()
    assert not services.room_can_enter(room=room, user=bob)
    with pytest.raises(services.RoomClosed):
        services.room_enter(room=room, user=bob)
    with pytest.raises(services.RoomClosed):
        post(room, bob)
    assert selectors.history(room=room, viewer=bob) == [message]
    with pytest.raises(services.RoomAccessDenied):
        selectors.history(room=room, viewer=outsider)


def test_room_enter_records_first_and_last_seen(alice: User) -> None:
    room = RoomFactory.create()
    start = timezone.now()
    services.room_enter(room=room, user=alice, now=start)
    participation = services.room_enter(room=room, user=alice, now=start + timedelta(minutes=5))
    assert participation.first_seen_at == start
    assert participation.last_seen_at == start + timedelta(minutes=5)
    assert RoomParticipation.objects.filter(room=room).count() == 1


# messages ---------------------------------------------------------------------------------


def test_message_post_strips_and_refuses_empty_or_too_long_text(alice: User) -> None:
    room = RoomFactory.create()
    assert post(room, alice, "  hola  ").text == "hola"
    with pytest.raises(services.MessageEmpty) as empty:
        post(room, alice, " \n ")
    assert empty.value.code == "empty"
    with pytest.raises(services.MessageTooLong) as long:
        post(room, alice, "x" * 2001)
    assert long.value.code == "too_long"
    assert post(room, alice, "x" * 2000)


def test_a_resent_message_is_stored_once(alice: User) -> None:
    room = RoomFactory.create()
    client_id = uuid.uuid4()
    first, created = services.message_post(
        room=room, author=alice, text="hola", client_id=client_id
    )
    again, created_again = services.message_post(
        room=room, author=alice, text="hola", client_id=client_id
    )
    assert created and not created_again
    assert again.pk == first.pk
    assert Message.objects.filter(room=room).count() == 1


def test_posting_moves_the_room_activity_forward(alice: User) -> None:
    room = RoomFactory.create(last_activity_at=timezone.now() - timedelta(hours=2))
    post(room, alice)
    room.refresh_from_db()
    assert room.last_activity_at > timezone.now() - timedelta(minutes=1)


def test_only_the_author_edits_and_not_after_deletion(alice: User, bob: User, staff: User) -> None:
    message = post(RoomFactory.create(), alice)
    with pytest.raises(services.NotAllowed):
        services.message_edit(message=message, editor=bob, text="mine now")
    with pytest.raises(services.NotAllowed):
        services.message_edit(message=message, editor=staff, text="moderated")
    edited = services.message_edit(message=message, editor=alice, text=" adiós ")
    assert edited.text == "adiós" and edited.edited_at is not None
    services.message_delete(message=message, by=alice)
    with pytest.raises(services.MessageDeleted):
        services.message_edit(message=message, editor=alice, text="back")


def test_author_or_staff_delete_softly_and_others_cannot(
    alice: User, bob: User, staff: User
) -> None:
    room = RoomFactory.create()
    mine, theirs = post(room, alice), post(room, bob)
    with pytest.raises(services.NotAllowed):
        services.message_delete(message=mine, by=bob)
    assert services.message_delete(message=mine, by=alice)
    assert services.message_delete(message=theirs, by=staff)
    assert not services.message_delete(message=theirs, by=staff)  # already gone
    for message in (mine, theirs):
        message.refresh_from_db()
        assert message.text == "" and message.deleted_at is not None
    assert mine.deleted_by == alice and theirs.deleted_by == staff
    assert Message.objects.filter(room=room).count() == 2


# moderation -------------------------------------------------------------------------------


def test_staff_mute_stops_writing_until_the_mute_ends(alice: User, staff: User) -> None:
    room = RoomFactory.create()
    earlier = post(room, alice)
    with pytest.raises(services.NotAllowed):
        services.room_member_mute(room=room, member=staff, by=alice, until=None)
    services.room_member_mute(
        room=room, member=alice, by=staff, until=timezone.now() + timedelta(minutes=10)
    )
    with pytest.raises(services.MemberMuted):
        post(room, alice)
    with pytest.raises(services.MemberMuted):  # nor rewrite what was there
        services.message_edit(message=earlier, editor=alice, text="Rewritten")
    assert services.room_can_enter(room=room, user=alice)  # muted, not sent away
    services.room_member_mute(room=room, member=alice, by=staff, until=None)
    assert post(room, alice)


def test_staff_removal_keeps_the_member_out(alice: User, staff: User) -> None:
    room = RoomFactory.create()
    services.room_enter(room=room, user=alice)
    with pytest.raises(services.NotAllowed):
        services.room_member_remove(room=room, member=staff, by=alice)
    services.room_member_remove(room=room, member=alice, by=staff)
    assert not services.room_can_enter(room=room, user=alice)
    with pytest.raises(services.RoomAccessDenied):
        selectors.history(room=room, viewer=alice)
    services.room_member_readmit(room=room, member=alice, by=staff)
    assert services.room_can_enter(room=room, user=alice)


# history ----------------------------------------------------------------------------------


def test_history_pages_back_and_catches_up_without_duplicates(alice: User, bob: User) -> None:
    room = RoomFactory.create()
    ids = [post(room, alice, f"m{n}").pk for n in range(7)]

    latest = selectors.history(room=room, viewer=bob, limit=3)
    assert [m.pk for m in latest] == ids[:-4:-1]
    older = selectors.history(room=room, viewer=bob, before_id=latest[-1].pk, limit=3)
    oldest = selectors.history(room=room, viewer=bob, before_id=older[-1].pk, limit=3)
    paged_back = [m.pk for m in latest + older + oldest]
    assert paged_back == ids[::-1]

    caught_up = selectors.history(room=room, viewer=bob, after_id=ids[2], limit=3)
    assert [m.pk for m in caught_up] == ids[3:6]
    rest = selectors.history(room=room, viewer=bob, after_id=caught_up[-1].pk, limit=3)
    assert [m.pk for m in rest] == ids[6:]
    assert selectors.history(room=room, viewer=bob, after_id=ids[-1]) == []


def test_history_hides_authors_on_either_side_of_a_block(
    alice: User, bob: User, outsider: User
) -> None:
    room = RoomFactory.create()
    visible = post(room, alice)
    post(room, bob)
    post(room, outsider)
    former = MessageFactory.create(room=room, author=None, text="from a former member")
    BlockFactory.create(blocker=alice, blocked=bob)
    BlockFactory.create(blocker=outsider, blocked=alice)
    seen = selectors.history(room=room, viewer=alice)
    assert {m.pk for m in seen} == {visible.pk, former.pk}
    assert len(selectors.history(room=room, viewer=UserFactory.create())) == 4


def test_history_keeps_deleted_messages_as_tombstones(alice: User, bob: User) -> None:
    room = RoomFactory.create()
    message = post(room, alice)
    services.message_delete(message=message, by=alice)
    (seen,) = selectors.history(room=room, viewer=bob)
    assert seen.pk == message.pk and seen.is_deleted and seen.text == ""


def test_history_takes_a_fixed_number_of_queries(
    alice: User, django_assert_max_num_queries: object
) -> None:
    room = RoomFactory.create()
    for _ in range(30):
        author = ProfileFactory.create().user
        post(room, author)
    BlockFactory.create(blocker=alice, blocked=UserFactory.create())
    # The access checks and the page with its mentions and reactions: a handful, however long.
    with django_assert_max_num_queries(5):  # type: ignore[operator]
        messages = selectors.history(room=room, viewer=alice, limit=50)
        names = [m.author.profile.headline for m in messages if m.author]
    assert len(names) == 30


# closing idle rooms -----------------------------------------------------------------------


def test_idle_member_rooms_close_once_and_keep_their_history(alice: User, staff: User) -> None:
    now = timezone.now()
    idle = RoomFactory.create(last_activity_at=now - timedelta(hours=2))
    busy = RoomFactory.create(last_activity_at=now - timedelta(minutes=5))
    permanent = services.room_create(creator=staff, name="Library", permanent=True)
    Room.objects.filter(pk=permanent.pk).update(last_activity_at=now - timedelta(days=9))
    message = MessageFactory.create(room=idle, author=alice)

    assert services.rooms_close_idle(now=now, idle_for=timedelta(hours=1)) == [idle.pk]
    later = now + timedelta(minutes=1)
    assert services.rooms_close_idle(now=later, idle_for=timedelta(hours=1)) == []

    idle.refresh_from_db()
    assert idle.closed_at == now
    assert Room.objects.get(pk=busy.pk).is_open
    assert Room.objects.get(pk=permanent.pk).is_open
    assert Message.objects.get(pk=message.pk).text == message.text

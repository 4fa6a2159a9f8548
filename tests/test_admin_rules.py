"""The admin keeps the product's rules and stays light at scale: what the site changes only
through its services (answers, taking part, closing a room, deleting an account) staff
change through actions that call them, never through a form that writes the row; and no
page renders a whole big table (a member picker, a round's every group, an event's every
answer)."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core import mail
from django.utils import timezone

from events.models import Event, Rsvp
from events.services import event_cancel
from focus.models import FocusBlock, FocusMember, Seat
from focus.services import block_cancel
from matching import admin as matching_admin
from matching.models import GroupMember, Participation
from members.models import Acquaintance, Language, User
from newsletter.models import Subscriber
from notifications.models import Kind
from notifications.services import notify
from rooms.models import Room
from rooms.rights import READ as READ_ROOMS
from stage.models import Stage
from tests.factories import (
    EventFactory,
    GroupMemberFactory,
    ProfileFactory,
    RoomFactory,
    RsvpFactory,
    SubscriberFactory,
    UserFactory,
    client_for,
    granted,
)

pytestmark = pytest.mark.django_db


def test_a_notice_shows_whom_it_is_about_as_text_not_as_a_picker_of_every_member(
    staff: User,
) -> None:
    ana, ben = UserFactory.create(display_name="Ana"), UserFactory.create(display_name="Ben")
    notice = notify(
        user=ana, kind=Kind.MESSAGE, key="conversation:1:1", text="Ben wrote", about=[ben]
    ).notification
    assert notice is not None

    page = client_for(staff).get(f"/admin/notifications/notification/{notice.pk}/change/")

    assert page.status_code == 200
    assert 'name="about"' not in page.content.decode()


def test_an_event_links_to_its_answers_which_staff_only_read(staff: User) -> None:
    event = EventFactory.create(capacity=1)
    going = RsvpFactory.create(event=event)
    waiting = RsvpFactory.create(event=event, status=Rsvp.Status.WAITLISTED, position=1)
    client = client_for(staff)

    page = client.get(f"/admin/events/event/{event.pk}/change/").content.decode()
    answers = client.get(f"/admin/events/rsvp/?event__id__exact={event.pk}")
    # A change that skipped events.rsvps (the waiting list, the capacity) is refused.
    refused = client.post(f"/admin/events/rsvp/{waiting.pk}/change/", {"status": Rsvp.Status.GOING})

    assert f'href="/admin/events/rsvp/?event__id__exact={event.pk}"' in page
    assert 'name="rsvps-TOTAL_FORMS"' not in page
    assert answers.status_code == 200 and str(going.user) in answers.content.decode()
    assert refused.status_code == 403
    waiting.refresh_from_db()
    assert waiting.status == Rsvp.Status.WAITLISTED


def test_intros_are_sent_again_after_a_yes_and_a_few_at_a_time(
    staff: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    seats = [
        GroupMemberFactory.create(intro_sent_at=timezone.now(), user=ProfileFactory.create().user)
        for _ in range(2)
    ]
    chosen = {"action": "resend_intro", "_selected_action": [seat.pk for seat in seats]}
    client = client_for(staff)

    asked = client.post("/admin/matching/groupmember/", chosen)
    monkeypatch.setattr(matching_admin, "RESEND_MAX", 1)
    too_many = client.post(
        "/admin/matching/groupmember/", {**chosen, "confirm": "yes"}, follow=True
    )

    assert "as if the round had just paired them" in asked.content.decode()
    assert "Choose at most 1 seats at a time: nothing was sent." in too_many.content.decode()
    assert not GroupMember.objects.filter(intro_sent_at__isnull=True).exists()


def test_taking_part_is_the_member_s_to_say_staff_pause_and_resume(staff: User) -> None:
    participation = GroupMemberFactory.create().round.programme.participations.create(
        user=UserFactory.create(), opted_in=False
    )
    client = client_for(staff)

    added = client.get("/admin/matching/participation/add/")
    page = client.get(f"/admin/matching/participation/{participation.pk}/change/")

    assert added.status_code == 403
    assert 'name="opted_in"' not in page.content.decode()
    participation.refresh_from_db()
    assert not participation.opted_in


def test_a_room_is_closed_by_the_action_not_by_a_date_in_its_form(staff: User) -> None:
    room = RoomFactory.create(kind=Room.Kind.PERMANENT)

    page = client_for(staff).get(f"/admin/rooms/room/{room.pk}/change/")

    assert page.status_code == 200 and 'name="closed_at_0"' not in page.content.decode()


def test_an_event_s_host_is_changed_before_its_room_opens_not_once_its_stage_may_be_live(
    staff: User,
) -> None:
    now = timezone.now()
    # Its room opened 5 minutes ago (10 before the start): its host may be on stage already.
    soon = EventFactory.create(
        kind="talk", starts_at=now + timedelta(minutes=5), ends_at=now + timedelta(minutes=65)
    )
    tomorrow = EventFactory.create(kind="talk")
    client = client_for(staff)

    opened = client.get(f"/admin/events/event/{soon.pk}/change/").content.decode()
    before = client.get(f"/admin/events/event/{tomorrow.pk}/change/").content.decode()

    assert 'name="host"' not in opened and 'name="kind"' not in opened
    assert 'name="host"' in before and 'name="kind"' in before


def test_a_stage_is_run_from_its_page_not_deleted_or_moved_in_the_admin(staff: User) -> None:
    """Deleted here, a live stage's media room stayed open and its audience untold; moved,
    a stage could land in the cafeteria."""
    stage = Stage.objects.create(
        room=RoomFactory.create(), host=staff, state=Stage.State.LIVE, started_at=timezone.now()
    )
    client = client_for(staff)

    page = client.get(f"/admin/stage/stage/{stage.pk}/change/").content.decode()
    deleted = client.post(f"/admin/stage/stage/{stage.pk}/delete/", {"post": "yes"})

    assert 'name="room"' not in page and 'name="host"' not in page
    assert deleted.status_code == 403
    assert Stage.objects.filter(pk=stage.pk, state=Stage.State.LIVE).exists()


def test_what_is_the_member_s_own_or_the_code_s_is_not_changed_in_the_admin(
    staff: User, alice: User, bob: User
) -> None:
    """A language deleted went from every profile; an acquaintance is the member's own
    record, with their private note; sharing focus figures is the member's choice."""
    met = Acquaintance.objects.create(
        owner=alice, other=bob, how="pair", first_met_at=timezone.now(), last_met_at=timezone.now()
    )
    focus = FocusMember.objects.create(user=alice)
    spanish = Language.objects.get(code="es")
    client = client_for(staff)

    refused = [
        client.post(f"/admin/members/language/{spanish.pk}/delete/", {"post": "yes"}),
        client.post(f"/admin/members/acquaintance/{met.pk}/delete/", {"post": "yes"}),
    ]
    page = client.get(f"/admin/focus/focusmember/{focus.pk}/change/").content.decode()

    participation = GroupMemberFactory.create().round.programme.participations.create(
        user=bob, skip_next_round=True
    )
    refused += [
        client.post(f"/admin/focus/focusmember/{focus.pk}/delete/", {"post": "yes"}),
        client.post(f"/admin/matching/participation/{participation.pk}/delete/", {"post": "yes"}),
    ]

    assert [response.status_code for response in refused] == [403] * 4
    assert FocusMember.objects.filter(pk=focus.pk).exists()
    assert Participation.objects.filter(pk=participation.pk).exists()
    assert alice.profile.languages.filter(code="es").exists()
    assert Acquaintance.objects.filter(pk=met.pk).exists()
    assert 'name="share_stats"' not in page


def test_a_private_room_stays_private_and_a_room_keeps_its_address(staff: User) -> None:
    """Unticked here, a coffee table's whole chat was everyone's to read; a new slug broke
    the links in notices, events and calendars."""
    table = RoomFactory.create(kind=Room.Kind.MEMBER, private=True, slug="table-ana-bob")
    client = client_for(staff)

    page = client.get(f"/admin/rooms/room/{table.pk}/change/").content.decode()
    client.post(
        f"/admin/rooms/room/{table.pk}/change/",
        {
            "kind": table.kind,
            "name": table.name,
            "slug": "for-everyone",
            "description": "",
            "private": "",
            "capacity": "",
            "created_by": "",
            "invitees": [],
        },
    )

    assert 'name="private"' not in page and 'name="slug"' not in page
    table.refresh_from_db()
    assert table.private and table.slug == "table-ana-bob"


def test_staff_who_may_not_read_a_private_room_cannot_invite_themselves_into_it(
    alice: User, bob: User
) -> None:
    manager = granted(UserFactory.create(), "rooms.view_room", "rooms.change_room")
    reader = granted(UserFactory.create(), "rooms.view_room", "rooms.change_room", READ_ROOMS)
    table = RoomFactory.create(private=True, created_by=alice)
    table.invitees.add(alice, bob)
    url = f"/admin/rooms/room/{table.pk}/change/"

    managed = client_for(manager).get(url).content.decode()
    read = client_for(reader).get(url).content.decode()

    assert 'name="invitees"' not in managed and 'name="created_by"' not in managed
    assert 'name="invitees"' in read


def test_staff_delete_an_account_as_its_member_would_never_dropping_the_row(
    staff: User,
) -> None:
    member = ProfileFactory.create().user
    SubscriberFactory.create(email=member.email, user=member)
    client = client_for(staff)

    dropped = client.get(f"/admin/members/user/{member.pk}/delete/")
    asked = client.post(
        "/admin/members/user/", {"action": "erase", "_selected_action": [member.pk]}
    )
    erased = client.post(
        "/admin/members/user/",
        {"action": "erase", "_selected_action": [member.pk], "confirm": "yes"},
        follow=True,
    )

    assert dropped.status_code == 403
    assert "This cannot be undone." in asked.content.decode()
    assert "1 account deleted." in erased.content.decode()
    member.refresh_from_db()
    assert member.deleted_at is not None and member.email.endswith("@deleted.invalid")
    assert not Subscriber.objects.filter(user=member).exists()


def test_who_may_only_look_at_subscribers_cannot_stop_their_issues() -> None:
    looker = UserFactory.create(is_staff=True)
    looker.user_permissions.add(Permission.objects.get(codename="view_subscriber"))
    subscriber = SubscriberFactory.create()

    client_for(looker).post(
        "/admin/newsletter/subscriber/",
        {"action": "mark_undeliverable", "_selected_action": [subscriber.pk], "confirm": "yes"},
    )

    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED


def test_staff_delete_an_event_with_its_answers_once_those_who_answered_were_told(
    staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    """Deleted with its answers, an event left nobody to tell: its cancellation reads them.
    So it goes once it has ended, or once its cancellation has reached everyone."""
    event = EventFactory.create(title="Noche de Python")
    going = RsvpFactory.create(event=event, status=Rsvp.Status.GOING)
    # Staff who answered themselves, then cancelled it: they know.
    RsvpFactory.create(event=event, user=staff, status=Rsvp.Status.GOING)
    admin = client_for(staff)
    asked = admin.get(f"/admin/events/event/{event.pk}/delete/").content.decode()
    assert "Noche de Python: those who answered have not heard it is off." in asked
    admin.post(f"/admin/events/event/{event.pk}/delete/", {"post": "yes"})
    admin.post(
        "/admin/events/event/",
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert Event.objects.filter(pk=event.pk).exists()

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        event_cancel(event=event, by=staff)
    assert [message.to for message in mail.outbox] == [[going.user.email]]
    page = admin.post(f"/admin/events/event/{event.pk}/delete/", {"post": "yes"})

    assert page.status_code == 302
    assert not Rsvp.objects.filter(event_id=event.pk).exists()
    # One that has ended goes whoever answered it.
    past = EventFactory.create(
        starts_at=timezone.now() - timedelta(hours=3), ends_at=timezone.now() - timedelta(hours=2)
    )
    RsvpFactory.create(event=past, status=Rsvp.Status.GOING)
    admin.post(f"/admin/events/event/{past.pk}/delete/", {"post": "yes"})
    assert not Event.objects.filter(pk=past.pk).exists()
    # Unless members came: they are the community's history.
    held = EventFactory.create(
        title="Charla de marzo",
        starts_at=timezone.now() - timedelta(hours=3),
        ends_at=timezone.now() - timedelta(hours=2),
        attendance_count=12,
    )
    kept = admin.post(f"/admin/events/event/{held.pk}/delete/", {"post": "yes"})
    assert "Charla de marzo: members came to it" in kept.content.decode()
    assert Event.objects.filter(pk=held.pk).exists()
    # Nor before its wrap-up has counted who came, in the minute after its end.
    just_ended = EventFactory.create(
        title="Taller de precios",
        room=RoomFactory.create(),
        starts_at=timezone.now() - timedelta(minutes=61),
        ends_at=timezone.now() - timedelta(seconds=30),
    )
    waiting = admin.post(f"/admin/events/event/{just_ended.pk}/delete/", {"post": "yes"})
    assert "Taller de precios: who came to it is counted" in waiting.content.decode()
    assert Event.objects.filter(pk=just_ended.pk).exists()


def test_a_focus_block_with_seats_held_is_cancelled_before_it_is_deleted(staff: User) -> None:
    starts = timezone.now() + timedelta(days=1)
    power_hour = FocusBlock.objects.create(starts_at=starts, title="Hora de foco")
    Seat.objects.create(block=power_hour, user=UserFactory.create())
    admin = client_for(staff)
    asked = admin.get(f"/admin/focus/focusblock/{power_hour.pk}/delete/").content.decode()
    assert "Hora de foco" in asked and "members hold seats in it." in asked
    admin.post(f"/admin/focus/focusblock/{power_hour.pk}/delete/", {"post": "yes"})
    assert FocusBlock.objects.filter(pk=power_hour.pk).exists()

    # Cancelled, its withdrawals go out, tried again for up to a day, reading the seats.
    block_cancel(block=power_hour)
    admin.post(f"/admin/focus/focusblock/{power_hour.pk}/delete/", {"post": "yes"})
    assert FocusBlock.objects.filter(pk=power_hour.pk).exists()
    with time_machine.travel(timezone.now() + timedelta(days=2, minutes=1)):
        admin.post(f"/admin/focus/focusblock/{power_hour.pk}/delete/", {"post": "yes"})
    assert not FocusBlock.objects.filter(pk=power_hour.pk).exists()

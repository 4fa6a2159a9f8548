"""Who holds which rights (docs/security.md, "Rights"): a coffee table is nobody's to run,
staff act with the admin's permissions wherever they act, nobody grants themselves more, and
a talk's host cannot stretch their time on its stage."""

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.forms import MultiWidget
from django.test import Client
from django.utils import timezone

from conversations.models import CoffeeTable
from core.access import staff_holding, staff_may
from events.models import Event, EventKind
from focus.models import FocusBlock
from focus.sessions import NoSeat, session_enter
from members.models import Profile, User
from members.privacy import account_delete
from members.services import member_suspend
from rooms.models import Room, RoomParticipation
from rooms.selectors import rooms_open_to
from rooms.services import (
    NotAllowed,
    message_delete,
    room_can_enter,
    room_close,
    room_create,
    room_member_mute,
    room_member_remove,
)
from stage.models import Stage
from stage.services import stage_may_host
from tests.factories import (
    EventFactory,
    MessageFactory,
    ProfileFactory,
    ReportFactory,
    RoomFactory,
    UserFactory,
    client_for,
    granted,
    onboarded_member,
)
from tests.test_coffee_tables import T, paired

pytestmark = pytest.mark.django_db


def staff_with(*rights: str) -> User:
    """A staff account holding only these of the admin's permissions."""
    return granted(UserFactory.create(), *rights)


def test_whoever_opens_a_coffee_table_cannot_invite_anyone_else_to_it() -> None:
    with time_machine.travel(T, tick=False):
        luis, ana = paired()
        opener = client_for(luis.user)
        opener.post(f"/pairs/meeting/{luis.group_id}/table/")
        room = CoffeeTable.objects.get(group=luis.group).room
        assert room is not None and room.created_by == luis.user
        eve = onboarded_member("Eve Extraña", email="eve@example.com")

        invited = opener.post(f"/rooms/{room.slug}/invite/", {"emails": eve.email})

        assert invited.status_code in (302, 403, 404)
        assert not room_can_enter(room=room, user=eve)
        assert room_can_enter(room=room, user=luis.user)
        assert room_can_enter(room=room, user=ana.user)
        # Nor close it: it closes when idle, or by staff.
        opener.post(f"/rooms/{room.slug}/close/")
        room.refresh_from_db()
        assert room.is_open


def test_the_moderation_queue_asks_the_admin_s_permissions_for_reports() -> None:
    report = ReportFactory.create()
    queue, act = "/staff/moderation/", f"/staff/moderation/{report.pk}/"

    events_only = client_for(staff_with("events.change_event"))
    assert events_only.get(queue).status_code == 403
    assert events_only.post(act, {"action": "dismiss"}).status_code == 403

    reader = client_for(staff_with("moderation.view_report"))
    assert reader.get(queue).status_code == 200
    assert reader.post(act, {"action": "dismiss"}).status_code == 403

    # Nor is the count of open reports theirs: the header says nothing of them.
    staff_page = events_only.get("/staff/").content.decode()
    assert "open report" not in staff_page
    assert "Organise an event" not in events_only.get("/events/").content.decode()

    handler = client_for(staff_with("moderation.view_report", "moderation.change_report"))
    refused = handler.post(act, {"action": "suspend"}, follow=True)
    assert "Suspending a member takes the right to change accounts." in refused.content.decode()
    # Nor does the admin's action.
    handler.post(
        "/admin/moderation/report/",
        {"action": "suspend", "_selected_action": [report.pk], "confirm": "yes"},
    )
    report.reported.refresh_from_db()
    assert report.reported.is_active


def _change_form(client: Client, user: User) -> dict[str, object]:
    """The admin's change form of `user` as it stands, its profile's inline included, ready
    to post back."""
    page = client.get(f"/admin/members/user/{user.pk}/change/").context
    forms = [page["adminform"].form]
    data: dict[str, object] = {}
    for inline in page["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update(
            {management[name].html_name: management[name].value() for name in management.fields}
        )
        forms += inline.formset.forms
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if value is None or value is False:
                continue
            key = form[name].html_name
            if isinstance(field.widget, MultiWidget):  # the date and the time of a moment
                for part, piece in enumerate(field.widget.decompress(value) or ()):
                    data[f"{key}_{part}"] = piece
            else:
                data[key] = value
    return data


def test_the_right_to_change_accounts_is_not_the_right_to_grant_rights(
    staff: User, alice: User
) -> None:
    clerk = staff_with("members.change_user", "members.view_user")
    page = client_for(clerk)
    form = page.get(f"/admin/members/user/{clerk.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in form and 'name="user_permissions"' not in form

    own = _change_form(page, clerk)
    saved = page.post(f"/admin/members/user/{clerk.pk}/change/", {**own, "is_superuser": "on"})
    assert saved.status_code == 302  # the form was whole and saved: the grant was ignored
    clerk.refresh_from_db()
    assert not clerk.is_superuser

    # A member's account they change; another staff account's address or password (a way
    # into its rights) they do not.
    member = _change_form(page, alice)
    changed = page.post(
        f"/admin/members/user/{alice.pk}/change/", {**member, "display_name": "Alicia"}
    )
    assert changed.status_code == 302
    boss = staff_with("events.change_event")
    taken = page.post(
        f"/admin/members/user/{boss.pk}/change/",
        {**_change_form(client_for(staff), boss), "email": "mallory@example.com"},
    )
    assert taken.status_code == 403
    boss.refresh_from_db()
    assert boss.email != "mallory@example.com"
    for account in (staff, boss):
        assert page.get(f"/admin/members/user/{account.pk}/password/").status_code == 403
    # A superuser still grants them.
    assert (
        'name="is_superuser"'
        in client_for(staff).get(f"/admin/members/user/{clerk.pk}/change/").content.decode()
    )


def test_undoing_a_removal_or_a_mute_or_deleting_a_message_takes_more_than_reading(
    staff: User, alice: User, bob: User
) -> None:
    room = RoomFactory.create()
    removed = room_member_remove(room=room, member=alice, by=staff)
    muted = room_member_mute(room=room, member=bob, by=staff, until=timezone.now() + timedelta(1))
    message = MessageFactory.create(room=room, author=bob)
    auditor = client_for(staff_with("rooms.view_roomparticipation", "rooms.view_message"))

    for action in ("readmit", "unmute"):
        auditor.post(
            "/admin/rooms/roomparticipation/",
            {"action": action, "_selected_action": [removed.pk, muted.pk]},
        )
    auditor.post(
        "/admin/rooms/message/",
        {"action": "soft_delete", "_selected_action": [message.pk], "confirm": "yes"},
    )

    assert RoomParticipation.objects.get(pk=removed.pk).removed_at is not None
    assert RoomParticipation.objects.get(pk=muted.pk).muted_until is not None
    message.refresh_from_db()
    assert message.deleted_at is None


def test_a_talk_s_host_who_is_not_staff_cannot_move_its_times(staff: User) -> None:
    """The stage's rights last until the talk's end (docs/stage.md): moving the end months
    away is staff's to do."""
    host = onboarded_member("Hugo Host", email="hugo@example.com")
    room = RoomFactory.create(kind=Room.Kind.PERMANENT, name="Formación", slug="formacion")
    Stage.objects.create(room=room)
    starts = timezone.now() + timedelta(days=1)
    talk = EventFactory.create(
        kind=EventKind.TALK, room=room, host=host, starts_at=starts, ends_at=starts + timedelta(1)
    )
    fields = {
        "title": talk.title,
        "description": "",
        "starts_at": timezone.localtime(talk.starts_at).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (timezone.localtime(talk.ends_at) + timedelta(days=90)).strftime(
            "%Y-%m-%dT%H:%M"
        ),
        "time_zone": timezone.get_current_timezone_name(),
        "capacity": "",
    }

    refused = client_for(host).post(f"/events/{talk.pk}/edit/", fields)

    assert refused.status_code == 400
    assert "Only staff change the time of a training session or a talk" in refused.content.decode()
    assert Event.objects.get(pk=talk.pk).ends_at == talk.ends_at
    moved = client_for(staff).post(f"/events/{talk.pk}/edit/", fields)
    assert moved.status_code == 302


def test_addresses_linked_sign_ins_and_groups_are_changed_by_superusers_only(
    staff: User, alice: User
) -> None:
    """Each is a way into an account or into rights: an address of one's own added to the
    superuser receives its reset link; a permission added to one's own group is one's own."""
    clerk = staff_with(
        "account.view_emailaddress",
        "account.add_emailaddress",
        "account.change_emailaddress",
        "socialaccount.view_socialaccount",
        "socialaccount.add_socialaccount",
        "socialaccount.view_socialapp",
        "auth.view_group",
        "auth.change_group",
    )
    support = client_for(clerk)
    assert support.get("/admin/account/emailaddress/").status_code == 200
    added = support.post(
        "/admin/account/emailaddress/add/",
        {"user": staff.pk, "email": "mallory@example.net", "verified": "on", "primary": ""},
    )
    assert added.status_code == 403
    assert not EmailAddress.objects.filter(email="mallory@example.net").exists()
    address = EmailAddress.objects.create(user=alice, email="alice.new@example.com")
    support.post(
        "/admin/account/emailaddress/",
        {"action": "make_verified", "_selected_action": [address.pk]},
    )
    address.refresh_from_db()
    assert not address.verified

    linked = support.post(
        "/admin/socialaccount/socialaccount/add/",
        {"user": staff.pk, "provider": "github", "uid": "mallory", "extra_data": "{}"},
    )
    assert linked.status_code == 403
    # A sign-in provider's client secret is not read at all.
    assert support.get("/admin/socialaccount/socialapp/").status_code == 403

    moderators = Group.objects.create(name="Moderators")
    clerk.groups.add(moderators)
    erase = Permission.objects.get(content_type__app_label="members", codename="delete_user")
    granted_itself = support.post(
        f"/admin/auth/group/{moderators.pk}/change/",
        {"name": "Moderators", "permissions": [erase.pk]},
    )
    assert granted_itself.status_code == 403
    assert not User.objects.get(pk=clerk.pk).has_perm("members.delete_user")


def test_bulk_actions_on_accounts_leave_other_staff_to_superusers(staff: User, alice: User) -> None:
    """The member list's actions hold the member form's rule: a staff account that is no
    superuser erases, or takes the photo of, members only."""
    clerk = client_for(
        staff_with("members.view_user", "members.change_user", "members.delete_user")
    )
    boss = staff_with("events.change_event")
    ProfileFactory.create(user=boss, photo_thumbnail="photos/boss-thumb.webp")
    everyone = [staff.pk, boss.pk, alice.pk]

    erased = clerk.post(
        "/admin/members/user/",
        {"action": "erase", "_selected_action": everyone, "confirm": "yes"},
        follow=True,
    )
    assert "2 staff accounts were left alone: only a superuser acts on them." in (
        erased.content.decode()
    )
    clerk.post("/admin/members/user/", {"action": "photo_remove", "_selected_action": everyone})

    for account in (staff, boss):
        account.refresh_from_db()
        assert account.deleted_at is None and account.is_staff
    staff.refresh_from_db()
    assert staff.is_superuser
    assert Profile.objects.get(user=boss).photo_thumbnail == "photos/boss-thumb.webp"
    alice.refresh_from_db()
    assert alice.deleted_at is not None


def test_the_member_form_suspends_nobody_and_lifting_skips_deleted_accounts(
    staff: User, alice: User, bob: User
) -> None:
    """Unticking "active" was a suspension with none of its effects (no record, no notice,
    hosted meetups left standing): the suspend action is the one way."""
    clerk = client_for(staff_with("members.view_user", "members.change_user"))
    form = _change_form(clerk, alice)
    form.pop("is_active", None)
    assert clerk.post(f"/admin/members/user/{alice.pk}/change/", form).status_code == 302
    alice.refresh_from_db()
    assert alice.is_active

    member_suspend(user=alice, by=staff)
    member_suspend(user=bob, by=staff)
    account_delete(user=User.objects.get(pk=alice.pk))
    lifted = client_for(staff).post(
        "/admin/members/user/", {"action": "reinstate", "_selected_action": [alice.pk, bob.pk]}
    )
    assert lifted.status_code == 302
    bob.refresh_from_db()
    alice.refresh_from_db()
    assert bob.is_active and not alice.is_active


def test_on_the_site_staff_act_on_rooms_stages_and_blocks_with_the_admin_s_rights(
    alice: User, bob: User
) -> None:
    """A staff account made for the events read private rooms and coffee tables, closed
    them, sent members out and deleted their messages: `is_staff` alone opened it all."""
    room = room_create(creator=alice, name="Solo nosotros", private=True, invitees=[bob])
    message = MessageFactory.create(room=room, author=alice, text="Mi sueldo, entre nosotros")
    organiser = staff_with("events.add_event", "events.change_event", "events.view_event")
    page = client_for(organiser)

    assert "Mi sueldo" not in page.get(f"/rooms/{room.slug}/").content.decode()
    assert room not in rooms_open_to(user=organiser)
    for act in (
        lambda: room_member_remove(room=room, member=bob, by=organiser),
        lambda: room_member_mute(room=room, member=bob, by=organiser, until=timezone.now()),
        lambda: message_delete(message=message, by=organiser),
    ):
        with pytest.raises(NotAllowed):
            act()
    page.post(f"/rooms/{room.slug}/close/")
    room.refresh_from_db()
    assert room.is_open
    stage = Stage.objects.create(room=RoomFactory.create(kind=Room.Kind.PERMANENT))
    assert not stage_may_host(stage=stage, user=organiser)
    block = FocusBlock.objects.create(starts_at=timezone.now() + timedelta(minutes=5))
    with pytest.raises(NoSeat):
        session_enter(block=block, user=organiser)

    # Each right of the admin opens its own part.
    reader = staff_with("rooms.view_message")
    assert "Mi sueldo" in client_for(reader).get(f"/rooms/{room.slug}/").content.decode()
    # A focus block's room is private: the right to read rooms brings staff in.
    assert client_for(reader).get(f"/focus/{block.pk}/").status_code == 200
    with pytest.raises(NotAllowed):
        message_delete(message=message, by=reader)
    assert message_delete(message=message, by=staff_with("rooms.change_message"))
    room_member_mute(
        room=room,
        member=bob,
        by=staff_with("rooms.change_roomparticipation"),
        until=timezone.now() + timedelta(hours=1),
    )
    assert stage_may_host(stage=stage, user=staff_with("stage.change_stage"))
    assert room_close(room=room, by=staff_with("rooms.change_room"))


def test_staff_holding_a_right_are_found_in_one_read_however_they_hold_it(staff: User) -> None:
    """The presence sweep's bulk form of `staff_may`: through the account, a group or
    superuser status, and only for active staff."""
    direct = staff_with("rooms.view_message")
    through_group = staff_with()
    readers = Group.objects.create(name="Lectores")
    readers.permissions.add(
        Permission.objects.get(content_type__app_label="rooms", codename="view_message")
    )
    through_group.groups.add(readers)
    other_right = staff_with("rooms.view_room")
    not_staff = UserFactory.create()
    not_staff.user_permissions.add(
        Permission.objects.get(content_type__app_label="rooms", codename="view_message")
    )
    gone = staff_with("rooms.view_message")
    User.objects.filter(pk=gone.pk).update(is_active=False)
    everyone = [staff, direct, through_group, other_right, not_staff, gone]

    holders = staff_holding("rooms.view_message", [user.pk for user in everyone])

    assert holders == {staff.pk, direct.pk, through_group.pk}
    assert holders == {
        user.pk
        for user in User.objects.filter(pk__in=[u.pk for u in everyone])
        if staff_may(user, "rooms.view_message")
    }


def test_staff_correct_an_unconfirmed_address_and_leave_a_confirmed_one_to_its_member(
    staff: User, alice: User, django_capture_on_commit_callbacks: Any
) -> None:
    """Written straight on the account, a new address left the old one confirmed: it still
    signed in and still received the reset links."""
    clerk = client_for(staff_with("members.view_user", "members.change_user"))
    form = clerk.get(f"/admin/members/user/{alice.pk}/change/").content.decode()
    assert 'name="email"' not in form
    clerk.post(
        f"/admin/members/user/{alice.pk}/change/",
        {**_change_form(clerk, alice), "email": "alice.nueva@example.com"},
    )
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"

    typo = UserFactory.create(email="bea@exmaple.com", verified=False)
    EmailAddress.objects.create(user=typo, email=typo.email, primary=True)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        saved = clerk.post(
            f"/admin/members/user/{typo.pk}/change/",
            {**_change_form(clerk, typo), "email": "bea@example.com"},
        )
    assert saved.status_code == 302
    assert list(EmailAddress.objects.filter(user=typo).values_list("email", "verified")) == [
        ("bea@example.com", False)
    ]
    [confirmation] = mail.outbox
    assert confirmation.to == ["bea@example.com"]
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", str(confirmation.body))
    assert link is not None
    Client().post(link[1])
    assert EmailAddress.objects.get(user=typo).verified


def test_a_name_staff_correct_is_what_the_directory_finds(staff: User) -> None:
    member = onboarded_member("Insulto Grosero", email="m@example.com")
    directory = client_for(onboarded_member("Vera Vecina", email="v@example.com"))
    assert "Insulto Grosero" in directory.get("/members/", {"q": "grosero"}).content.decode()
    admin = client_for(staff)
    saved = admin.post(
        f"/admin/members/user/{member.pk}/change/",
        {**_change_form(admin, member), "display_name": "Nombre Correcto"},
    )
    assert saved.status_code == 302

    assert "Nombre Correcto" not in directory.get("/members/", {"q": "grosero"}).content.decode()
    assert "Nombre Correcto" in directory.get("/members/", {"q": "correcto"}).content.decode()

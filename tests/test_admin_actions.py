"""The admin for staff: every changelist opens in a bounded number of queries, and the
actions of the staff-dashboard issue do what they say."""

import csv
import io
import uuid
from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.core import mail
from django.test import Client
from django.utils import timezone

from core.admin_actions import LISTED
from events.feeds import calendar_feed_rotate
from focus.models import FocusBlock, Seat
from matching.emails import intro_email
from matching.models import GroupMember, Meeting, Participation
from members.admin import FORMULA_STARTS
from members.models import User
from rooms.models import HourlyUsage, Mention, Presence, RoomParticipation, Visit
from rooms.services import room_can_enter, room_member_mute, room_member_remove
from stage.models import Speaker, Stage
from tests.factories import (
    EventFactory,
    GroupMemberFactory,
    MessageFactory,
    ProfileFactory,
    ReportFactory,
    RoomFactory,
    RsvpFactory,
    UserFactory,
    client_for,
    onboarded_member,
)

APPS = {"members", "matching", "rooms", "events"}


def some_of_everything(count: int) -> None:
    for _ in range(count):
        seat = GroupMemberFactory.create(answer="met")
        message = MessageFactory.create(author=seat.user)
        ReportFactory.create(reported=seat.user, message=message)
        rsvp = RsvpFactory.create(event=EventFactory.create(room=message.room))
        now = timezone.now()
        Visit.objects.create(
            room=message.room, user=rsvp.user, started_at=now - timedelta(hours=1), ended_at=now
        )
        HourlyUsage.objects.create(room=message.room, hour=now.replace(minute=0), seconds=60)
        ProfileFactory.create(user=rsvp.user)
        calendar_feed_rotate(user=rsvp.user)
        Mention.objects.create(message=message, user=rsvp.user)
        Presence.objects.create(room=message.room, user=rsvp.user, channel_name=str(uuid.uuid4()))
        Meeting.objects.create(group=seat.group, starts_at=now, proposed_by=seat.user)


def changelists() -> list[str]:
    return sorted(
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for model in admin.site._registry
        if model._meta.app_label in APPS
    )


def test_every_changelist_opens_in_queries_that_do_not_grow_with_rows(staff: User) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(staff)
    client.get("/admin/")
    counts: dict[str, list[int]] = {url: [] for url in changelists()}
    # Filter links to rows of another table (a room, an author): one per row of a table
    # that grows with the community made a page of megabytes.
    row_filters: dict[str, list[int]] = {url: [] for url in changelists()}
    for batch in (1, 4):
        some_of_everything(batch)
        for url in counts:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            assert response.status_code == 200, url
            counts[url].append(len(captured))
            row_filters[url].append(response.content.count(b"__id__exact="))

    growing = {url: n for url, n in counts.items() if n[0] != n[1]}
    assert growing == {}
    assert {url: n for url, n in row_filters.items() if n[0] != n[1]} == {}
    assert "/admin/rooms/visit/" in counts and "/admin/rooms/hourlyusage/" in counts
    assert "/admin/events/calendarfeed/" in counts and "/admin/rooms/presence/" in counts


def test_a_change_page_opens_in_queries_that_do_not_grow_with_its_inline_rows(
    staff: User,
) -> None:
    """A focus block's seats (40 by default, its cancelled ones too), a stage's speakers."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(staff)
    block = FocusBlock.objects.create(starts_at=timezone.now() + timedelta(days=1))
    stage = Stage.objects.create(room=RoomFactory.create(), host=staff)
    pages = [
        f"/admin/focus/focusblock/{block.pk}/change/",
        f"/admin/stage/stage/{stage.pk}/change/",
    ]
    for page in pages:
        client.get(page)  # the first look fills the caches (content types, permissions)
    counts: dict[str, list[int]] = {page: [] for page in pages}
    for added in (1, 2):
        for _ in range(added):
            Seat.objects.create(block=block, user=UserFactory.create())
            Speaker.objects.create(stage=stage, user=UserFactory.create(), invited_by=staff)
        for page in pages:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(page)
            assert response.status_code == 200, page
            assert response.content.count(b'class="form-row') >= 1 + added, page
            counts[page].append(len(captured))

    assert {page: n for page, n in counts.items() if n[0] != n[1]} == {}


def test_the_member_csv_is_streamed_without_private_fields_and_defuses_formulas(
    staff: User,
) -> None:
    sneaky = UserFactory.create(
        display_name='=HYPERLINK("http://evil")', first_name="+1", last_name="@x"
    )
    ProfileFactory.create(user=sneaky, headline="secret headline")
    # Opened where ";" separates cells (Excel in Spain), this name is three cells.
    semicolons = UserFactory.create(display_name="Ana;=1+41;")

    response = client_for(staff).post(
        "/admin/members/user/",
        {"action": "export_csv", "_selected_action": [staff.pk, sneaky.pk, semicolons.pk]},
    )

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="members-')
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["email"] for row in rows] == [staff.email, sneaky.email, semicolons.email]
    for separator in (",", ";"):
        cells = [cell for row in csv.reader(io.StringIO(text), delimiter=separator) for cell in row]
        assert not [cell for cell in cells if cell.lstrip().startswith(FORMULA_STARTS)], separator
    row = rows[1]
    assert row["display_name"] == '\'=HYPERLINK("http://evil")'
    assert (row["first_name"], row["last_name"]) == ("'+1", "'@x")
    assert "secret headline" not in text
    assert "password" not in rows[0]


def test_pause_and_resume_a_members_coffee_pairs(staff: User) -> None:
    member = UserFactory.create()
    participation = Participation.objects.create(
        programme_id=GroupMemberFactory.create().round.programme_id, user=member
    )
    client = client_for(staff)

    client.post("/admin/members/user/", {"action": "pause_pairs", "_selected_action": [member.pk]})
    participation.refresh_from_db()
    assert participation.auto_paused

    client.post("/admin/members/user/", {"action": "resume_pairs", "_selected_action": [member.pk]})
    participation.refresh_from_db()
    assert not participation.auto_paused and participation.opted_in


def test_resuming_lifts_only_the_pause_the_member_did_not_choose(staff: User) -> None:
    """A member away until a date, or skipping the next round, chose it: staff resuming
    everyone paused must not pair them while they are away."""
    programme_id = GroupMemberFactory.create().round.programme_id
    away, skipping, ignored = UserFactory.create_batch(3)
    back_on = timezone.localdate() + timedelta(days=30)
    Participation.objects.create(programme_id=programme_id, user=away, paused_until=back_on)
    Participation.objects.create(programme_id=programme_id, user=skipping, skip_next_round=True)
    Participation.objects.create(programme_id=programme_id, user=ignored, auto_paused=True)
    everyone = {"_selected_action": [away.pk, skipping.pk, ignored.pk]}

    response = client_for(staff).post(
        "/admin/members/user/", {"action": "resume_pairs", **everyone}, follow=True
    )

    assert "1 member resumed." in response.content.decode()
    assert Participation.objects.get(user=away).paused_until == back_on
    assert Participation.objects.get(user=skipping).skip_next_round
    assert not Participation.objects.get(user=ignored).auto_paused


def test_a_member_paused_by_staff_is_told_so_not_that_intros_went_unanswered(
    staff: User,
) -> None:
    member = onboarded_member("Pilar Pausa", email="pilar@example.com")
    participation = Participation.objects.create(
        programme_id=GroupMemberFactory.create().round.programme_id, user=member
    )
    client_for(staff).post(
        "/admin/members/user/", {"action": "pause_pairs", "_selected_action": [member.pk]}
    )

    page = client_for(member).get("/pairs/").content.decode()

    participation.refresh_from_db()
    assert participation.auto_paused and participation.paused_by_staff
    assert "The community team paused your introductions." in page
    assert "went unanswered" not in page


def test_staff_resuming_does_not_opt_back_in_a_member_who_left(staff: User) -> None:
    """Taking part is the member's choice: staff lift pauses, they do not consent for them."""
    left = UserFactory.create()
    participation = Participation.objects.create(
        programme_id=GroupMemberFactory.create().round.programme_id, user=left, opted_in=False
    )
    client = client_for(staff)

    client.post("/admin/members/user/", {"action": "resume_pairs", "_selected_action": [left.pk]})
    client.post(
        "/admin/matching/participation/",
        {"action": "resume", "_selected_action": [participation.pk]},
    )

    participation.refresh_from_db()
    assert not participation.opted_in


def test_suspend_and_reinstate_from_the_member_list(staff: User) -> None:
    member = UserFactory.create(display_name="Marta <b>Mora</b>", email="marta@example.com")
    client = client_for(staff)
    chosen = {"action": "suspend", "_selected_action": [member.pk]}

    # A page asks first, naming whom, and nothing happens until the staff member says yes.
    asked = client.post("/admin/members/user/", chosen).content.decode()
    assert "<h1>Suspend (deactivate) the accounts</h1>" in asked
    assert "Marta &lt;b&gt;Mora&lt;/b&gt; &lt;marta@example.com&gt;" in asked
    assert 'value="Yes, go ahead"' in asked and 'name="confirm" value="yes"' in asked
    member.refresh_from_db()
    assert member.is_active

    client.post("/admin/members/user/", {**chosen, "confirm": "yes"})
    member.refresh_from_db()
    assert not member.is_active and member.suspended_by == staff

    client.post("/admin/members/user/", {"action": "reinstate", "_selected_action": [member.pk]})
    member.refresh_from_db()
    assert member.is_active and member.suspended_at is None


def test_resending_an_intro_sends_it_again(
    staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    seat = GroupMemberFactory.create(
        intro_sent_at=timezone.now() - timedelta(days=1), user=ProfileFactory.create().user
    )
    GroupMemberFactory.create(group=seat.group, user=ProfileFactory.create().user)
    first = intro_email(seat).extra_headers["Message-ID"]

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(staff).post(
            "/admin/matching/groupmember/",
            {"action": "resend_intro", "_selected_action": [seat.pk], "confirm": "yes"},
            follow=True,
        )

    assert "1 intro email queued again." in response.content.decode()
    seat.refresh_from_db()
    assert seat.intro_sent_at is not None and seat.intro_sent_at > timezone.now() - timedelta(
        minutes=1
    )
    assert [email.to for email in mail.outbox] == [[seat.user.email]]
    assert GroupMember.objects.filter(intro_sent_at__isnull=True).count() == 1  # the other seat
    # A new email, not a copy a provider would drop: its own Message-ID, each time.
    with django_capture_on_commit_callbacks(execute=True):
        client_for(staff).post(
            "/admin/matching/groupmember/",
            {"action": "resend_intro", "_selected_action": [seat.pk], "confirm": "yes"},
        )
    assert len({first, *(email.extra_headers["Message-ID"] for email in mail.outbox)}) == 3


def test_an_action_on_all_the_filtered_rows_asks_first_and_keeps_to_the_filter(
    staff: User,
) -> None:
    """With "select all" over a search, the page counts what the search found, lists the
    first ones, and its yes acts on those rows alone."""
    found = [UserFactory.create(email=f"flood{n}@spam.example") for n in range(LISTED + 2)]
    other = UserFactory.create(email="ana@example.com")
    client = client_for(staff)
    everything = {
        "action": "suspend",
        "_selected_action": [found[0].pk],
        "select_across": "1",
    }

    asked = client.post("/admin/members/user/?q=spam.example", everything).content.decode()
    assert f"{LISTED + 2} selected:" in asked and "and 2 more" in asked
    assert 'name="select_across" value="1"' in asked

    client.post("/admin/members/user/?q=spam.example", {**everything, "confirm": "yes"})
    assert not User.objects.filter(email__endswith="@spam.example", is_active=True).exists()
    other.refresh_from_db()
    assert other.is_active


def test_close_a_room_from_the_admin(staff: User) -> None:
    room = RoomFactory.create()

    client_for(staff).post(
        "/admin/rooms/room/",
        {"action": "close_rooms", "_selected_action": [room.pk], "confirm": "yes"},
    )

    room.refresh_from_db()
    assert room.closed_at is not None


def test_staff_let_a_removed_member_back_in_and_lift_a_mute_from_the_admin(
    staff: User, alice: User, bob: User
) -> None:
    room = RoomFactory.create()
    removed = room_member_remove(room=room, member=alice, by=staff)
    muted = room_member_mute(
        room=room, member=bob, by=staff, until=timezone.now() + timedelta(days=30)
    )
    assert not room_can_enter(room=room, user=alice)

    admin_page = client_for(staff)
    for action, expected in (
        ("readmit", "1 member may come back in."),
        ("unmute", "1 member may write again."),
    ):
        response = admin_page.post(
            "/admin/rooms/roomparticipation/",
            {"action": action, "_selected_action": [removed.pk, muted.pk]},
            follow=True,
        )
        assert expected in response.content.decode()

    assert room_can_enter(room=room, user=alice)
    # Staff removed by a colleague cannot let themselves back in: a warning, no error page.
    own = room_member_remove(
        room=room, member=staff, by=UserFactory.create(is_staff=True, is_superuser=True)
    )
    refused = admin_page.post(
        "/admin/rooms/roomparticipation/",
        {"action": "readmit", "_selected_action": [own.pk]},
        follow=True,
    )
    assert refused.status_code == 200
    assert "You cannot moderate yourself." in refused.content.decode()
    bob_there = RoomParticipation.objects.get(pk=muted.pk)
    assert bob_there.muted_until is None and not bob_there.is_muted()


def test_every_admin_page_opens_with_a_search_and_on_a_row(staff: User) -> None:
    from rooms.services import cafeteria_get

    cafeteria_get()
    some_of_everything(1)
    client = client_for(staff)
    client.raise_request_exception = False
    client.get("/admin/")  # Notes the staff's own session, for usersessions' pages.
    failures = {}
    for model, model_admin in admin.site._registry.items():
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        urls = [base, f"{base}?q=a"]
        if model_admin.has_add_permission(client.request().wsgi_request):
            urls.append(f"{base}add/")
        rows = model._default_manager.values_list("pk", flat=True)
        urls += [f"{base}{pk}/change/" for pk in rows]
        for url in urls:
            status = client.get(url).status_code
            if status != 200:
                failures[url] = status
    assert failures == {}


def test_staff_end_a_member_s_session_from_the_admin(staff: User) -> None:
    from allauth.usersessions.models import UserSession

    member = UserFactory.create()
    as_member = client_for(member)
    as_member.get("/")
    session = UserSession.objects.get(user=member)
    as_staff = client_for(staff)

    found = as_staff.get("/admin/usersessions/usersession/", {"q": member.email})
    assert found.status_code == 200 and member.email in found.content.decode()
    view = as_staff.get(f"/admin/usersessions/usersession/{session.pk}/change/")
    assert view.status_code == 200 and 'name="_save"' not in view.content.decode()
    as_staff.post(f"/admin/usersessions/usersession/{session.pk}/delete/", {"post": "yes"})

    assert not UserSession.objects.filter(user=member).exists()
    assert as_member.get("/members/me/edit/").status_code == 302  # signed out


def test_admin_pages_carry_the_site_s_icon(staff: User) -> None:
    client = client_for(staff)
    for url in ("/admin/", "/admin/members/user/", f"/admin/members/user/{staff.pk}/change/"):
        assert 'rel="icon" href="/static/img/favicon' in client.get(url).content.decode(), url


def test_the_admin_names_blocks_and_meetings_in_the_community_s_time(staff: User) -> None:
    """00:30 in Madrid on 6 December is 23:30 UTC on the 5th: the admin speaks Madrid's."""
    from datetime import UTC, datetime

    from focus.models import FocusBlock

    late = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)
    block = FocusBlock.objects.create(starts_at=late, title="Noche")
    client = Client()
    client.force_login(staff)

    page = client.get(f"/admin/focus/focusblock/{block.pk}/change/").content.decode()

    assert "Noche 2026-12-06 00:30" in page and "2026-12-05 23:30" not in page


def test_each_issue_offers_its_page_on_the_site_a_draft_s_as_a_preview(staff: User) -> None:
    from newsletter.models import Issue
    from tests.factories import IssueFactory

    draft = IssueFactory.create()
    sent = IssueFactory.create(status=Issue.Status.SENT, sent_at=timezone.now())
    client = Client()
    client.force_login(staff)

    # The date it went out and how many went are two columns, two names.
    listing = client.get("/admin/newsletter/issue/").content.decode()
    assert ">Enviado</a>" in listing and ">Correos enviados</a>" in listing
    for issue in (draft, sent):
        page = client.get(f"/admin/newsletter/issue/{issue.pk}/change/").content.decode()
        assert "viewsitelink" in page, issue.status
    preview = "Vista previa: este número aún no se ha enviado"
    assert preview in client.get(f"/newsletter/{draft.pk}/").content.decode()
    assert preview not in client.get(f"/newsletter/{sent.pk}/").content.decode()


def test_the_admin_names_the_built_in_programmes_in_the_staff_member_s_language(
    staff: User,
) -> None:
    from matching.models import Programme

    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(staff)
    staff.language = "es"
    staff.save()

    page = client.get("/admin/matching/programme/").content.decode()

    assert Programme.objects.filter(slug="community").exists()
    assert "Cafés en pareja" in page and ">Coffee pairs<" not in page
    # The columns and filters of relations are named in Spanish too.
    Participation.objects.create(programme=Programme.objects.get(slug="community"), user=staff)
    participations = client.get("/admin/matching/participation/").content.decode()
    assert "Miembro</a>" in participations and "Por programa" in participations
    assert "User</a>" not in participations and "Por programme" not in participations


def test_the_admin_index_names_every_model_in_spanish_for_a_spanish_speaking_staff_member(
    staff: User,
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(staff)

    index = client.get("/admin/").content.decode()

    assert "Sesiones abiertas" in index and "User sessions" not in index

"""Privacy and safety: blocks, reports, email settings, data export and account deletion.

Personas (tests/conftest.py): Alice and Bob are members; the outsider (Carol) is a member who
must not reach their data; visitors are anonymous; staff handle reports in the admin.
"""

import json
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from allauth.socialaccount.models import SocialAccount
from allauth.usersessions.models import UserSession
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.messages import get_messages
from django.contrib.sessions.models import Session
from django.core import mail
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import translation
from pytest_django import DjangoAssertNumQueries

from conversations.models import Conversation
from members.models import Acquaintance, Block, User
from members.privacy import account_delete
from moderation.models import Report
from moderation.services import REPORTS_PER_DAY
from notifications.models import Preference
from notifications.services import CONFIGURABLE, FIXED, channels_for
from tests.factories import (
    PASSWORD,
    AcquaintanceFactory,
    BlockFactory,
    EventFactory,
    EventSeriesFactory,
    InterestFactory,
    MessageFactory,
    ReportFactory,
    RoomFactory,
    SubscriberFactory,
    UserFactory,
    client_for,
    onboarded_member,
)

pytestmark = pytest.mark.django_db


def message_texts(response: object) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


@pytest.fixture
def as_alice(alice: User) -> Client:
    return client_for(alice)


# Access rules


def test_visitors_are_sent_to_log_in_everywhere(client: Client, bob: User) -> None:
    pages = ["/members/me/blocked/", "/notifications/settings/", "/members/me/export/"]
    for path in [*pages, "/members/me/delete/"]:
        for method in (client.get, client.post):
            response = method(path)
            assert response.status_code == 302, path
            assert response["Location"].startswith(f"/accounts/login/?next={path}"), path
    for action in ["block", "unblock", "report"]:
        path = f"/members/{bob.pk}/{action}/"
        response = client.post(path, {"reason": "spam", "details": "Spam."})
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/"), path
    assert not Block.objects.exists()
    assert not Report.objects.exists()


def test_block_and_unblock_refuse_get(as_alice: Client, alice: User, bob: User) -> None:
    BlockFactory.create(blocker=alice, blocked=bob)

    assert as_alice.get(f"/members/{bob.pk}/block/").status_code == 405
    assert as_alice.get(f"/members/{bob.pk}/unblock/").status_code == 405
    assert Block.objects.count() == 1


def test_block_is_protected_against_cross_site_requests(alice: User, bob: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    assert client.post(f"/members/{bob.pk}/block/").status_code == 403
    assert client.post("/members/me/delete/", {"password": PASSWORD}).status_code == 403
    assert not Block.objects.exists()
    assert User.objects.get(pk=alice.pk).deleted_at is None


def test_an_outsider_cannot_lift_someone_elses_block(
    alice: User, bob: User, outsider: User
) -> None:
    BlockFactory.create(blocker=alice, blocked=bob)

    response = client_for(outsider).post(f"/members/{bob.pk}/unblock/")

    assert response.status_code == 302
    assert Block.objects.filter(blocker=alice, blocked=bob).exists()


def test_settings_export_and_delete_only_touch_the_signed_in_member(
    alice: User, outsider: User
) -> None:
    as_outsider = client_for(outsider)

    as_outsider.post("/notifications/settings/", {kind: "in_app" for kind in CONFIGURABLE})
    export = json.loads(as_outsider.post("/members/me/export/").content)
    wrong = as_outsider.post("/members/me/delete/", {"password": "not-carols-password"})

    alice.refresh_from_db()
    # Each kind's channel, and the push choice of the two told whatever she chooses.
    assert Preference.objects.filter(user=outsider).count() == len(CONFIGURABLE) + len(FIXED)
    assert not Preference.objects.filter(user=alice).exists() and alice.email_digest
    assert export["account"]["email"] == "carol@example.com"
    assert "alice@example.com" not in json.dumps(export)
    assert wrong.status_code == 400
    assert User.objects.filter(deleted_at__isnull=False).count() == 0


# Blocking


def test_blocking_hides_both_profiles_and_is_never_told(
    as_alice: Client, alice: User, bob: User
) -> None:
    as_bob = client_for(bob)
    assert as_alice.get(f"/members/{bob.pk}/").status_code == 200

    response = as_alice.post(f"/members/{bob.pk}/block/", follow=True)

    assert response.redirect_chain == [("/members/me/blocked/", 302)]
    assert "You blocked Bob Bravo" in response.content.decode()
    assert Block.objects.filter(blocker=alice, blocked=bob).exists()
    assert as_alice.get(f"/members/{bob.pk}/").status_code == 404
    assert as_bob.get(f"/members/{alice.pk}/").status_code == 404
    bobs_page = as_bob.get("/")
    assert message_texts(bobs_page) == []
    assert "Alice" not in bobs_page.content.decode()
    assert mail.outbox == []


def test_blocking_twice_keeps_one_block(as_alice: Client, alice: User, bob: User) -> None:
    as_alice.post(f"/members/{bob.pk}/block/")
    response = as_alice.post(f"/members/{bob.pk}/block/")

    assert response.status_code == 302
    assert Block.objects.filter(blocker=alice, blocked=bob).count() == 1


def test_you_cannot_block_yourself(as_alice: Client, alice: User) -> None:
    response = as_alice.post(f"/members/{alice.pk}/block/", follow=True)

    assert "You cannot block yourself." in response.content.decode()
    assert not Block.objects.exists()


def test_blocking_someone_who_blocked_you_works_and_reveals_nothing(
    as_alice: Client, alice: User, bob: User
) -> None:
    BlockFactory.create(blocker=bob, blocked=alice)

    response = as_alice.post(f"/members/{bob.pk}/block/")

    assert response.status_code == 302
    assert Block.objects.filter(blocker=alice, blocked=bob).exists()


def test_unknown_and_deleted_members_cannot_be_blocked(as_alice: Client) -> None:
    gone = onboarded_member("Gone Member", is_active=False)
    unfinished = UserFactory.create()

    for target in [gone.pk, unfinished.pk, 999_999]:
        assert as_alice.post(f"/members/{target}/block/").status_code == 404
    assert not Block.objects.exists()


def test_the_blocked_list_shows_my_blocks_with_unblock_buttons(
    as_alice: Client,
    alice: User,
    bob: User,
    outsider: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    BlockFactory.create(blocker=alice, blocked=bob)
    BlockFactory.create(blocker=alice, blocked=outsider)
    dave = onboarded_member("Dave Diaz")
    BlockFactory.create(blocker=outsider, blocked=dave)

    for _ in range(3):
        BlockFactory.create(blocker=alice, blocked=onboarded_member("Someone Else"))
    as_alice.get("/")  # the first request of a session records it

    # Seven for the session, the member and allauth's session tracking; one for the blocks;
    # one each for the unread notifications and the unread messages in the header.
    with django_assert_max_num_queries(10):
        response = as_alice.get("/members/me/blocked/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Bob Bravo" in page and "Carol Cruz" in page
    assert "Dave Diaz" not in page
    assert f'action="/members/{bob.pk}/unblock/"' in page
    assert f'action="/members/{outsider.pk}/unblock/"' in page
    assert 'aria-label="Unblock Bob Bravo"' in page


def test_the_blocked_list_is_empty_at_first(as_alice: Client) -> None:
    page = as_alice.get("/members/me/blocked/").content.decode()

    assert "You have not blocked anyone." in page


def test_unblocking_lets_both_see_each_other_again(
    as_alice: Client, alice: User, bob: User
) -> None:
    BlockFactory.create(blocker=alice, blocked=bob)

    first = as_alice.post(f"/members/{bob.pk}/unblock/", follow=True)
    second = as_alice.post(f"/members/{bob.pk}/unblock/", follow=True)

    assert first.redirect_chain == [("/members/me/blocked/", 302)]
    assert "You unblocked Bob Bravo." in first.content.decode()
    assert "That member was not blocked." in second.content.decode()
    assert not Block.objects.exists()
    assert as_alice.get(f"/members/{bob.pk}/").status_code == 200
    assert client_for(bob).get(f"/members/{alice.pk}/").status_code == 200


def _profile_actions(rf: RequestFactory, viewer: User, shown: User, **context: object) -> str:
    request = rf.get(f"/members/{shown.pk}/")
    request.user = viewer
    # The page's language, not whatever an earlier test left active in this thread.
    with translation.override("en"):
        return render_to_string(
            "members/_profile_actions.html",
            {"member": shown, "is_self": viewer.pk == shown.pk, "is_blocked": False, **context},
            request=request,
        )


def test_profile_actions_offer_block_and_report_in_a_disclosure(
    rf: RequestFactory, alice: User, bob: User
) -> None:
    html = _profile_actions(rf, alice, bob)

    assert "<details" in html and "<summary>More</summary>" in html
    assert f'action="/members/{bob.pk}/block/"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "Block Bob Bravo" in html
    assert f'href="/members/{bob.pk}/report/"' in html
    assert " style=" not in html and "<script" not in html


def test_profile_actions_offer_unblock_when_blocked(
    rf: RequestFactory, alice: User, bob: User
) -> None:
    html = _profile_actions(rf, alice, bob, is_blocked=True)

    assert f'action="/members/{bob.pk}/unblock/"' in html
    assert "/block/" not in html


def test_profile_actions_are_hidden_on_your_own_profile_and_from_visitors(
    rf: RequestFactory, alice: User
) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert _profile_actions(rf, alice, alice).strip() == ""
    assert _profile_actions(rf, AnonymousUser(), alice).strip() == ""  # type: ignore[arg-type]


# Reporting


def test_the_report_form_has_a_reason_and_details(as_alice: Client, bob: User) -> None:
    response = as_alice.get(f"/members/{bob.pk}/report/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Report Bob Bravo" in page
    assert '<select name="reason"' in page and 'id="id_reason"' in page
    assert '<label for="id_reason"' in page and '<label for="id_details"' in page
    assert 'maxlength="2000"' in page
    assert "Harassment or hate" in page


def test_reporting_a_member_files_a_report_and_thanks_you(
    as_alice: Client, alice: User, bob: User
) -> None:
    response = as_alice.post(
        f"/members/{bob.pk}/report/",
        {"reason": "harassment", "details": "Insults in the morning room."},
        follow=True,
    )

    assert response.redirect_chain == [(f"/members/{bob.pk}/", 302)]
    assert "Thank you for your report." in response.content.decode()
    report = Report.objects.get()
    assert (report.reporter, report.reported) == (alice, bob)
    assert report.reason == Report.Reason.HARASSMENT
    assert report.details == "Insults in the morning room."
    assert report.status == Report.Status.OPEN
    assert mail.outbox == []
    assert message_texts(client_for(bob).get("/")) == []


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"reason": "", "details": "Spam everywhere."}, "Choose a reason."),
        ({"reason": "nonsense", "details": "Spam everywhere."}, "Select a valid choice."),
        ({"reason": "spam", "details": "   "}, "Tell us briefly what happened."),
        ({"reason": "spam", "details": "x" * 2001}, "at most 2000 characters"),
    ],
)
def test_bad_reports_are_shown_again_with_errors(
    as_alice: Client, bob: User, data: dict[str, str], error: str
) -> None:
    response = as_alice.post(f"/members/{bob.pk}/report/", data)

    page = response.content.decode()
    assert response.status_code == 400
    assert error in page
    assert 'aria-invalid="true"' in page
    if data["details"].strip():
        assert data["details"] in page
    assert not Report.objects.exists()


def test_the_report_form_keeps_the_chosen_reason(as_alice: Client, bob: User) -> None:
    response = as_alice.post(f"/members/{bob.pk}/report/", {"reason": "fake", "details": ""})

    assert '<option value="fake" selected>' in response.content.decode()


def test_you_cannot_report_yourself(as_alice: Client, alice: User) -> None:
    response = as_alice.post(
        f"/members/{alice.pk}/report/", {"reason": "spam", "details": "Me."}, follow=True
    )

    assert "You cannot report yourself." in response.content.decode()
    assert not Report.objects.exists()


def test_unknown_members_cannot_be_reported(as_alice: Client) -> None:
    gone = onboarded_member("Gone Member", is_active=False)

    assert as_alice.get(f"/members/{gone.pk}/report/").status_code == 404
    assert as_alice.post("/members/999999/report/", {"reason": "spam"}).status_code == 404


def test_reporting_someone_you_blocked_returns_to_the_blocked_list(
    as_alice: Client, alice: User, bob: User
) -> None:
    BlockFactory.create(blocker=alice, blocked=bob)

    response = as_alice.post(
        f"/members/{bob.pk}/report/", {"reason": "spam", "details": "Adverts."}
    )

    assert response["Location"] == "/members/me/blocked/"
    assert Report.objects.filter(reporter=alice, reported=bob).exists()


def test_reporting_someone_who_blocked_you_does_not_reveal_the_block(
    as_alice: Client, alice: User, bob: User
) -> None:
    BlockFactory.create(blocker=bob, blocked=alice)

    response = as_alice.post(
        f"/members/{bob.pk}/report/", {"reason": "spam", "details": "Adverts."}
    )

    assert response["Location"] == "/"
    assert Report.objects.filter(reporter=alice, reported=bob).exists()


def test_at_most_ten_reports_a_day(as_alice: Client, alice: User, outsider: User) -> None:
    with time_machine.travel(datetime(2025, 3, 1, 9, 0, tzinfo=UTC), tick=False):
        ReportFactory.create_batch(REPORTS_PER_DAY, reporter=alice)
    data = {"reason": "spam", "details": "One more."}

    with time_machine.travel(datetime(2025, 3, 2, 8, 0, tzinfo=UTC), tick=False):
        refused = as_alice.post(f"/members/{outsider.pk}/report/", data)
    with time_machine.travel(datetime(2025, 3, 2, 9, 1, tzinfo=UTC), tick=False):
        accepted = as_alice.post(f"/members/{outsider.pk}/report/", data)

    assert refused.status_code == 429
    assert "You have sent 10 reports in the last 24 hours" in refused.content.decode()
    assert "One more." in refused.content.decode()
    assert accepted.status_code == 302
    assert Report.objects.filter(reporter=alice).count() == REPORTS_PER_DAY + 1


# Reports, blocks and acquaintances in the admin


@pytest.fixture
def as_staff(staff: User) -> Client:
    return client_for(staff)


def test_members_cannot_open_the_admin(as_alice: Client) -> None:
    response = as_alice.get("/admin/moderation/report/")

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_staff_see_and_filter_reports(as_staff: Client, alice: User, bob: User) -> None:
    ReportFactory.create(reporter=alice, reported=bob, details="Adverts for a casino.")
    ReportFactory.create(reporter=bob, reported=alice, status=Report.Status.DISMISSED)

    open_reports = as_staff.get("/admin/moderation/report/?status__exact=open")
    search = as_staff.get("/admin/moderation/report/?q=casino")

    assert open_reports.status_code == 200
    assert len(open_reports.context["cl"].result_list) == 1
    assert list(search.context["cl"].result_list) == list(Report.objects.filter(reported=bob))


def test_staff_mark_reports_dismissed_or_actioned(as_staff: Client, bob: User) -> None:
    first, second = ReportFactory.create_batch(2, reported=bob)
    changelist = "/admin/moderation/report/"

    with time_machine.travel(datetime(2025, 4, 1, 12, 0, tzinfo=UTC), tick=False):
        as_staff.post(changelist, {"action": "mark_dismissed", "_selected_action": [first.pk]})
        response = as_staff.post(
            changelist, {"action": "mark_actioned", "_selected_action": [second.pk]}
        )

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Report.Status.DISMISSED
    assert second.status == Report.Status.ACTIONED
    assert first.handled_at == second.handled_at == datetime(2025, 4, 1, 12, 0, tzinfo=UTC)


def test_staff_read_a_report_but_cannot_rewrite_what_was_reported(
    as_staff: Client, bob: User
) -> None:
    report = ReportFactory.create(reported=bob, details="Original words.")

    page = as_staff.get(f"/admin/moderation/report/{report.pk}/change/")
    as_staff.post(
        f"/admin/moderation/report/{report.pk}/change/",
        {"status": "actioned", "staff_note": "Warned them.", "details": "Rewritten."},
    )

    assert page.status_code == 200
    assert 'name="details"' not in page.content.decode()
    report.refresh_from_db()
    assert report.details == "Original words."
    assert report.status == Report.Status.ACTIONED
    assert report.staff_note == "Warned them."
    assert report.handled_at is not None
    assert as_staff.get("/admin/moderation/report/add/").status_code == 403


def test_blocks_are_read_only_in_the_admin(as_staff: Client, alice: User, bob: User) -> None:
    block = BlockFactory.create(blocker=alice, blocked=bob)

    assert as_staff.get("/admin/members/block/").status_code == 200
    assert as_staff.get("/admin/members/block/add/").status_code == 403
    as_staff.post(f"/admin/members/block/{block.pk}/delete/", {"post": "yes"})
    assert Block.objects.filter(pk=block.pk).exists()


def test_the_admin_never_shows_private_notes(as_staff: Client, alice: User, bob: User) -> None:
    acquaintance = AcquaintanceFactory.create(owner=alice, other=bob, note="Owes me a coffee")

    listing = as_staff.get("/admin/members/acquaintance/")
    detail = as_staff.get(f"/admin/members/acquaintance/{acquaintance.pk}/change/")

    assert listing.status_code == detail.status_code == 200
    assert "Owes me a coffee" not in listing.content.decode() + detail.content.decode()


def test_the_member_and_language_admin_pages_open(as_staff: Client, alice: User) -> None:
    page = as_staff.get(f"/admin/members/user/{alice.pk}/change/").content.decode()

    assert 'name="email_digest"' in page
    assert 'name="deleted_at"' not in page
    assert as_staff.get("/admin/members/user/?deleted_at__isempty=1").status_code == 200
    assert as_staff.get("/admin/members/language/").status_code == 200


# Settings and the account menu


def checkbox(page: str, name: str) -> str:
    match = re.search(rf'<input type="checkbox" name="{name}"[^>]*>', page)
    assert match, name
    return match.group(0)


def selected(page: str, name: str) -> str:
    match = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert match, name
    chosen = re.findall(r'<option value="([^"]*)"[^>]*selected', match.group(1))
    assert len(chosen) == 1, chosen
    return chosen[0]


def test_settings_show_calm_defaults(as_alice: Client) -> None:
    page = as_alice.get("/notifications/settings/").content.decode()

    # Mention emails are calm by construction (at most one per room every 15 minutes, never
    # while the member is in the room), so they are on like the others; a focus session
    # about to start is on the site and the devices only (minutes away, daily for some).
    for kind in CONFIGURABLE:
        assert selected(page, kind) == ("in_app" if kind == "focus_reminder" else "both"), kind
        assert f'<label for="id_{kind}">' in page
        assert f'id="id_{kind}_helptext"' in page
    assert " checked" in checkbox(page, "email_digest")
    assert '<label for="id_email_digest">Weekly digest</label>' in page


def test_saving_notification_settings(as_alice: Client, alice: User) -> None:
    choices = {
        "pair_created": "email",
        "pair_follow_up": "in_app",
        "event_reminder": "both",
        "focus_reminder": "email",
        "focus_no_show": "in_app",
        "waitlist_promoted": "digest",
        "mention": "in_app",
        "message": "email",
    }
    response = as_alice.post("/notifications/settings/", choices, follow=True)

    assert response.redirect_chain == [("/notifications/settings/", 302)]
    page = response.content.decode()
    assert "Your notification preferences are saved." in page
    assert all(selected(page, kind) == channel for kind, channel in choices.items())
    alice.refresh_from_db()
    assert channels_for(user=alice) == choices
    assert not alice.email_digest  # unticked
    assert alice.display_name == "Alice Arias"


def test_a_channel_that_does_not_exist_is_refused_and_nothing_is_saved(
    as_alice: Client, alice: User
) -> None:
    response = as_alice.post(
        "/notifications/settings/",
        {**{kind: "in_app" for kind in CONFIGURABLE}, "mention": "carrier-pigeon"},
    )

    assert response.status_code == 200
    assert "Choose one of the options." in response.content.decode()
    assert not Preference.objects.filter(user=alice).exists()
    assert alice.display_name == "Alice Arias"


def test_the_account_menu_links_to_every_privacy_page(as_alice: Client, alice: User) -> None:
    page = as_alice.get("/").content.decode()
    menu = page[page.index('class="menu-items"') :]

    for href in [
        f"/members/{alice.pk}/",
        "/members/me/edit/",
        "/members/me/met/",
        "/notifications/settings/",
        "/members/me/blocked/",
        "/members/me/export/",
        "/members/me/delete/",
    ]:
        assert f'href="{href}"' in menu, href


def test_privacy_pages_have_no_inline_scripts_or_styles(as_alice: Client, bob: User) -> None:
    for path in [
        "/members/me/blocked/",
        "/notifications/settings/",
        "/members/me/export/",
        "/members/me/delete/",
        f"/members/{bob.pk}/report/",
    ]:
        page = as_alice.get(path).content.decode()
        assert "<script>" not in page and "<style" not in page and " style=" not in page, path


# Data export


def test_the_export_page_explains_what_is_included(as_alice: Client) -> None:
    response = as_alice.get("/members/me/export/")

    page = response.content.decode()
    assert "What the file contains" in page
    assert 'method="post"' in page and "Download my data" in page


def test_the_export_downloads_everything_about_me_and_nothing_private_of_others(
    alice: User, bob: User, outsider: User
) -> None:
    alice.time_zone = "America/Mexico_City"
    alice.save()
    profile = alice.profile
    profile.bio = "Illustrator who runs."
    profile.save()
    profile.interests.set([InterestFactory.create(label_es="Watercolour")])
    AcquaintanceFactory.create(owner=alice, other=bob, note="Knows about grants")
    AcquaintanceFactory.create(owner=bob, other=alice, note="Bob's secret about Alice")
    AcquaintanceFactory.create(owner=outsider, other=bob, note="Carol's own note")
    BlockFactory.create(blocker=alice, blocked=outsider)
    BlockFactory.create(blocker=bob, blocked=alice)
    ReportFactory.create(reporter=bob, reported=alice, details="Bob reported Alice")

    with time_machine.travel(datetime(2025, 3, 1, 3, 0, tzinfo=UTC), tick=False):
        response = client_for(alice).post("/members/me/export/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert (
        response["Content-Disposition"] == 'attachment; filename="coworking-export-2025-02-28.json"'
    )
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    assert text.startswith('{\n  "exported_at"')
    data = json.loads(text)
    assert data["account"]["email"] == "alice@example.com"
    assert data["profile"]["bio"] == "Illustrator who runs."
    assert data["profile"]["interests"] == ["Watercolour"]
    assert [(met["member"], met["note"]) for met in data["people_met"]] == [
        ("Bob Bravo", "Knows about grants")
    ]
    assert data["blocked_members"] == ["Carol Cruz"]
    for secret in ["Bob's secret about Alice", "Carol's own note", "Bob reported Alice"]:
        assert secret not in text
    assert "bob@example.com" not in text


def test_the_export_holds_sessions_settings_and_what_the_member_set_up(alice: User) -> None:
    from events.models import EventSeries
    from focus.models import FocusBlock, FocusSeries

    browser = Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
    assert browser.login(email=alice.email, password=PASSWORD)
    browser.get("/notifications/settings/", REMOTE_ADDR="203.0.113.7")
    alice.profile.messages_from = "met"
    alice.profile.save()
    FocusBlock.objects.create(
        title="Escritura", starts_at=datetime(2030, 1, 7, 9, 0, tzinfo=UTC), created_by=alice
    )
    FocusSeries.objects.create(
        title="Martes de foco",
        weekday=1,
        local_time="09:00",
        starts_on=date(2030, 1, 1),
        created_by=alice,
    )
    EventSeriesFactory.create(title="Club de lectura", host=alice)

    data = json.loads(client_for(alice).post("/members/me/export/").content)

    [session, *_others] = data["account"]["sessions"]
    assert session["ip"] == "203.0.113.7" and "Firefox" in session["browser"]
    assert data["profile"]["messages_from"] == "met"
    assert [block["title"] for block in data["focus"]["blocks_set_up"]] == ["Escritura"]
    assert [series["title"] for series in data["focus"]["series_set_up"]] == ["Martes de foco"]
    assert [series["series"] for series in data["events"]["series_hosted"]] == ["Club de lectura"]
    assert EventSeries.objects.count() == 1


def test_the_export_names_the_photo_by_a_whole_address_and_programmes_as_read(
    alice: User, settings: Any
) -> None:
    from django.core.files.base import ContentFile

    from matching.models import Participation, Programme

    settings.SITE_URL = "https://cowork.example"
    alice.profile.photo.save("me.webp", ContentFile(b"RIFF"), save=True)
    community = Programme.objects.get(slug="community")
    Participation.objects.create(user=alice, programme=community, opted_in=True)
    client = client_for(alice)

    data = json.loads(client.post("/members/me/export/", HTTP_ACCEPT_LANGUAGE="es").content)

    assert data["profile"]["photo"].startswith("https://cowork.example/media/photos/")
    assert [p["programme"] for p in data["coffee_pairs"]["programmes"]] == ["Cafés en pareja"]


# Account deletion


def test_the_delete_page_says_what_goes_and_what_stays(as_alice: Client) -> None:
    page = as_alice.get("/members/me/delete/").content.decode()

    assert "What we remove" in page and "What stays" in page and "Your plans" in page
    assert "Meetups you host that have not ended are cancelled" in page
    assert "Former member" in page
    assert 'type="password" name="password"' in page
    assert 'autocomplete="current-password"' in page


def test_a_wrong_password_deletes_nothing(as_alice: Client, alice: User) -> None:
    response = as_alice.post("/members/me/delete/", {"password": "not-my-password"})

    assert response.status_code == 400
    assert "That is not your current password." in response.content.decode()
    alice.refresh_from_db()
    assert alice.deleted_at is None and alice.is_active
    assert as_alice.get("/notifications/settings/").status_code == 200


def test_password_guessing_on_the_delete_page_is_rate_limited(
    as_alice: Client, alice: User
) -> None:
    for _ in range(10):
        as_alice.post("/members/me/delete/", {"password": "guess"})

    response = as_alice.post("/members/me/delete/", {"password": PASSWORD})

    assert response.status_code == 400
    assert "Too many attempts" in response.content.decode()
    alice.refresh_from_db()
    assert alice.deleted_at is None


def test_members_without_a_password_are_asked_to_set_one(alice: User) -> None:
    alice.set_unusable_password()
    alice.save()
    client = client_for(alice)

    page = client.get("/members/me/delete/").content.decode()
    response = client.post("/members/me/delete/", {"password": ""})

    assert 'href="/accounts/password/set/"' in page
    assert 'name="password"' not in page
    assert response.status_code == 400
    alice.refresh_from_db()
    assert alice.deleted_at is None


def test_deleting_the_account_removes_the_member_everywhere(alice: User, bob: User) -> None:
    laptop, phone = Client(HTTP_ACCEPT_LANGUAGE="en"), Client(HTTP_ACCEPT_LANGUAGE="en")
    for device in (laptop, phone):
        assert device.login(email="alice@example.com", password=PASSWORD)
        assert device.get("/notifications/settings/").status_code == 200
    AcquaintanceFactory.create(owner=bob, other=alice, note="About Alice")

    response = laptop.post("/members/me/delete/", {"password": PASSWORD}, follow=True)

    assert response.redirect_chain == [("/", 302)]
    assert "Your account is deleted." in response.content.decode()
    assert not response.context["user"].is_authenticated
    alice.refresh_from_db()
    assert alice.deleted_at is not None and not alice.is_active
    assert alice.name == "Former member"
    assert not Acquaintance.objects.filter(other=alice).exists()
    # The other device is signed out too.
    assert phone.get("/notifications/settings/")["Location"].startswith("/accounts/login/")
    # Others no longer find the profile.
    assert client_for(bob).get(f"/members/{alice.pk}/").status_code == 404
    # The old credentials no longer work.
    login = Client().post("/accounts/login/", {"login": "alice@example.com", "password": PASSWORD})
    assert "_auth_user_id" not in login.wsgi_request.session
    # The address is free for a new account.
    signup = Client().post(
        "/accounts/signup/",
        {"email": "alice@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert signup.status_code == 302
    newcomer = User.objects.get(email="alice@example.com")
    assert newcomer.pk != alice.pk and newcomer.deleted_at is None


def test_a_block_outlives_the_account_so_what_it_hid_stays_hidden(
    as_alice: Client, alice: User, bob: User
) -> None:
    room = RoomFactory.create()
    MessageFactory.create(room=room, author=alice, text="Only for those I did not block")
    as_alice.post(f"/members/{bob.pk}/block/")
    as_bob = client_for(bob)
    assert "Only for those I did not block" not in as_bob.get(f"/rooms/{room.slug}/").text

    as_alice.post("/members/me/delete/", {"password": PASSWORD})

    alice.refresh_from_db()
    assert alice.deleted_at is not None
    assert "Only for those I did not block" not in as_bob.get(f"/rooms/{room.slug}/").text


def test_the_old_settings_address_in_sent_emails_still_leads_there(as_alice: Client) -> None:
    response = as_alice.get("/members/me/settings/")

    assert response.status_code == 301
    assert response["Location"] == "/notifications/settings/"


def test_a_member_blocked_by_another_cannot_write_to_them_as_to_someone_gone(
    alice: User, bob: User
) -> None:
    """Bob blocking Alice: his profile is not there for her, nor is he to write to, as for
    an account that is gone (no refusal of its own to tell her of the block). His report
    page stays open to her (someone who harassed then blocked can still be reported)."""
    suspended = onboarded_member("Susana Suspendida", is_active=False)
    BlockFactory.create(blocker=bob, blocked=alice)
    as_alice = client_for(alice)

    def answers(member: User) -> list[int]:
        return [
            as_alice.get(f"/members/{member.pk}/").status_code,
            as_alice.post(f"/messages/with/{member.pk}/").status_code,
        ]

    assert answers(bob) == answers(suspended) == [404, 404]
    assert as_alice.get(f"/members/{bob.pk}/report/").status_code == 200
    assert as_alice.get(f"/members/{suspended.pk}/report/").status_code == 404
    assert not Conversation.objects.exists()


def test_deleting_the_account_ends_its_sessions_and_forgets_its_sign_ins_and_admin_history(
    alice: User, staff: User
) -> None:
    laptop, phone = Client(HTTP_ACCEPT_LANGUAGE="en"), Client(HTTP_ACCEPT_LANGUAGE="en")
    for device in (laptop, phone):
        assert device.login(email="alice@example.com", password=PASSWORD)
        assert device.get("/notifications/settings/").status_code == 200
    assert UserSession.objects.filter(user=alice).count() == 2
    SocialAccount.objects.create(
        user=alice,
        provider="google",
        uid="104842918273645",
        extra_data={"name": "Alice Arias", "email": "alice@example.com"},
    )
    # Staff edited the account in the admin, which wrote down its name.
    LogEntry.objects.log_actions(
        user_id=staff.pk,
        queryset=[alice],
        action_flag=CHANGE,
        change_message="Changed the email address to alice@example.com (Alice Arias).",
    )
    assert LogEntry.objects.get().object_repr == "Alice Arias"
    # And rows of hers, by their own names: a report about her, her subscription.
    for row in (ReportFactory.create(reported=alice), SubscriberFactory.create(email=alice.email)):
        LogEntry.objects.log_actions(
            user_id=staff.pk, queryset=[row], action_flag=CHANGE, change_message=""
        )
    assert LogEntry.objects.filter(object_repr__contains="Alice Arias").count() == 2

    response = laptop.post("/members/me/delete/", {"password": PASSWORD})

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.deleted_at is not None
    assert not SocialAccount.objects.filter(user=alice).exists()
    # Ended, not just refused on the next request: the phone's session is gone too.
    assert not UserSession.objects.filter(user=alice).exists()
    assert not Session.objects.filter(session_key=phone.session.session_key).exists()
    # The admin keeps its history of the account, without naming whose it was.
    entry = LogEntry.objects.get(content_type__model="user")
    assert entry.object_id == str(alice.pk) and entry.user_id == staff.pk
    for entry in LogEntry.objects.all():
        for words in ("Alice", "Arias", "alice@example.com"):
            assert words not in entry.object_repr and words not in entry.change_message


def test_the_admin_s_history_of_others_keeps_a_name_the_deleted_member_shared(
    staff: User,
) -> None:
    """Scrubbed by the name alone, another member's entry "Ana López" read "#<id> López",
    and an event's "Ana de Armas fan club" lost its first word."""
    ana = UserFactory.create(display_name="Ana", first_name="", last_name="")
    other = UserFactory.create(display_name="Ana López")
    event = EventFactory.create(title="Ana de Armas fan club")
    for row in (other, event):
        LogEntry.objects.log_actions(
            user_id=staff.pk, queryset=[row], action_flag=CHANGE, change_message=""
        )

    account_delete(user=ana)

    assert sorted(LogEntry.objects.values_list("object_repr", flat=True)) == [
        "Ana López",
        "Ana de Armas fan club",
    ]

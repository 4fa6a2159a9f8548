"""The moderation queue (/staff/moderation/ and the Report admin): dismiss, warn, remove the
message, suspend; and the refusals."""

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from members.models import Block, User
from members.privacy import account_delete
from members.services import member_reinstate, member_suspend
from members.tasks import reinstatement_notice_send, suspension_notice_send
from moderation.models import Report
from moderation.tasks import report_removal_send, report_warning_send
from rooms.models import Room, RoomParticipation
from rooms.selectors import history
from rooms.services import RoomAccessDenied
from tests.conftest import SmtpSink
from tests.factories import (
    PASSWORD,
    BlockFactory,
    MessageFactory,
    ReportFactory,
    RoomFactory,
    UserFactory,
    client_for,
    moderator,
)


@pytest.fixture
def mallory(db: None) -> User:
    return UserFactory.create(display_name="Mallory", language="en")


def act(staff: User, report: Report, action: str, note: str = "") -> Any:
    return client_for(staff).post(
        f"/staff/moderation/{report.pk}/", {"action": action, "note": note}, follow=True
    )


def test_staff_see_how_many_reports_wait_on_every_page_and_members_do_not(
    staff: User, mallory: User
) -> None:
    ReportFactory.create_batch(2, reported=mallory)
    ReportFactory.create(reported=mallory, status=Report.Status.DISMISSED)

    staff_home = client_for(staff).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    queue = client_for(staff).get("/staff/moderation/", HTTP_ACCEPT_LANGUAGE="en")
    member_home = client_for(mallory).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert re.search(r'href="/staff/"[^>]*>Staff <span class="nav-count"[^>]*>2</span>', staff_home)
    assert ", 2 open reports</span>" in staff_home
    assert re.search(r"Moderation <span[^>]*>2</span>", queue.content.decode())
    assert "open report" not in member_home


def test_the_queue_shows_open_reports_with_the_reported_message(
    staff: User, mallory: User, django_assert_max_num_queries: Any
) -> None:
    message = MessageFactory.create(author=mallory, text="Buy my course!!!")
    ReportFactory.create(reported=mallory, message=message, subject=f"room message {message.pk}")
    ReportFactory.create_batch(3, reported=mallory)
    ReportFactory.create(reported=mallory, status=Report.Status.DISMISSED)
    client = client_for(staff)
    client.get("/staff/moderation/")

    with django_assert_max_num_queries(12):
        response = client.get("/staff/moderation/")

    html = response.content.decode()
    assert html.count('class="card report"') == 4
    assert "Buy my course!!!" in html
    assert html.count('value="remove_message"') == 1
    # Suspending shuts a member out at once: its button waits behind a confirm step.
    forms = re.findall(r'<form method="post" action="/staff/moderation/.*?</form>', html, re.S)
    assert len(forms) == 4
    for form in forms:
        step = form[form.index('<details class="confirm-step">') :]
        assert 'value="suspend"' in step[: step.index("</details>")]
    assert (
        client.get("/staff/moderation/?status=dismissed")
        .content.decode()
        .count('class="card report"')
        == 1
    )


def test_dismissing_records_who_when_and_the_note(staff: User, mallory: User) -> None:
    report = ReportFactory.create(reported=mallory)

    response = act(staff, report, "dismiss", note="Not against the rules.")

    assert "Report dismissed." in response.content.decode()
    report.refresh_from_db()
    assert (report.status, report.action, report.handled_by) == ("dismissed", "dismissed", staff)
    assert report.handled_at is not None
    assert report.staff_note == "Not against the rules."


def test_a_report_another_staff_member_handled_takes_no_second_step(
    staff: User, mallory: User
) -> None:
    report = ReportFactory.create(reported=mallory)
    act(staff, report, "dismiss", note="Not against the rules.")
    other = moderator(UserFactory.create())

    response = act(other, report, "suspend", note="Suspend them")  # from a page loaded before

    assert "Someone already handled this report." in response.content.decode()
    mallory.refresh_from_db()
    assert mallory.is_active
    report.refresh_from_db()
    assert (report.status, report.handled_by, report.staff_note) == (
        "dismissed",
        staff,
        "Not against the rules.",
    )


def test_a_warning_is_emailed_once_in_the_members_language(
    staff: User, mallory: User, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    report = ReportFactory.create(reported=mallory, reason=Report.Reason.SPAM)

    with django_capture_on_commit_callbacks(execute=True):
        act(staff, report, "warn", note="Third advert this week.")

    report.refresh_from_db()
    assert (report.status, report.action) == ("actioned", "warned")
    assert report.warning_sent_at is not None
    [email] = mail.outbox
    assert email.to == [mallory.email]
    # "You can reply to this email": the reply reaches the team.
    assert email.reply_to == [settings.CONTACT_EMAIL]
    assert email.subject == "A note from the community team"
    assert "Spam or advertising" in email.body
    # The staff note is for staff: it never reaches the member.
    assert "Third advert" not in email.body
    assert "Third advert" not in str(email.alternatives[0][0])  # type: ignore[attr-defined]
    # The guidelines it asks the member to keep to are a click away.
    assert f"Read the community guidelines: {settings.SITE_URL}/guidelines/" in email.body

    report_warning_send(report.pk)  # a redelivered task
    assert len(mail.outbox) == 1


def test_a_warning_names_what_was_reported_in_the_members_words(
    staff: User, mallory: User, django_capture_on_commit_callbacks: Any
) -> None:
    message = MessageFactory.create(author=mallory, text="Buy my course!!!")
    report = ReportFactory.create(
        reported=mallory, message=message, subject=f"room message {message.pk}"
    )

    with django_capture_on_commit_callbacks(execute=True):
        act(staff, report, "warn")

    [email] = mail.outbox
    assert f"(a message of yours in the room “{message.room.name}”)" in email.body
    assert "room message" not in email.body  # the staff's label

    # The cafeteria, in Spanish, by its Spanish name.
    lucia = UserFactory.create(language="es")
    said = MessageFactory.create(author=lucia, room=Room.objects.get(kind=Room.Kind.CAFETERIA))
    with django_capture_on_commit_callbacks(execute=True):
        act(staff, ReportFactory.create(reported=lucia, message=said), "warn")
    assert "un mensaje tuyo en la sala «Cafetería»" in mail.outbox[-1].body


def test_removing_the_message_deletes_it_for_the_room(
    staff: User,
    mallory: User,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    heard: list[int] = []

    async def chat_deleted(*, message: Any) -> None:
        heard.append(message.pk)

    monkeypatch.setattr("rooms.broadcast.chat_deleted", chat_deleted)
    message = MessageFactory.create(author=mallory, text="Insult")
    report = ReportFactory.create(reported=mallory, message=message)

    with django_capture_on_commit_callbacks(execute=True):
        act(staff, report, "remove_message")

    message.refresh_from_db()
    assert message.is_deleted and message.text == "" and message.deleted_by == staff
    assert heard == [message.pk]
    report.refresh_from_db()
    assert report.action == "message_removed"
    # Its author is told, once, in their language, what was removed and why.
    [email] = mail.outbox
    assert email.to == [mallory.email]
    assert email.subject == "A message of yours was removed"
    assert f"Another member reported a message of yours in the room “{message.room.name}”" in (
        email.body
    )
    report_removal_send(report.pk)  # a redelivered task
    assert len(mail.outbox) == 1
    # A second report of the same message, acted on: it went already, nobody is told again.
    second = ReportFactory.create(reported=mallory, message=message)
    with django_capture_on_commit_callbacks(execute=True):
        act(staff, second, "remove_message")
    assert len(mail.outbox) == 1


def test_there_is_no_message_to_remove_on_a_profile_report(staff: User, mallory: User) -> None:
    report = ReportFactory.create(reported=mallory)

    response = act(staff, report, "remove_message")

    assert "This report is not about a message." in response.content.decode()
    report.refresh_from_db()
    assert report.status == "open"


def test_suspending_deactivates_the_account_signs_it_out_and_tells_the_member_once(
    staff: User,
    mallory: User,
    smtp: SmtpSink,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    report = ReportFactory.create(reported=mallory)
    mallorys_browser = client_for(mallory)
    assert mallorys_browser.get("/rooms/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        act(staff, report, "suspend")

    mallory.refresh_from_db()
    assert not mallory.is_active
    assert mallory.suspended_by == staff and mallory.suspended_at is not None
    report.refresh_from_db()
    assert (report.status, report.action) == ("actioned", "suspended")
    assert mallorys_browser.get("/rooms/").status_code == 302
    # Told once, in her language, with whom to write to; a redelivered task says nothing more.
    told = smtp.wait_for(mallory.email)
    assert str(told["Reply-To"]) == settings.CONTACT_EMAIL
    body = told.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "has suspended your" in body and settings.CONTACT_EMAIL in body
    suspension_notice_send(mallory.pk)
    assert len(smtp.messages) == 1
    # Logging in again says why it fails and where to write.
    page = Client().post(
        "/accounts/login/", {"login": mallory.email, "password": PASSWORD}, follow=True
    )
    assert "Esta cuenta está suspendida" in page.content.decode()
    assert f'href="mailto:{settings.CONTACT_EMAIL}"' in page.content.decode()


def test_a_lifted_suspension_is_told_once_per_lift_with_the_way_back_in(
    staff: User,
    mallory: User,
    smtp: SmtpSink,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    member_suspend(user=mallory, by=staff)
    staff_browser = client_for(staff)
    lift = {"action": "reinstate", "_selected_action": [mallory.pk]}

    with django_capture_on_commit_callbacks(execute=True):
        staff_browser.post("/admin/members/user/", lift)

    told = smtp.wait_for(mallory.email)
    assert told["Subject"] == f"Your {settings.SITE_NAME} account is open again"
    assert str(told["Reply-To"]) == settings.CONTACT_EMAIL
    body = told.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert f"{settings.SITE_URL}/accounts/login/" in body
    assert "sign up again for those you still want to join" in body
    mallory.refresh_from_db()
    assert mallory.reinstated_at is not None
    # A redelivered task, or the same lift asked for again, says nothing more.
    reinstatement_notice_send(mallory.pk)
    with django_capture_on_commit_callbacks(execute=True):
        member_reinstate(user=mallory)
    assert len(smtp.messages) == 1

    # Suspended again before the next lift's email went: nothing to say; lifted again: told.
    member_suspend(user=mallory, by=staff)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        member_reinstate(user=User.objects.get(pk=mallory.pk))
    member_suspend(user=User.objects.get(pk=mallory.pk), by=staff)
    for callback in queued:
        callback()
    assert len(smtp.messages) == 1
    with django_capture_on_commit_callbacks(execute=True):
        member_reinstate(user=User.objects.get(pk=mallory.pk))
    assert len(smtp.messages) == 2
    assert told["Message-ID"] != smtp.messages[1]["Message-ID"]


def test_staff_accounts_cannot_be_suspended(staff: User) -> None:
    colleague = UserFactory.create(is_staff=True)
    report = ReportFactory.create(reported=colleague)

    response = act(staff, report, "suspend")

    assert "Staff accounts cannot be suspended from here." in response.content.decode()
    colleague.refresh_from_db()
    assert colleague.is_active


def test_a_suspended_member_s_other_reports_offer_no_warning_and_a_refusal_keeps_the_note(
    staff: User, mallory: User
) -> None:
    first, second = ReportFactory.create(reported=mallory), ReportFactory.create(reported=mallory)
    act(staff, first, "suspend")

    queue = client_for(staff).get("/staff/moderation/").content.decode()
    assert "Mallory" in queue
    assert 'value="warn"' not in queue
    # A queue opened before the suspension still posts it: refused, the note kept.
    response = act(staff, second, "warn", note="Second report about the same spam")

    assert "This account is closed or suspended" in response.content.decode()
    second.refresh_from_db()
    assert second.status == "open" and second.staff_note == "Second report about the same spam"
    assert "Second report about the same spam</textarea>" in response.content.decode()


def test_an_unknown_action_changes_nothing(staff: User, mallory: User) -> None:
    report = ReportFactory.create(reported=mallory)

    act(staff, report, "delete_everything")

    report.refresh_from_db()
    assert report.status == "open"


def test_the_report_admin_runs_the_same_steps(staff: User, mallory: User) -> None:
    reports = ReportFactory.create_batch(2, reported=mallory)

    response = client_for(staff).post(
        "/admin/moderation/report/",
        {"action": "suspend", "_selected_action": [r.pk for r in reports], "confirm": "yes"},
        follow=True,
    )

    assert response.status_code == 200
    mallory.refresh_from_db()
    assert not mallory.is_active
    assert set(Report.objects.values_list("action", flat=True)) == {"suspended"}


# Reporting a message from a room ------------------------------------------------------------


def test_a_member_reports_a_message_from_the_room(mallory: User) -> None:
    ana = UserFactory.create()
    message = MessageFactory.create(author=mallory, text="Rude words")
    url = f"/rooms/{message.room.slug}/messages/{message.pk}/report/"
    client = client_for(ana)

    page = client.get(url)
    assert page.status_code == 200
    assert "Rude words" in page.content.decode()
    response = client.post(url, {"reason": "harassment", "details": "Insulted me."})

    assert response.status_code == 302
    assert response["Location"] == f"/rooms/{message.room.slug}/"
    report = Report.objects.get()
    assert (report.reporter, report.reported, report.message) == (ana, mallory, message)
    assert report.subject == f"room message {message.pk}"


@pytest.mark.django_db
def test_a_newcomer_s_message_is_reported_and_its_author_blocked_in_one_step() -> None:
    # Never finished the welcome form: no profile to open, so no Block button anywhere.
    newcomer = UserFactory.create(display_name="Troll")
    ana = UserFactory.create()
    message = MessageFactory.create(author=newcomer, text="Spam, spam, spam")
    url = f"/rooms/{message.room.slug}/messages/{message.pk}/report/"
    client = client_for(ana)
    assert client.get(f"/members/{newcomer.pk}/").status_code == 404
    assert "Also block Troll" in client.get(url).content.decode()

    response = client.post(
        url, {"reason": "spam", "details": "Posts the same link again and again.", "block": "on"}
    )

    assert response.status_code == 302 and response["Location"] == "/members/me/blocked/"
    assert Report.objects.get().reported == newcomer
    assert Block.objects.filter(blocker=ana, blocked=newcomer).exists()
    room_page = client.get(f"/rooms/{message.room.slug}/").content.decode()
    assert "Spam, spam, spam" not in room_page


@pytest.mark.django_db
def test_a_member_past_the_days_reports_still_blocks_the_author() -> None:
    from moderation.services import REPORTS_PER_DAY

    flooder = UserFactory.create(display_name="Flood")
    ana = UserFactory.create()
    messages = MessageFactory.create_batch(REPORTS_PER_DAY + 1, author=flooder, text="Buy now")
    client = client_for(ana)
    for message in messages[:REPORTS_PER_DAY]:
        client.post(
            f"/rooms/{message.room.slug}/messages/{message.pk}/report/",
            {"reason": "spam", "details": "An advert."},
        )
    last = messages[-1]

    response = client.post(
        f"/rooms/{last.room.slug}/messages/{last.pk}/report/",
        {"reason": "spam", "details": "An advert.", "block": "on"},
        follow=True,
    )

    assert "Your report was not sent" in response.content.decode()
    assert Report.objects.count() == REPORTS_PER_DAY
    assert Block.objects.filter(blocker=ana, blocked=flooder).exists()


@pytest.mark.django_db
def test_a_suspended_member_s_message_still_offers_the_block_which_outlasts_the_lift(
    staff: User,
) -> None:
    harasser = UserFactory.create(display_name="Hugo")
    ana = UserFactory.create()
    message = MessageFactory.create(author=harasser, text="Insults")
    member_suspend(user=harasser, by=staff)
    url = f"/rooms/{message.room.slug}/messages/{message.pk}/report/"
    client = client_for(ana)
    assert "Also block Hugo" in client.get(url).content.decode()

    response = client.post(url, {"reason": "harassment", "details": "Again.", "block": "on"})

    assert response.status_code == 302 and response["Location"] == "/members/me/blocked/"
    member_reinstate(user=harasser)
    assert Block.objects.filter(blocker=ana, blocked=harasser).exists()


@pytest.mark.django_db
def test_a_former_members_message_offers_no_block() -> None:
    gone = UserFactory.create(display_name="Gone")
    message = MessageFactory.create(author=gone, text="Old words")
    account_delete(user=gone)
    page = client_for(UserFactory.create()).get(
        f"/rooms/{message.room.slug}/messages/{message.pk}/report/"
    )
    assert page.status_code == 200 and 'name="block"' not in page.content.decode()


def test_nobody_reports_their_own_a_deleted_or_an_unreadable_message(mallory: User) -> None:
    own = MessageFactory.create(author=mallory)
    assert (
        client_for(mallory).get(f"/rooms/{own.room.slug}/messages/{own.pk}/report/").status_code
        == 403
    )
    gone = MessageFactory.create(author=mallory, text="", deleted_at="2026-01-01T00:00Z")
    ana = UserFactory.create()
    assert (
        client_for(ana).get(f"/rooms/{gone.room.slug}/messages/{gone.pk}/report/").status_code
        == 404
    )
    private = MessageFactory.create(author=mallory, room__private=True)
    assert (
        client_for(ana).get(f"/rooms/{private.room.slug}/messages/{private.pk}/report/").status_code
        == 403
    )
    # A message id from another room is not found through this one.
    assert (
        client_for(ana).get(f"/rooms/{own.room.slug}/messages/{gone.pk}/report/").status_code == 404
    )


def test_having_been_in_an_open_room_is_not_enough_to_read_it_nor_is_a_blocker_s_message(
    mallory: User,
) -> None:
    """An open private room reads as it admits: uninvited since, a member no longer reads
    (nor reports) what is written there; its history stays theirs once it is closed. A
    message by someone on the other side of a block is not found either."""
    ana = UserFactory.create()
    room = RoomFactory.create(private=True, created_by=mallory)
    room.invitees.add(ana)
    RoomParticipation.objects.create(room=room, user=ana, first_seen_at=timezone.now())
    later = MessageFactory.create(room=room, author=mallory, text="Written after she left")
    url = f"/rooms/{room.slug}/messages/{later.pk}/report/"
    assert client_for(ana).get(url).status_code == 200

    room.invitees.remove(ana)
    assert client_for(ana).get(url).status_code == 403
    with pytest.raises(RoomAccessDenied):
        history(room=room, viewer=ana)
    room.close()
    assert [message.text for message in history(room=room, viewer=ana)] == [later.text]

    public = MessageFactory.create(author=mallory, text="Spam")
    path = f"/rooms/{public.room.slug}/messages/{public.pk}/report/"
    assert client_for(ana).get(path).status_code == 200
    BlockFactory.create(blocker=mallory, blocked=ana)
    assert client_for(ana).get(path).status_code == 404


def test_the_admin_counts_the_reports_it_dismissed_in_words_that_agree(
    staff: User, mallory: User
) -> None:
    one, *two = ReportFactory.create_batch(3, reported=mallory)
    admin_page = client_for(staff)

    said = [
        admin_page.post(
            "/admin/moderation/report/",
            {"action": "mark_dismissed", "_selected_action": [report.pk for report in chosen]},
            follow=True,
            HTTP_ACCEPT_LANGUAGE="en",
        ).content.decode()
        for chosen in ([one], two)
    ]

    assert "1 open report dismissed." in said[0]
    assert "2 open reports dismissed." in said[1]

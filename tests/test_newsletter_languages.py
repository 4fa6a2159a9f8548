"""An issue in Spanish and English (docs/newsletter.md): each subscriber gets the version in
their language through the real sending path to a local SMTP server, English readers get the
Spanish one when there is no English version, and staff write, preview and test both."""

import re
from email.message import EmailMessage
from typing import Any

import pytest
from django.test import Client

from members.models import User
from newsletter import services
from newsletter.models import Issue
from tests.conftest import SmtpSink, free_port
from tests.factories import IssueFactory, SubscriberFactory, client_for

pytestmark = pytest.mark.django_db

BOTH = {
    "subject": "Novedades de marzo",
    "body_markdown": "Hola a **todos**: abrimos sala nueva.",
    "subject_en": "March news",
    "body_markdown_en": "Hello **everyone**: a new room opens.",
}


def parts(message: EmailMessage) -> tuple[str, str, str]:
    """Subject, text and HTML of a message the SMTP server received."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return str(message["Subject"]), text.get_content(), html.get_content()


def send(issue: Issue, capture: Any) -> None:
    # The task runs inline (eager) once the transaction commits, as in production's worker.
    with capture(execute=True):
        services.issue_send_start(issue=issue)


def received(smtp: SmtpSink) -> dict[str, EmailMessage]:
    return {str(message["To"]): message for message in smtp.messages}


def test_each_subscriber_gets_the_version_in_their_language(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    SubscriberFactory.create(email="lola@example.org", language="es")
    SubscriberFactory.create(email="liz@example.org", language="en")
    issue = IssueFactory.create(**BOTH)

    send(issue, django_capture_on_commit_callbacks)

    inbox = received(smtp)
    subject, text, html = parts(inbox["lola@example.org"])
    assert subject == "Novedades de marzo"
    assert "Hola a **todos**" in text and "Hello" not in text
    assert "<strong>todos</strong>" in html and "everyone" not in html
    subject, text, html = parts(inbox["liz@example.org"])
    assert subject == "March news"
    assert "Hello **everyone**" in text and "Hola" not in text
    assert '<div lang="en">' in html and "<strong>everyone</strong>" in html
    assert "Unsubscribe with one click:" in text  # the frame in her language too
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT


def test_english_readers_get_the_spanish_version_when_there_is_no_english_one(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    SubscriberFactory.create(email="liz@example.org", language="en")
    issue = IssueFactory.create(subject="Solo en español", body_markdown="Hola a **todos**.")

    send(issue, django_capture_on_commit_callbacks)

    subject, text, html = parts(received(smtp)["liz@example.org"])
    assert subject == "Solo en español"
    assert "Hola a **todos**." in text
    # Marked as Spanish inside an English frame, for screen readers.
    assert '<div lang="es">' in html and '<html lang="en">' in html


def test_staff_write_preview_and_test_both_versions(
    staff: User, smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    SubscriberFactory.create(language="en")
    admin = client_for(staff)

    response = admin.post("/admin/newsletter/issue/add/", BOTH)

    assert response.status_code == 302
    issue = Issue.objects.get()
    change = admin.get(f"/admin/newsletter/issue/{issue.pk}/change/").content.decode()
    assert '<div class="newsletter-preview" lang="es"><p>Hola a <strong>todos</strong>' in change
    assert '<div class="newsletter-preview" lang="en"><p>Hello <strong>everyone</strong>' in change

    tested = admin.post(f"/admin/newsletter/issue/{issue.pk}/send-test/", follow=True)

    assert "2 test copies, one per language, went to" in tested.content.decode()
    subjects = sorted(str(message["Subject"]) for message in smtp.messages)
    assert subjects == ["[TEST] March news", "[TEST] Novedades de marzo"]
    assert {str(message["To"]) for message in smtp.messages} == {staff.email}
    confirm = admin.get(f"/admin/newsletter/issue/{issue.pk}/send/").content.decode()
    assert "reads English" not in confirm

    # The copy's "Read it on the web" shows the team the issue before it goes out.
    plain = smtp.messages[0].get_body(preferencelist=("plain",))
    assert plain is not None
    text = plain.get_content()
    link = re.search(r"https?://\S+?(/newsletter/\d+/)", text)
    assert link and link.group(1) == f"/newsletter/{issue.pk}/"
    web = admin.get(link.group(1), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Preview: this issue has not been sent yet" in web
    assert "Hello <strong>everyone</strong>" in web


def test_the_send_page_says_when_english_readers_will_get_spanish(staff: User) -> None:
    SubscriberFactory.create_batch(2, language="es")
    SubscriberFactory.create(language="en")
    issue = IssueFactory.create(subject="Solo en español")

    confirm = client_for(staff).get(f"/admin/newsletter/issue/{issue.pk}/send/")

    assert "1 of them reads English: the issue has no English version" in (confirm.content.decode())


def test_an_english_body_needs_an_english_subject_and_nothing_typed_is_lost(
    staff: User,
) -> None:
    response = client_for(staff).post("/admin/newsletter/issue/add/", {**BOTH, "subject_en": ""})

    assert response.status_code == 200
    assert "Write the English subject too, or leave both empty." in response.content.decode()
    assert "Hello **everyone**: a new room opens." in response.content.decode()
    assert not Issue.objects.exists()


def test_the_archive_shows_each_visitor_the_version_in_their_language(client: Client) -> None:
    issue = IssueFactory.create(status=Issue.Status.SENT, **BOTH)
    issue.sent_at = issue.created_at
    issue.save()

    english = client.get(issue.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    spanish = client.get(issue.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    listing = client.get("/newsletter/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "<h1>March news</h1>" in english and "<strong>everyone</strong>" in english
    assert "<h1>Novedades de marzo</h1>" in spanish and "<strong>todos</strong>" in spanish
    assert 'lang="en">March news</a>' in listing


def test_a_test_copy_the_mail_server_refuses_is_said_so_on_the_issue_s_page(
    staff: User, smtp: SmtpSink, settings: Any
) -> None:
    issue = IssueFactory.create()
    settings.EMAIL_PORT = free_port()  # nothing listens there

    tested = client_for(staff).post(
        f"/admin/newsletter/issue/{issue.pk}/send-test/", follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert tested.status_code == 200
    assert "The test copy was not sent: the mail server answered" in tested.content.decode()
    assert tested.redirect_chain[-1][0] == f"/admin/newsletter/issue/{issue.pk}/change/"

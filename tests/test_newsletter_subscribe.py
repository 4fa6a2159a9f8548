"""Subscribing: double opt-in for visitors, instant for a member's verified address, the
public page with the archive, and the per-address rate limit."""

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django.utils import timezone

from newsletter.models import Issue, Subscriber
from tests.factories import PASSWORD, IssueFactory, SubscriberFactory, UserFactory, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    """The pages in English, whatever the default language: the tests read their text."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def _subscribe(client: Client, email: str, **extra: str) -> Any:
    return client.post(
        "/newsletter/",
        {"email": email, "language": "en", "consent": "on", **extra},
        REMOTE_ADDR="203.0.113.7",
    )


def _confirm_path(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://[^/\s]+(/newsletter/confirm/[^\s]+/)", str(message.body))
    assert match, message.body
    return match.group(1)


def test_a_visitor_is_pending_until_they_confirm_through_the_emailed_link(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _subscribe(client, "Ana@Example.org")

    assert response.status_code == 302
    subscriber = Subscriber.objects.get(email__iexact="ana@example.org")
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.consent_source == Subscriber.Source.SITE_FORM
    assert subscriber.consent_ip == "203.0.113.7"
    assert subscriber.requested_at is not None and subscriber.confirmed_at is None
    assert subscriber.language == "en"
    [message] = mail.outbox
    assert message.to == ["Ana@Example.org"]
    assert "Confirm your subscription" in message.subject
    path = _confirm_path(message)

    # Opening the link (or a mail scanner fetching it) confirms nothing.
    page = client.get(path)
    assert page.status_code == 200
    assert b"Confirm my subscription" in page.content
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING

    confirmed = client.post(path)
    assert confirmed.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    # However old the link: confirmed is confirmed.
    with time_machine.travel(timezone.now() + timedelta(days=30)):
        assert b"You are already subscribed" in client.get(path).content
    assert subscriber.confirmed_at is not None

    # Single use: opened again (from the email, on another device), it says they are in.
    for again in (client.post(path), Client(HTTP_ACCEPT_LANGUAGE="en").get(path)):
        assert again.status_code == 200
        assert b"You are already subscribed" in again.content
        assert b"Confirm my subscription" not in again.content
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED


def test_the_confirmation_link_expires_after_a_week(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _subscribe(client, "late@example.org")
    path = _confirm_path(mail.outbox[0])

    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert client.post(path).status_code == 404
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_asking_again_retires_the_earlier_link(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            _subscribe(client, "twice@example.org")
    first, second = (_confirm_path(message) for message in mail.outbox)

    assert client.post(first).status_code == 404
    assert client.post(second).status_code == 200
    # Once confirmed, either link says so; a link of an address that left says nothing more.
    assert b"You are already subscribed" in client.get(first).content
    Subscriber.objects.update(status=Subscriber.Status.UNSUBSCRIBED)
    assert client.get(second).status_code == 404


def test_a_forged_token_is_refused(client: Client) -> None:
    subscriber = SubscriberFactory.create(status="pending", confirmation_nonce="abc")
    forged = f"/newsletter/confirm/{subscriber.pk}-abc/"
    assert client.post(forged).status_code == 404
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING


def test_a_member_subscribing_their_verified_address_is_confirmed_at_once(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    member = UserFactory.create(email="marta@example.com")
    client.force_login(member)

    with django_capture_on_commit_callbacks(execute=True):
        response = _subscribe(client, "MARTA@example.com")

    assert response.status_code == 302
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert subscriber.consent_source == Subscriber.Source.MEMBER
    assert subscriber.user == member
    assert subscriber.confirmed_at is not None
    assert mail.outbox == []


def test_a_member_sees_that_the_newsletter_comes_to_them_and_stops_it_from_the_site(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    member = UserFactory.create(email="marta@example.com")
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        _subscribe(client, "marta@example.com")

    page = client.get("/newsletter/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The newsletter comes to marta@example.com, in English." in page
    spanish = client.get("/newsletter/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "El boletín te llega a marta@example.com, en inglés." in spanish
    assert 'action="/newsletter/leave/"' in page and 'name="consent"' not in page

    response = client.post("/newsletter/leave/", HTTP_ACCEPT_LANGUAGE="en", follow=True)

    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED
    page = response.content.decode()
    assert "Done: no more newsletters to marta@example.com." in page
    assert "The newsletter comes to" not in page and 'name="consent"' in page
    # Nobody else's standing shows: a visitor sees the form only.
    assert 'action="/newsletter/leave/"' not in Client().get("/newsletter/").content.decode()
    assert Client().post("/newsletter/leave/").status_code == 302  # to the login page


def _move_account(client: Client, address: str) -> None:
    """allauth's own pages: confirm who you are, add the address, open the emailed link."""
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    client.post("/accounts/email/", {"action_add": "", "email": address})
    [confirmation] = mail.outbox
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", str(confirmation.body))
    assert link is not None
    client.post(link[1])


def test_the_newsletter_follows_a_member_s_new_account_address(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    member = UserFactory.create(email="marta@example.com")
    client.post("/accounts/login/", {"login": member.email, "password": PASSWORD})
    with django_capture_on_commit_callbacks(execute=True):
        _subscribe(client, "marta@example.com")
    mail.outbox.clear()

    _move_account(client, "marta.nueva@example.com")

    member.refresh_from_db()
    assert member.email == "marta.nueva@example.com"
    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.status) == ("marta.nueva@example.com", "confirmed")
    page = client.get("/newsletter/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The newsletter comes to marta.nueva@example.com" in page


def test_a_new_address_with_a_row_of_its_own_keeps_it_and_the_old_one_stops(
    client: Client,
) -> None:
    """Marta once left the list from her new address; moving her account there, she was
    told her old address gets nothing more, and the next issue still went to it."""
    member = UserFactory.create(email="marta@example.com")
    SubscriberFactory.create(email="marta@example.com", user=member)
    SubscriberFactory.create(email="marta.nueva@example.com", status="unsubscribed")
    client.post("/accounts/login/", {"login": member.email, "password": PASSWORD})
    _move_account(client, "marta.nueva@example.com")

    statuses = dict(Subscriber.objects.values_list("email", "status"))
    assert statuses == {
        "marta@example.com": "unsubscribed",
        "marta.nueva@example.com": "unsubscribed",
    }


def test_a_member_s_page_shows_the_subscription_of_their_account_address_first() -> None:
    member = UserFactory.create(email="marta@example.com")
    SubscriberFactory.create(email="marta@example.com")  # by the public form, before joining
    SubscriberFactory.create(email="marta.otra@example.com", user=member)

    page = client_for(member).get("/newsletter/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "The newsletter comes to marta@example.com" in page


def test_leaving_names_the_address_the_newsletter_came_to() -> None:
    member = UserFactory.create(email="marta@example.com")
    SubscriberFactory.create(email="marta.otra@example.com", user=member)

    response = client_for(member).post("/newsletter/leave/", HTTP_ACCEPT_LANGUAGE="en", follow=True)

    assert "Done: no more newsletters to marta.otra@example.com." in response.content.decode()
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED


def test_a_member_subscribing_another_address_gets_the_confirmation_email(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(UserFactory.create(email="marta@example.com"))

    with django_capture_on_commit_callbacks(execute=True):
        _subscribe(client, "marta.personal@example.net")

    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
    assert len(mail.outbox) == 1


def test_the_page_does_not_reveal_whether_an_address_is_subscribed(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    SubscriberFactory.create(email="known@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        known = client.get(_subscribe(client, "known@example.org")["Location"])
        unknown = client.get(_subscribe(client, "unknown@example.org")["Location"])

    assert known.context["messages"]._loaded_messages[0].message == (
        unknown.context["messages"]._loaded_messages[0].message
    )
    # The confirmed subscriber is not emailed again.
    assert [message.to for message in mail.outbox] == [["unknown@example.org"]]


def test_subscribing_requires_the_consent_box(client: Client) -> None:
    response = client.post("/newsletter/", {"email": "a@example.org", "language": "es"})
    assert response.status_code == 200
    assert Subscriber.objects.count() == 0


def test_one_address_gets_few_confirmation_emails(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    responses = []
    for _ in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            responses.append(_subscribe(client, "victim@example.org"))

    assert [response.status_code for response in responses] == [302, 302, 302, 200]
    assert b"Too many attempts" in responses[-1].content
    assert len(mail.outbox) == 3


def test_the_page_lists_sent_issues_only(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    sent = [
        IssueFactory.create(status=Issue.Status.SENT, sent_at=timezone.now() - timedelta(days=n))
        for n in range(5)
    ]
    draft = IssueFactory.create(subject="Secret draft")

    with django_assert_max_num_queries(4):
        response = client.get("/newsletter/")

    assert response.status_code == 200
    assert [issue.pk for issue in response.context["issues"]] == [issue.pk for issue in sent]
    assert b"Secret draft" not in response.content
    # The form says what its fields are for, so a phone fills them in (WCAG 1.3.5).
    assert b'autocomplete="email"' in response.content
    assert b'autocomplete="language"' in response.content
    # A draft's page is a preview for the team: a visitor is asked to log in, a member
    # finds nothing.
    assert client.get(f"/newsletter/{draft.pk}/")["Location"].startswith("/accounts/login/")
    assert client_for(UserFactory.create()).get(f"/newsletter/{draft.pk}/").status_code == 404
    # Staff who may change issues (and so send test copies) but hold no "view" permission.
    editor = UserFactory.create(is_staff=True)
    editor.user_permissions.add(Permission.objects.get(codename="change_issue"))
    assert client_for(editor).get(f"/newsletter/{draft.pk}/").status_code == 200
    page = client.get(f"/newsletter/{sent[0].pk}/")
    assert page.status_code == 200
    assert b"<strong>everyone</strong>" in page.content
    # Going out: its first readers follow "Read it on the web" before the last emails leave.
    Issue.objects.filter(pk=draft.pk).update(status=Issue.Status.SENDING)
    page = client.get(f"/newsletter/{draft.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and b"has not been sent yet" not in page.content


def test_issue_html_is_sanitised() -> None:
    issue = IssueFactory.create(
        body_markdown='Hi <script>alert(1)</script> [x](javascript:alert(1)) <b onclick="x()">b</b>'
    )
    assert "<script" not in issue.body_html
    assert "javascript:" not in issue.body_html
    assert "onclick" not in issue.body_html


def test_the_footer_links_to_the_newsletter(client: Client) -> None:
    response = client.get("/")
    assert b'href="/newsletter/">' in response.content


def test_a_repeated_confirmation_task_sends_one_email() -> None:
    from newsletter.tasks import confirmation_send

    subscriber = SubscriberFactory.create(status="pending", confirmation_nonce="n1")

    confirmation_send(subscriber.pk, "n1")
    confirmation_send(subscriber.pk, "n1")
    confirmation_send(subscriber.pk, "stale-nonce")

    assert len(mail.outbox) == 1


def test_an_address_longer_than_any_mailbox_is_refused_with_a_reason(client: Client) -> None:
    response = _subscribe(client, "a" * 300 + "@example.com")

    assert response.status_code == 200
    assert "Ensure this value has at most 254 characters" in response.content.decode()
    assert not Subscriber.objects.exists()

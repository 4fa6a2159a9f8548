"""Leaving the list: RFC 8058 one-click unsubscribe (POST, no cookie, no login), the GET
page that changes nothing, bounces and complaints, and account export and deletion."""

import io
import json
import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from members.models import User
from members.privacy import account_delete, account_export
from newsletter import emails, services
from newsletter.models import Issue, Subscriber
from tests.factories import IssueFactory, SubscriberFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cookieless() -> Client:
    """A mail client: no session, no CSRF cookie, and CSRF checks on as in production."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def client() -> Client:
    """The pages in English, whatever the default language: the tests read their text."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_every_issue_carries_one_click_unsubscribe_headers_and_links(settings: Any) -> None:
    settings.SITE_URL = "https://cowork.example.com"
    subscriber = SubscriberFactory.create(language="en")
    issue = IssueFactory.create()
    url = emails.unsubscribe_url(subscriber_id=subscriber.pk)

    message = emails.issue_message(
        rendered=emails.issue_render(issue=issue, language="en"),
        to=subscriber.email,
        unsubscribe=url,
    )
    parsed = message.message()

    assert url.startswith("https://cowork.example.com/newsletter/unsubscribe/")
    assert parsed["List-Unsubscribe"] == f"<{url}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in message.body
    html = message.alternatives[0][0]
    assert f'href="{url}"' in str(html)
    assert "<strong>everyone</strong>" in str(html)
    assert "Hello **everyone**" in message.body
    assert emails.UNSUBSCRIBE_PLACEHOLDER not in message.body + str(html)


def test_a_post_without_cookies_unsubscribes(cookieless: Client) -> None:
    subscriber = SubscriberFactory.create()
    path = _path(emails.unsubscribe_url(subscriber_id=subscriber.pk))

    response = cookieless.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.unsubscribed_at is not None
    # Again: still fine, nothing changes.
    assert cookieless.post(path).status_code == 200
    # The link opened once more says so, instead of asking again.
    page = cookieless.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You are not on the newsletter" in page and f'action="{path}"' not in page


def test_a_get_only_asks(cookieless: Client) -> None:
    subscriber = SubscriberFactory.create()
    path = _path(emails.unsubscribe_url(subscriber_id=subscriber.pk))

    response = cookieless.get(path)

    assert response.status_code == 200
    assert f'action="{path}"'.encode() in response.content
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED


def test_a_forged_or_altered_token_unsubscribes_nobody(cookieless: Client) -> None:
    subscriber = SubscriberFactory.create()
    other = SubscriberFactory.create()
    token = _path(emails.unsubscribe_url(subscriber_id=subscriber.pk)).split("/")[3]

    assert cookieless.post(f"/newsletter/unsubscribe/{other.pk}/").status_code == 404
    assert cookieless.post(f"/newsletter/unsubscribe/{token[:-2]}xx/").status_code == 404
    assert set(Subscriber.objects.values_list("status", flat=True)) == {"confirmed"}


def test_only_the_unsubscribe_endpoint_skips_csrf(cookieless: Client) -> None:
    response = cookieless.post(
        "/newsletter/", {"email": "a@example.org", "language": "es", "consent": "on"}
    )
    assert response.status_code == 403
    assert Subscriber.objects.count() == 0


def test_an_undeliverable_address_stays_so_after_unsubscribing(cookieless: Client) -> None:
    subscriber = SubscriberFactory.create(status="undeliverable", undeliverable_reason="bounce")
    cookieless.post(_path(emails.unsubscribe_url(subscriber_id=subscriber.pk)))
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNDELIVERABLE


# Bounces and complaints ---------------------------------------------------------------


def test_the_bounces_command_marks_addresses_from_arguments_and_stdin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bounced = SubscriberFactory.create(email="Bounced@Example.org")
    complained = SubscriberFactory.create(email="angry@example.org")
    fine = SubscriberFactory.create()
    out = io.StringIO()

    call_command("newsletter_bounces", "bounced@example.org", "nobody@example.org", stdout=out)
    monkeypatch.setattr("sys.stdin", io.StringIO("angry@example.org\n"))
    call_command("newsletter_bounces", "--file", "-", "--complaint", stdout=out)

    assert "Marked 1 of 2" in out.getvalue()
    bounced.refresh_from_db()
    complained.refresh_from_db()
    fine.refresh_from_db()
    assert (bounced.status, bounced.undeliverable_reason) == ("undeliverable", "bounce")
    assert (complained.status, complained.undeliverable_reason) == ("undeliverable", "complaint")
    assert fine.status == "confirmed"
    with pytest.raises(CommandError):
        call_command("newsletter_bounces")


def test_undeliverable_addresses_are_not_queued(
    django_capture_on_commit_callbacks: Any,
) -> None:
    SubscriberFactory.create(email="ok@example.org")
    SubscriberFactory.create(email="gone@example.org")
    call_command("newsletter_bounces", "gone@example.org", stdout=io.StringIO())
    issue = IssueFactory.create()

    assert services.issue_send_start(issue=issue) == 1
    assert list(issue.deliveries.values_list("subscriber__email", flat=True)) == ["ok@example.org"]


def test_the_webhook_is_off_without_a_token(settings: Any, cookieless: Client) -> None:
    settings.NEWSLETTER_WEBHOOK_TOKEN = ""
    response = cookieless.post(
        "/newsletter/bounces/", {"email": "x@example.org"}, content_type="application/json"
    )
    assert response.status_code == 404


def test_the_webhook_needs_the_token_and_marks_addresses(settings: Any, cookieless: Client) -> None:
    settings.NEWSLETTER_WEBHOOK_TOKEN = "s3cret-token"
    subscriber = SubscriberFactory.create(email="hard@example.org")
    events = [{"email": "HARD@example.org", "type": "complaint", "detail": "abuse report"}]

    refused = cookieless.post(
        "/newsletter/bounces/",
        json.dumps(events),
        content_type="application/json",
        headers={"Authorization": "Bearer wrong"},
    )
    assert refused.status_code == 403
    subscriber.refresh_from_db()
    assert subscriber.status == "confirmed"

    accepted = cookieless.post(
        "/newsletter/bounces/",
        json.dumps(events),
        content_type="application/json",
        headers={"Authorization": "Bearer s3cret-token"},
    )
    assert accepted.json() == {"marked": 1}
    subscriber.refresh_from_db()
    assert (subscriber.status, subscriber.undeliverable_reason) == ("undeliverable", "complaint")
    assert subscriber.undeliverable_detail == "abuse report"


# Account export and deletion ----------------------------------------------------------


def test_the_export_includes_the_subscription_and_deletion_removes_it() -> None:
    member = UserFactory.create(email="leaving@example.com")
    SubscriberFactory.create(email="Leaving@example.com", consent_source="member", user=member)
    SubscriberFactory.create(email="someone@example.org")
    # Subscribed by the public form at an address the member added later.
    EmailAddress.objects.create(user=member, email="other@example.net", verified=True)
    SubscriberFactory.create(email="other@example.net")
    # Someone else's address, added and never confirmed: their subscription is not the
    # member's to read (it has their consent IP) or to erase (it may record their leaving).
    EmailAddress.objects.create(user=member, email="bob@example.org", verified=False)
    SubscriberFactory.create(email="bob@example.org", consent_ip="203.0.113.9")

    exported = account_export(user=member)["newsletter"]
    assert sorted(entry["email"] for entry in exported) == [
        "Leaving@example.com",
        "other@example.net",
    ]
    linked = next(entry for entry in exported if entry["email"] == "Leaving@example.com")
    assert (linked["status"], linked["consent_source"]) == ("confirmed", "member")

    account_delete(user=member)
    assert sorted(Subscriber.objects.values_list("email", flat=True)) == [
        "bob@example.org",
        "someone@example.org",
    ]


# Admin --------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client: Client, staff: User) -> Client:
    client.force_login(staff)
    return client


def test_staff_preview_test_and_send_an_issue_from_the_admin(
    staff_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    SubscriberFactory.create_batch(3)
    response = staff_client.post(
        "/admin/newsletter/issue/add/",
        {"subject": "March news", "body_markdown": "Hello *March*"},
    )
    assert response.status_code == 302
    issue = Issue.objects.get()
    assert issue.created_by is not None

    change = staff_client.get(f"/admin/newsletter/issue/{issue.pk}/change/")
    assert b"<em>March</em>" in change.content

    staff_client.post(f"/admin/newsletter/issue/{issue.pk}/send-test/")
    [test_copy] = mail.outbox
    assert test_copy.to == ["sam@example.com"]
    assert test_copy.subject == "[TEST] March news"
    assert issue.deliveries.count() == 0

    confirm = staff_client.get(f"/admin/newsletter/issue/{issue.pk}/send/")
    assert b"3 confirmed subscribers" in confirm.content
    issue.refresh_from_db()
    assert issue.status == Issue.Status.DRAFT

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(f"/admin/newsletter/issue/{issue.pk}/send/")
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    assert len(mail.outbox) == 4

    listing = staff_client.get("/admin/newsletter/issue/")
    assert listing.status_code == 200
    assert b'<td class="field-sent_count">3</td>' in listing.content


def test_an_issue_with_nobody_subscribed_yet_stays_a_draft(
    staff_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    """A new community's first issue: sent to nobody, it could never reach the first
    subscribers."""
    SubscriberFactory.create(status=Subscriber.Status.PENDING)
    issue = IssueFactory.create()

    confirm = staff_client.get(f"/admin/newsletter/issue/{issue.pk}/send/").content.decode()
    assert "Nobody has confirmed a subscription yet, so the issue stays a draft." in confirm
    assert "Yes, send it now" not in confirm
    # A POST all the same (an old tab) starts nothing.
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/admin/newsletter/issue/{issue.pk}/send/", follow=True)
    assert "Nobody has confirmed a subscription yet" in response.content.decode()
    issue.refresh_from_db()
    assert issue.status == Issue.Status.DRAFT and issue.send_started_at is None
    assert not issue.deliveries.exists() and not mail.outbox

    # Once someone confirms, it goes.
    SubscriberFactory.create()
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(f"/admin/newsletter/issue/{issue.pk}/send/")
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    assert len(mail.outbox) == 1


def test_members_who_are_not_staff_cannot_send(client: Client) -> None:
    issue = IssueFactory.create()
    client.force_login(UserFactory.create())
    response = client.post(f"/admin/newsletter/issue/{issue.pk}/send/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    issue.refresh_from_db()
    assert issue.status == Issue.Status.DRAFT


def test_staff_mark_subscribers_undeliverable(staff_client: Client) -> None:
    subscriber = SubscriberFactory.create()
    staff_client.post(
        "/admin/newsletter/subscriber/",
        {"action": "mark_undeliverable", "_selected_action": [subscriber.pk], "confirm": "yes"},
    )
    subscriber.refresh_from_db()
    assert (subscriber.status, subscriber.undeliverable_reason) == ("undeliverable", "manual")

"""What the newsletter admin may not delete: an issue once sending starts (the emails that
went out link to its page, and deleting it mid-send stopped the send without a word), and
the row of an address that left or bounced (the record that keeps it from being mailed
again). Drafts, and addresses still on the list, go as before. Reports, the moderation
history, are not deleted in the admin at all."""

import pytest
from django.test import Client

from members.models import User
from moderation.models import Report
from newsletter import services
from newsletter.models import Delivery, Issue, Subscriber
from tests.factories import IssueFactory, ReportFactory, SubscriberFactory, client_for

pytestmark = pytest.mark.django_db

ISSUES = "/admin/newsletter/issue/"
SUBSCRIBERS = "/admin/newsletter/subscriber/"
REPORTS = "/admin/moderation/report/"


def delete_one(admin: Client, changelist: str, pk: int) -> int:
    return admin.post(f"{changelist}{pk}/delete/", {"post": "yes"}).status_code


def delete_selected(admin: Client, changelist: str, *pks: int) -> str:
    page = admin.post(
        changelist,
        {"action": "delete_selected", "_selected_action": list(pks), "post": "yes"},
        follow=True,
    )
    return page.content.decode()


def half_sent_issue() -> Issue:
    """Sending, one of its two deliveries out and one still to go (the task not run)."""
    SubscriberFactory.create_batch(2)
    issue = IssueFactory.create(subject="Noticias de marzo")
    services.issue_send_start(issue=issue)
    first = issue.deliveries.order_by("pk").first()
    assert first is not None
    Delivery.objects.filter(pk=first.pk).update(status=Delivery.Status.SENT)
    return issue


@pytest.mark.parametrize("finished", [False, True], ids=["mid-send", "sent"])
def test_an_issue_that_started_sending_is_never_deleted(staff: User, finished: bool) -> None:
    issue = half_sent_issue()
    if finished:
        issue.deliveries.update(status=Delivery.Status.SENT)
        Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SENT)
    admin = client_for(staff)

    change = admin.get(f"{ISSUES}{issue.pk}/change/").content.decode()
    assert f"{ISSUES}{issue.pk}/delete/" not in change
    assert delete_one(admin, ISSUES, issue.pk) == 403
    refused = delete_selected(admin, ISSUES, issue.pk)

    assert "Noticias de marzo: it has been sent, or is being sent." in refused
    assert issue.deliveries.count() == 2
    # "Read it on the web", in the emails already sent, still opens it.
    assert Client().get(f"/newsletter/{issue.pk}/").status_code == 200


def test_a_draft_is_deleted_alone_or_in_bulk_but_not_with_one_being_sent(staff: User) -> None:
    sending = half_sent_issue()
    draft, other_draft = IssueFactory.create_batch(2)
    admin = client_for(staff)

    delete_selected(admin, ISSUES, draft.pk, sending.pk)
    assert Issue.objects.filter(pk__in=[draft.pk, sending.pk]).count() == 2

    assert delete_one(admin, ISSUES, draft.pk) == 302
    delete_selected(admin, ISSUES, other_draft.pk)
    assert list(Issue.objects.all()) == [sending]


@pytest.mark.parametrize(
    "status", [Subscriber.Status.UNSUBSCRIBED, Subscriber.Status.UNDELIVERABLE]
)
def test_the_row_of_an_address_that_left_stays_and_it_cannot_come_back_confirmed(
    staff: User, status: str
) -> None:
    gone = SubscriberFactory.create(email="ana@example.org", status=status)
    admin = client_for(staff)

    assert delete_one(admin, SUBSCRIBERS, gone.pk) == 403
    refused = delete_selected(admin, SUBSCRIBERS, gone.pk)
    assert "ana@example.org: unsubscribed or undeliverable." in refused
    # The row standing, staff cannot add the address again as confirmed: it is unique.
    added = admin.post(
        f"{SUBSCRIBERS}add/",
        {"email": "Ana@Example.org", "status": "confirmed", "language": "es"},
    )

    assert added.status_code == 200
    assert list(Subscriber.objects.values_list("email", "status")) == [("ana@example.org", status)]


def test_an_address_still_on_the_list_can_be_deleted(staff: User) -> None:
    """A typo staff added, or an address nobody confirmed."""
    typo, unconfirmed = SubscriberFactory.create_batch(2)
    Subscriber.objects.filter(pk=unconfirmed.pk).update(status=Subscriber.Status.PENDING)
    admin = client_for(staff)

    assert delete_one(admin, SUBSCRIBERS, typo.pk) == 302
    delete_selected(admin, SUBSCRIBERS, unconfirmed.pk)

    assert not Subscriber.objects.exists()


def test_a_delivery_is_not_deleted_by_itself_but_goes_with_its_address(staff: User) -> None:
    issue = half_sent_issue()
    sent, waiting = issue.deliveries.order_by("pk")
    admin = client_for(staff)

    assert delete_one(admin, "/admin/newsletter/delivery/", waiting.pk) == 403
    assert delete_one(admin, SUBSCRIBERS, sent.subscriber_id) == 302

    assert list(issue.deliveries.all()) == [waiting]


def test_staff_close_reports_but_never_delete_them(staff: User) -> None:
    report = ReportFactory.create()
    admin = client_for(staff)

    changelist = admin.get(REPORTS).content.decode()
    assert 'value="delete_selected"' not in changelist
    assert delete_one(admin, REPORTS, report.pk) == 403
    delete_selected(admin, REPORTS, report.pk)

    assert Report.objects.filter(pk=report.pk).exists()

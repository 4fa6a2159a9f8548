"""Sending an issue to a real local SMTP server: batches over one kept connection, the
resume after a crash that sends nobody a second copy, bounded retries of refusals."""

import math
import smtplib
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.utils import timezone, translation

from newsletter import emails, services
from newsletter.models import Delivery, Issue, Subscriber
from tests.conftest import SmtpSink, free_port
from tests.factories import IssueFactory, SubscriberFactory

pytestmark = pytest.mark.django_db

# Small batches: what the tests prove (one copy each, one connection per batch, the resume
# after a crash) holds for any batch size, and a few batches send in a moment.
BATCH = 10


@pytest.fixture(autouse=True)
def _small_batches(settings: Any) -> Iterator[None]:
    settings.NEWSLETTER_BATCH_SIZE = BATCH
    settings.SITE_URL = "https://cowork.example.com"
    yield
    # Batches sent by hand keep their connection, as a worker does between batches.
    emails.bulk_connection_close()


def _subscribers(count: int, prefix: str) -> list[Subscriber]:
    now = timezone.now()
    return Subscriber.objects.bulk_create(
        Subscriber(
            email=f"{prefix}{n}@example.org",
            language="en" if n % 3 == 0 else "es",
            status=Subscriber.Status.CONFIRMED,
            consent_source=Subscriber.Source.SITE_FORM,
            confirmed_at=now,
            confirmation_nonce="",
        )
        for n in range(count)
    )


def _received(sink: SmtpSink, issue: Issue) -> Counter[str]:
    return Counter(
        str(message["To"]) for message in sink.messages if message["Subject"] == issue.subject
    )


def _progress(issue: Issue) -> dict[str, int]:
    return {k: v for k, v in services.issue_progress(issue=issue).items() if v}


def test_every_subscriber_gets_one_copy_over_one_connection_kept_between_batches(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    count = 3 * BATCH + BATCH // 2  # a last batch that is not full
    _subscribers(count, "reader")
    SubscriberFactory.create(email="left@example.org", status="unsubscribed")
    SubscriberFactory.create(email="bounced@example.org", status="undeliverable")
    SubscriberFactory.create(email="waiting@example.org", status="pending")
    issue = IssueFactory.create()
    connections_before = smtp.connections

    # The task runs inline (eager) once the transaction commits, batch after batch.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.issue_send_start(issue=issue) == count

    received = _received(smtp, issue)
    assert len(received) == count
    assert set(received.values()) == {1}
    # The task sent its four batches over one connection and closed it when done.
    assert smtp.connections - connections_before == 1
    assert emails._kept.connection is None
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    assert issue.sent_at is not None
    assert _progress(issue) == {"sent": count}


def test_an_issue_starts_once(smtp: SmtpSink) -> None:
    _subscribers(1, "once")
    issue = IssueFactory.create()
    services.issue_send_start(issue=issue)
    with translation.override("en"), pytest.raises(services.NewsletterError, match="already being"):
        services.issue_send_start(issue=issue)


class WorkerLost(BaseException):
    """The worker process dying: nothing in the sender gets to handle it."""


def test_a_crash_mid_batch_then_resume_sends_every_address_exactly_once(
    smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    # Batches with room for the most messages a crash can leave in doubt and for rows
    # after them that were never tried.
    size = 2 * services.IN_DOUBT + 3
    settings.NEWSLETTER_BATCH_SIZE = size
    count = 4 * size
    _subscribers(count, "crash")
    issue = IssueFactory.create()
    services.issue_send_start(issue=issue)
    connections_before = smtp.connections

    # The worst moment, in the second batch: the write recording its second group of
    # results was sent but never committed (it overlaps the next messages), and the worker
    # dies as it is about to write the third group, which the server has accepted too.
    writes_per_batch = math.ceil(size / services.RESULTS_PER_WRITE)
    lost = writes_per_batch + 2
    calls = 0
    record = services._mark_sent

    def dies_mid_batch(pgconn: Any, ids: list[int], batch: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == lost + 1:
            raise WorkerLost
        if calls != lost:
            record(pgconn, ids, batch)

    monkeypatch.setattr(services, "_mark_sent", dies_mid_batch)
    with pytest.raises(WorkerLost):
        for _ in range(20):
            services.issue_send_batch(issue_id=issue.pk)
    monkeypatch.undo()
    recorded = size + services.RESULTS_PER_WRITE
    in_flight = 2 * size - recorded  # the messages in doubt and the untried rest
    assert _progress(issue) == {
        "sent": recorded,
        "sending": in_flight,
        "pending": count - 2 * size,
    }
    # Every message the server accepted and nobody recorded is among those in doubt.
    assert len(_received(smtp, issue)) == recorded + services.IN_DOUBT

    # A new worker right away leaves the dead batch alone (it might still be running)...
    services.issue_send_batch(issue_id=issue.pk)
    assert Delivery.objects.filter(issue=issue, status="sending").count() == in_flight
    # ...and once the claim is stale, the messages in doubt are set aside as unknown and
    # the untried rest of that batch goes out.
    with time_machine.travel(timezone.now() + services.STALE_AFTER + timedelta(seconds=1)):
        for _ in range(20):
            if services.issue_send_batch(issue_id=issue.pk).next_in is None:
                break

    received = _received(smtp, issue)
    assert len(received) == count
    assert set(received.values()) == {1}
    assert _progress(issue) == {
        "sent": count - services.IN_DOUBT,
        "unknown": services.IN_DOUBT,
    }
    for unknown in Delivery.objects.select_related("subscriber").filter(status="unknown"):
        assert received[unknown.subscriber.email] == 1
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    assert smtp.connections - connections_before <= math.ceil(count / size) + 2


class RefusingSink(SmtpSink):
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith("refused"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def refusing_smtp(settings: Any) -> Iterator[RefusingSink]:
    sink = RefusingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    sink.port = controller.port
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    try:
        yield sink
    finally:
        controller.stop()


def test_a_refused_recipient_is_retried_a_few_times_then_left_failed(
    refusing_smtp: RefusingSink,
) -> None:
    SubscriberFactory.create(email="ok1@example.org")
    SubscriberFactory.create(email="refused@example.org")
    SubscriberFactory.create(email="ok2@example.org")
    issue = IssueFactory.create()
    services.issue_send_start(issue=issue)

    outcome = services.issue_send_batch(issue_id=issue.pk)
    assert (outcome.sent, outcome.failed) == (2, 1)
    # Not retried at once.
    assert services.issue_send_batch(issue_id=issue.pk).next_in == 60

    start = timezone.now()
    for attempt in range(1, services.MAX_ATTEMPTS + 2):
        with time_machine.travel(start + attempt * timedelta(minutes=2)):
            services.issue_send_batch(issue_id=issue.pk)

    failed = Delivery.objects.get(issue=issue, status="failed")
    assert failed.attempts == services.MAX_ATTEMPTS
    assert "No such mailbox" in failed.error
    assert _progress(issue) == {"sent": 2, "failed": 1}
    assert sorted(_received(refusing_smtp, issue).elements()) == [
        "ok1@example.org",
        "ok2@example.org",
    ]
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT


class ClosingSink(SmtpSink):
    """Answers 421 (going away) to the second recipient it is given, once: the client
    then hangs up."""

    recipients = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.recipients += 1
        if self.recipients == 2:
            return "421 4.3.2 Shutting down"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def closing_smtp(settings: Any) -> Iterator[ClosingSink]:
    sink = ClosingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    sink.port = controller.port
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    try:
        yield sink
    finally:
        controller.stop()


def test_a_421_reply_refuses_that_recipient_and_puts_the_rest_back_untried(
    closing_smtp: ClosingSink,
) -> None:
    _subscribers(3, "closing")
    issue = IssueFactory.create()
    services.issue_send_start(issue=issue)

    # smtplib hangs up on a 421: the message after it cannot go and is not in doubt.
    with pytest.raises(smtplib.SMTPServerDisconnected):
        services.issue_send_batch(issue_id=issue.pk)
    in_order = Delivery.objects.filter(issue=issue).order_by("pk")
    assert [(d.status, d.attempts) for d in in_order] == [
        ("sent", 1),
        ("failed", 1),
        ("pending", 0),
    ]
    assert "421" in in_order[1].error

    # The task's retry sends the rest; the refused one is tried again a minute later.
    services.issue_send_batch(issue_id=issue.pk)
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        services.issue_send_batch(issue_id=issue.pk)
    assert _progress(issue) == {"sent": 3}
    received = _received(closing_smtp, issue)
    assert len(received) == 3
    assert set(received.values()) == {1}


def test_an_unreachable_server_puts_the_batch_back(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    SubscriberFactory.create()
    issue = IssueFactory.create()
    services.issue_send_start(issue=issue)

    with pytest.raises(OSError):
        services.issue_send_batch(issue_id=issue.pk)

    delivery = Delivery.objects.get(issue=issue)
    assert (delivery.status, delivery.attempts) == ("pending", 0)


def test_who_leaves_or_bounces_after_the_start_is_skipped(smtp: SmtpSink) -> None:
    stays = SubscriberFactory.create()
    leaves = SubscriberFactory.create()
    bounces = SubscriberFactory.create()
    issue = IssueFactory.create()
    services.issue_send_start(issue=issue)
    services.subscriber_unsubscribe(subscriber_id=leaves.pk)
    services.subscribers_mark_undeliverable(emails=[bounces.email.upper()], reason="bounce")

    services.issue_send_batch(issue_id=issue.pk)

    assert list(_received(smtp, issue)) == [stays.email]
    assert _progress(issue) == {"sent": 1, "skipped": 2}


def test_the_resume_tick_picks_up_a_stalled_issue(
    smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsletter import tasks

    _subscribers(5, "stalled")
    issue = IssueFactory.create()
    services.issue_send_start(issue=issue)  # its task was lost: on_commit never ran

    assert tasks.newsletter_resume_tick() == 1

    assert _progress(issue) == {"sent": 5}
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    assert tasks.newsletter_resume_tick() == 0


def test_links_and_images_written_as_the_site_s_own_paths_reach_the_inbox_whole(
    smtp: SmtpSink, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SITE_URL = "https://cowork.example.org"
    SubscriberFactory.create(email="reader@example.org")
    issue = IssueFactory.create(
        body_markdown=(
            "See [the events](/events/), [below](#more) and [elsewhere](https://x.example/a)."
            "\n\n![Our team](/media/team.png)"
        )
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.issue_send_start(issue=issue)

    (message,) = smtp.messages
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert 'href="https://cowork.example.org/events/"' in html
    assert 'src="https://cowork.example.org/media/team.png"' in html
    assert 'href="#more"' in html and 'href="https://x.example/a"' in html
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "[the events](https://cowork.example.org/events/)" in text
    assert "![Our team](https://cowork.example.org/media/team.png)" in text

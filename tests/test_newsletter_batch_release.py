"""A batch that fails after claiming its rows, before a message reaches the server, goes
back whole: nothing is left `sending` with nobody sending it, and the next batch mails
every address exactly once."""

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from newsletter import emails, services
from newsletter.models import Delivery, Issue, Subscriber
from tests.conftest import SmtpSink
from tests.factories import IssueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def newsletter_smtp(smtp: SmtpSink, settings: Any) -> Iterator[SmtpSink]:
    settings.NEWSLETTER_BATCH_SIZE = 100
    settings.SITE_URL = "https://cowork.example.com"
    yield smtp
    # Batches sent by hand keep their connection, as a worker does between batches.
    emails.bulk_connection_close()


def started_issue(*languages: str) -> Issue:
    now = timezone.now()
    Subscriber.objects.bulk_create(
        Subscriber(
            email=f"reader{n}@example.org",
            language=language,
            status=Subscriber.Status.CONFIRMED,
            consent_source=Subscriber.Source.SITE_FORM,
            confirmed_at=now,
            confirmation_nonce="",
        )
        for n, language in enumerate(languages)
    )
    issue = IssueFactory.create()
    services.issue_send_start(issue=issue)  # the test sends its batches itself
    return issue


def progress(issue: Issue) -> dict[str, int]:
    return {k: v for k, v in services.issue_progress(issue=issue).items() if v}


def received(sink: SmtpSink, issue: Issue) -> Counter[str]:
    return Counter(
        str(message["To"]) for message in sink.messages if message["Subject"] == issue.subject
    )


def render_fails(*, on_call: int) -> Callable[..., emails.RenderedIssue]:
    """`emails.issue_render` that raises on its `on_call`-th call (a batch renders once per
    language, in the order its rows come), and works again after."""
    real, calls = emails.issue_render, 0

    def render(*, issue: Issue, language: str) -> emails.RenderedIssue:
        nonlocal calls
        calls += 1
        if calls == on_call:
            raise RuntimeError("the template broke")
        return real(issue=issue, language=language)

    return render


def test_a_rendering_failure_puts_the_whole_batch_back(
    newsletter_smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    issue = started_issue("es", "en", "es", "es", "en")
    monkeypatch.setattr(emails, "issue_render", render_fails(on_call=1))

    with pytest.raises(RuntimeError):
        services.issue_send_batch(issue_id=issue.pk)

    assert progress(issue) == {"pending": 5}
    assert set(Delivery.objects.filter(issue=issue).values_list("attempts", flat=True)) == {0}
    services.issue_send_batch(issue_id=issue.pk)
    assert progress(issue) == {"sent": 5}
    assert sorted(received(newsletter_smtp, issue).values()) == [1] * 5


def test_a_rendering_failure_mid_batch_puts_back_what_was_not_sent(
    newsletter_smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    issue = started_issue("es", "en", "es", "en", "es")
    # The batch's first language renders and its first reader gets a copy; the second fails.
    monkeypatch.setattr(emails, "issue_render", render_fails(on_call=2))

    with pytest.raises(RuntimeError):
        services.issue_send_batch(issue_id=issue.pk)

    after_failure = progress(issue)
    assert set(after_failure) == {"sent", "pending"}
    assert after_failure["sent"] + after_failure["pending"] == 5
    services.issue_send_batch(issue_id=issue.pk)
    assert progress(issue) == {"sent": 5}
    assert sorted(received(newsletter_smtp, issue).values()) == [1] * 5


def test_a_failed_read_of_the_claimed_rows_leaves_them_unclaimed(
    newsletter_smtp: SmtpSink,
) -> None:
    issue = started_issue("es", "en", "es")

    def read_breaks(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        # The query that reads the claimed rows with their subscribers' addresses.
        if sql.startswith("SELECT") and '"newsletter_subscriber"."language"' in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(read_breaks), pytest.raises(OperationalError):
        services.issue_send_batch(issue_id=issue.pk)

    assert progress(issue) == {"pending": 3}
    services.issue_send_batch(issue_id=issue.pk)
    assert progress(issue) == {"sent": 3}
    assert sorted(received(newsletter_smtp, issue).values()) == [1] * 3

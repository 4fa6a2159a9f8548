"""The fast sending path (docs/newsletter.md): each language's copy serialised once and
filled in per recipient, byte for byte what the whole message would have been; one SMTP
connection kept between batches, dropped when it breaks or idles; one write per message;
and still nobody gets two copies when the connection breaks mid-batch."""

import re
import socket
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from email.utils import formatdate
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core.mail.message import forbid_multi_line_headers
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsletter import emails, services, tokens
from newsletter.models import Delivery, Issue, Subscriber
from tests.conftest import SmtpSink, free_port
from tests.factories import IssueFactory

pytestmark = pytest.mark.django_db

BATCH = 10


@pytest.fixture(autouse=True)
def _setup(settings: Any) -> Iterator[None]:
    settings.NEWSLETTER_BATCH_SIZE = BATCH
    settings.SITE_URL = "https://cowork.example.com"
    yield
    emails.bulk_connection_close()


def started_issue(count: int, **fields: Any) -> Issue:
    now = timezone.now()
    Subscriber.objects.bulk_create(
        Subscriber(
            email=f"reader{n}@example.org",
            language="en" if n % 3 == 0 else "es",
            status=Subscriber.Status.CONFIRMED,
            consent_source=Subscriber.Source.SITE_FORM,
            confirmed_at=now,
            confirmation_nonce="",
        )
        for n in range(count)
    )
    issue = IssueFactory.create(**fields)
    services.issue_send_start(issue=issue)  # the test sends its batches itself
    return issue


def progress(issue: Issue) -> dict[str, int]:
    return {k: v for k, v in services.issue_progress(issue=issue).items() if v}


def received(sink: SmtpSink, issue: Issue) -> Counter[str]:
    return Counter(
        str(message["To"]) for message in sink.messages if message["Subject"] == issue.subject
    )


def _normalised(data: bytes) -> bytes:
    """What may differ between any two messages: the date, the message id, the boundary."""
    boundary = re.search(rb'boundary="([^"]+)"', data)
    assert boundary is not None
    data = data.replace(boundary.group(1), b"BOUNDARY")
    data = re.sub(rb"\r\nDate: [^\r]+", b"\r\nDate: DATE", data)
    return re.sub(rb"\r\nMessage-ID: <[^>]+>", b"\r\nMessage-ID: <ID>", data)


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize(
    "address",
    [
        "ana@example.org",
        "a.very.long.local.part.that.goes.on.and.on.for.a.while@subdomain.example.org",
        "josé@ejemplo.es",
    ],
)
def test_a_prepared_copy_is_byte_for_byte_the_whole_message(language: str, address: str) -> None:
    issue = IssueFactory.create(
        subject="Novedades: ¿qué hay de nuevo en la sala?",
        body_markdown="Hola a **todos**: abrimos sala nueva, con café y té.",
        subject_en="What's new",
        body_markdown_en="Hello **everyone**.",
    )
    rendered = emails.issue_render(issue=issue, language=language)
    prepared = emails.issue_prepare(rendered=rendered)
    assert prepared is not None
    unsubscribe = emails.unsubscribe_url(subscriber_id=123456)

    copy = emails.issue_copy(prepared, rendered=rendered, to=address, unsubscribe=unsubscribe)

    whole = emails.issue_message(rendered=rendered, to=address, unsubscribe=unsubscribe)
    expected = whole.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]
    assert isinstance(copy, emails.PreparedCopy)
    assert _normalised(copy.data) == _normalised(expected)
    assert unsubscribe.encode() in copy.data
    assert emails.UNSUBSCRIBE_PLACEHOLDER.encode() not in copy.data


def test_a_copy_whose_placeholder_would_not_survive_is_built_whole() -> None:
    # A line over 998 characters makes the body quoted-printable, whose lines the link
    # would not fit: no prepared version, every copy is built as a whole.
    rendered = emails.RenderedIssue(
        subject="Long",
        text="x" * 1200 + " " + emails.UNSUBSCRIBE_PLACEHOLDER,
        html="<p>" + emails.UNSUBSCRIBE_PLACEHOLDER + "</p>",
    )
    prepared = emails.issue_prepare(rendered=rendered)

    copy = emails.issue_copy(
        prepared, rendered=rendered, to="ana@example.org", unsubscribe="https://u.example/1"
    )
    assert not isinstance(copy, emails.PreparedCopy)
    assert "https://u.example/1" in str(copy.body)


def test_results_are_written_a_few_at_a_time_each_once(
    smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    issue = started_issue(BATCH)
    writes: list[list[int]] = []
    record = services._mark_sent

    def counted(pgconn: Any, ids: list[int], batch: Any) -> None:
        writes.append(list(ids))
        record(pgconn, ids, batch)

    monkeypatch.setattr(services, "_mark_sent", counted)
    with CaptureQueriesContext(connection) as queries:
        assert services.issue_send_batch(issue_id=issue.pk).sent == BATCH

    # In id order (the order sent), RESULTS_PER_WRITE to a write, every message once.
    ids = list(Delivery.objects.filter(issue=issue).order_by("pk").values_list("pk", flat=True))
    assert writes == [
        ids[n : n + services.RESULTS_PER_WRITE] for n in range(0, BATCH, services.RESULTS_PER_WRITE)
    ]
    # Everything else is per batch (the issue, recovery, the claim and their savepoints
    # here), whatever its size.
    assert len(queries.captured_queries) <= 10
    assert progress(issue) == {"sent": BATCH}


def test_the_batches_of_a_send_share_each_language_rendered_once(
    smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    issue = started_issue(3 * BATCH, subject_en="News", body_markdown_en="Hello **all**.")
    rendered: list[str] = []
    render = emails.issue_render

    def counted(*, issue: Issue, language: str) -> emails.RenderedIssue:
        rendered.append(language)
        return render(issue=issue, language=language)

    monkeypatch.setattr(emails, "issue_render", counted)
    services.issue_send_batch(issue_id=issue.pk)
    services.issue_send_batch(issue_id=issue.pk)
    assert sorted(rendered) == ["en", "es"]

    # What the copies show changed: they are made again.
    settings.SITE_URL = "https://elsewhere.example.com"
    services.issue_send_batch(issue_id=issue.pk)
    assert sorted(rendered) == ["en", "en", "es", "es"]
    text = smtp.messages[-1].get_body(("plain",))
    assert text is not None
    assert "https://elsewhere.example.com/newsletter/" in text.get_content()
    assert progress(issue) == {"sent": 3 * BATCH}
    assert set(received(smtp, issue).values()) == {1}


def test_batches_share_a_connection_until_it_idles_or_breaks(smtp: SmtpSink) -> None:
    issue = started_issue(4 * BATCH)
    before = smtp.connections

    services.issue_send_batch(issue_id=issue.pk)
    services.issue_send_batch(issue_id=issue.pk)
    assert smtp.connections - before == 1

    # Broken while idle (the server went away): the next batch notices before sending.
    kept = emails._kept.connection
    assert kept is not None
    kept.connection.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[attr-defined]
    services.issue_send_batch(issue_id=issue.pk)
    assert smtp.connections - before == 2

    # Idle too long: not trusted, a new one opens.
    emails._kept.used_at = time.monotonic() - emails.IDLE_TIMEOUT - 1
    services.issue_send_batch(issue_id=issue.pk)
    assert smtp.connections - before == 3

    assert progress(issue) == {"sent": 4 * BATCH}
    assert set(received(smtp, issue).values()) == {1}


class DroppingSink(SmtpSink):
    """Hangs up without answering once it holds `drop_at` messages: the message being
    sent then has a fate unknown to the sender (here, it was not accepted)."""

    drop_at = -1

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if len(self.messages) == self.drop_at:
            self.drop_at = -1
            server.transport.close()
            return "421 closing"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def dropping_smtp(settings: Any) -> Iterator[DroppingSink]:
    sink = DroppingSink()
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


def test_a_connection_broken_mid_batch_costs_one_unknown_and_no_second_copy(
    dropping_smtp: DroppingSink,
) -> None:
    issue = started_issue(3 * BATCH)
    services.issue_send_batch(issue_id=issue.pk)
    # The kept connection breaks in the second batch, at its fourth message.
    dropping_smtp.drop_at = BATCH + 3

    with pytest.raises(OSError):
        services.issue_send_batch(issue_id=issue.pk)
    assert emails._kept.connection is None
    assert progress(issue) == {"sent": BATCH + 3, "unknown": 1, "pending": 2 * BATCH - 4}

    # The task's retry: a new connection, the rest of the issue, nobody twice.
    while services.issue_send_batch(issue_id=issue.pk).next_in is not None:
        pass
    assert progress(issue) == {"sent": 3 * BATCH - 1, "unknown": 1}
    inbox = received(dropping_smtp, issue)
    assert set(inbox.values()) == {1}
    assert len(inbox) == 3 * BATCH - 1
    unknown = Delivery.objects.select_related("subscriber").get(issue=issue, status="unknown")
    assert unknown.subscriber.email not in inbox


@pytest.mark.django_db(transaction=True)
def test_results_whose_write_fails_are_set_aside_with_the_next_group(
    smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    from newsletter import tasks

    # Committed for real here: the task that would start on commit is held back.
    monkeypatch.setattr(tasks.issue_send, "delay_on_commit", lambda *args: None)
    group = services.RESULTS_PER_WRITE
    settings.NEWSLETTER_BATCH_SIZE = 4 * group
    issue = started_issue(4 * group)
    calls = 0
    record = services._mark_sent

    def first_write_fails(pgconn: Any, ids: list[int], batch: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            # Fails on the server, found out when the next group is due.
            pgconn.send_query_params(b"SELECT 1 / 0", None)
            return
        record(pgconn, ids, batch)

    monkeypatch.setattr(services, "_mark_sent", first_write_fails)
    with pytest.raises(OperationalError):
        services.issue_send_batch(issue_id=issue.pk)
    monkeypatch.undo()
    # The first group stays in doubt; the second, accepted meanwhile, is recorded on the
    # way out; the rest of the batch was never tried.
    assert progress(issue) == {"sent": group, "sending": group, "pending": 2 * group}

    with time_machine.travel(timezone.now() + services.STALE_AFTER + timedelta(seconds=1)):
        while services.issue_send_batch(issue_id=issue.pk).next_in is not None:
            pass
    assert progress(issue) == {"sent": 3 * group, "unknown": group}
    inbox = received(smtp, issue)
    assert len(inbox) == 4 * group
    assert set(inbox.values()) == {1}


def test_the_batch_unsubscribe_links_are_the_signed_links_byte_for_byte() -> None:
    urls = emails.unsubscribe_urls()
    with time_machine.travel(timezone.now(), tick=False):
        for subscriber_id in [1, 42, 123456, 9_876_543_210]:
            url = urls(subscriber_id)
            assert url == emails.unsubscribe_url(subscriber_id=subscriber_id)
            token = url.rstrip("/").rsplit("/", 1)[1]
            assert tokens.unsubscribe_token_read(token) == subscriber_id


@pytest.mark.parametrize("length", [1, 40, 59, 60, 61, 120, 300, 900])
def test_headers_written_by_hand_are_those_the_email_policy_folds(length: int) -> None:
    rendered = emails.issue_render(issue=IssueFactory.create(), language="es")
    prepared = emails.issue_prepare(rendered=rendered)
    assert prepared is not None
    link = "<https://cowork.example.com/" + ("aZ0-_:" * length)[:length] + "/>"
    moments = [0, 951_782_400, 1_798_761_599, 2_147_483_647]
    values = [("List-Unsubscribe", link)] + [
        ("Date", formatdate(moment, localtime=localtime))
        for moment in moments
        for localtime in (False, True)
    ]
    for name, value in values:
        header, folded = forbid_multi_line_headers(name, value, prepared.encoding)
        assert emails._header(prepared, name, value) == prepared.policy.fold_binary(header, folded)

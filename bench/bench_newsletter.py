"""The newsletter sender (`newsletter.services.issue_send_batch`) sending one issue to
10,000 confirmed subscribers through a local SMTP sink (aiosmtpd, its own process), against
a raw `smtplib` loop sending the same number of messages of the same size over one reused
connection, in the same run. The sender's figure includes everything a real send does:
queueing the deliveries, claiming batches, rendering each copy with its own unsubscribe
link and headers, and recording the results (a few to a statement, each committed while
the next messages go out).

`run()` recreates the scratch database `coworking_bench_newsletter`, migrates it, then runs
this module as a separate process (`python -m bench.bench_newsletter`) so that Django is
set up against that database; each phase gets a fresh sink process
(`python -m bench.bench_newsletter --sink PORT`) that reports what it received.
"""

import json
import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench.quick import sized
from bench.scratch import scratch_run

ROOT = Path(__file__).resolve().parent.parent
TITLE = "Newsletter sending (10,000 emails to a local SMTP sink)"
DATABASE_URL = os.environ.get(
    "BENCH_NEWSLETTER_DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/coworking_bench_newsletter",
)
SUBSCRIBERS = sized(10_000, 500)
BATCH = 100
# The two senders take turns, a fifth of the messages each time, so that a change in the
# machine's load during the run weighs on both alike.
ROUNDS = sized(5, 1)
TIME_LIMIT = 300.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run() -> str:
    return scratch_run(
        module="bench.bench_newsletter",
        database_url=DATABASE_URL,
        env={"SITE_URL": "https://cowork.example.com", "NEWSLETTER_BATCH_SIZE": str(BATCH)},
        timeout=TIME_LIMIT,
    )


# --- The sink process ----------------------------------------------------------------------


def _sink(port: int) -> None:
    """Accept everything, keep counts, print them as JSON when terminated."""
    from aiosmtpd.controller import Controller

    # Blocked before the server thread starts, so that only sigwait() receives it.
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
    counts = {"messages": 0, "connections": 0, "bytes": 0}

    class Counting:
        async def handle_EHLO(
            self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
        ) -> list[str]:
            counts["connections"] += 1
            session.host_name = hostname
            return responses

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            counts["messages"] += 1
            counts["bytes"] += len(envelope.content)
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    signal.sigwait([signal.SIGTERM])
    controller.stop()
    print(json.dumps(counts), flush=True)


def _sink_start() -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.bench_newsletter", "--sink", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process, port


def _sink_stop(process: subprocess.Popen[str]) -> dict[str, int]:
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=30)
    counts: dict[str, int] = json.loads(out.strip().splitlines()[-1])
    return counts


# --- The worker process: Django set up against the scratch database -----------------------


def _raw_loop(smtp: smtplib.SMTP, message: bytes, recipients: list[str]) -> float:
    """The floor: one connection, one pre-serialised message, nothing else per recipient."""
    started = time.perf_counter()
    for address in recipients:
        smtp.sendmail("hola@localhost", [address], message)
    return time.perf_counter() - started


def _worker() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coworking.settings")
    django.setup()
    from django.conf import settings
    from django.utils import timezone

    from coworking.celery import app
    from newsletter import emails, services
    from newsletter.models import Delivery, Issue, Subscriber

    # The sender is driven batch by batch below, not by the eager task after commit.
    app.conf.task_always_eager = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    now = timezone.now()
    Subscriber.objects.bulk_create(
        (
            Subscriber(
                email=f"reader{n}@example.org",
                language="en" if n % 4 == 0 else "es",
                status=Subscriber.Status.CONFIRMED,
                consent_source=Subscriber.Source.SITE_FORM,
                confirmed_at=now,
                confirmation_nonce="",
            )
            for n in range(SUBSCRIBERS)
        ),
        batch_size=2000,
    )
    issue = Issue.objects.create(
        subject="Novedades de la comunidad",
        body_markdown="\n\n".join(
            f"## Sección {n}\n\nTexto con **negrita**, una [enlace](https://example.com/{n}) "
            "y una lista:\n\n- uno\n- dos\n- tres"
            for n in range(6)
        ),
    )
    recipients = list(Subscriber.objects.order_by("pk").values_list("email", flat=True))
    sample = (
        emails.issue_message(
            rendered=emails.issue_render(issue=issue, language="es"),
            to=recipients[0],
            unsubscribe=emails.unsubscribe_url(subscriber_id=1),
        )
        .message()
        # As Django's SMTP backend serialises it (its MIME classes take `linesep`).
        .as_bytes(linesep="\r\n")  # type: ignore[call-arg]
    )

    raw_sink, raw_port = _sink_start()
    sender_sink, settings.EMAIL_PORT = _sink_start()
    started = time.perf_counter()
    services.issue_send_start(issue=issue)
    queued = sender_seconds = time.perf_counter() - started
    raw_seconds = 0.0
    batches = 0
    share = SUBSCRIBERS // ROUNDS
    with smtplib.SMTP("127.0.0.1", raw_port) as raw:
        for turn in range(ROUNDS):
            raw_seconds += _raw_loop(raw, sample, recipients[turn * share : (turn + 1) * share])
            started = time.perf_counter()
            for _ in range(share // BATCH):
                services.issue_send_batch(issue_id=issue.pk)
                batches += 1
            sender_seconds += time.perf_counter() - started
    started = time.perf_counter()
    while services.issue_send_batch(issue_id=issue.pk).next_in is not None:
        batches += 1
    sender_seconds += time.perf_counter() - started
    raw_counts = _sink_stop(raw_sink)
    sender_counts = _sink_stop(sender_sink)

    # Where the difference goes: the two per-message costs the raw loop does not have,
    # each timed alone on a sample.
    sample_ids = list(
        Delivery.objects.filter(issue=issue).order_by("pk").values_list("pk", flat=True)[:2000]
    )
    started = time.perf_counter()
    for pk in sample_ids:
        Delivery.objects.filter(pk=pk, status=Delivery.Status.SENT).update(sent_at=now)
    commit_ms = (time.perf_counter() - started) / len(sample_ids) * 1000
    # The sender's own writes, RESULTS_PER_WRITE results each, every one waited for (in a
    # batch each overlaps the next messages' SMTP exchanges instead).
    batch = uuid.uuid4()
    Delivery.objects.filter(pk__in=sample_ids).update(status=Delivery.Status.SENDING, batch=batch)
    ledger = services._Ledger(batch)
    started = time.perf_counter()
    for pk in sample_ids:
        ledger.sent(pk)
        ledger.wait()
    ledger.settle()
    write_ms = (time.perf_counter() - started) / len(sample_ids) * 1000
    rendered = emails.issue_render(issue=issue, language="es")
    started = time.perf_counter()
    for n, address in enumerate(recipients[:2000]):
        emails.issue_message(
            rendered=rendered, to=address, unsubscribe=emails.unsubscribe_url(subscriber_id=n)
        ).message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]
    build_ms = (time.perf_counter() - started) / 2000 * 1000
    prepared = emails.issue_prepare(rendered=rendered)
    started = time.perf_counter()
    unsubscribe_url = emails.unsubscribe_urls()
    for n, address in enumerate(recipients[:2000]):
        emails.issue_copy(prepared, rendered=rendered, to=address, unsubscribe=unsubscribe_url(n))
    copy_ms = (time.perf_counter() - started) / 2000 * 1000

    progress = services.issue_progress(issue=issue)
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT, issue.status
    assert progress[Delivery.Status.SENT] == SUBSCRIBERS, progress
    assert sender_counts["messages"] == raw_counts["messages"] == SUBSCRIBERS

    raw_rate = SUBSCRIBERS / raw_seconds
    sender_rate = SUBSCRIBERS / sender_seconds
    rows = [
        ("Raw `smtplib` loop, one connection", raw_seconds, raw_rate, raw_counts),
        (f"Newsletter sender, batches of {BATCH}", sender_seconds, sender_rate, sender_counts),
    ]
    lines = [
        "| Sender | Time | Messages/s | SMTP connections | Avg. message size |",
        "|---|---|---|---|---|",
    ]
    for label, seconds, rate, counts in rows:
        lines.append(
            f"| {label} | {seconds:.1f} s | {rate:,.0f} | {counts['connections']} | "
            f"{counts['bytes'] / counts['messages'] / 1024:.1f} KiB |"
        )
    lines += [
        "",
        f"- **Throughput: {sender_rate / raw_rate:.0%} of the raw loop** "
        f"({SUBSCRIBERS:,} messages each, received by the sink: "
        f"{sender_counts['messages']:,} and {raw_counts['messages']:,}).",
        f"- Connections: {sender_counts['connections']} for {batches} batches "
        "(the worker keeps one between batches).",
        f"- Queueing the {SUBSCRIBERS:,} delivery rows took {queued:.2f} s of the sender's time.",
        f"- Per message the raw loop takes {1000 / raw_rate:.2f} ms and the sender "
        f"{1000 / sender_rate:.2f} ms. Timed alone on 2,000 messages: one copy with its "
        f"signed unsubscribe link and headers, from the language's prepared bytes "
        f"{copy_ms:.2f} ms (built whole as an `EmailMultiAlternatives`: {build_ms:.2f} ms); "
        f"the sender's writes of results, {services.RESULTS_PER_WRITE} to a statement, "
        f"waited for: {write_ms:.2f} ms a message (an ORM `update()` committing one: "
        f"{commit_ms:.2f} ms). In a batch each write overlaps the next messages' SMTP "
        f"exchanges, which is why a crash can leave up to {services.IN_DOUBT} messages "
        "per batch unknown.",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--sink":
        _sink(int(sys.argv[2]))
    else:
        _worker()

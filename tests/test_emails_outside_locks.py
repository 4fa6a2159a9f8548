"""Emails go out with no row lock held and no transaction open, once per occasion.

While the mail server is receiving a task's email, another database connection tries to lock
the task's row with `FOR UPDATE NOWAIT`: a sender that held the lock (or had not committed its
claim) keeps other writers waiting on the mail server, which is what this file rules out. The
same cases then check that a refused email is given back for the retry and that running a
task again sends nothing more."""

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from celery import Task
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from core.emails import send_once
from events import tasks as event_tasks
from matching import tasks as matching_tasks
from matching.models import Participation, Unmatched
from members import tasks as member_tasks
from members.models import User
from moderation import tasks as moderation_tasks
from moderation.models import Report
from newsletter import tasks as newsletter_tasks
from notifications import tasks as notification_tasks
from notifications.models import Channel, Digest, Kind, Preference, week_of
from notifications.services import notify
from rooms import tasks as room_tasks
from rooms.models import Mention, RoomParticipation
from tests.conftest import smtp_serving
from tests.factories import (
    EventFactory,
    GroupFactory,
    GroupMemberFactory,
    MessageFactory,
    ProfileFactory,
    ProgrammeFactory,
    ReportFactory,
    RoomFactory,
    RsvpFactory,
    SubscriberFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Row:
    """The row a task claims: its table and the condition that finds it."""

    table: str
    where: str
    params: tuple[Any, ...]

    @classmethod
    def of(cls, instance: Model) -> "Row":
        return cls(instance._meta.db_table, "id = %s", (instance.pk,))


@dataclass
class Seen:
    """What another connection found while an email was being received."""

    row: str  # "free", "locked" or "missing" (not committed yet)
    open_transactions: int  # other sessions of this database inside a transaction


@dataclass
class ProbingServer:
    """An SMTP server that looks at the database from its own connection while each message
    arrives (and can refuse the message, as a busy server does)."""

    dsn: dict[str, Any]
    row: Row | None = None
    refuse: bool = False
    seen: list[Seen] = field(default_factory=list)
    received: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # Blocking here on purpose: the sender is waiting for this answer, as it waits for a
        # slow mail server, and whatever it holds meanwhile is what the probe sees.
        self.seen.append(await asyncio.to_thread(self._look))
        if self.refuse:
            return "451 4.3.0 Try again later"
        self.received += 1
        return "250 OK"

    def _look(self) -> Seen:
        assert self.row is not None
        with psycopg.connect(**self.dsn, autocommit=True) as probe:
            try:
                found = probe.execute(
                    f"SELECT 1 FROM {self.row.table} WHERE {self.row.where} FOR UPDATE NOWAIT",
                    self.row.params,
                ).fetchone()
                state = "free" if found else "missing"
            except psycopg.errors.LockNotAvailable:
                state = "locked"
            busy = probe.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'"
            ).fetchone()
        return Seen(row=state, open_transactions=busy[0] if busy else 0)


@pytest.fixture
def server() -> Iterator[ProbingServer]:
    settings = connection.settings_dict
    dsn = {
        "host": settings["HOST"] or "127.0.0.1",
        "port": settings["PORT"] or 5432,
        "user": settings["USER"],
        "password": settings["PASSWORD"] or None,
        "dbname": settings["NAME"],
    }
    with smtp_serving(ProbingServer(dsn=dsn)) as handler:
        yield handler


@dataclass
class Case:
    task: Task  # type: ignore[type-arg]
    args: tuple[Any, ...]
    row: Row


def _member(**fields: Any) -> User:
    user: User = UserFactory.create(language="en", **fields)
    ProfileFactory.create(user=user)
    return user


def intro() -> Case:
    group = GroupFactory.create()
    seat = GroupMemberFactory.create(group=group, user=_member())
    GroupMemberFactory.create(group=group, user=_member())
    return Case(matching_tasks.intro_send, (seat.pk,), Row.of(seat))


def unmatched_notice() -> Case:
    entry = Unmatched.objects.create(round=GroupFactory.create().round, user=_member())
    return Case(matching_tasks.unmatched_notice_send, (entry.pk,), Row.of(entry))


def follow_up() -> Case:
    group = GroupFactory.create()
    seat = GroupMemberFactory.create(group=group, user=_member(), intro_sent_at=timezone.now())
    GroupMemberFactory.create(group=group, user=_member())
    return Case(matching_tasks.follow_up_send, (seat.pk,), Row.of(seat))


def auto_pause_notice() -> Case:
    participation = Participation.objects.create(
        programme=ProgrammeFactory.create(), user=_member(), opted_in=True, auto_paused=True
    )
    return Case(matching_tasks.auto_pause_notice_send, (participation.pk,), Row.of(participation))


def warning() -> Case:
    report = ReportFactory.create(reported=_member(), action=Report.Action.WARNED)
    return Case(moderation_tasks.report_warning_send, (report.pk,), Row.of(report))


def mention() -> Case:
    room = RoomFactory.create()
    ben = _member(display_name="Ben")
    RoomParticipation.objects.create(
        room=room, user=ben, first_seen_at=timezone.now(), last_seen_at=timezone.now()
    )
    message = MessageFactory.create(room=room, text="@Ben hola")
    row = Mention.objects.create(message=message, user=ben)
    return Case(room_tasks.mention_notify, (message.pk, ben.pk), Row.of(row))


def promotion() -> Case:
    rsvp = RsvpFactory.create(user=_member(), promoted_at=timezone.now())
    return Case(event_tasks.rsvp_promoted_notify, (rsvp.pk,), Row.of(rsvp))


def reminder() -> Case:
    soon = timezone.now() + timedelta(minutes=10)
    event = EventFactory.create(starts_at=soon, ends_at=soon + timedelta(hours=1))
    rsvp = RsvpFactory.create(event=event, user=_member())
    return Case(event_tasks.reminder_send, (rsvp.pk, "soon"), Row.of(rsvp))


def event_change() -> Case:
    rsvp = RsvpFactory.create(event=EventFactory.create(sequence=1), user=_member())
    return Case(event_tasks.event_change_send, (rsvp.pk,), Row.of(rsvp))


def calendar_withdrawal() -> Case:
    # A seat given up whose invitation the member's calendar holds.
    rsvp = RsvpFactory.create(
        user=_member(), status="not_going", calendar_sequence=0, calendar_held=True
    )
    return Case(event_tasks.rsvp_calendar_sync, (rsvp.pk,), Row.of(rsvp))


def confirmation() -> Case:
    subscriber = SubscriberFactory.create(status="pending", confirmation_nonce="n1")
    return Case(newsletter_tasks.confirmation_send, (subscriber.pk, "n1"), Row.of(subscriber))


def digest() -> Case:
    ana = _member(email_digest=True)
    Preference.objects.create(user=ana, kind=Kind.WAITLIST_PROMOTED, channel=Channel.DIGEST)
    notify(user=ana, kind=Kind.WAITLIST_PROMOTED, key="seat", text="A seat freed up.")
    week = week_of(timezone.localdate())
    row = Row(Digest._meta.db_table, "user_id = %s AND week = %s", (ana.pk, week))
    return Case(notification_tasks.digest_send, (ana.pk, week.isoformat()), row)


def reinstatement() -> Case:
    ana = _member(reinstated_at=timezone.now())
    return Case(member_tasks.reinstatement_notice_send, (ana.pk,), Row.of(ana))


CASES: dict[str, Callable[[], Case]] = {
    "matching.intro_send": intro,
    "matching.unmatched_notice_send": unmatched_notice,
    "matching.follow_up_send": follow_up,
    "matching.auto_pause_notice_send": auto_pause_notice,
    "moderation.report_warning_send": warning,
    "rooms.mention_notify": mention,
    "events.rsvp_promoted_notify": promotion,
    "events.reminder_send": reminder,
    "events.event_change_send": event_change,
    "events.rsvp_calendar_sync": calendar_withdrawal,
    "newsletter.confirmation_send": confirmation,
    "notifications.digest_send": digest,
    "members.reinstatement_notice_send": reinstatement,
}


# Queued by a beat tick that lists every occasion still unsent (core.emails.send_once,
# `retried_by_tick`).
RETRIED_BY_THEIR_TICK = {
    "matching.tasks.follow_up_send",
    "events.tasks.reminder_send",
    "notifications.tasks.digest_send",
}


@pytest.mark.parametrize("make", CASES.values(), ids=CASES.keys())
def test_no_row_is_locked_while_the_email_is_sent(
    server: ProbingServer, make: Callable[[], Case]
) -> None:
    case = make()
    server.row = case.row

    case.task(*case.args)

    assert server.received == 1
    assert server.seen == [Seen(row="free", open_transactions=0)]


@pytest.mark.parametrize("make", CASES.values(), ids=CASES.keys())
def test_a_refused_email_is_tried_again_and_then_sent_once(
    server: ProbingServer, make: Callable[[], Case]
) -> None:
    case = make()
    server.row = case.row

    server.refuse = True
    result = case.task.apply(args=case.args, retries=case.task.max_retries, throw=False)
    if case.task.name in RETRIED_BY_THEIR_TICK:
        # Its tick lists the occasion again, and queues it again: that is its retry.
        assert result.successful()
    else:
        assert result.failed()  # after its last retry

    server.refuse = False
    case.task(*case.args)  # the retry
    case.task(*case.args)  # a redelivered task
    assert server.received == 1
    assert len(server.seen) == 2


def test_send_once_refuses_to_run_inside_a_transaction() -> None:
    sent: list[str] = []

    with pytest.raises(RuntimeError), transaction.atomic():
        send_once(claim=lambda: 1, send=lambda: sent.append("email"), give_back=lambda: None)

    assert sent == []

"""Subscribing, confirming, leaving, and sending issues in batches (docs/newsletter.md)."""

import contextlib
import select
import smtplib
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from psycopg import pq
from psycopg.pq.abc import PGconn

from members.models import User
from newsletter import emails, tokens
from newsletter.models import Delivery, Issue, Subscriber, new_nonce

# A recipient the server refused is tried this many times in all, a minute or more apart.
MAX_ATTEMPTS = 3
RETRY_FAILED_AFTER = timedelta(minutes=1)
# A row still `sending` this long after its claim belongs to a worker that died: no batch
# lives longer than the task's hard time limit (CELERY_TASK_TIME_LIMIT, 5 minutes).
STALE_AFTER = timedelta(minutes=10)
# Sent results are written this many at a time, in one statement (`_Ledger`). Raising it
# is safe at any time; lowering it is safe only once no batch sent with the larger value
# can still be found stale (STALE_AFTER after the last such worker stopped): recovery
# counts with the value it runs with.
RESULTS_PER_WRITE = 5
# How many messages of a batch may have reached the server with their result not yet
# committed: those whose write is under way and those waiting to be written (`_Ledger`).
IN_DOUBT = 2 * RESULTS_PER_WRITE
# The server answered and said no: the message was certainly not accepted, so trying again
# cannot make a second copy. Any other error leaves the message's fate unknown.
REFUSALS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


class NewsletterError(ValueError):
    pass


# Subscribing ----------------------------------------------------------------------------


def _owns_verified(user: User | None, email: str) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()


@transaction.atomic
def subscriber_subscribe(
    *, email: str, language: str, ip: str | None, user: User | None = None
) -> Subscriber:
    """Ask to receive the newsletter. A member subscribing an address their account has
    verified is confirmed at once; anyone else gets a confirmation link (sent after commit).

    An address already confirmed is left alone and gets no email, so the answer the page
    gives cannot tell a visitor whether somebody is subscribed."""
    email = email.strip()
    subscriber = Subscriber.objects.select_for_update().filter(email__iexact=email).first()
    if subscriber is None:
        try:
            with transaction.atomic():
                subscriber = Subscriber.objects.create(
                    email=email, language=language, consent_source=Subscriber.Source.SITE_FORM
                )
        except IntegrityError:
            # Someone subscribed the same address a moment ago.
            subscriber = Subscriber.objects.select_for_update().get(email__iexact=email)
    elif subscriber.status == Subscriber.Status.CONFIRMED:
        return subscriber

    now = timezone.now()
    # An address that bounced must prove it works again, even a member's own.
    instant = _owns_verified(user, email) and subscriber.status != Subscriber.Status.UNDELIVERABLE
    subscriber.language = language
    subscriber.consent_ip = ip
    subscriber.requested_at = now
    subscriber.unsubscribed_at = None
    if instant:
        subscriber.user = user
        subscriber.status = Subscriber.Status.CONFIRMED
        subscriber.consent_source = Subscriber.Source.MEMBER
        subscriber.confirmed_at = now
        subscriber.confirmation_nonce = ""
    else:
        subscriber.status = Subscriber.Status.PENDING
        subscriber.consent_source = Subscriber.Source.SITE_FORM
        subscriber.confirmed_at = None
        subscriber.confirmation_nonce = new_nonce()
    subscriber.save()
    if not instant:
        from newsletter.tasks import confirmation_send

        confirmation_send.delay_on_commit(subscriber.pk, subscriber.confirmation_nonce)
    return subscriber


def subscriber_for_confirmation(*, token: str) -> Subscriber | None:
    """The pending subscriber a confirmation link is for, or None when it is forged,
    expired or already used."""
    parsed = tokens.confirm_token_read(token)
    if parsed is None or not parsed[1]:
        return None
    subscriber_id, nonce = parsed
    return Subscriber.objects.filter(
        pk=subscriber_id, status=Subscriber.Status.PENDING, confirmation_nonce=nonce
    ).first()


def subscriber_confirm(*, token: str) -> Subscriber | None:
    """Confirm through the emailed link; works once (the conditional UPDATE clears the
    nonce the link carries)."""
    parsed = tokens.confirm_token_read(token)
    if parsed is None or not parsed[1]:
        return None
    subscriber_id, nonce = parsed
    confirmed = Subscriber.objects.filter(
        pk=subscriber_id, status=Subscriber.Status.PENDING, confirmation_nonce=nonce
    ).update(status=Subscriber.Status.CONFIRMED, confirmed_at=timezone.now(), confirmation_nonce="")
    return Subscriber.objects.get(pk=subscriber_id) if confirmed else None


def confirmation_used(*, token: str) -> bool:
    """Whether a confirmation link that works no more was for a subscriber who confirmed
    (it is opened again, from the email or another device): they are subscribed, not
    holding a broken link, however old the link is."""
    parsed = tokens.confirm_token_read(token, any_age=True)
    return parsed is not None and (
        Subscriber.objects.filter(pk=parsed[0], status=Subscriber.Status.CONFIRMED).exists()
    )


def subscription_of(*, user: User) -> Subscriber | None:
    """The newsletter's row for the member (their account address, or linked to their
    account), while it gets the newsletter or waits for its confirmation; None otherwise."""
    live = Subscriber.objects.filter(
        status__in=[Subscriber.Status.PENDING, Subscriber.Status.CONFIRMED]
    )
    return live.filter(email__iexact=user.email).first() or live.filter(user=user).first()


def subscription_follow_email(*, user: User, old: str, new: str) -> None:
    """The member's account address changed to `new`, which they verified (allauth's
    `email_changed`): the newsletter follows it. Where `new` has a row of its own, that row
    stands as it is (unsubscribed there, say) and the old address's ends: it was just told
    it gets nothing more from us."""
    with transaction.atomic():
        own = Subscriber.objects.select_for_update().filter(email__iexact=new).exists()
        mine = (
            Subscriber.objects.select_for_update()
            .filter(Q(email__iexact=old) | Q(user=user))
            .exclude(email__iexact=new)
            .filter(status__in=[Subscriber.Status.PENDING, Subscriber.Status.CONFIRMED])
            .first()
        )
        if mine is None:
            return
        if own:
            subscriber_unsubscribe(subscriber_id=mine.pk)
            return
        try:
            with transaction.atomic():
                Subscriber.objects.filter(pk=mine.pk).update(email=new, user=user)
        except IntegrityError:
            pass  # `new` subscribed on its own a moment ago: that row stands


def subscriber_unsubscribe(*, subscriber_id: int) -> Subscriber | None:
    """Leave the list. Repeating it changes nothing; an undeliverable address stays so."""
    Subscriber.objects.filter(
        pk=subscriber_id,
        status__in=[Subscriber.Status.PENDING, Subscriber.Status.CONFIRMED],
    ).update(
        status=Subscriber.Status.UNSUBSCRIBED,
        unsubscribed_at=timezone.now(),
        confirmation_nonce="",
    )
    return Subscriber.objects.filter(pk=subscriber_id).first()


def subscribers_mark_undeliverable(*, emails: Iterable[str], reason: str, detail: str = "") -> int:
    """Bounced or complained-about addresses: no issue is sent to them again. Returns how
    many subscribers changed; unknown or already undeliverable addresses are ignored."""
    addresses = {email.strip().lower() for email in emails if email.strip()}
    if not addresses:
        return 0
    return (
        Subscriber.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=addresses)
        .exclude(status=Subscriber.Status.UNDELIVERABLE)
        .update(
            status=Subscriber.Status.UNDELIVERABLE,
            undeliverable_at=timezone.now(),
            undeliverable_reason=reason,
            undeliverable_detail=detail[:255],
            confirmation_nonce="",
        )
    )


# Sending --------------------------------------------------------------------------------


def issue_send_test(*, issue: Issue, user: User) -> int:
    """The issue as subscribers will get it, to one staff member, marked as a test: one copy
    per version (Spanish, and English when written), each in its readers' language. Its
    unsubscribe link points at the newsletter page: a test must not unsubscribe anyone.
    Returns how many copies went."""
    languages = ["es", "en"] if issue.has_english else ["es"]
    for language in languages:
        emails.issue_message(
            rendered=emails.issue_render(issue=issue, language=language),
            to=user.email,
            unsubscribe=emails.absolute(reverse("newsletter:index")),
            test=True,
        ).send()
    return len(languages)


def issue_recipients_count(language: str | None = None) -> int:
    """Confirmed subscribers: everyone an issue would go to, or those of one language."""
    subscribers = Subscriber.objects.filter(status=Subscriber.Status.CONFIRMED)
    if language is not None:
        subscribers = subscribers.filter(language=language)
    return subscribers.count()


NOBODY_SUBSCRIBED = gettext_lazy(
    "Nobody has confirmed a subscription yet, so the issue stays a draft. Members subscribe "
    "on the newsletter page; send it once someone has."
)


@transaction.atomic
def issue_send_start(*, issue: Issue) -> int:
    """Queue the issue for every confirmed subscriber and start sending after commit.
    Returns the number of recipients. Only a draft can start, once: the conditional UPDATE
    makes a double click or two staff members at once start it a single time. With nobody
    confirmed (a new community) nothing starts and the issue stays a draft: sent to nobody
    it could never be sent to the first subscribers."""
    started = Issue.objects.filter(pk=issue.pk, status=Issue.Status.DRAFT).update(
        status=Issue.Status.SENDING, send_started_at=timezone.now()
    )
    if not started:
        raise NewsletterError(_("This issue is already being sent or has been sent."))
    # One statement: the rows are made in the database rather than sent to it one by one
    # (for 10,000 subscribers, a few times faster than bulk_create).
    with connection.cursor() as cursor:
        cursor.execute(_QUEUE_SQL, [issue.pk, Delivery.Status.PENDING, Subscriber.Status.CONFIRMED])
        created = cursor.rowcount
    if not created:
        raise NewsletterError(NOBODY_SUBSCRIBED)  # rolls the status back: still a draft
    from newsletter.tasks import issue_send

    issue_send.delay_on_commit(issue.pk)
    return created


# A delivery row as the model's defaults make it, for every confirmed subscriber.
_QUEUE_SQL = (
    f"INSERT INTO {Delivery._meta.db_table} (issue_id, subscriber_id, status, attempts, error) "
    f"SELECT %s, id, %s, 0, '' FROM {Subscriber._meta.db_table} WHERE status = %s "
    "ON CONFLICT DO NOTHING"
)


@dataclass(frozen=True)
class BatchOutcome:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    # Seconds until the next batch should run (0: right away); None: the issue is done.
    next_in: int | None = None


def deliveries_recover(*, issue_id: int, stale_before: datetime) -> tuple[int, int]:
    """Settle the batches of a worker that died mid-send. A batch sends in id order and
    has its results committed in order, never more than IN_DOUBT behind (`_Ledger`), so
    in each abandoned batch only its IN_DOUBT lowest rows still `sending` can have reached
    the server: they become `unknown` (never sent again); the rows after them were never
    tried and go back to `pending`. Returns (unknown, released)."""
    stale = Delivery.objects.filter(
        issue_id=issue_id, status=Delivery.Status.SENDING, claimed_at__lt=stale_before
    )
    # Every batch looks first; nearly always no worker has died, and one read says so.
    if not stale.exists():
        return 0, 0
    with transaction.atomic():
        rows = list(stale.select_for_update().order_by("batch", "pk").values_list("pk", "batch"))
        in_flight: list[int] = []
        untried: list[int] = []
        seen: Counter[uuid.UUID | None] = Counter()
        for pk, batch in rows:
            (in_flight if seen[batch] < IN_DOUBT else untried).append(pk)
            seen[batch] += 1
        Delivery.objects.filter(pk__in=in_flight).update(
            status=Delivery.Status.UNKNOWN,
            error="Interrupted while sending: may have been delivered, not sent again.",
        )
        Delivery.objects.filter(pk__in=untried).update(
            status=Delivery.Status.PENDING, attempts=F("attempts") - 1
        )
    return len(in_flight), len(untried)


def _claim(
    *, issue_id: int, size: int, now: datetime
) -> tuple[uuid.UUID, list[tuple[int, int, str, str, str]]]:
    """Take up to `size` rows for this batch (SKIP LOCKED: concurrent batches take
    different rows) and commit the claim before anything is sent: pending rows first,
    lowest id first, then failed ones due for another try. The rows are read in the same
    transaction: should that read fail, nothing stays claimed."""
    batch = uuid.uuid4()
    issue_rows = Delivery.objects.filter(issue_id=issue_id).order_by("pk")
    with transaction.atomic():
        # One status at a time, so that each is read in id order from the queue index and
        # the scan stops after `size` rows, instead of sorting every pending row.
        ids = list(
            issue_rows.filter(status=Delivery.Status.PENDING)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:size]
        )
        if len(ids) < size:
            ids += (
                issue_rows.filter(
                    status=Delivery.Status.FAILED,
                    attempts__lt=MAX_ATTEMPTS,
                    claimed_at__lt=now - RETRY_FAILED_AFTER,
                )
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[: size - len(ids)]
            )
        Delivery.objects.filter(pk__in=ids).update(
            status=Delivery.Status.SENDING,
            batch=batch,
            claimed_at=now,
            attempts=F("attempts") + 1,
        )
        rows = list(
            Delivery.objects.filter(pk__in=ids)
            .order_by("pk")
            .values_list(
                "pk",
                "subscriber_id",
                "subscriber__email",
                "subscriber__language",
                "subscriber__status",
            )
        )
    return batch, rows


def _mark(pk: int, batch: uuid.UUID, **fields: object) -> None:
    Delivery.objects.filter(pk=pk, status=Delivery.Status.SENDING, batch=batch).update(**fields)


def _mark_sent(pgconn: PGconn, ids: list[int], batch: uuid.UUID) -> None:
    """Send the write recording these messages as sent, without waiting for its result
    (`_Ledger.wait` reads it). One fixed statement, committed on its own in autocommit."""
    array = "{" + ",".join(str(pk) for pk in ids) + "}"
    pgconn.send_query_params(_MARK_SENT_SQL, [array.encode(), str(batch).encode()])
    while pgconn.flush():
        select.select([], [pgconn.socket], [])


_MARK_SENT_SQL = (
    f"UPDATE {Delivery._meta.db_table} SET status = '{Delivery.Status.SENT}', "
    f"sent_at = statement_timestamp(), error = '' WHERE id = ANY($1::bigint[]) "
    f"AND status = '{Delivery.Status.SENDING}' AND batch = $2"
).encode()


class _Ledger:
    """Records a batch's `sent` results in order, RESULTS_PER_WRITE at a time
    (docs/newsletter.md): once that many are waiting, the previous write's result is read
    and one statement for them is sent to PostgreSQL on this thread's connection, to
    commit while the next messages go over SMTP. So at any moment at most IN_DOUBT
    messages of a batch may have reached the server without their result committed (what
    `deliveries_recover` sets aside after a crash). Nothing else uses the connection
    meanwhile: `settle()` or `wait()` comes first.

    Each write commits on its own only outside a transaction, as in a task; inside one
    (the tests) it joins it, and a crash guarantee holds for neither the claim nor the
    results until that transaction commits. Other databases than PostgreSQL write each
    group with a plain UPDATE and wait for it."""

    def __init__(self, batch: uuid.UUID) -> None:
        self.batch = batch
        self.unwritten: list[int] = []
        self.pgconn: PGconn | None = None
        self.pending = False
        if connection.vendor == "postgresql":
            connection.ensure_connection()
            self.pgconn = connection.connection.pgconn

    def sent(self, pk: int) -> None:
        self.unwritten.append(pk)
        if len(self.unwritten) >= RESULTS_PER_WRITE:
            self._write()

    def settle(self) -> None:
        """Write every result not yet written and wait until it is committed; raises when
        a write failed."""
        self._write()
        self.wait()

    def _write(self) -> None:
        self.wait()
        ids, self.unwritten = self.unwritten, []
        if not ids:
            return
        if self.pgconn is None:
            Delivery.objects.filter(
                pk__in=ids, status=Delivery.Status.SENDING, batch=self.batch
            ).update(status=Delivery.Status.SENT, sent_at=timezone.now(), error="")
            return
        self.pending = True
        with connection.wrap_database_errors:
            _mark_sent(self.pgconn, ids, self.batch)

    def wait(self) -> None:
        """Read the write under way's result, if any; raises when it failed."""
        if not self.pending or self.pgconn is None:
            return
        pgconn, failure = self.pgconn, ""
        try:
            with connection.wrap_database_errors:
                while True:
                    while pgconn.is_busy():
                        select.select([pgconn.socket], [], [])
                        pgconn.consume_input()
                    result = pgconn.get_result()
                    if result is None:
                        break
                    if result.status != pq.ExecStatus.COMMAND_OK:
                        failure = (result.error_message or b"").decode(errors="replace")
        except BaseException:
            # Interrupted with the answer unread (a task's time limit, say): the connection
            # may not be used again, so the next query opens a new one.
            self.pending = False
            self.pgconn = None
            connection.close()
            raise
        self.pending = False
        if failure:
            with connection.wrap_database_errors:
                raise psycopg.OperationalError(f"Recording sent messages failed: {failure}")


def _release(ids: list[int], batch: uuid.UUID) -> None:
    Delivery.objects.filter(pk__in=ids, status=Delivery.Status.SENDING, batch=batch).update(
        status=Delivery.Status.PENDING, attempts=F("attempts") - 1
    )


def _issue_finish_or_wait(issue_id: int, now: datetime) -> int | None:
    """Mark the issue sent when no row can still go out; otherwise say when to look again."""
    open_rows = Delivery.objects.filter(issue_id=issue_id).filter(
        Q(status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING])
        | Q(status=Delivery.Status.FAILED, attempts__lt=MAX_ATTEMPTS)
    )
    if not open_rows.exists():
        Issue.objects.filter(pk=issue_id, status=Issue.Status.SENDING).update(
            status=Issue.Status.SENT, sent_at=now
        )
        return None
    if open_rows.filter(status=Delivery.Status.SENDING).exists():
        # Another batch is running, or a dead one waits to go stale (the beat tick).
        return int(STALE_AFTER.total_seconds())
    return int(RETRY_FAILED_AFTER.total_seconds())


def issue_send_batch(*, issue_id: int, size: int | None = None) -> BatchOutcome:
    """Send the next batch of an issue over the worker's kept SMTP connection
    (`emails.bulk_connection`), each language's copy prepared once.

    Crash semantics (docs/newsletter.md): rows are claimed and committed first; results
    are written in order, RESULTS_PER_WRITE at a time, each write committing while the
    next messages go out (`_Ledger`). A crash therefore leaves at most IN_DOUBT rows per
    batch whose fate is unknown, which `deliveries_recover` sets aside rather than send
    twice. Runs outside any transaction (as the task does): inside one, nothing is
    committed until it ends. A refused recipient is
    `failed` and retried later (MAX_ATTEMPTS in all). A server that closes the
    connection with its refusal (a 421 reply) ends the batch there: the rest goes back
    and the task retries. A connection that breaks mid-message
    makes that message `unknown`, puts the rest of the batch back and raises, for the
    task to retry. Any other failure (rendering, building a message, the database) puts
    back every row of the batch not yet handed to the server, and raises too."""
    size = size or settings.NEWSLETTER_BATCH_SIZE
    issue = Issue.objects.filter(pk=issue_id, status=Issue.Status.SENDING).first()
    if issue is None:
        return BatchOutcome()
    now = timezone.now()
    deliveries_recover(issue_id=issue_id, stale_before=now - STALE_AFTER)
    batch, rows = _claim(issue_id=issue_id, size=size, now=now)
    if not rows:
        return BatchOutcome(next_in=_issue_finish_or_wait(issue_id, now))

    claimed = [row[0] for row in rows]
    # Rows handed to the server: only these may have gone out. Whatever else fails, before
    # the first message or between two, puts back every row of the batch not in here.
    tried: set[int] = set()
    sent = failed = 0
    try:
        # Whoever left or bounced after the issue was queued is not mailed.
        gone = [pk for pk, _s, _e, _l, status in rows if status != Subscriber.Status.CONFIRMED]
        Delivery.objects.filter(pk__in=gone).update(status=Delivery.Status.SKIPPED)
        rows = [row for row in rows if row[4] == Subscriber.Status.CONFIRMED]

        mail = emails.bulk_connection()
        smtp = emails.speaks_smtp(mail)
        unsubscribe_url = emails.unsubscribe_urls()
        versions: dict[str, tuple[emails.RenderedIssue, emails.PreparedIssue | None]] = {}
        ledger = _Ledger(batch)
        try:
            for pk, subscriber_id, address, language, _status in rows:
                if language not in versions:
                    versions[language] = emails.issue_version(
                        issue=issue, language=language, smtp=smtp
                    )
                rendered, prepared = versions[language]
                copy = emails.issue_copy(
                    prepared,
                    rendered=rendered,
                    to=address,
                    unsubscribe=unsubscribe_url(subscriber_id),
                )
                if not emails.is_open(mail):
                    # The server hung up after refusing the last one (a 421 reply): this
                    # message never left, so it goes back with the rest of the batch.
                    raise smtplib.SMTPServerDisconnected("The server closed the connection.")
                tried.add(pk)
                try:
                    emails.copy_send(mail, copy)
                except REFUSALS as exc:
                    ledger.settle()
                    _mark(pk, batch, status=Delivery.Status.FAILED, error=str(exc)[:255])
                    failed += 1
                    continue
                except Exception as exc:
                    ledger.settle()
                    _mark(pk, batch, status=Delivery.Status.UNKNOWN, error=str(exc)[:255])
                    raise
                ledger.sent(pk)
                sent += 1
            ledger.settle()
        except BaseException as exc:
            # In whatever state the connection is, the next batch starts on a new one.
            emails.bulk_connection_close()
            if isinstance(exc, Exception):
                # What the server accepted before the failure is recorded as sent.
                with contextlib.suppress(Exception):
                    ledger.settle()
            raise
        finally:
            # The write under way is read before anything else uses the connection.
            with contextlib.suppress(Exception):
                ledger.wait()
        emails.bulk_connection_used()
    except Exception:
        # Rows already settled are left alone: `_release` only takes back those still
        # `sending` in this batch.
        _release([pk for pk in claimed if pk not in tried], batch)
        raise
    return BatchOutcome(sent=sent, failed=failed, skipped=len(gone), next_in=0)


def issue_progress(*, issue: Issue) -> dict[str, int]:
    """How many deliveries are in each state."""
    counts = dict(
        Delivery.objects.filter(issue=issue)
        .values_list("status")
        .annotate(count=Count("pk"))
        .values_list("status", "count")
    )
    return {status: counts.get(status, 0) for status in Delivery.Status.values}


def issues_stalled(*, now: datetime) -> list[int]:
    """Issues still sending with nothing claimed for a while: their worker died or their
    task was lost. Settles their abandoned batches on the way."""
    stalled = []
    for issue_id in Issue.objects.filter(status=Issue.Status.SENDING).values_list("pk", flat=True):
        deliveries_recover(issue_id=issue_id, stale_before=now - STALE_AFTER)
        recent = Delivery.objects.filter(
            issue_id=issue_id, claimed_at__gte=now - STALE_AFTER
        ).exists()
        if not recent:
            stalled.append(issue_id)
    return stalled


# Accounts -------------------------------------------------------------------------------


def _subscriptions(user: User) -> QuerySet[Subscriber]:
    """The member's subscriptions: linked to the account, or at one of its addresses that it
    proved it owns. An address added and not confirmed may be anyone's: its subscription is
    theirs to export or delete, not this member's."""
    addresses = {user.email.lower()} | {
        email.lower()
        for email in EmailAddress.objects.filter(user=user, verified=True).values_list(
            "email", flat=True
        )
    }
    return Subscriber.objects.annotate(email_lower=Lower("email")).filter(
        Q(user=user) | Q(email_lower__in=addresses)
    )


def subscriptions_export(*, user: User) -> list[dict[str, str | None]]:
    """For the member's data export: each subscription with its consent record."""

    def moment(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return [
        {
            "email": subscriber.email,
            "status": subscriber.status,
            "language": subscriber.language,
            "consent_source": subscriber.consent_source,
            "consent_ip": subscriber.consent_ip,
            "requested_at": moment(subscriber.requested_at),
            "confirmed_at": moment(subscriber.confirmed_at),
            "unsubscribed_at": moment(subscriber.unsubscribed_at),
            "undeliverable_at": moment(subscriber.undeliverable_at),
        }
        for subscriber in _subscriptions(user).order_by("pk")
    ]


def subscriptions_delete(*, user: User) -> int:
    """Account deletion: the subscriptions go (with their delivery history), not just
    their link to the account."""
    deleted, _by_model = _subscriptions(user).delete()
    return deleted

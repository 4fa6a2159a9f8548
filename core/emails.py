"""Emails from template triples (`<name>_subject.txt`, `<name>.txt`, `<name>.html`), written in
the recipient's language and time zone."""

import logging
import smtplib
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

logger = logging.getLogger(__name__)

# What a mail server that is down, or refuses for a while, raises.
MAIL_ERRORS = (smtplib.SMTPException, OSError)

# Celery retry options for a task whose work is sending an email: it is tried again with
# growing pauses (30 s, 1 min, 2 min, ... then every hour at most), for up to about a day:
# about half a day on average, since each pause is drawn at random below its cap, so that a
# mail server coming back is not met by every retry at once. The longest pause stays below
# the broker's visibility timeout (coworking/settings.py).
EMAIL_RETRY: dict[str, Any] = {
    "autoretry_for": MAIL_ERRORS,
    "retry_backoff": 30,
    "retry_backoff_max": 3600,
    "max_retries": 30,
    "retry_jitter": True,
}


class Recipient(Protocol):
    """What an email needs of its member (`members.User` has it; core imports no app)."""

    email: str
    language: str
    time_zone: str


def email_for(
    *,
    user: Recipient,
    template: str,
    context: dict[str, Any],
    reply_to: Sequence[str] = (),
    headers: dict[str, str] | None = None,
) -> EmailMultiAlternatives:
    """An email to `user` rendered from templates/<template>_subject.txt, .txt and .html."""
    full_context = {
        "user": user,
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        **context,
    }
    with translation.override(user.language), timezone.override(user.time_zone):
        subject = " ".join(render_to_string(f"{template}_subject.txt", full_context).split())
        text = render_to_string(f"{template}.txt", full_context)
        html = render_to_string(f"{template}.html", full_context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[user.email],
        reply_to=list(reply_to),
        headers=headers or {},
    )
    message.attach_alternative(html, "text/html")
    return message


def send_once(
    *,
    claim: Callable[[], int],
    send: Callable[[], object],
    give_back: Callable[[], object],
    retried_by_tick: bool = False,
) -> bool:
    """Send one email for one occasion, with no row lock held and no transaction open while
    the mail server answers. Returns whether this run won the claim (and so sent).

    `claim` takes the occasion, typically with a conditional `UPDATE ... WHERE sent_at IS
    NULL`, and returns how many rows it changed: nothing (0) means another run has it, and
    this one returns False at once. The claim commits before anything is sent, so its row is
    free again by then, and a concurrent or redelivered task finds it taken.
    `send` then builds and sends the email. If it raises, `give_back` undoes the claim (its
    own conditional update, so that a newer claim is left alone) and the exception goes on:
    Celery's `autoretry_for` tries again, and the retry can claim again.

    `retried_by_tick`: the task was queued by a beat tick that lists every occasion still
    unclaimed, and queues it again on its next run. That run is the retry: a mail server's
    error is logged and this returns False, rather than starting a chain of retries of its
    own, one more for every tick the mail server stays down.

    At most once: a worker that dies between the claim and the send leaves the occasion
    claimed and its email unsent, never sent twice.

    Must be called outside any transaction (`durable` makes a caller's transaction an
    error), so that what was recorded before or with the claim, such as the in-app notice,
    has committed by the time the email goes out.
    """
    with transaction.atomic(durable=True):
        if not claim():
            return False
    try:
        send()
    except Exception as error:
        with transaction.atomic(durable=True):
            give_back()
        if retried_by_tick and isinstance(error, MAIL_ERRORS):
            logger.warning("Email not sent, the next tick tries again: %r", error)
            return False
        raise
    return True


def send_later(message: EmailMultiAlternatives) -> None:
    """Send a message already written, from a worker: for an email sent while a request
    waits (allauth's), so that a mail server that is down or slow neither fails the request
    nor holds it up. The worker tries again as `EMAIL_RETRY` says. The message goes through
    the broker as JSON (text, no attachments) and the worker reads nothing from the
    database, so it need not wait for the caller's transaction to commit."""
    from core.tasks import email_send

    assert not message.attachments, "send_later takes no attachments"
    payload = {
        "subject": message.subject,
        "body": message.body,
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "alternatives": [[content, mimetype] for content, mimetype in message.alternatives],
        "content_subtype": message.content_subtype,
    }
    email_send.delay(payload)


def message_from(payload: dict[str, Any]) -> EmailMultiAlternatives:
    """The message `send_later` wrote down."""
    message = EmailMultiAlternatives(
        subject=payload["subject"],
        body=payload["body"],
        from_email=payload["from_email"],
        to=payload["to"],
        cc=payload["cc"],
        bcc=payload["bcc"],
        reply_to=payload["reply_to"],
        headers=payload["headers"],
    )
    for content, mimetype in payload["alternatives"]:
        message.attach_alternative(content, mimetype)
    message.content_subtype = payload["content_subtype"]
    return message

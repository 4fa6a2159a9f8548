"""Emails from template triples (`<name>_subject.txt`, `<name>.txt`, `<name>.html`), written in
the recipient's language and time zone."""

import logging
import smtplib
from collections.abc import Callable, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac

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


# Every email the platform sends is written by the machine (RFC 3834's "auto-generated"), so
# that out-of-office notes and other automatic replies are not sent back to the From address
# (by default the team's inbox too, CONTACT_EMAIL). Exchange and Outlook read their own
# header; "All" there would also stop the non-delivery reports that tell of a dead address.
AUTOMATIC_HEADERS = {
    "Auto-Submitted": "auto-generated",
    "X-Auto-Response-Suppress": "OOF, AutoReply",
}


class Recipient(Protocol):
    """What an email needs of its member (`members.User` has it; core imports no app)."""

    email: str
    language: str
    time_zone: str


def message_id(*, key: str, to: str) -> str:
    """The Message-ID of the email that `key` names, sent to the address `to`: the same for
    every try of it. Made with the secret key, as the header travels with the email (and
    into replies and forwards): it shows neither the key's ids nor the address, and nobody
    can make the id of another member's email."""
    digest = salted_hmac("core.emails.message_id", f"{key}\n{to}", algorithm="sha256")
    return f"<{digest.hexdigest()[:40]}@{urlsplit(settings.SITE_URL).hostname}>"


def email_for(
    *,
    user: Recipient,
    template: str,
    context: dict[str, Any],
    key: str | None,
    reply_to: Sequence[str] = (),
    headers: dict[str, str] | None = None,
) -> EmailMultiAlternatives:
    """An email to `user` rendered from templates/<template>_subject.txt, .txt and .html.

    `key` names the occasion the email tells of (`intro:<seat>`), the same on every try of
    it: the Message-ID is made from it (`message_id`), so a copy that a retry sends again
    (`send_once`) is the same message to the member's provider, which drops it (Gmail) or
    shows it as one. A key is for one email, never for the next occasion of its kind: a
    second pause, an event moved, a new calendar sequence each need their own, or the
    provider could drop the new email as a copy of the old. None for an email sent anew each
    time it is asked for: a new Message-ID each time."""
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
        headers={
            **AUTOMATIC_HEADERS,
            **({"Message-ID": message_id(key=key, to=user.email)} if key is not None else {}),
            **(headers or {}),
        },
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
    Celery's `autoretry_for` tries again, and the retry can claim again. A mail server that
    took the email but answered too late may so get it twice; `email_for`'s `key` gives
    both the same Message-ID (below, why it is sent again rather than counted as sent).

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
        # A timeout after the message went, waiting for the server's "250" (RFC 1047), may
        # mean it was delivered: the retry then sends a second copy, with the same
        # Message-ID. Counting it as sent instead (the newsletter's "unknown") would need to
        # know where the conversation stopped, which Django's SMTP backend does not say: a
        # timeout while connecting, or before the message went, looks the same, and keeping
        # the claim then loses the email for good, at the very moment a busy server is slow.
        # A lost intro (the pair never hears of each other) costs a member more than a copy
        # their provider drops or shows as one.
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
    database, so it need not wait for the caller's transaction to commit.

    With tasks run inline (the embedded default, no `REDIS_URL`) it is sent at once, and
    only once: a mail server that is down loses it, with a warning in the log."""
    from core.tasks import email_send

    payload = email_payload(message)
    if email_send.app.conf.task_always_eager:
        # No worker, nor anything else, runs later: the task's retry would be raised into
        # the request (a 500 for a sign-up), and retrying here would hold it up for as long
        # as the server stays down. The member asks again: logging in sends a new
        # confirmation (a few minutes after the last), the reset form a new link.
        try:
            message_from(payload).send()
        except MAIL_ERRORS as error:
            logger.warning("Email not sent, and not tried again (tasks run inline): %r", error)
        return
    email_send.delay(payload)


def email_payload(message: EmailMultiAlternatives) -> dict[str, Any]:
    """`message` as `send_later` hands it to the worker, which makes it again on each try
    (`message_from`)."""
    assert not message.attachments, "send_later takes no attachments"
    return {
        "subject": message.subject,
        "body": message.body,
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        # allauth's emails are the machine's too. One Message-ID for every try the worker
        # makes of it: a retry after a late "250" is the same message to the provider.
        "headers": {
            **AUTOMATIC_HEADERS,
            "Message-ID": make_msgid(domain=urlsplit(settings.SITE_URL).hostname),
            **message.extra_headers,
        },
        "alternatives": [[content, mimetype] for content, mimetype in message.alternatives],
        "content_subtype": message.content_subtype,
    }


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

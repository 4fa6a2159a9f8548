"""Newsletter emails. Subscribers need not be members, so these are addressed to an email
and a language rather than through `core.emails.email_for` (which wants a User).

An issue goes to thousands of people: its three parts are rendered once per language with a
placeholder where each recipient's unsubscribe link goes, and only that link changes per
message.

Sending an issue to thousands goes further (`issue_prepare`): each language's copy is also
serialised once, and each recipient's bytes are that copy with their address, unsubscribe
link, date and message id put in, sent over one SMTP connection a worker keeps between
batches (`bulk_connection`)."""

import contextlib
import re
import smtplib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.policy import Policy
from email.utils import formatdate, make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import forbid_multi_line_headers, sanitize_address
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe

from core.emails import AUTOMATIC_HEADERS, message_id
from newsletter.models import Issue
from newsletter.rendering import markdown_links_absolute
from newsletter.tokens import confirm_token, unsubscribe_token, unsubscribe_tokens

# Made of characters that neither HTML escaping nor URL quoting change.
UNSUBSCRIBE_PLACEHOLDER = "NEWSLETTER-UNSUBSCRIBE-URL-PLACEHOLDER"
ADDRESS_PLACEHOLDER = "newsletter-recipient@placeholder.invalid"
# Longer unsubscribe links go in whole messages (`issue_copy`), never into prepared bytes.
MAX_LINK = 300
# The headers that differ from one recipient's copy to the next.
PER_RECIPIENT = ("To", "Date", "Message-ID", "List-Unsubscribe")
# A kept connection unused for this long is closed and a new one opened: servers drop idle
# clients after a few minutes.
IDLE_TIMEOUT = 60.0


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def unsubscribe_url(*, subscriber_id: int) -> str:
    token = unsubscribe_token(subscriber_id=subscriber_id)
    return absolute(reverse("newsletter:unsubscribe", args=[token]))


# Stands for the token in a reversed unsubscribe URL: characters that URL quoting keeps, as it
# keeps every character of a token (URL-safe base64 and ":").
_TOKEN_PLACEHOLDER = "NEWSLETTER-TOKEN"


def unsubscribe_urls() -> Callable[[int], str]:
    """`unsubscribe_url` for many subscribers in a row, as a function of the id: the same
    URLs, with the route reversed and the signer's key derived once
    (`tokens.unsubscribe_tokens`)."""
    before, _token, after = absolute(
        reverse("newsletter:unsubscribe", args=[_TOKEN_PLACEHOLDER])
    ).partition(_TOKEN_PLACEHOLDER)
    token = unsubscribe_tokens()

    def url(subscriber_id: int) -> str:
        return f"{before}{token(subscriber_id)}{after}"

    return url


def _render(template: str, context: dict[str, Any], language: str) -> tuple[str, str, str]:
    full_context = {"SITE_NAME": settings.SITE_NAME, "SITE_URL": settings.SITE_URL, **context}
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", full_context).split())
        text = render_to_string(f"{template}.txt", full_context)
        html = render_to_string(f"{template}.html", full_context)
    return subject, text, html


def confirmation_email(
    *, email: str, language: str, subscriber_id: int, nonce: str
) -> EmailMultiAlternatives:
    token = confirm_token(subscriber_id=subscriber_id, nonce=nonce)
    subject, text, html = _render(
        "newsletter/email/confirm",
        {"confirm_url": absolute(reverse("newsletter:confirm", args=[token]))},
        language,
    )
    headers = {
        **AUTOMATIC_HEADERS,
        # The same on every try of this confirmation (core.emails.message_id).
        "Message-ID": message_id(key=f"newsletter-confirm:{subscriber_id}:{nonce}", to=email),
    }
    message = EmailMultiAlternatives(subject=subject, body=text, to=[email], headers=headers)
    message.attach_alternative(html, "text/html")
    return message


@dataclass(frozen=True)
class RenderedIssue:
    subject: str
    text: str
    html: str


def issue_render(*, issue: Issue, language: str) -> RenderedIssue:
    """The issue for readers of `language`: its version in that language (the Spanish one
    when there is no other), in a frame (footer, links) in that language."""
    subject, text, html = _render(
        "newsletter/email/issue",
        {
            "issue": issue,
            "subject": issue.subject_for(language),
            "version_language": issue.language_for(language),
            "body_markdown": markdown_links_absolute(issue.body_markdown_for(language)),
            # Sanitised when the issue was saved (newsletter.rendering).
            "body_html": mark_safe(issue.body_html_for(language)),
            "archive_url": absolute(issue.get_absolute_url()),
            "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
        },
        language,
    )
    return RenderedIssue(subject=subject, text=text, html=html)


def issue_message(
    *, rendered: RenderedIssue, to: str, unsubscribe: str, test: bool = False
) -> EmailMultiAlternatives:
    """One recipient's copy, with the RFC 8058 one-click unsubscribe headers: mail clients
    POST `List-Unsubscribe=One-Click` to the URL, which needs no login or cookie."""
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"{settings.SITE_NAME} <newsletter.{host}>",
        "Precedence": "bulk",
    }
    subject = f"[TEST] {rendered.subject}" if test else rendered.subject
    message = EmailMultiAlternatives(
        subject=subject,
        body=rendered.text.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe),
        to=[to],
        headers=headers,
    )
    message.attach_alternative(
        rendered.html.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe), "text/html"
    )
    return message


@dataclass(frozen=True)
class PreparedIssue:
    """One language's copy serialised as Django's SMTP backend would send it, cut where the
    per-recipient headers go (`head` holds their names there) and with the unsubscribe
    placeholder left in `body`."""

    from_email: str
    encoding: str
    policy: Policy
    head: tuple[bytes | str, ...]
    body: bytes


def issue_prepare(*, rendered: RenderedIssue) -> PreparedIssue | None:
    """Serialise one language's copy once. None when a copy could not be made by putting
    values into it (a body encoded so that the placeholder no longer reads as such, or
    headers that do not fold as the generator folded them): the caller then builds each
    copy whole, as `issue_message` does."""
    email = issue_message(
        rendered=rendered, to=ADDRESS_PLACEHOLDER, unsubscribe=UNSUBSCRIBE_PLACEHOLDER
    )
    mime = email.message()
    # As Django's SMTP backend serialises it (its MIME classes take `linesep`).
    data = mime.as_bytes(linesep="\r\n")  # type: ignore[call-arg]
    head_bytes, _blank, body = data.partition(b"\r\n\r\n")
    # As the generator does it: the message's policy with SMTP line ends.
    policy = mime.policy.clone(linesep="\r\n")
    folded = [(name, policy.fold_binary(name, value)) for name, value in mime.raw_items()]
    placeholder = UNSUBSCRIBE_PLACEHOLDER.encode()
    expected = rendered.text.count(UNSUBSCRIBE_PLACEHOLDER) + rendered.html.count(
        UNSUBSCRIBE_PLACEHOLDER
    )
    # Replacing text is only sound in bodies sent as they are (not quoted-printable or
    # base64) whose lines stay short enough with the longest link put in.
    parts = [part for part in mime.walk() if not part.is_multipart()]
    longest = max(
        (len(line) for line in body.split(b"\r\n") if placeholder in line),
        default=0,
    )
    if (
        b"".join(line for _name, line in folded) != head_bytes + b"\r\n"
        or body.count(placeholder) != expected
        or ADDRESS_PLACEHOLDER.encode() in body
        or any(part["Content-Transfer-Encoding"] not in ("7bit", "8bit") for part in parts)
        or longest + 2 * (MAX_LINK - len(placeholder)) > 998
    ):
        return None
    encoding = email.encoding or settings.DEFAULT_CHARSET
    return PreparedIssue(
        from_email=sanitize_address(email.from_email, encoding),
        encoding=encoding,
        policy=policy,
        head=tuple(name if name in PER_RECIPIENT else line for name, line in folded),
        body=body,
    )


class _Versions(threading.local):
    def __init__(self) -> None:
        self.key: tuple[object, ...] = ()
        self.made: dict[tuple[str, bool], tuple[RenderedIssue, PreparedIssue | None]] = {}


_versions = _Versions()


def issue_version(
    *, issue: Issue, language: str, smtp: bool
) -> tuple[RenderedIssue, PreparedIssue | None]:
    """The issue rendered for readers of `language` and, when the copies go over SMTP, its
    prepared bytes (`issue_prepare`). Made once per worker thread and kept while the issue's
    text and the settings they show stay the same, so the batches of one send share them
    (an issue being sent cannot be edited anyway)."""
    key = (
        issue.pk,
        issue.subject,
        issue.body_markdown,
        issue.body_html,
        issue.subject_en,
        issue.body_markdown_en,
        issue.body_html_en,
        settings.SITE_URL,
        settings.SITE_NAME,
        settings.DEFAULT_FROM_EMAIL,
        settings.DEFAULT_CHARSET,
    )
    if key != _versions.key:
        _versions.key, _versions.made = key, {}
    made = _versions.made.get((language, smtp))
    if made is None:
        rendered = issue_render(issue=issue, language=language)
        made = (rendered, issue_prepare(rendered=rendered) if smtp else None)
        _versions.made[(language, smtp)] = made
    return made


# An address that `sanitize_address` gives back unchanged.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\Z")
# A header value that the email policy writes as it is when it fits on a line (no space,
# comma or semicolon to fold at, nothing to encode).
_UNFOLDED = re.compile(r"[\x21-\x2b\x2d-\x3a\x3c-\x7e]*\Z")
# A date as `formatdate` writes it: short and plain, so the policy writes it as it is.
_DATE = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}\Z")


def _header(prepared: PreparedIssue, name: str, value: str) -> bytes:
    """One header line as the generator writes it; the common cases without the email
    package's parsing and folding, which cost more than the rest of a copy."""
    limit = prepared.policy.max_line_length
    plain = (name == "Date" and _DATE.match(value)) or (
        (name != "To" or _PLAIN_ADDRESS.match(value)) and _UNFOLDED.match(value)
    )
    if plain and limit is not None:
        if len(name) + 2 + len(value) <= limit:
            return f"{name}: {value}\r\n".encode()
        if name == "List-Unsubscribe":
            # One word (the link) too long for the first line: the policy moves it whole
            # to the next, where nothing can split it.
            return f"{name}: \r\n {value}\r\n".encode()
    name, folded = forbid_multi_line_headers(name, value, prepared.encoding)
    return prepared.policy.fold_binary(name, folded)


def prepared_bytes(prepared: PreparedIssue, *, to: str, unsubscribe: str) -> bytes:
    """One recipient's copy: byte for byte what `issue_message(...).message()` serialises
    to, each header set and folded the same way, apart from the date, message id and MIME
    boundary, which differ between any two messages anyway."""
    values = {
        "To": to,
        "Date": formatdate(localtime=settings.EMAIL_USE_LOCALTIME),
        "Message-ID": make_msgid(domain=DNS_NAME),
        "List-Unsubscribe": f"<{unsubscribe}>",
    }
    lines = []
    for part in prepared.head:
        if isinstance(part, str):
            part = _header(prepared, part, values[part])
        lines.append(part)
    lines.append(b"\r\n")
    lines.append(prepared.body.replace(UNSUBSCRIBE_PLACEHOLDER.encode(), unsubscribe.encode()))
    return b"".join(lines)


@dataclass(frozen=True)
class PreparedCopy:
    """One recipient's copy ready for the SMTP conversation."""

    from_email: str
    recipient: str
    data: bytes


def issue_copy(
    prepared: PreparedIssue | None, *, rendered: RenderedIssue, to: str, unsubscribe: str
) -> PreparedCopy | EmailMultiAlternatives:
    """One recipient's copy: prepared bytes when there is a prepared version, otherwise the
    message built whole."""
    if prepared is None or len(unsubscribe) > MAX_LINK:
        return issue_message(rendered=rendered, to=to, unsubscribe=unsubscribe)
    return PreparedCopy(
        from_email=prepared.from_email,
        recipient=to if _PLAIN_ADDRESS.match(to) else sanitize_address(to, prepared.encoding),
        data=prepared_bytes(prepared, to=to, unsubscribe=unsubscribe),
    )


def copy_send(connection: BaseEmailBackend, copy: PreparedCopy | EmailMultiAlternatives) -> None:
    """Hand one copy to the mail server; raises what smtplib raises. Prepared bytes go
    straight to the open SMTP connection (`issue_prepare` made them only for one)."""
    if isinstance(copy, PreparedCopy):
        smtp = getattr(connection, "connection", None)
        if smtp is None:
            raise smtplib.SMTPServerDisconnected("The connection is closed.")
        smtp.sendmail(copy.from_email, [copy.recipient], copy.data)
    else:
        connection.send_messages([copy])


def speaks_smtp(connection: BaseEmailBackend) -> bool:
    """Whether prepared bytes can go to this connection: Django's SMTP backend, open."""
    return isinstance(connection, SmtpBackend) and connection.connection is not None


def is_open(connection: BaseEmailBackend) -> bool:
    """False when an SMTP connection is closed: smtplib closes it itself on a 421 reply
    (the server is going away), after raising that message's refusal."""
    if not isinstance(connection, SmtpBackend):
        return True
    smtp = connection.connection
    return smtp is not None and getattr(smtp, "sock", None) is not None


class _Kept(threading.local):
    connection: BaseEmailBackend | None = None
    settings: tuple[object, ...] = ()
    used_at: float = 0.0


_kept = _Kept()


def _connection_settings() -> tuple[object, ...]:
    return (
        settings.EMAIL_BACKEND,
        settings.EMAIL_HOST,
        settings.EMAIL_PORT,
        settings.EMAIL_HOST_USER,
        settings.EMAIL_HOST_PASSWORD,
        settings.EMAIL_USE_TLS,
        settings.EMAIL_USE_SSL,
        settings.EMAIL_TIMEOUT,
        settings.EMAIL_SSL_CERTFILE,
        settings.EMAIL_SSL_KEYFILE,
    )


def bulk_connection() -> BaseEmailBackend:
    """This thread's open connection for sending an issue, kept from one batch to the next.
    A kept SMTP connection is reused only when the settings still point at the same server,
    it was used less than IDLE_TIMEOUT ago and it answers NOOP; otherwise a new one opens.
    Raises when the server cannot be reached."""
    current = _connection_settings()
    kept = _kept.connection
    if kept is not None:
        fresh = _kept.settings == current and time.monotonic() - _kept.used_at < IDLE_TIMEOUT
        if fresh and _answers(kept):
            _kept.used_at = time.monotonic()
            return kept
        bulk_connection_close()
    connection = get_connection(fail_silently=False)
    connection.open()
    _kept.connection, _kept.settings, _kept.used_at = connection, current, time.monotonic()
    return connection


def _answers(connection: BaseEmailBackend) -> bool:
    if not isinstance(connection, SmtpBackend):
        return True
    if connection.connection is None:
        return False
    try:
        return bool(connection.connection.noop()[0] == 250)
    except Exception:
        return False


def bulk_connection_used() -> None:
    _kept.used_at = time.monotonic()


def bulk_connection_close() -> None:
    """Close the kept connection, if any: after an error (its state is then unknown), or
    when a sending task ends. Never raises."""
    connection, _kept.connection = _kept.connection, None
    if connection is not None:
        # A broken connection needs no goodbye.
        with contextlib.suppress(Exception):
            connection.close()

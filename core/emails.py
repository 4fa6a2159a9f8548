"""Emails from template triples (`<name>_subject.txt`, `<name>.txt`, `<name>.html`), written in
the recipient's language and time zone."""

import smtplib
from collections.abc import Sequence
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation

# Celery retry options for a task whose work is sending an email: a mail server that is down
# or refuses for a while is tried again with growing pauses, for about a day.
EMAIL_RETRY: dict[str, Any] = {
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": 30,
    "retry_backoff_max": 1800,
    "max_retries": 8,
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

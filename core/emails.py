"""Emails from template triples (`<name>_subject.txt`, `<name>.txt`, `<name>.html`), written in
the recipient's language and time zone."""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation

from members.models import User


def email_for(
    *,
    user: User,
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

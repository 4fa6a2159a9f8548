"""Newsletter emails. Subscribers need not be members, so these are addressed to an email
and a language rather than through `core.emails.email_for` (which wants a User).

An issue goes to thousands of people: its three parts are rendered once per language with a
placeholder where each recipient's unsubscribe link goes, and only that link changes per
message."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe

from newsletter.models import Issue
from newsletter.tokens import confirm_token, unsubscribe_token

# Made of characters that neither HTML escaping nor URL quoting change.
UNSUBSCRIBE_PLACEHOLDER = "NEWSLETTER-UNSUBSCRIBE-URL-PLACEHOLDER"


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def unsubscribe_url(*, subscriber_id: int) -> str:
    token = unsubscribe_token(subscriber_id=subscriber_id)
    return absolute(reverse("newsletter:unsubscribe", args=[token]))


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
    message = EmailMultiAlternatives(subject=subject, body=text, to=[email])
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
            "body_markdown": issue.body_markdown_for(language),
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

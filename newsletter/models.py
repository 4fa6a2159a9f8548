import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from newsletter.rendering import markdown_to_html


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


class Subscriber(models.Model):
    """One address on the list, with the evidence of its consent.

    Nobody is ever deleted when they leave: the row (status `unsubscribed` or
    `undeliverable`) is what stops a later import or send from mailing them again. Only
    account deletion removes the row (`newsletter/privacy.py`)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        UNDELIVERABLE = "undeliverable", _("Undeliverable")

    class Source(models.TextChoices):
        SITE_FORM = "site_form", _("Site form, confirmed by email")
        MEMBER = "member", _("Signed-in member, verified account address")
        ADMIN = "admin", _("Added by staff")

    class Reason(models.TextChoices):
        BOUNCE = "bounce", _("Bounced")
        COMPLAINT = "complaint", _("Spam complaint")
        MANUAL = "manual", _("Marked by staff")

    email = models.EmailField(_("email address"))
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="es"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="newsletter_subscriptions",
        verbose_name=_("member"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Consent: how the address asked to be added, from where, and when it was proven.
    consent_source = models.CharField(
        _("consent given through"), max_length=16, choices=Source.choices
    )
    consent_ip = models.GenericIPAddressField(_("consent IP address"), null=True, blank=True)
    requested_at = models.DateTimeField(_("subscription requested"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    # The confirmation link carries this value; confirming clears it, so a link works once
    # and asking again (a new value) retires the links sent before.
    confirmation_nonce = models.CharField(max_length=32, blank=True, default=new_nonce)
    # The nonce whose link was last emailed, so a repeated task does not email it twice.
    confirmation_emailed_nonce = models.CharField(max_length=32, blank=True, editable=False)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)
    undeliverable_at = models.DateTimeField(_("marked undeliverable"), null=True, blank=True)
    undeliverable_reason = models.CharField(
        _("why undeliverable"), max_length=16, choices=Reason.choices, blank=True
    )
    undeliverable_detail = models.CharField(_("details"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="newsletter_subscriber_email_ci"),
        ]
        indexes = [models.Index(fields=["status"], name="newsletter_subscriber_status")]

    def __str__(self) -> str:
        return self.email


class Issue(models.Model):
    """One newsletter. Written as Markdown; the sanitised HTML is kept beside it so the
    archive, the admin preview and every email show the same thing.

    Written in Spanish, the community's language (`subject`, `body_markdown`), and
    optionally in English too: each subscriber gets the version in their language, and
    English readers the Spanish one when there is no English version."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    subject = models.CharField(_("subject in Spanish"), max_length=200)
    body_markdown = models.TextField(
        _("body in Spanish"),
        help_text=_("Markdown: **bold**, *italics*, [links](https://…), lists."),
    )
    body_html = models.TextField(editable=False, default="")
    subject_en = models.CharField(_("subject in English"), max_length=200, blank=True)
    body_markdown_en = models.TextField(
        _("body in English"),
        blank=True,
        help_text=_("Optional. Without it, subscribers who read English get the Spanish one."),
    )
    body_html_en = models.TextField(editable=False, default="")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    send_started_at = models.DateTimeField(_("sending started"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("issue")
        verbose_name_plural = _("issues")
        ordering = ["-sent_at", "-created_at"]

    def __str__(self) -> str:
        return self.subject

    def save(self, *args: object, **kwargs: object) -> None:
        self.body_html = markdown_to_html(self.body_markdown)
        self.body_html_en = markdown_to_html(self.body_markdown_en) if self.has_english else ""
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def get_absolute_url(self) -> str:
        return reverse("newsletter:issue", args=[self.pk])

    def clean(self) -> None:
        # An English body under a Spanish subject (or the reverse) would reach inboxes half
        # translated.
        if self.subject_en.strip() and not self.body_markdown_en.strip():
            raise ValidationError(
                {"body_markdown_en": _("Write the English body too, or leave both empty.")}
            )
        if self.body_markdown_en.strip() and not self.subject_en.strip():
            raise ValidationError(
                {"subject_en": _("Write the English subject too, or leave both empty.")}
            )

    @property
    def has_english(self) -> bool:
        return bool(self.body_markdown_en.strip())

    def language_for(self, language: str | None) -> str:
        """The version a reader of `language` gets: English if they read it and it exists."""
        return "en" if language and language.startswith("en") and self.has_english else "es"

    def subject_for(self, language: str | None) -> str:
        return self.subject_en if self.language_for(language) == "en" else self.subject

    def body_markdown_for(self, language: str | None) -> str:
        return self.body_markdown_en if self.language_for(language) == "en" else self.body_markdown

    def body_html_for(self, language: str | None) -> str:
        return self.body_html_en if self.language_for(language) == "en" else self.body_html

    @property
    def localised_subject(self) -> str:
        """The subject in the language being read (the archive's visitor)."""
        return self.subject_for(get_language())

    @property
    def localised_body_html(self) -> str:
        return self.body_html_for(get_language())

    @property
    def localised_language(self) -> str:
        return self.language_for(get_language())


class Delivery(models.Model):
    """One issue to one subscriber; the row is the send's ledger (docs/newsletter.md).

    pending -> sending (claimed by a batch) -> sent | failed (refused; retried a few times)
    A claimed row found still `sending` after a crash may already be in the recipient's
    inbox: it becomes `unknown` and is never sent again. `skipped`: the subscriber left or
    bounced before their turn."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Unknown (interrupted)")
        SKIPPED = "skipped", _("Skipped")

    # No index of its own: the unique constraint and the queue index both begin with it,
    # and every result written (a status change) updates each index of the table.
    issue = models.ForeignKey(
        Issue,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("issue"),
        db_index=False,
    )
    subscriber = models.ForeignKey(
        Subscriber,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("subscriber"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Rows claimed together share a batch id: after a crash the batch tells which row was
    # the one in flight (docs/newsletter.md).
    batch = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    error = models.CharField(_("last error"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["issue", "subscriber"], name="newsletter_delivery_once"
            ),
        ]
        indexes = [
            models.Index(fields=["issue", "status", "id"], name="newsletter_delivery_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.issue_id} → {self.subscriber_id}"

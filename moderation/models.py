"""Reports members send about other members and their messages, and what staff did."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Report(models.Model):
    """A member reports another member (or something they wrote) to staff."""

    class Reason(models.TextChoices):
        SPAM = "spam", _("Spam or advertising")
        HARASSMENT = "harassment", _("Harassment or hate")
        INAPPROPRIATE = "inappropriate", _("Inappropriate content")
        FAKE = "fake", _("Fake profile or impersonation")
        OTHER = "other", _("Something else")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DISMISSED = "dismissed", _("Dismissed")
        ACTIONED = "actioned", _("Action taken")

    class Action(models.TextChoices):
        DISMISSED = "dismissed", _("Dismissed")
        WARNED = "warned", _("Member warned")
        MESSAGE_REMOVED = "message_removed", _("Message removed")
        SUSPENDED = "suspended", _("Member suspended")

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="reports_made",
        verbose_name=_("reporter"),
    )
    reported = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="reports_received",
        verbose_name=_("reported member"),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    details = models.TextField(_("what happened"), validators=[MaxLengthValidator(2000)])
    # What was reported when it is not the profile itself, e.g. "room message 123".
    subject = models.CharField(_("about"), max_length=120, blank=True)
    # The room message reported, if any; a message deleted for good leaves the report.
    message = models.ForeignKey(
        "rooms.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("message"),
    )
    # Or the private message reported: the one thing of a conversation staff may read.
    conversation_message = models.ForeignKey(
        "conversations.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("private message"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    staff_note = models.TextField(_("staff note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    action = models.CharField(_("action taken"), max_length=16, choices=Action.choices, blank=True)
    # When the warning email went out (moderation.tasks.report_warning_send), so it goes once.
    warning_sent_at = models.DateTimeField(_("warning sent"), null=True, blank=True)
    # When its author was told a removed message went (moderation.tasks.report_removal_send).
    removal_sent_at = models.DateTimeField(_("removal notice sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        indexes = [models.Index(fields=["status", "-created_at"], name="report_queue")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.reported}"

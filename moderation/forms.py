from typing import Any

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from moderation.models import Report

MAX_REPORT_DETAILS = 2000


class ReportForm(forms.Form):
    """What a member says about another member or one of their messages."""

    reason = forms.ChoiceField(
        label=_("Why are you reporting this member?"),
        choices=[("", _("Choose a reason")), *Report.Reason.choices],
    )
    details = forms.CharField(
        label=_("What happened?"),
        max_length=MAX_REPORT_DETAILS,
        help_text=_(
            "Up to 2,000 characters. Say where and when it happened, so that we can look into it."
        ),
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": MAX_REPORT_DETAILS}),
        error_messages={"required": _("Tell us briefly what happened.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].error_messages["required"] = _("Choose a reason.")


class MessageReportForm(ReportForm):
    """A message's report, with blocking its author in the same step: the one way to block
    a member whose profile one cannot open (a newcomer who never finished it)."""

    block = forms.BooleanField(required=False)

    def __init__(self, *args: Any, author_name: str, may_block: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_block:
            del self.fields["block"]
            return
        self.fields["block"].label = _(
            "Also block %(name)s: you will not see each other any more, and they are not told."
        ) % {"name": author_name}


class ReportsFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Show"),
        choices=[("", _("All")), *Report.Status.choices],
        required=False,
        initial=Report.Status.OPEN,
    )


class ModerationForm(forms.Form):
    class Step(models.TextChoices):
        DISMISS = "dismiss", _("Dismiss")
        WARN = "warn", _("Warn the member")
        REMOVE_MESSAGE = "remove_message", _("Remove the message")
        SUSPEND = "suspend", _("Suspend the member")

    action = forms.ChoiceField(choices=Step.choices)
    note = forms.CharField(
        label=_("Staff note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Only staff see this."),
    )

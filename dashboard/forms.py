from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from dashboard.metrics import DEFAULT_PERIOD
from members.models import Report

PERIOD_CHOICES = [
    (30, _("Last 30 days")),
    (90, _("Last 90 days")),
    (365, _("Last 365 days")),
]


class PeriodForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("Period"), choices=PERIOD_CHOICES, coerce=int, initial=DEFAULT_PERIOD
    )


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

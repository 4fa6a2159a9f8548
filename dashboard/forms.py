from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard.metrics import DEFAULT_PERIOD

PERIOD_CHOICES = [
    (30, _("Last 30 days")),
    (90, _("Last 90 days")),
    (365, _("Last 365 days")),
]


class PeriodForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("Period"), choices=PERIOD_CHOICES, coerce=int, initial=DEFAULT_PERIOD
    )

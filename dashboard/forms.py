from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard.metrics import DEFAULT_PERIOD
from matching.models import Programme

PERIOD_CHOICES = [
    (30, _("Last 30 days")),
    (90, _("Last 90 days")),
    (365, _("Last 365 days")),
]


class PeriodForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("Period"), choices=PERIOD_CHOICES, coerce=int, initial=DEFAULT_PERIOD
    )
    # Whose coffee-pair figures: the community's, or another programme's.
    programme = forms.ChoiceField(label=_("Coffee pairs of"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["programme"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (programme.slug, programme.display_name)
            for programme in Programme.objects.order_by("-active", "name").only("slug", "name")
        ]

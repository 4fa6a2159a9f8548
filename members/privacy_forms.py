"""Forms for the privacy and safety pages: reports, email settings, account deletion."""

from typing import Any

from allauth.core import ratelimit
from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from members.models import Report, User

MAX_REPORT_DETAILS = 2000


class ReportForm(forms.Form):
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


class AccountDeleteForm(forms.Form):
    """Confirms a deletion with the current password, within allauth's reauthentication limit."""

    password = forms.CharField(
        label=_("Your current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Type your password to confirm.")},
    )

    def __init__(self, *args: Any, user: User, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.request = request

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        # Someone at an unlocked computer must not be able to guess the password here.
        if not ratelimit.consume(self.request, action="reauthenticate", user=self.user):
            raise forms.ValidationError(
                _("Too many attempts. Wait a minute and try again."), code="rate_limited"
            )
        if not self.user.check_password(password):
            raise forms.ValidationError(
                _("That is not your current password."), code="wrong_password"
            )
        return password

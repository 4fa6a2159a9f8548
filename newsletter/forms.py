from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class SubscribeForm(forms.Form):
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,  # the subscribers' column
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    language = forms.ChoiceField(
        label=_("Language of the emails"),
        choices=settings.LANGUAGES,
        widget=forms.Select(attrs={"autocomplete": "language"}),
    )
    consent = forms.BooleanField(
        label=_("I want to receive the newsletter and can leave at any time with one click."),
        error_messages={"required": _("Tick the box to say you want the newsletter.")},
    )

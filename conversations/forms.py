from django import forms
from django.utils.translation import gettext_lazy as _

from conversations.models import MESSAGE_MAX_LENGTH


class MessageForm(forms.Form):
    text = forms.CharField(
        label=_("Message"),
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MESSAGE_MAX_LENGTH}),
        error_messages={"required": _("Write something first.")},
    )
    # Chosen when the page is drawn: sending the form twice stores the message once.
    client_id = forms.UUIDField(widget=forms.HiddenInput)

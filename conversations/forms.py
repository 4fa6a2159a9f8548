from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from conversations.attachments import PICTURE_SIDE, Prepared, attachment_prepare
from conversations.models import GROUP_MAX_MEMBERS, GROUP_TITLE_MAX_LENGTH, MESSAGE_MAX_LENGTH
from members.models import User


class MessageTextField(forms.CharField):
    """A textarea posts its line breaks as CRLF, but the browser's `maxlength` counts each
    as one character: counted as LF, the server's limit is the one the page promised."""

    def to_python(self, value: Any) -> str:
        text = super().to_python(value) or ""
        return text.replace("\r\n", "\n").replace("\r", "\n")


class MessageForm(forms.Form):
    text = MessageTextField(
        label=_("Message"),
        max_length=MESSAGE_MAX_LENGTH,
        required=False,
        # Enter sends (conversation.js): a phone's keyboard shows a "send" key for it.
        widget=forms.Textarea(
            attrs={"rows": 3, "maxlength": MESSAGE_MAX_LENGTH, "enterkeyhint": "send"}
        ),
    )
    attachment = forms.FileField(
        label=_("Attach a picture or a file"),
        required=False,
        # A picture is kept within PICTURE_SIDE: drawn so in the browser before it goes
        # (static/js/photo-shrink.js).
        widget=forms.ClearableFileInput(attrs={"data-shrink-to": str(PICTURE_SIDE)}),
    )
    # Chosen when the page is drawn: sending the form twice stores the message once.
    client_id = forms.UUIDField(widget=forms.HiddenInput)
    # The message this one answers (the page's "Reply" sets it).
    reply_to = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The page refuses a larger file before sending it (static/js/conversation.js).
        limit = settings.ATTACHMENT_MAX_MB * 2**20
        self.fields["attachment"].widget.attrs["data-max-bytes"] = limit
        self.fields["attachment"].help_text = _(
            "Up to %(limit)s MB. Pictures are shown in the conversation."
        ) % {"limit": settings.ATTACHMENT_MAX_MB}

    prepared: Prepared | None = None

    def clean_attachment(self) -> Any:
        upload = self.cleaned_data.get("attachment")
        if upload:
            self.prepared = attachment_prepare(upload)
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        empty = not (cleaned.get("text") or "").strip() and not cleaned.get("attachment")
        # A text that failed its own checks (too long) is not empty: one error says it.
        if empty and not self.has_error("attachment") and not self.has_error("text"):
            self.add_error("text", _("Write something first."))
        return cleaned


class MembersField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class GroupForm(forms.Form):
    """A new group: its name and whom to bring in, among `candidates` (conversations.
    selectors.group_candidates)."""

    title = forms.CharField(
        label=_("Group name"),
        max_length=GROUP_TITLE_MAX_LENGTH,
        error_messages={"required": _("Give the group a name.")},
    )
    members = MembersField(
        label=_("Members"),
        queryset=User.objects.none(),
        error_messages={"required": _("Choose at least two members.")},
    )

    def __init__(self, *args: Any, candidates: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = candidates  # type: ignore[attr-defined]
        # Here, in the reader's language: `%` on a lazy text translates it there and then.
        self.fields["members"].help_text = _(
            "People you have met or talked to. Up to %(limit)s in a group, you included."
        ) % {"limit": GROUP_MAX_MEMBERS}


class GroupRenameForm(forms.Form):
    title = forms.CharField(
        label=_("Group name"),
        max_length=GROUP_TITLE_MAX_LENGTH,
        error_messages={"required": _("Give the group a name.")},
    )


class GroupAddForm(forms.Form):
    members = MembersField(
        label=_("Add members"),
        queryset=User.objects.none(),
        error_messages={"required": _("Choose whom to add.")},
    )

    def __init__(self, *args: Any, candidates: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = candidates  # type: ignore[attr-defined]

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import User
from notifications.models import Channel, Kind
from notifications.services import CONFIGURABLE, channels_for

HELP = {
    Kind.PAIR_CREATED: _("Who you are meeting this round (or that nobody was left this time)."),
    Kind.PAIR_FOLLOW_UP: _("One short question after a round: did you meet?"),
    Kind.EVENT_REMINDER: _("A day before and 15 minutes before an event you are going to."),
    Kind.FOCUS_REMINDER: _(
        "5 minutes before a focus session you have a seat in, to join in one click."
    ),
    Kind.WAITLIST_PROMOTED: _("A seat freed up at an event where you were on the waiting list."),
    Kind.MENTION: _(
        "Someone mentions you in a room while you are away. At most one email per room "
        "every 15 minutes."
    ),
    Kind.MESSAGE: _(
        "A member's message has waited 10 minutes for you. One notice per conversation until "
        "you read it."
    ),
}


class PreferencesForm(forms.Form):
    """How a member hears of each kind of news, and whether they want the weekly digest."""

    email_digest = forms.BooleanField(
        label=_("Weekly digest"),
        required=False,
        help_text=_(
            "One short email a week, only if you have not visited for a while: new members who "
            "share your interests, upcoming events and the latest coffee pairs."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in reversed(CONFIGURABLE):
            self.fields = {
                kind.value: forms.ChoiceField(
                    label=kind.label,
                    choices=Channel.choices,
                    help_text=HELP[kind],
                    error_messages={"invalid_choice": _("Choose one of the options.")},
                ),
                **self.fields,
            }

    @classmethod
    def for_user(cls, user: User, data: Any = None) -> "PreferencesForm":
        return cls(data, initial={**channels_for(user=user), "email_digest": user.email_digest})

    def channels(self) -> dict[str, str]:
        return {kind.value: self.cleaned_data[kind.value] for kind in CONFIGURABLE}

    def kind_fields(self) -> list[forms.BoundField]:
        return [self[kind.value] for kind in CONFIGURABLE]

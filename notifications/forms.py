from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from members.models import User
from notifications.models import Channel, Kind
from notifications.push import TITLES as PUSHED
from notifications.push import endpoint_problem, key_problem, quiet_hours_for
from notifications.services import CONFIGURABLE, FIXED, channels_for, pushes_for

TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
QUIET_HELP = "quiet-help quiet-empty-help"  # the paragraphs both quiet-hour fields share

# What the member is told of whatever they choose: only the buzz on their devices is theirs.
FIXED_HELP = {
    Kind.EVENT_CHANGED: _(
        "A new time or place, or a cancellation, of an event you are going to: always on the "
        "site and by email, as it changes a plan you made."
    ),
    Kind.ROOM_INVITED: _(
        "A private room that lists you, such as your coffee pair's table: always on the site."
    ),
}
HELP = {
    Kind.PAIR_CREATED: _("Who you are meeting this round (or that nobody was left this time)."),
    Kind.PAIR_FOLLOW_UP: _("One short question after a round: did you meet?"),
    Kind.EVENT_REMINDER: _(
        "A day before an event you are going to, and 10 minutes before, when its room opens."
    ),
    Kind.FOCUS_REMINDER: _(
        "5 minutes before a focus session you have a seat in, to join in one click."
    ),
    Kind.FOCUS_NO_SHOW: _(
        "A seat you booked in a focus session stayed empty, and what that means for booking "
        "ahead. Never as a notification on your devices."
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

    quiet_start = forms.TimeField(
        label=_("From"),
        required=False,
        widget=TIME_INPUT,
        error_messages={"invalid": _("Enter a time such as 22:00.")},
    )
    quiet_end = forms.TimeField(
        label=_("Until"),
        required=False,
        widget=TIME_INPUT,
        error_messages={"invalid": _("Enter a time such as 08:00.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("quiet_start", "quiet_end"):
            self.fields[name].widget.attrs["aria-describedby"] = QUIET_HELP
        for kind in self.fixed_pushed():
            self.fields[f"push_{kind}"] = forms.BooleanField(
                label=_("Also as a notification on my devices"), required=False
            )
        for kind in reversed(CONFIGURABLE):
            push = {
                f"push_{kind.value}": forms.BooleanField(
                    label=_("Also as a notification on my devices"), required=False
                )
            }
            self.fields = {
                kind.value: forms.ChoiceField(
                    label=kind.label,
                    choices=Channel.choices,
                    help_text=HELP[kind],
                    error_messages={"invalid_choice": _("Choose one of the options.")},
                ),
                **(push if kind in PUSHED else {}),
                **self.fields,
            }

    @classmethod
    def for_user(cls, user: User, data: Any = None) -> "PreferencesForm":
        quiet = quiet_hours_for(user=user) or (None, None)
        pushes = {f"push_{kind}": wanted for kind, wanted in pushes_for(user=user).items()}
        return cls(
            data,
            initial={
                **channels_for(user=user),
                **pushes,
                "email_digest": user.email_digest,
                "quiet_start": quiet[0],
                "quiet_end": quiet[1],
            },
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("quiet_start"), cleaned.get("quiet_end")
        typed_well = not self.has_error("quiet_start") and not self.has_error("quiet_end")
        if (start is None) != (end is None) and typed_well:
            self.add_error(
                "quiet_end" if end is None else "quiet_start",
                _("Give both times, or leave both empty for no quiet hours."),
            )
        elif start is not None and start == end:
            self.add_error(
                "quiet_end", _("From and until the same time leaves no quiet hours: choose two.")
            )
        return cleaned

    def full_clean(self) -> None:
        super().full_clean()
        # The shared help, and a field's own error once it has one (Django would describe
        # the field by its error alone, the help being set by hand).
        for name in ("quiet_start", "quiet_end"):
            if self.has_error(name):
                error = f"{self[name].auto_id}_error"
                self.fields[name].widget.attrs["aria-describedby"] = f"{QUIET_HELP} {error}"

    def channels(self) -> dict[str, str]:
        return {kind.value: self.cleaned_data[kind.value] for kind in CONFIGURABLE}

    def pushes(self) -> dict[str, bool]:
        return {
            kind.value: self.cleaned_data[f"push_{kind.value}"]
            for kind in (*CONFIGURABLE, *self.fixed_pushed())
            if kind in PUSHED
        }

    @staticmethod
    def fixed_pushed() -> list[Kind]:
        """The kinds told whatever the member chooses, and pushed unless they say not to."""
        return [Kind(kind) for kind in FIXED if kind in PUSHED]

    def fixed_push_fields(self) -> list[tuple[Promise, Promise, forms.BoundField]]:
        return [
            (kind.label, FIXED_HELP[kind], self[f"push_{kind.value}"])
            for kind in self.fixed_pushed()
        ]

    def quiet(self) -> tuple[Any, Any]:
        return self.cleaned_data["quiet_start"], self.cleaned_data["quiet_end"]

    def kind_fields(self) -> list[tuple[forms.BoundField, forms.BoundField | None]]:
        return [
            (self[kind.value], self[f"push_{kind.value}"] if kind in PUSHED else None)
            for kind in CONFIGURABLE
        ]


class PushSubscriptionForm(forms.Form):
    """A device's push subscription, as the settings page sends it from the browser's
    `PushSubscription` (static/js/push.js)."""

    endpoint = forms.URLField(
        max_length=1000,
        assume_scheme="https",
        error_messages={
            "required": _("The browser gave no push service's address."),
            "invalid": _("This is not a push service's address."),
            "max_length": _("This push service's address is too long."),
        },
    )
    p256dh = forms.CharField(
        max_length=100, error_messages={"required": _("The browser gave no public key.")}
    )
    auth = forms.CharField(
        max_length=40, error_messages={"required": _("The browser gave no secret.")}
    )

    def clean_endpoint(self) -> str:
        endpoint: str = self.cleaned_data["endpoint"]
        problem = endpoint_problem(endpoint)
        if problem:
            raise forms.ValidationError(problem, code="endpoint")
        return endpoint

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "p256dh" in cleaned and "auth" in cleaned:
            for name, problem in key_problem(cleaned["p256dh"], cleaned["auth"]).items():
                self.add_error(name, problem)
        return cleaned

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from matching.models import Answer, MeetAgain, Participation


class ParticipationForm(forms.Form):
    """A member's coffee-pair settings. `today` is the member's date in their own zone."""

    opted_in = forms.BooleanField(label=_("Take part in coffee pairs"), required=False)
    skip_next_round = forms.BooleanField(
        label=_("Skip the next round"),
        required=False,
        help_text=_("You are back automatically for the round after."),
    )
    on_demand = forms.BooleanField(
        label=_("Pair me with someone who asks for a coffee now"),
        required=False,
        help_text=_("An extra coffee now and then, when someone found nobody else."),
    )
    paused_until = forms.DateField(
        label=_("Pause until"),
        required=False,
        help_text=_("No introductions until this date, included. Leave it empty to not pause."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["paused_until"].widget.attrs["min"] = today.isoformat()

    @classmethod
    def for_participation(cls, participation: Participation, *, today: date) -> "ParticipationForm":
        return cls(
            initial={
                "opted_in": participation.opted_in,
                "skip_next_round": participation.skip_next_round,
                "on_demand": participation.on_demand,
                "paused_until": participation.paused_until,
            },
            today=today,
        )

    def clean_paused_until(self) -> date | None:
        value: date | None = self.cleaned_data["paused_until"]
        if value is not None and value < self.today:
            raise forms.ValidationError(
                _("Choose today or a later date, or leave it empty to not pause."),
                code="past",
            )
        return value


class AnswerForm(forms.Form):
    """ "Did you meet?" from the member's own page."""

    seat_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    answer = forms.ChoiceField(label=_("Did you meet?"), choices=Answer.choices)


class LinkAnswerForm(forms.Form):
    """ "Did you meet?" from the signed link in the follow-up email: the link names the seat
    and the answer to pre-select; only the member's POST records it."""

    answer = forms.ChoiceField(
        label=_("Your answer"), choices=Answer.choices, widget=forms.RadioSelect
    )


class RatingForm(forms.Form):
    """ "How was it?" from the signed link in the follow-up email, the link's mark chosen;
    only the member's POST records it."""

    rating = forms.TypedChoiceField(
        label=_("How was it?"),
        choices=[
            (1, _("1, not for me")),
            (2, "2"),
            (3, "3"),
            (4, "4"),
            (5, _("5, great")),
        ],
        coerce=int,
        widget=forms.RadioSelect,
    )


class MeetAgainForm(forms.Form):
    """ "I'd like to meet again": how often, or not."""

    every_weeks = forms.TypedChoiceField(
        label=_("Meet again"),
        choices=[("", _("Not planned")), *MeetAgain.Every.choices],
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("If they wish it too, we pair you again at that pace. They are not told."),
    )


class RoundStartForm(forms.Form):
    """Staff's "yes, start it" under the preview of a round. It carries the previewed time,
    so the round made is the one shown, and confirming twice (or two staff at once) finds
    the round of that time instead of making another."""

    # Long enough to read a preview, short enough that nobody starts a round from a page
    # left open since yesterday.
    VALID_FOR = timedelta(hours=1)

    scheduled_for = forms.CharField(widget=forms.HiddenInput)

    def clean_scheduled_for(self) -> datetime:
        value = self.cleaned_data["scheduled_for"]
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        now = timezone.now()
        if moment is None or moment.tzinfo is None or not now - self.VALID_FOR <= moment <= now:
            raise forms.ValidationError(
                _("This preview is out of date. Check it again, then start the round."),
                code="stale",
            )
        return moment


class MeetingTimeForm(forms.Form):
    """A time for a coffee meeting: one of the suggested starts (`at`, seconds since the
    epoch, from its button), or the member's own day and time, in their zone (`zone`)."""

    # Up to 2100: a larger number (a forged form) overflowed the conversion to a date.
    at = forms.IntegerField(
        required=False, widget=forms.HiddenInput, min_value=0, max_value=4_102_444_800
    )
    day = forms.DateField(
        label=_("Day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    time = forms.TimeField(
        label=_("Time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M"),
    )

    def __init__(self, *args: Any, zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(zone)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        if data.get("at") is not None:
            data["starts_at"] = datetime.fromtimestamp(data["at"], tz=UTC)
        elif data.get("day") and data.get("time"):
            if not 2000 <= data["day"].year <= 2099:
                # Year 9999 is one slip on a date picker away, and overflowed in UTC.
                raise forms.ValidationError(_("Choose a time in the next two months."))
            naive = datetime.combine(data["day"], data["time"])
            local = naive.replace(tzinfo=self.zone)
            # A time that does not exist (skipped by a change to summer time).
            if local.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None) != naive:
                raise forms.ValidationError(_("This time does not exist in your time zone."))
            # Or one that happens twice (the clocks go back): which of the two is unknown.
            if local.replace(fold=1).utcoffset() != local.utcoffset():
                raise forms.ValidationError(
                    _(
                        "This time happens twice in your time zone (the clocks go back). "
                        "Choose another."
                    )
                )
            # In UTC: the meeting's stored time compares equal to it (a double click).
            data["starts_at"] = local.astimezone(UTC)
        else:
            raise forms.ValidationError(_("Choose a day and a time."))
        return data

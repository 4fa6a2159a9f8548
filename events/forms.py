"""Starting a meetup, organising a staff event, changing an event, answering one."""

import zoneinfo
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

from django import forms
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.zones import zone_place
from events.models import Event, EventError, EventKind, Rsvp
from events.services import meetup_defaults
from members.forms import TimeZoneField
from members.models import User

# The form field each refusal of the services is about; the rest go above the form.
ERROR_FIELDS = {
    "title_required": "title",
    "ends_before_start": "ends_at",
    "starts_in_past": "starts_at",
    "times_staff_only": "starts_at",
    "invalid_time_zone": "time_zone",
    "capacity_too_low": "capacity",
    "capacity_below_attendance": "capacity",
    "no_later_hour_today": "when",
}


# Far beyond the largest stage (300); the column would take two billion.
MAX_CAPACITY = 10_000


class WallClockField(forms.DateTimeField):
    """A date and time as written, without a zone: the form places it in the zone chosen
    next to it, which need not be the viewer's."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def to_python(self, value: Any) -> datetime | None:
        # Parsed in UTC, which has no skipped or repeated hours, then the zone is dropped:
        # what remains is the wall-clock time as typed.
        with timezone.override(UTC):
            parsed = super().to_python(value)
        return parsed.replace(tzinfo=None) if parsed else None

    def validate(self, value: Any) -> None:
        super().validate(value)
        # A browser's picker takes any year; one outside these is a slip of the keyboard (and
        # the first and last days of the calendar cannot even be placed in every zone).
        if value and not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise forms.ValidationError(
                _("Choose a date between %(first)s and %(last)s."),
                code="year_out_of_range",
                params={"first": FIRST_YEAR, "last": LAST_YEAR},
            )


FIRST_YEAR, LAST_YEAR = 2000, 2099


def _placed(wall_clock: datetime, zone: str) -> datetime:
    return wall_clock.replace(tzinfo=zoneinfo.ZoneInfo(zone))


def _skipped(wall_clock: datetime, zone: str) -> bool:
    """Whether the clocks of `zone` skip `wall_clock` (the hour lost when summer time
    starts): such a time names no moment, and placed naively it would fall an hour off."""
    placed = _placed(wall_clock, zone)
    return placed.astimezone(UTC).astimezone(placed.tzinfo).replace(tzinfo=None) != wall_clock


def _check_not_skipped(form: forms.Form, field: str, zone: str) -> None:
    wall_clock = form.cleaned_data.get(field)
    # `zone` is empty when the form's own choice of zone was refused.
    if wall_clock and zone and _skipped(wall_clock, zone):
        form.add_error(
            field,
            _("The clocks skip this time in %(zone)s (summer time starts): choose another.")
            % {"zone": zone_place(zone)},
        )


class ServiceErrorsMixin:
    def add_service_error(self, error: EventError) -> None:
        """Show a service's refusal next to the field it is about."""
        field = ERROR_FIELDS.get(getattr(error, "code", ""))
        form = cast(forms.Form, self)
        form.add_error(field if field in form.fields else None, str(error))


class MeetupForm(ServiceErrorsMixin, forms.Form):
    NOW, LATER, CUSTOM = "now", "later", "custom"

    title = forms.CharField(
        label=_("Title"),
        max_length=80,
        help_text=_("What it is about, e.g. “Coffee and portfolio reviews”."),
    )
    description = forms.CharField(
        label=_("Topic"),
        required=False,
        max_length=1000,
        help_text=_("Optional: a few words on what you would like to talk about."),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 1000}),
    )
    when = forms.ChoiceField(
        label=_("When"),
        choices=[
            (NOW, _("Now")),
            (LATER, _("Later today")),
            (CUSTOM, _("At a time I choose")),
        ],
        initial=NOW,
        widget=forms.RadioSelect,
    )
    starts_at = WallClockField(
        label=_("Start time"),
        required=False,
        help_text=_("Only for a time you choose, in your own time zone."),
    )
    duration = forms.TypedChoiceField(
        label=_("How long"),
        choices=[
            (30, _("30 minutes")),
            (60, _("1 hour")),
            (90, _("1 hour 30 minutes")),
        ],
        coerce=int,
        initial=30,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        custom = cleaned.get("when") == self.CUSTOM
        if custom and not cleaned.get("starts_at") and "starts_at" not in self.errors:
            self.add_error("starts_at", _("Choose when the meetup starts."))
        if custom:
            _check_not_skipped(self, "starts_at", self.user.time_zone)
        # "Later today" past the last hour is refused by meetup_fields (NoLaterHourToday),
        # which the view turns into this form's error beside "when".
        return cleaned

    def meetup_fields(self) -> dict[str, Any]:
        """The keyword arguments of `meetup_start` (after `is_valid`)."""
        data = self.cleaned_data
        duration = timedelta(minutes=data["duration"])
        zone = self.user.time_zone
        if data["when"] == self.CUSTOM:
            starts_at = _placed(data["starts_at"], zone)
            ends_at = starts_at + duration
        else:
            start = cast(Literal["now", "later"], data["when"])
            times = meetup_defaults(time_zone=zone, start=start, duration=duration)
            starts_at, ends_at = times.starts_at, times.ends_at
        return {
            "title": data["title"],
            "description": data["description"],
            "starts_at": starts_at,
            "ends_at": ends_at,
            "time_zone": zone,
        }


class EventForm(ServiceErrorsMixin, forms.Form):
    """An event's details; times are typed in the organiser's zone. Editing, `event` is the
    one edited: a time left as the form showed it stays the moment it was."""

    def __init__(self, *args: Any, event: Event | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.event = event

    title = forms.CharField(label=_("Title"), max_length=120)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": 5000}),
    )
    starts_at = WallClockField(label=_("Starts"))
    ends_at = WallClockField(label=_("Ends"))
    time_zone = TimeZoneField(
        label=_("Time zone"),
        help_text=_("The start and end times are in this zone."),
    )
    capacity = forms.IntegerField(
        label=_("Capacity"),
        required=False,
        min_value=1,
        max_value=MAX_CAPACITY,
        help_text=_("Optional: how many can come, the host included. Leave empty for no limit."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for field in ("starts_at", "ends_at"):
            _check_not_skipped(self, field, cleaned.get("time_zone", ""))
        return cleaned

    def event_fields(self) -> dict[str, Any]:
        """Times placed in the chosen zone, as the services take them (after `is_valid`)."""
        data = self.cleaned_data
        zone = data["time_zone"]
        return {
            "title": data["title"],
            "description": data["description"],
            "starts_at": self._moment("starts_at", zone),
            "ends_at": self._moment("ends_at", zone),
            "time_zone": zone,
            "capacity": data["capacity"],
        }

    def _moment(self, field: str, zone: str) -> datetime:
        """The typed time placed in `zone`; the edited event's own when it was left as shown
        in the same zone. In the hour a clock turns back, a wall-clock time names two
        moments and placing it takes the first: an event in the second, its title edited,
        would otherwise move an hour and tell everyone its time changed."""
        typed = self.cleaned_data[field]
        if self.event is not None and zone == self.event.time_zone:
            stored: datetime = getattr(self.event, field)
            if stored.astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None) == typed:
                return stored
        return _placed(typed, zone)

    @classmethod
    def initial_for(cls, event: Event) -> dict[str, Any]:
        """An event's details as the form shows them: wall-clock times in its zone."""
        zone = zoneinfo.ZoneInfo(event.time_zone)
        return {
            "title": event.title,
            "description": event.description,
            "starts_at": event.starts_at.astimezone(zone).replace(tzinfo=None),
            "ends_at": event.ends_at.astimezone(zone).replace(tzinfo=None),
            "time_zone": event.time_zone,
            "capacity": event.capacity,
        }


class MemberEmailField(forms.EmailField):
    """An active member, named by their email address (any case)."""

    # Rather than a list of every member to choose from: 100,000 options, 4.7 MB of page,
    # at the size the site is built for.
    widget = forms.EmailInput(attrs={"autocomplete": "off"})
    default_error_messages = {"unknown": _("No active member has this email address.")}

    def clean(self, value: Any) -> User:  # type: ignore[override]
        email = super().clean(value)
        # Compared as the unique index on the lower-cased address stores it.
        member = (
            User.objects.alias(address=Lower("email"))
            .filter(address=email.lower(), is_active=True, deleted_at__isnull=True)
            .first()
        )
        if member is None:
            raise forms.ValidationError(self.error_messages["unknown"], code="unknown")
        return member


class StaffEventForm(EventForm):
    """A training session or talk, held in the cafeteria or in a room of its own."""

    CAFETERIA, NEW_ROOM = "cafeteria", "new"

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (EventKind.TRAINING, EventKind.TRAINING.label),
            (EventKind.TALK, EventKind.TALK.label),
        ],
        initial=EventKind.TALK,
        widget=forms.RadioSelect,
    )
    host = MemberEmailField(
        label=_("Host"),
        help_text=_("The email address of the member who hosts it: yours, or another member's."),
    )
    room = forms.ChoiceField(
        label=_("Where"),
        choices=[
            (CAFETERIA, _("In the cafeteria")),
            (NEW_ROOM, _("In a meeting room of its own, named after the event")),
        ],
        initial=NEW_ROOM,
        widget=forms.RadioSelect,
    )

    field_order = ["kind", "title", "description", "host"]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["host"].initial = user.email
        self.fields["time_zone"].initial = user.time_zone

    @property
    def wants_new_room(self) -> bool:
        return bool(self.cleaned_data["room"] == self.NEW_ROOM)

    def event_fields(self) -> dict[str, Any]:
        return {
            **super().event_fields(),
            "kind": self.cleaned_data["kind"],
            "host": self.cleaned_data["host"],
        }


class RsvpForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (Rsvp.Status.GOING, Rsvp.Status.GOING.label),
            (Rsvp.Status.MAYBE, Rsvp.Status.MAYBE.label),
            (Rsvp.Status.NOT_GOING, Rsvp.Status.NOT_GOING.label),
        ]
    )

import functools
import zoneinfo
from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from core.converters import is_row_id
from core.text import readable, visible_line
from core.zones import zone_canonical, zone_older_names, zone_place
from members.images import ProcessedPhoto, photo_validate_and_process
from members.models import Acquaintance, Interest, Language, Profile
from members.search import normalise
from members.services import MAX_INTEREST_LABEL, MAX_INTERESTS, interest_key

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
MAX_TAG_TEXT = 600


# The regions of the IANA database, the community's two first. Zones outside them, and older
# names inside them ("Brazil/East", "America/Buenos_Aires"), are links to a zone listed: the
# picker lists each place once, and a link saved before is shown and kept as its zone.
TIME_ZONE_REGIONS = {
    "Europe": _("Europe"),
    "America": _("America"),
    "Africa": _("Africa"),
    "Antarctica": _("Antarctica"),
    "Arctic": _("Arctic"),
    "Asia": _("Asia"),
    "Atlantic": _("Atlantic Ocean"),
    "Australia": _("Australia"),
    "Indian": _("Indian Ocean"),
    "Pacific": _("Pacific Ocean"),
}


@functools.cache
def _zones_by_region(language: str) -> dict[str, list[tuple[str, str, zoneinfo.ZoneInfo]]]:
    """The zones to choose from, once per process and language (reading them costs a walk
    of the zone files), each with its place's name in that language and its ZoneInfo kept
    alive for the offsets, in the order of their names."""
    groups: dict[str, list[tuple[str, str, zoneinfo.ZoneInfo]]] = {
        region: [] for region in TIME_ZONE_REGIONS
    }
    for zone in zoneinfo.available_timezones():
        region = zone.partition("/")[0]
        if region in groups and zone_canonical(zone) == zone:
            groups[region].append((zone, zone_place(zone, language), zoneinfo.ZoneInfo(zone)))
    for zones in groups.values():
        zones.sort(key=lambda entry: normalise(entry[1]))
    return groups


def _utc_offset(at: datetime) -> str:
    minutes = round(at.utcoffset().total_seconds() / 60)  # type: ignore[union-attr]
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'-' if minutes < 0 else '+'}{hours}{f':{rest:02}' if rest else ''}"


def time_zone_choices() -> list[tuple[StrOrPromise, list[tuple[str, str]]]]:
    """Every zone a member may pick, grouped by region, each labelled with its place in the
    reader's language and its offset from UTC today, e.g. "Ciudad de México (UTC-6)"."""
    now = timezone.now()
    language = get_language() or settings.LANGUAGE_CODE
    return [
        (
            TIME_ZONE_REGIONS[region],
            [(zone, f"{name} ({_utc_offset(now.astimezone(info))})") for zone, name, info in zones],
        )
        for region, zones in _zones_by_region(language).items()
    ]


class TimeZoneSelect(forms.Select):
    """Each zone's option names its older names too (`data-aliases`), by which a browser may
    report it: the onboarding page suggests the browser's zone (static/js/site.js)."""

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        if older := zone_older_names(str(option["value"])):
            option["attrs"]["data-aliases"] = " ".join(older)
        return option


class TimeZoneField(forms.ChoiceField):
    """A zone from the picker. An older name for a zone (a link, such as "Brazil/East",
    which members and events may have saved) is shown and saved as the zone it names:
    the clocks are the same."""

    widget = TimeZoneSelect

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=time_zone_choices, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        return zone_canonical(value) if isinstance(value, str) else value

    def to_python(self, value: Any) -> str:
        return zone_canonical(super().to_python(value))


# The profile's fields about the member themselves, by their HTML autocomplete purpose
# (WCAG 1.3.5, Identify Input Purpose).
AUTOCOMPLETE = {
    "display_name": "name",
    "language": "language",
    "city": "address-level2",
    "country": "country",
    "website": "url",
}


class ProfileForm(forms.ModelForm[Profile]):
    """Onboarding and profile editing: the member's account basics plus their profile."""

    display_name = forms.CharField(
        label=_("Display name"),
        max_length=80,
        help_text=_("How other members see you, e.g. “Lucía Pérez”."),
    )

    def clean_display_name(self) -> str:
        # Invisible characters (a zero-width space, a Hangul or Braille blank) would show
        # as no name at all: they go, and a letter or digit must be left.
        name = visible_line(self.cleaned_data["display_name"])
        if not readable(name):
            raise forms.ValidationError(_("Write a name others can read."))
        return name

    time_zone = TimeZoneField(
        label=_("Time zone"),
        help_text=_("We show every time in this zone and use it to pair you."),
    )
    language = forms.ChoiceField(
        label=_("Your language"),
        choices=settings.LANGUAGES,
        help_text=_("For the site and your emails. A device can still switch at the page's foot."),
    )
    photo_upload = forms.FileField(
        label=_("Photo"),
        required=False,
        # Drawn at this size in the browser before it goes (static/js/photo-shrink.js): kept
        # at 512 px, a camera's 4,000 would only cost the upload.
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp", "data-shrink-to": "1024"}
        ),
    )
    remove_photo = forms.BooleanField(label=_("Remove my photo"), required=False)
    # Typing picks tags (the datalist offers every approved one, in either language) and
    # suggests new ones; what the member has is the ticked list below it (docs/interests.md).
    interest_names = forms.CharField(
        label=_("Skills and interests"),
        required=False,
        max_length=MAX_TAG_TEXT,
        help_text=_(
            "Type and choose from the list, in Spanish or English; separate them with commas. "
            "Not in the list? Write it anyway: new ones show on your profile once our team "
            "approves them."
        ),
        widget=forms.TextInput(attrs={"list": "interest-options", "autocomplete": "off"}),
    )
    interests = forms.ModelMultipleChoiceField(
        label=_("Chosen"),
        queryset=Interest.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Untick one to take it off your profile."),
    )
    working_days = forms.TypedMultipleChoiceField(
        label=_("Days I usually work"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    website = forms.URLField(
        label=_("Website"),
        required=False,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    linkedin = forms.URLField(label=_("LinkedIn"), required=False, assume_scheme="https")
    github = forms.URLField(label=_("GitHub"), required=False, assume_scheme="https")
    languages = forms.ModelMultipleChoiceField(
        label=_("Languages I speak"),
        queryset=Language.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one language.")},
    )

    class Meta:
        model = Profile
        fields = [
            "headline",
            "bio",
            "city",
            "country",
            "working_hours_start",
            "working_hours_end",
            "languages",
            "open_to_collaborate",
            "open_to_mentor",
            "open_to_be_mentored",
            "open_to_clients",
            "open_to_chat",
            "website",
            "linkedin",
            "github",
            "visible_in_directory",
            "public",
            "messages_from",
        ]
        widgets = {
            "bio": forms.Textarea(attrs={"rows": 5, "maxlength": 2000}),
            "working_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "working_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "messages_from": forms.RadioSelect,
        }
        help_texts = {
            "working_hours_end": _(
                "Past midnight? Give the time you finish, as in 22:00 to 02:00."
            ),
        }

    coffee_pairs = forms.BooleanField(
        label=_("Introduce me to other members regularly (coffee pairs)"),
        required=False,
        initial=True,
        help_text=_("You can skip a round, pause or leave at any time."),
    )

    def __init__(self, *args: Any, onboarding: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not onboarding:
            del self.fields["coffee_pairs"]  # later on, "My coffee pairs" has the settings
        user = self.instance.user
        self.fields["headline"].required = True
        # What each field asks for, so that browsers and assistive tools fill or mark it.
        for name, purpose in AUTOCOMPLETE.items():
            self.fields[name].widget.attrs["autocomplete"] = purpose
        # A form from before the choice existed (or a script) leaves it as it was.
        self.fields["messages_from"].required = False
        self.fields["display_name"].initial = user.display_name or user.get_full_name()
        self.fields["time_zone"].initial = user.time_zone
        self.fields["photo_upload"].help_text = _(
            "JPEG, PNG or WebP, up to %(limit)s MB. We crop it to a square."
        ) % {"limit": settings.PHOTO_UPLOAD_MAX_MB}
        self.fields["language"].initial = user.language
        self.fields["working_days"].initial = self.instance.working_days
        self._interests_offer()
        self.photo: ProcessedPhoto | None = None

    def clean_messages_from(self) -> str:
        return self.cleaned_data.get("messages_from") or self.instance.messages_from

    def _interests_offer(self) -> None:
        """Any approved tag, or one of the member's own suggestions, may be ticked; only
        those the member has (or just ticked, when the form comes back with an error) are
        drawn, not the whole list."""
        allowed = Interest.objects.approved()
        if self.instance.pk:
            allowed = Interest.objects.filter(
                Q(status=Interest.Status.APPROVED) | Q(profiles=self.instance)
            ).distinct()
        field = self.fields["interests"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = allowed
        if self.is_bound:
            values = field.widget.value_from_datadict(
                self.data, self.files, self.add_prefix("interests")
            )
            ticked = [value for value in values or [] if is_row_id(value)]
            chosen = list(allowed.filter(pk__in=ticked))
        else:
            chosen = list(self.instance.interests.all()) if self.instance.pk else []
            field.initial = [interest.pk for interest in chosen]
        chosen.sort(key=lambda interest: normalise(interest.label))
        field.widget.choices = [
            (
                interest.pk,
                interest.label
                if interest.is_approved
                else _("%(interest)s (waiting for review)") % {"interest": interest.label},
            )
            for interest in chosen
        ]

    def clean_photo_upload(self) -> Any:
        upload = self.cleaned_data.get("photo_upload")
        if upload:
            self.photo = photo_validate_and_process(upload)
        return upload

    def clean_interest_names(self) -> list[str]:
        raw = self.cleaned_data.get("interest_names", "")
        names = [" ".join(name.split()) for name in raw.split(",") if name.strip()]
        if any(len(name) > MAX_INTEREST_LABEL for name in names):
            raise forms.ValidationError(_("Keep each interest to 50 characters or fewer."))
        if len(names) > MAX_INTERESTS:
            raise forms.ValidationError(_("Choose up to 15 interests."))
        return names

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chosen = cleaned.get("interests")
        names = cleaned.get("interest_names")
        if chosen is not None and names is not None:
            known = {interest_key(label) for interest in chosen for label in interest.labels}
            new = {interest_key(name) for name in names} - known
            if len(chosen) + len(new) > MAX_INTERESTS:
                self.add_error("interest_names", _("Choose up to 15 interests."))
        # An end before the start is a day that ends after midnight (members/hours.py); the
        # model refuses only a day with no length.
        return cleaned

    def save(self, commit: bool = True) -> Profile:
        profile = super().save(commit=False)
        user = profile.user
        user.display_name = self.cleaned_data["display_name"]
        user.time_zone = self.cleaned_data["time_zone"]
        user.language = self.cleaned_data["language"]
        profile.working_days = sorted(set(self.cleaned_data.get("working_days") or []))
        return profile

    @staticmethod
    def interest_options() -> list[tuple[int, str, str]]:
        """The datalist: every approved tag as (id, its label in the reader's language, its
        label in the other language when it differs), so that either can be typed."""
        options = []
        for interest in Interest.objects.approved():
            label = interest.label
            others = [other for other in interest.labels if other != label]
            options.append((interest.pk, label, others[0] if others else ""))
        return sorted(options, key=lambda option: normalise(option[1]))


class AcquaintanceNoteForm(forms.ModelForm[Acquaintance]):
    class Meta:
        model = Acquaintance
        fields = ["note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 2, "maxlength": 2000})}

    def __init__(self, *args: Any, about: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if about:
            # Several on one page (people met, a trio's partners): each says whose it is.
            self.fields["note"].label = _("Private note about %(name)s") % {"name": about}

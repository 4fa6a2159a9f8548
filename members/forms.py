import zoneinfo
from datetime import time
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from members.images import ProcessedPhoto, photo_validate_and_process
from members.models import Acquaintance, Interest, Language, Profile

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


def time_zone_choices() -> list[tuple[str, str]]:
    zones = sorted(
        zone
        for zone in zoneinfo.available_timezones()
        if "/" in zone and not zone.startswith(("Etc/", "SystemV/", "US/"))
    )
    return [(zone, zone.replace("_", " ")) for zone in zones]


class ProfileForm(forms.ModelForm[Profile]):
    """Onboarding and profile editing: the member's account basics plus their profile."""

    display_name = forms.CharField(
        label=_("Display name"),
        max_length=80,
        help_text=_("How other members see you, e.g. “Lucía Pérez”."),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=time_zone_choices,
        help_text=_("We show every time in this zone and use it to pair you."),
    )
    language = forms.ChoiceField(label=_("Language for emails"), choices=settings.LANGUAGES)
    photo_upload = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    remove_photo = forms.BooleanField(label=_("Remove my photo"), required=False)
    interest_names = forms.CharField(
        label=_("Skills and interests"),
        required=False,
        max_length=MAX_TAG_TEXT,
        help_text=_("Separate them with commas, e.g. “Python, illustration, running”."),
        widget=forms.TextInput(attrs={"list": "interest-suggestions", "autocomplete": "off"}),
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
        ]
        widgets = {
            "bio": forms.Textarea(attrs={"rows": 5, "maxlength": 2000}),
            "working_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "working_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
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
        self.fields["display_name"].initial = user.display_name or user.get_full_name()
        self.fields["time_zone"].initial = user.time_zone
        self.fields["photo_upload"].help_text = _(
            "JPEG, PNG or WebP, up to %(limit)s MB. We crop it to a square."
        ) % {"limit": settings.PHOTO_UPLOAD_MAX_MB}
        self.fields["language"].initial = user.language
        self.fields["working_days"].initial = self.instance.working_days
        if self.instance.pk:
            self.fields["interest_names"].initial = ", ".join(
                interest.name for interest in self.instance.interests.all()
            )
        self.photo: ProcessedPhoto | None = None

    def clean_photo_upload(self) -> Any:
        upload = self.cleaned_data.get("photo_upload")
        if upload:
            self.photo = photo_validate_and_process(upload)
        return upload

    def clean_interest_names(self) -> list[str]:
        raw = self.cleaned_data.get("interest_names", "")
        names = [name.strip() for name in raw.split(",") if name.strip()]
        if any(len(name) > 50 for name in names):
            raise forms.ValidationError(_("Keep each interest to 50 characters or fewer."))
        if len(names) > 15:
            raise forms.ValidationError(_("Choose up to 15 interests."))
        return names

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start: time | None = cleaned.get("working_hours_start")
        end: time | None = cleaned.get("working_hours_end")
        if start and end and end <= start:
            self.add_error(
                "working_hours_end", _("The end of your working day must come after its start.")
            )
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
    def interest_suggestions() -> list[str]:
        return list(Interest.objects.values_list("name", flat=True)[:200])


class AcquaintanceNoteForm(forms.ModelForm[Acquaintance]):
    class Meta:
        model = Acquaintance
        fields = ["note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 2, "maxlength": 2000})}

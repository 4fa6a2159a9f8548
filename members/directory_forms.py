"""The member directory's search and filters, parsed from the query string."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import slug_re
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_stubs_ext import StrOrPromise

from members.models import Interest, Language, OpenTo
from members.search import search_terms
from members.selectors import (
    HIGHEST_UTC_OFFSET,
    LOWEST_UTC_OFFSET,
    DirectoryFilters,
    DirectorySort,
    directory_interest_choices,
)

MAX_QUERY_LENGTH = 200


def _country_choices() -> list[tuple[str, StrOrPromise]]:
    # A callable, so that the names follow the language of each request.
    return [("", _("Any country")), *((code, str(name)) for code, name in countries)]


def _offset_label(hours: int) -> str:
    if hours == 0:
        return "UTC"
    return f"UTC{'+' if hours > 0 else '−'}{abs(hours)}"


OFFSET_CHOICES = [
    ("", _("Any")),
    *(
        (str(hours), _offset_label(hours))
        for hours in range(LOWEST_UTC_OFFSET, HIGHEST_UTC_OFFSET + 1)
    ),
]


class InterestSlugField(forms.ModelChoiceField[Interest]):
    """An interest by slug; anything that cannot be a slug is refused before the database."""

    def to_python(self, value: Any) -> Interest | None:
        if value not in self.empty_values and not slug_re.fullmatch(str(value)):
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return super().to_python(value)


class DirectoryFilterForm(forms.Form):
    """GET parameters of /members/. Invalid values are reported and left out of `filters()`.

    Always bind it (an empty query string is valid); a field that does not validate is simply
    missing from `cleaned_data`, so the other filters still apply.
    """

    q = forms.CharField(
        label=_("Search members"),
        required=False,
        max_length=MAX_QUERY_LENGTH,
        help_text=_("Names, what people do, skills and interests, e.g. “python lucía”."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
        error_messages={"max_length": _("Please search with at most %(limit_value)d characters.")},
    )
    interest = InterestSlugField(
        label=_("Interest"),
        queryset=Interest.objects.approved(),
        to_field_name="slug",
        required=False,
        error_messages={
            "invalid_choice": _("We do not know the interest “%(value)s”; it was ignored.")
        },
    )
    country = forms.ChoiceField(label=_("Country"), choices=_country_choices, required=False)
    utc_offset_from = forms.TypedChoiceField(
        label=_("Time zone from"),
        choices=OFFSET_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    utc_offset_to = forms.TypedChoiceField(
        label=_("Time zone to"),
        choices=OFFSET_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    open_to = forms.ChoiceField(
        label=_("Open to"), choices=[("", _("Anything")), *OpenTo.choices], required=False
    )
    language = forms.ChoiceField(
        label=_("Speaks"), choices=[("", _("Any language")), *Language.Code.choices], required=False
    )
    sort = forms.ChoiceField(label=_("Sort by"), choices=DirectorySort.choices, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        # The select offers the popular interests only; any known slug is still accepted.
        self.fields["interest"].widget.choices = [
            ("", _("Any interest")),
            *directory_interest_choices(),
        ]

    def clean_q(self) -> str:
        query: str = self.cleaned_data.get("q") or ""
        # Only letters and digits are searched: a query of none would silently list everyone.
        if query.strip() and not search_terms(query):
            raise ValidationError(
                _("Search with letters or numbers; this search was ignored."), code="no_terms"
            )
        return query

    def clean_interest(self) -> Interest | None:
        interest: Interest | None = self.cleaned_data.get("interest")
        widget = self.fields["interest"].widget
        if interest and interest.slug not in {value for value, _label in widget.choices}:
            widget.choices = [*widget.choices, (interest.slug, interest.label)]
        return interest

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        low, high = cleaned.get("utc_offset_from"), cleaned.get("utc_offset_to")
        if low is not None and high is not None and low > high:
            self.add_error(
                "utc_offset_to",
                _("The time-zone range must go from west to east; it was ignored."),
            )
            cleaned.pop("utc_offset_from", None)
        return cleaned

    def filters(self) -> DirectoryFilters:
        """What to search for, from the fields that validated. Call after `is_valid()`."""
        data = getattr(self, "cleaned_data", {})
        return DirectoryFilters(
            query=data.get("q") or "",
            interest=data.get("interest"),
            country=data.get("country") or "",
            utc_offset_from=data.get("utc_offset_from"),
            utc_offset_to=data.get("utc_offset_to"),
            open_to=data.get("open_to") or "",
            language=data.get("language") or "",
            sort=data.get("sort") or DirectorySort.RELEVANCE,
        )

    @property
    def has_filters(self) -> bool:
        """Whether the member searched or filtered at all (the sort order does not count)."""
        return any(self.data.get(name) for name in self.fields if name != "sort")

    @property
    def filters_in_use(self) -> bool:
        """Whether the filter panel has anything set, or something to say: then it opens."""
        panel = [name for name in self.fields if name != "q"]
        # The form sends its sort with every search: the default order is not a filter.
        chosen = [
            name
            for name in panel
            if self.data.get(name)
            and not (name == "sort" and self.data[name] == DirectorySort.RELEVANCE)
        ]
        return bool(chosen) or any(name in self.errors for name in panel)

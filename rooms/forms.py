"""Opening a meeting room and inviting members to a private one."""

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from core.access import staff_may
from members.models import Acquaintance, User
from members.selectors import apart_from, welcoming_first_contact
from rooms import rights

# A meeting room is for a conversation; a crowd bigger than this belongs in the cafeteria
# or at an event. The lower bound is the model's: a room for one is not a meeting.
CAPACITY_MIN = 2
CAPACITY_MAX = 50
# As many addresses as the largest room holds; more is a mailing list, not an invitation.
EMAILS_MAX = CAPACITY_MAX
EMAILS_SEPARATORS = re.compile(r"[\s,;]+")


class MemberChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


def _acquaintances_of(user: User) -> QuerySet[User]:
    """The members `user` has met and who still have an account, by name."""
    met = Acquaintance.objects.filter(owner=user).values("other_id")
    return User.objects.filter(pk__in=met, is_active=True, deleted_at__isnull=True).order_by(
        "display_name", "first_name", "last_name", "email"
    )


class InviteesForm(forms.Form):
    """Who to invite: people the member has met, ticked, plus other members by email.

    Nothing on this form tells whether an address has an account: an address of nobody (or
    of an account that is gone) is left out without a word, as the service leaves out
    members on either side of a block, so that nothing tells a member who blocked them.
    Only malformed addresses are an error.
    """

    acquaintances = MemberChoiceField(
        label=_("People you have met"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    emails = forms.CharField(
        label=_("Other members' email addresses"),
        help_text=_("One per line, or separated by commas."),
        required=False,
        max_length=EMAILS_MAX * 80,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        field = self.fields["acquaintances"]
        assert isinstance(field, MemberChoiceField)
        # Nobody on either side of a block with the member is offered; a page opened before
        # the block may still send them, without an error that would tell of it (the
        # service leaves them out).
        field.queryset = _acquaintances_of(user).filter(apart_from(user, "pk"))
        offered = list(field.iterator(field))
        field.queryset = _acquaintances_of(user)
        field.widget.choices = offered

    def clean_emails(self) -> list[str]:
        """The addresses written, each once (whether anyone has them is `invitees`' business)."""
        raw: str = self.cleaned_data.get("emails", "")
        addresses = list(
            dict.fromkeys(part for part in EMAILS_SEPARATORS.split(raw.strip()) if part)
        )
        if len(addresses) > EMAILS_MAX:
            raise ValidationError(
                _("Invite up to %(max)d members by email at a time."), params={"max": EMAILS_MAX}
            )
        malformed = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                malformed.append(address)
        if malformed:
            raise ValidationError(
                _("These are not email addresses: %(addresses)s"),
                params={"addresses": ", ".join(malformed)},
            )
        return addresses

    def invitees(self) -> list[User]:
        """Everyone chosen who has an account and takes a first contact from the member
        (their "who may write to me first" setting: an invitation is one), once each (after
        `is_valid`). The page's answer is the same for those left out."""
        addresses = {address.lower() for address in self.cleaned_data["emails"]}
        # Lower(email) is what the unique index holds: one indexed lookup for them all.
        by_email = User.objects.annotate(email_lower=Lower("email")).filter(
            email_lower__in=addresses, is_active=True, deleted_at__isnull=True
        )
        chosen = [*self.cleaned_data.get("acquaintances", []), *by_email]
        once = {user.pk: user for user in chosen}.values()
        return welcoming_first_contact(by=self.user, members=once)


class InviteForm(InviteesForm):
    """Invite more members to a private room: at least one of them."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not (cleaned.get("acquaintances") or cleaned.get("emails")):
            raise ValidationError(
                _("Tick someone you have met, or write a member's email address.")
            )
        return cleaned


class RoomForm(InviteesForm):
    """Open a meeting room: topic, description, who may come in, how many. Staff may make it
    permanent (it never closes by itself)."""

    PUBLIC, PRIVATE = "public", "private"

    name = forms.CharField(
        label=_("Topic"),
        max_length=80,
        help_text=_("What the room is for, e.g. “Logo feedback” or “Quiet focus hour”."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=500,
        help_text=_("Optional. Up to 500 characters."),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
    )
    access = forms.ChoiceField(
        label=_("Who may come in"),
        choices=[
            (PUBLIC, _("Every member (public)")),
            (PRIVATE, _("Only the members I invite (private)")),
        ],
        initial=PUBLIC,
        widget=forms.RadioSelect,
    )
    capacity = forms.IntegerField(
        label=_("Capacity"),
        required=False,
        min_value=CAPACITY_MIN,
        max_value=CAPACITY_MAX,
        help_text=_("Optional: the most people inside at once, from 2 to 50."),
    )
    permanent = forms.BooleanField(
        label=_("Permanent room"),
        required=False,
        help_text=_("Stays open when empty, until staff close it."),
    )

    field_order = ["name", "description", "access", "acquaintances", "emails", "capacity"]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        if not staff_may(user, rights.MANAGE):
            del self.fields["permanent"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        inviting = cleaned.get("acquaintances") or cleaned.get("emails")
        if inviting and cleaned.get("access") == self.PUBLIC:
            self.add_error(
                "access",
                _(
                    "Invitations are for private rooms: choose “Only the members I invite”, "
                    "or leave the invitations empty."
                ),
            )
        return cleaned

    def room_fields(self) -> dict[str, Any]:
        """The keyword arguments of `room_create` (after `is_valid`)."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data["description"],
            "private": data["access"] == self.PRIVATE,
            "capacity": data["capacity"],
            "invitees": self.invitees(),
            "permanent": bool(data.get("permanent")),
        }

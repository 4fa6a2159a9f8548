"""The privacy registry: what personal data each app holds about a member, how it is exported,
and what deleting the account does to it (docs/privacy.md).

Each app registers its own entries from its `privacy.py`, imported by its `AppConfig.ready()`;
`account_export` and `account_delete` walk the registry, so this module imports no other app.
tests/test_privacy_registry.py fails when a model that points at a member is left out.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from allauth.usersessions.models import UserSession
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Cast
from django.utils import timezone

from core.uploads import files_delete_on_commit
from members.models import Acquaintance, Block, Interest, Profile, User
from members.services import suggestions_unheld

# Bump when the export's layout changes in a way a reader of older files must know about.
EXPORT_SCHEMA_VERSION = 2


class Deletion(models.TextChoices):
    """What deleting the account does to an entry's rows."""

    ERASE = "erase", "erased"
    ANONYMISE = "anonymise", "kept, shown as a former member"
    RELEASE = "release", "released to others (seats, places), then erased"


@dataclass(frozen=True)
class PersonalData:
    key: str
    # "app_label.ModelName" of every model whose rows this entry exports and deletes.
    models: tuple[str, ...]
    export: Callable[[User], Any]
    delete: Callable[[User], None]
    deletion: Deletion
    # One sentence for docs/privacy.md and the delete page: what stays, if anything.
    note: str = ""


_registry: dict[str, PersonalData] = {}


def personal_data_register(
    *,
    key: str,
    models: tuple[str, ...],
    export: Callable[[User], Any],
    delete: Callable[[User], None],
    deletion: Deletion,
    note: str = "",
) -> None:
    """Declare a kind of personal data; `key` is its section in the export file."""
    if key in _registry and _registry[key].export is not export:
        raise ValueError(f"Personal data {key!r} is registered twice.")
    _registry[key] = PersonalData(key, models, export, delete, deletion, note)


def personal_data_registered() -> list[PersonalData]:
    return list(_registry.values())


def account_export(*, user: User) -> dict[str, Any]:
    """Everything the platform holds about `user`, as plain JSON-ready data: one section per
    registry entry (docs/privacy.md describes each)."""
    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "schema_version": EXPORT_SCHEMA_VERSION,
    }
    for entry in _registry.values():
        data[entry.key] = entry.export(user)
    return data


@transaction.atomic
def account_delete(*, user: User) -> None:
    """Erase, anonymise or release everything personal, entry by entry, then close the
    account itself. Entries run in registration order, before the account is anonymised, so
    a service they call (an RSVP given up) still sees an active member.

    Every session of the member ends: the sessions allauth tracks are deleted, and the new
    (unusable) password hash invalidates any other session Django still holds. Side effects
    of the entries (emails to promoted members, sockets closing) run after the commit.
    The account's own entry runs last: others find the member's data by their addresses
    (the newsletter's subscriptions at any of them), which it erases.
    """
    # Held to the end: a rename's rewrite of what others read (members.services.
    # member_rename_tell) runs before this, or finds the account deleted.
    User.objects.select_for_update().filter(pk=user.pk).exists()
    # Read before the entries delete the rows and addresses they tell of.
    history = _admin_history_of(user)
    addresses = {
        user.email,
        *EmailAddress.objects.filter(user=user).values_list("email", flat=True),
    }
    for entry in sorted(_registry.values(), key=lambda entry: entry.key == "account"):
        entry.delete(user)
    _admin_history_scrub(user, history=history, addresses=addresses)
    user.email = f"deleted-{user.pk}@deleted.invalid"
    user.display_name = user.first_name = user.last_name = user.avatar_thumbnail = ""
    user.is_active = user.is_staff = user.is_superuser = False
    user.email_digest = False
    user.deleted_at = timezone.now()
    user.set_unusable_password()
    user.save()
    for session in UserSession.objects.filter(user=user):
        session.end()


def _admin_history_of(user: User) -> list[int]:
    """The admin's history entries about rows of the member's, other than the account (a
    report about them, their seat in a round): read before the entries delete those rows.
    Rows whose foreign key points at the account, in every registered model."""
    found: list[int] = []
    for entry in _registry.values():
        for label in entry.models:
            model = django_apps.get_model(label)
            if model is User:
                continue
            links = Q()
            for field in model._meta.get_fields():
                if field.many_to_one and field.concrete and field.related_model is User:
                    links |= Q(**{field.name: user})
            if not links:
                continue
            rows = model._default_manager.filter(links).annotate(
                admin_object_id=Cast("pk", models.CharField())
            )
            found += LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(model),
                object_id__in=rows.values("admin_object_id"),
            ).values_list("pk", flat=True)
    return found


def _admin_history_scrub(user: User, *, history: list[int], addresses: set[str]) -> None:
    """Those entries, and any naming one of the member's addresses (a subscriber's row),
    no longer name them: the name or the address reads `#<id>`. Others' entries that only
    share a word with the name (another "Ana") are left as they are."""
    words = sorted(
        {user.display_name, f"{user.first_name} {user.last_name}".strip(), *addresses} - {""},
        key=len,
        reverse=True,
    )
    if not words:
        return
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(word)}(?!\w)" for word in words), re.I)
    mentioned = Q(pk__in=history)
    for address in addresses:
        mentioned |= Q(object_repr__icontains=address)
    for entry in LogEntry.objects.filter(mentioned).only("pk", "object_repr"):
        scrubbed = pattern.sub(f"#{user.pk}", entry.object_repr)
        if scrubbed != entry.object_repr:
            LogEntry.objects.filter(pk=entry.pk).update(object_repr=scrubbed)


# The members app's own entries -------------------------------------------------------------


def export_moment(value: Any) -> str | None:
    """A date or time as the export writes it (ISO 8601), or None."""
    return value.isoformat() if value else None


def _account_export(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "display_name": user.display_name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "time_zone": user.time_zone,
        "language": user.language,
        "email_digest": user.email_digest,
        "date_joined": export_moment(user.date_joined),
        "last_login": export_moment(user.last_login),
        "last_seen_at": export_moment(user.last_seen_at),
        "first_steps_done_at": export_moment(user.first_steps_done_at),
        "email_addresses": [
            {"email": address.email, "verified": address.verified, "primary": address.primary}
            for address in EmailAddress.objects.filter(user=user)
        ],
        "sign_in_providers": [
            account.provider for account in SocialAccount.objects.filter(user=user)
        ],
        # Where they are signed in, as "Where you are signed in" lists it.
        "sessions": [
            {
                "signed_in_at": export_moment(session.created_at),
                "last_seen_at": export_moment(session.last_seen_at),
                "ip": session.ip,
                "browser": session.user_agent,
            }
            for session in UserSession.objects.filter(user=user).order_by("created_at")
        ],
    }


def _account_delete(user: User) -> None:
    EmailAddress.objects.filter(user=user).delete()
    SocialAccount.objects.filter(user=user).delete()
    # Staff edits of the account named it in the admin's history.
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
    ).update(object_repr=f"#{user.pk}", change_message="")


def _profile_export(user: User) -> dict[str, Any] | None:
    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        return None
    return {
        "headline": profile.headline,
        "bio": profile.bio,
        "city": profile.city,
        "country": str(profile.country),
        "working_hours": {
            "start": profile.working_hours_start.isoformat(timespec="minutes"),
            "end": profile.working_hours_end.isoformat(timespec="minutes"),
            "days": profile.working_days,
        },
        "languages": [language.code for language in profile.languages.all()],
        "interests": [str(interest) for interest in profile.interests.all()],
        "open_to": profile.open_to,
        "links": {
            "website": profile.website,
            "linkedin": profile.linkedin,
            "github": profile.github,
        },
        "visible_in_directory": profile.visible_in_directory,
        "public": profile.public,
        "messages_from": profile.messages_from,
        # A whole address, which opens from the file as it is (MEDIA_URL may be a path).
        "photo": urljoin(settings.SITE_URL, profile.photo.url) if profile.photo else None,
        "onboarded_at": export_moment(profile.onboarded_at),
    }


def _profile_delete(user: User) -> None:
    profile = Profile.objects.filter(user=user).first()
    if profile:
        files_delete_on_commit(profile.photo, profile.photo_thumbnail)
        profile.delete()
    # Their suggestions nobody else chose go; the rest are shared tags now, whoever wrote them.
    suggested = Interest.objects.filter(suggested_by=user)
    suggestions_unheld(suggested).delete()
    suggested.update(suggested_by=None)


def _people_met_export(user: User) -> list[dict[str, Any]]:
    return [
        {
            "member": acquaintance.other.name,
            "how": acquaintance.how,
            "context": acquaintance.context,
            "first_met_at": export_moment(acquaintance.first_met_at),
            "last_met_at": export_moment(acquaintance.last_met_at),
            "note": acquaintance.note,
        }
        for acquaintance in Acquaintance.objects.filter(owner=user).select_related("other")
    ]


def _people_met_delete(user: User) -> None:
    Acquaintance.objects.filter(models.Q(owner=user) | models.Q(other=user)).delete()


def _blocks_export(user: User) -> list[str]:
    return [
        block.blocked.name for block in Block.objects.filter(blocker=user).select_related("blocked")
    ]


def _blocks_keep(user: User) -> None:
    """Blocks stay, in both directions: everything that hides what one side wrote from the
    other reads them, and the messages stay. The blocked list leaves former members out."""


def register_members_data() -> None:
    personal_data_register(
        key="account",
        models=(
            "members.User",
            "account.EmailAddress",
            "socialaccount.SocialAccount",
            "usersessions.UserSession",
            "admin.LogEntry",
        ),
        export=_account_export,
        delete=_account_delete,
        deletion=Deletion.ANONYMISE,
        note="The account row stays as “Former member” so that what they wrote keeps an author; "
        "email addresses, sign-in providers and sessions are erased.",
    )
    personal_data_register(
        key="profile",
        models=("members.Profile", "members.Interest"),
        export=_profile_export,
        delete=_profile_delete,
        deletion=Deletion.ERASE,
        note="Interests they suggested that nobody else chose are deleted; the others stay "
        "as the community's tags, no longer linked to them.",
    )
    personal_data_register(
        key="people_met",
        models=("members.Acquaintance",),
        export=_people_met_export,
        delete=_people_met_delete,
        deletion=Deletion.ERASE,
        note="Their entry in other members' “people I've met” goes too.",
    )
    personal_data_register(
        key="blocked_members",
        models=("members.Block",),
        export=_blocks_export,
        delete=_blocks_keep,
        deletion=Deletion.ANONYMISE,
        note="Blocks stay in both directions, so that what a block hid stays hidden.",
    )

"""Writes about members that touch several rows or models."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from allauth.usersessions.models import UserSession
from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction
from django.db.models import Q, Value
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from members.images import ProcessedPhoto
from members.models import Acquaintance, Block, Interest, Language, Profile, User
from members.search import normalise

MAX_INTERESTS = 15


def profile_get_or_create(*, user: User) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


def interests_from_names(*, names: Iterable[str]) -> list[Interest]:
    """Existing tags by slug (so "python" reuses "Python"), new ones created as typed."""
    interests: list[Interest] = []
    seen: set[str] = set()
    for raw in names:
        name = " ".join(raw.split())[:50]
        slug = slugify(name)
        if not slug or slug in seen:
            continue
        seen.add(slug)
        interest, _ = Interest.objects.get_or_create(slug=slug, defaults={"name": name})
        interests.append(interest)
    return interests[:MAX_INTERESTS]


def profile_search_text(profile: Profile) -> str:
    user = profile.user
    parts = [
        user.display_name,
        user.first_name,
        user.last_name,
        profile.headline,
        profile.bio,
        profile.city,
        countries.name(str(profile.country)) if profile.country else "",
        *(interest.name for interest in profile.interests.all()),
    ]
    return normalise(" ".join(part for part in parts if part))


def profile_refresh_search_text(*, profile: Profile) -> None:
    profile.search_text = profile_search_text(profile)
    # What the directory searches on PostgreSQL (migration 0003): the new text parsed as the
    # migration's backfill does; other databases search search_text and leave it NULL. Set on
    # the instance too, so that saving it again cannot write the old vector back.
    profile.search_vector = (
        SearchVector(Value(profile.search_text), config="simple")
        if connection.vendor == "postgresql"
        else None
    )
    Profile.objects.filter(pk=profile.pk).update(
        search_text=profile.search_text, search_vector=profile.search_vector
    )


@transaction.atomic
def profile_update(
    *,
    profile: Profile,
    interest_names: Iterable[str] | None = None,
    languages: Iterable[Language] | None = None,
    photo: ProcessedPhoto | None = None,
    remove_photo: bool = False,
    complete_onboarding: bool = False,
) -> Profile:
    """Save a profile whose fields a form already set, with its tags, photo and search text."""
    if remove_photo or photo:
        _photo_delete(profile)
    if photo:
        profile.photo.save(photo.photo.name or "photo.webp", photo.photo, save=False)
        profile.photo_thumbnail.save(
            photo.thumbnail.name or "thumb.webp", photo.thumbnail, save=False
        )
    if complete_onboarding and profile.onboarded_at is None:
        profile.onboarded_at = timezone.now()
    profile.user.save()
    profile.save()
    if interest_names is not None:
        profile.interests.set(interests_from_names(names=interest_names))
    if languages is not None:
        profile.languages.set(languages)
    profile_refresh_search_text(profile=profile)
    return profile


def _photo_delete(profile: Profile) -> None:
    for field in (profile.photo, profile.photo_thumbnail):
        if field:
            field.delete(save=False)


def block_create(*, blocker: User, blocked: User) -> Block:
    if blocker.pk == blocked.pk:
        raise ValueError("A member cannot block themselves.")
    block, _ = Block.objects.get_or_create(blocker=blocker, blocked=blocked)
    return block


def block_delete(*, blocker: User, blocked: User) -> bool:
    """Lift `blocker`'s block on `blocked`; False when there was none (a repeated unblock)."""
    deleted, _ = Block.objects.filter(blocker=blocker, blocked=blocked).delete()
    return deleted > 0


def blocked_user_ids(*, user: User) -> set[int]:
    """Everyone `user` must not meet: those they blocked and those who blocked them."""
    pairs = Block.objects.filter(Q(blocker=user) | Q(blocked=user)).values_list(
        "blocker_id", "blocked_id"
    )
    return {blocked if blocker == user.pk else blocker for blocker, blocked in pairs}


# Account state (staff) --------------------------------------------------------------------


class ModerationError(ValueError):
    """The moderation step does not apply (a staff account, a closed account, ...)."""


@transaction.atomic
def member_suspend(*, user: User, by: User) -> User:
    """Deactivate the account, noting who did it and when; every session ends and (through
    rooms.signals) every socket closes. Staff accounts are refused: demote first."""
    if user.pk == by.pk:
        raise ModerationError(_("You cannot suspend yourself."))
    if user.is_staff or user.is_superuser:
        raise ModerationError(_("Staff accounts cannot be suspended from here."))
    if user.is_active:
        user.is_active = False
        user.suspended_at = timezone.now()
        user.suspended_by = by
        user.save(update_fields=["is_active", "suspended_at", "suspended_by"])
        for session in UserSession.objects.filter(user=user):
            session.end()
    return user


def member_reinstate(*, user: User) -> User:
    """Lift a suspension. Accounts deleted by their owner stay closed."""
    if user.deleted_at is not None:
        raise ModerationError(_("This account was deleted by its owner."))
    user.is_active = True
    user.suspended_at = None
    user.suspended_by = None
    user.save(update_fields=["is_active", "suspended_at", "suspended_by"])
    return user


def acquaintance_record(
    *, members: Iterable[User], how: str, context: str = "", at: datetime | None = None
) -> None:
    """Remember that these members met (a pair, a trio, an event), in every direction."""
    met_at = at or timezone.now()
    people = list(members)
    for owner in people:
        for other in people:
            if owner.pk == other.pk:
                continue
            acquaintance, created = Acquaintance.objects.get_or_create(
                owner=owner,
                other=other,
                defaults={
                    "how": how,
                    "context": context,
                    "first_met_at": met_at,
                    "last_met_at": met_at,
                },
            )
            if not created and acquaintance.last_met_at < met_at:
                acquaintance.last_met_at = met_at
                acquaintance.how = how
                acquaintance.context = context
                acquaintance.save(update_fields=["last_met_at", "how", "context"])


def acquaintances_record_groups(
    *, groups: Iterable[Sequence[int]], how: str, context: str, at: datetime
) -> None:
    """`acquaintance_record` for a whole round at once (ids, every direction): one upsert in
    batches instead of queries per pair, so a round of 100,000 members stays quick."""
    rows = [
        Acquaintance(
            owner_id=owner,
            other_id=other,
            how=how,
            context=context,
            first_met_at=at,
            last_met_at=at,
        )
        for members in groups
        for owner in members
        for other in members
        if owner != other
    ]
    Acquaintance.objects.bulk_create(
        rows,
        batch_size=5_000,
        update_conflicts=True,
        unique_fields=["owner", "other"],
        update_fields=["how", "context", "last_met_at"],
    )


def acquaintance_note_set(*, owner: User, other: User, note: str) -> Acquaintance:
    acquaintance = Acquaintance.objects.get(owner=owner, other=other)
    acquaintance.note = note
    acquaintance.save(update_fields=["note"])
    return acquaintance

"""Writes about members that touch several rows or models."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import partial

from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.db import IntegrityError, connection, transaction
from django.db.models import ForeignObjectRel, Q, QuerySet, Value
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from core.uploads import files_delete_on_commit
from members.images import ProcessedPhoto
from members.models import Acquaintance, Block, Interest, Language, Profile, User
from members.search import normalise
from members.signals import member_blocked, member_renamed, member_suspended

MAX_INTERESTS = 15
MAX_INTEREST_LABEL = 50


def profile_get_or_create(*, user: User) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


def _country_names(code: str) -> list[str]:
    names = []
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            names.append(str(countries.name(code)))
    return list(dict.fromkeys(names))


def profile_search_text(profile: Profile) -> str:
    user = profile.user
    parts = [
        # The name others see, only: a sign-in provider's first and last names stay behind
        # a display name the member chose instead of them.
        user.display_name or f"{user.first_name} {user.last_name}",
        profile.headline,
        profile.bio,
        profile.city,
        # In both languages, whichever the profile was saved in: "España" and "Spain".
        *(_country_names(str(profile.country)) if profile.country else ()),
        # Both labels, so that "photography" finds whoever chose "Fotografía".
        *(label for interest in profile.approved_interests for label in interest.labels),
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


def profiles_refresh_search_text(*, profiles: QuerySet[Profile], chunk: int = 500) -> int:
    """`profile_refresh_search_text` for many profiles at once (a tag renamed, approved or
    merged): a few queries per chunk instead of several per profile. Returns how many."""
    done = 0
    ids = list(profiles.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk):
        batch = list(
            Profile.objects.filter(pk__in=ids[start : start + chunk])
            .select_related("user")
            .prefetch_related("interests")
        )
        for profile in batch:
            profile.search_text = profile_search_text(profile)
        Profile.objects.bulk_update(batch, ["search_text"])
        if connection.vendor == "postgresql":
            # The same to_tsvector('simple', COALESCE(search_text, '')) as one profile's.
            Profile.objects.filter(pk__in=[profile.pk for profile in batch]).update(
                search_vector=SearchVector("search_text", config="simple")
            )
        done += len(batch)
    return done


# Interests: the curated, bilingual tags (docs/interests.md) -------------------------------


def interest_key(text: str) -> str:
    """What two labels are compared by: case, accents and spacing aside, so that
    "Fotografía", "fotografia " and "FOTOGRAFÍA" are the same label."""
    return " ".join(normalise(text).split())


def interest_label_clean(text: str) -> str:
    return " ".join(text.split())[:MAX_INTEREST_LABEL]


def interests_by_key() -> dict[str, Interest]:
    """Every tag under the key of each of its labels, in either language. An approved tag
    wins over a suggestion written the same way (staff may approve one while another is
    still waiting)."""
    found: dict[str, Interest] = {}
    # Suggestions first ("suggested" sorts after "approved"), so approved tags overwrite them.
    for interest in Interest.objects.order_by("-status", "pk"):
        for label in interest.labels:
            found[interest_key(label)] = interest
    return found


def _interest_slug(label: str) -> str:
    base = slugify(label)[:50] or "interest"
    taken = set(Interest.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def _interest_create(**fields: object) -> Interest | None:
    """A new tag, or None when a concurrent request created one with the same label (the
    unique constraints): the caller looks it up again."""
    try:
        with transaction.atomic():
            return Interest.objects.create(**fields)
    except IntegrityError:
        return None


def interests_from_names(*, names: Iterable[str | tuple[str, str]]) -> list[Interest]:
    """Approved tags for trusted callers (staff tools, the demo, tests): each name, or
    (Spanish, English) pair, is found by either label or created approved; a suggestion
    found so is approved, and a tag found without an English label gets the pair's. What
    members type goes through `interests_from_labels` instead, which only suggests."""
    interests: list[Interest] = []
    known = interests_by_key()
    for name in names:
        label_es, label_en = (name, "") if isinstance(name, str) else name
        label_es, label_en = interest_label_clean(label_es), interest_label_clean(label_en)
        keys = [key for key in (interest_key(label_es), interest_key(label_en)) if key]
        if not keys:
            continue
        interest = next((known[key] for key in keys if key in known), None)
        if interest is None:
            interest = _interest_create(
                label_es=label_es or label_en,
                label_en=label_en if len(set(keys)) > 1 else "",
                slug=_interest_slug(label_es or label_en),
            )
            if interest is None:  # created a moment ago by someone else
                known = interests_by_key()
                interest = next(known[key] for key in keys if key in known)
            known.update(dict.fromkeys(keys, interest))
        changed = []
        if not interest.is_approved:
            interest.status = Interest.Status.APPROVED
            changed.append("status")
        english = interest_key(label_en)
        # Only where the English label is new and no other tag is written so.
        if (
            english
            and not interest.label_en
            and english != interest_key(interest.label_es)
            and known.get(english, interest) == interest
        ):
            interest.label_en = label_en
            known[english] = interest
            changed.append("label_en")
        if changed:
            interest.save(update_fields=changed)
            interest_profiles_refresh(interest_ids=[interest.pk])
        if interest not in interests:
            interests.append(interest)
    return interests


def interests_from_labels(*, labels: Iterable[str], by: User) -> list[Interest]:
    """What a member typed, one label at a time, in either language: the approved tag
    written so, else the suggestion already waiting with that label (they second it), else
    a new suggestion by `by`, in their language. Suggestions show to nobody else until staff
    approve them."""
    interests: list[Interest] = []
    known = interests_by_key()
    for raw in labels:
        label = interest_label_clean(raw)
        key = interest_key(label)
        if not key:
            continue
        interest = known.get(key)
        if interest is None:
            interest = _interest_create(
                label_es=label,
                label_en=label if by.language == "en" else "",
                slug=_interest_slug(label),
                status=Interest.Status.SUGGESTED,
                suggested_by=by,
            )
            if interest is None:  # someone else suggested it a moment ago
                known = interests_by_key()
                interest = known[key]
            known[key] = interest
        if interest not in interests:
            interests.append(interest)
    return interests


def interests_approve(*, interests: QuerySet[Interest]) -> int:
    """Approve suggestions: they show on their members' profiles, in the directory, its
    search and in pairing from now on. Returns how many changed."""
    ids = list(interests.exclude(status=Interest.Status.APPROVED).values_list("pk", flat=True))
    Interest.objects.filter(pk__in=ids).update(status=Interest.Status.APPROVED)
    interest_profiles_refresh(interest_ids=ids)
    return len(ids)


@transaction.atomic
def interests_merge(*, into: Interest, merged: Iterable[Interest]) -> int:
    """Fold tags into `into`, which stays (approved): every member who had any of them has
    `into` instead, once, so nobody loses an interest; the others are deleted. Returns how
    many members' profiles gained `into`."""
    others = [interest.pk for interest in merged if interest.pk != into.pk]
    through = Profile.interests.through
    holders = set(
        through.objects.filter(interest_id__in=others).values_list("profile_id", flat=True)
    )
    already = set(
        through.objects.filter(interest=into, profile_id__in=holders).values_list(
            "profile_id", flat=True
        )
    )
    through.objects.bulk_create(
        [through(profile_id=profile_id, interest_id=into.pk) for profile_id in holders - already]
    )
    # What else names a merged tag (a programme for members with the interest) names the one
    # that stays: it says the same, and the PROTECT on it would refuse the merge.
    for relation in _interest_foreign_keys():
        relation.related_model._base_manager.filter(
            **{f"{relation.field.attname}__in": others}
        ).update(**{relation.field.attname: into.pk})
    Interest.objects.filter(pk__in=others).delete()
    if not into.is_approved:
        into.status = Interest.Status.APPROVED
        into.save(update_fields=["status"])
    interest_profiles_refresh(interest_ids=[into.pk])
    return len(holders - already)


def interest_profiles_refresh(*, interest_ids: Iterable[int]) -> int:
    """Rewrite the search text of every profile with one of these tags (after a rename, an
    approval or a merge), so that the directory finds them by the new labels."""
    return profiles_refresh_search_text(
        profiles=Profile.objects.filter(interests__in=list(interest_ids)).distinct()
    )


def _interest_foreign_keys() -> list[ForeignObjectRel]:
    """The other apps' foreign keys to a tag (matching's programmes, found here without
    importing an app above this one)."""
    return [
        relation
        for relation in Interest._meta.get_fields(include_hidden=True)
        if isinstance(relation, ForeignObjectRel)
        and relation.one_to_many
        # The profiles' tags are read through Profile.interests (their own table).
        and not relation.related_model._meta.auto_created
    ]


def suggestions_unheld(interests: QuerySet[Interest]) -> QuerySet[Interest]:
    """Of `interests`, the suggestions nobody holds and nothing else names (a programme made
    for it): safe to drop."""
    unheld = interests.filter(status=Interest.Status.SUGGESTED, profiles__isnull=True)
    for relation in _interest_foreign_keys():
        column = relation.field.attname
        # Without its NULLs: NOT IN a list holding one is never true.
        named = relation.related_model._base_manager.filter(**{f"{column}__isnull": False})
        unheld = unheld.exclude(pk__in=named.values(column))
    return unheld


def _suggestions_forget(*, ids: Iterable[int]) -> None:
    """Suggestions nobody holds any more (their member took them off) leave the review
    queue: staff have nothing to decide about them."""
    suggestions_unheld(Interest.objects.filter(pk__in=list(ids))).delete()


@transaction.atomic
def profile_update(
    *,
    profile: Profile,
    interests: Iterable[Interest] | None = None,
    new_interests: Iterable[str] = (),
    languages: Iterable[Language] | None = None,
    photo: ProcessedPhoto | None = None,
    remove_photo: bool = False,
    complete_onboarding: bool = False,
) -> Profile:
    """Save a profile whose fields a form already set, with its tags, photo and search text.

    `interests` are the tags the member kept (approved ones, or their own suggestions);
    `new_interests` the labels they typed, which `interests_from_labels` turns into tags or
    suggestions. Together they replace the profile's tags, at most MAX_INTERESTS."""
    if remove_photo or photo:
        _photo_delete(profile)
    if photo:
        _photo_put(profile, photo)
    if complete_onboarding and profile.onboarded_at is None:
        profile.onboarded_at = timezone.now()
    old_name = name_stored(user=profile.user)
    profile.user.save()
    member_rename_tell(user=profile.user, old_name=old_name)
    profile.save()
    if remove_photo or photo:
        _avatar_sync(profile)
    if interests is not None or new_interests:
        before = set(profile.interests.values_list("pk", flat=True))
        chosen = list(profile.interests.all() if interests is None else interests)
        for interest in interests_from_labels(labels=new_interests, by=profile.user):
            if interest not in chosen:
                chosen.append(interest)
        profile.interests.set(chosen[:MAX_INTERESTS])
        _suggestions_forget(ids=before - {interest.pk for interest in chosen[:MAX_INTERESTS]})
    if languages is not None:
        profile.languages.set(languages)
    profile_refresh_search_text(profile=profile)
    return profile


def name_stored(*, user: User) -> str:
    """The name `user` has in the database, before a save of the changes made to it."""
    row = User.objects.filter(pk=user.pk).values_list("display_name", "first_name", "last_name")
    return User.name_of(*row[0], unnamed="") if row else ""


def member_rename_tell(*, user: User, old_name: str) -> None:
    """After a save of `user`: if their name is no longer `old_name`, the apps that wrote it
    for others write the new one (`member_renamed`), in one transaction holding the
    account's row, as a deletion does (members.privacy.account_delete): one waits for the
    other, and a deletion finds the name the rename wrote."""
    if not old_name or user.name == old_name:
        return
    with transaction.atomic():
        if User.objects.select_for_update().filter(pk=user.pk, deleted_at__isnull=True).exists():
            member_renamed.send(sender=User, user=user, old_name=old_name)


def photo_set(*, user: User, photo: ProcessedPhoto) -> None:
    """A member's new photo alone, the rest of their profile as stored: the profile form
    keeps a photo that passed while other fields were refused, rather than ask for it again
    (a file input cannot be filled back in)."""
    profile = Profile.objects.get(user=user)
    _photo_delete(profile)
    _photo_put(profile, photo)
    profile.save(update_fields=["photo", "photo_thumbnail"])
    _avatar_sync(profile)


@transaction.atomic
def photo_remove(*, user: User) -> bool:
    """Staff take a member's photo down (the admin): both its files go, and the initials show
    everywhere again. False when there was none."""
    profile = Profile.objects.filter(user=user).first()
    if profile is None or not (profile.photo or profile.photo_thumbnail):
        return False
    _photo_delete(profile)
    profile.save(update_fields=["photo", "photo_thumbnail"])
    _avatar_sync(profile)
    return True


def _avatar_sync(profile: Profile) -> None:
    User.objects.filter(pk=profile.user_id).update(
        avatar_thumbnail=profile.photo_thumbnail.name or ""
    )


def _photo_put(profile: Profile, photo: ProcessedPhoto) -> None:
    profile.photo.save(photo.photo.name or "photo.webp", photo.photo, save=False)
    profile.photo_thumbnail.save(photo.thumbnail.name or "thumb.webp", photo.thumbnail, save=False)


def _photo_delete(profile: Profile) -> None:
    files_delete_on_commit(profile.photo, profile.photo_thumbnail)


def block_create(*, blocker: User, blocked: User) -> Block:
    if blocker.pk == blocked.pk:
        raise ValueError("A member cannot block themselves.")
    block, created = Block.objects.get_or_create(blocker=blocker, blocked=blocked)
    if created:
        member_blocked.send(sender=User, blocker=blocker, blocked=blocked)
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
    rooms.signals) every socket closes, and the member is told by email once it commits.
    Staff accounts are refused: demote first."""
    if user.pk == by.pk:
        raise ModerationError(_("You cannot suspend yourself."))
    if user.is_staff or user.is_superuser:
        raise ModerationError(_("Staff accounts cannot be suspended from here."))
    if user.is_active:
        user.is_active = False
        user.suspended_at = timezone.now()
        user.suspended_by = by
        user.suspension_notice_sent_at = None
        user.save(
            update_fields=["is_active", "suspended_at", "suspended_by", "suspension_notice_sent_at"]
        )
        for session in UserSession.objects.filter(user=user):
            session.end()
        member_suspended.send(sender=User, user=user)
        from members.tasks import suspension_notice_send  # the tasks module imports this one

        transaction.on_commit(partial(suspension_notice_send.delay, user.pk))
    return user


def account_email_correct(*, user: User, request: HttpRequest) -> None:
    """Staff corrected the address of an account that has confirmed none (a typo at sign
    up): the new address replaces every one the account had, so a mistyped one can neither
    confirm nor reset it, and the member is asked to confirm the new one (allauth's email,
    from a worker). An account with a confirmed address changes it itself, as allauth does
    (confirmed before it replaces the old one): the admin does not offer it."""
    EmailAddress.objects.filter(user=user).exclude(email=user.email).delete()
    address, _created = EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"primary": True, "verified": False}
    )
    transaction.on_commit(partial(address.send_confirmation, request))


@transaction.atomic
def member_reinstate(*, user: User) -> User:
    """Lift a suspension; the member is told by email once it commits (they found they could
    not log in, and would otherwise not know they can again). Accounts deleted by their
    owner stay closed."""
    if user.deleted_at is not None:
        raise ModerationError(_("This account was deleted by its owner."))
    was_suspended = user.suspended_at is not None
    user.is_active = True
    user.suspended_at = None
    user.suspended_by = None
    fields = ["is_active", "suspended_at", "suspended_by"]
    if was_suspended:
        user.reinstated_at = timezone.now()
        user.reinstatement_notice_sent_at = None
        fields += ["reinstated_at", "reinstatement_notice_sent_at"]
    user.save(update_fields=fields)
    if was_suspended:
        from members.tasks import reinstatement_notice_send  # the tasks module imports this one

        transaction.on_commit(partial(reinstatement_notice_send.delay, user.pk))
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

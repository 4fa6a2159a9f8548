"""Writes about members that touch several rows or models."""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from allauth.usersessions.models import UserSession
from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction
from django.db.models import QuerySet, Value
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from members.images import ProcessedPhoto
from members.models import Acquaintance, Block, Interest, Language, Profile, Report, User
from members.search import normalise
from newsletter.services import subscriptions_delete, subscriptions_export
from notifications.models import Notification, Preference

if TYPE_CHECKING:
    from rooms.models import Message

MAX_INTERESTS = 15
REPORTS_PER_DAY = 10


class ReportLimitReached(Exception):
    """The reporter already sent `REPORTS_PER_DAY` reports in the last 24 hours."""


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
    made = Block.objects.filter(blocker=user).values_list("blocked_id", flat=True)
    received = Block.objects.filter(blocked=user).values_list("blocker_id", flat=True)
    return set(made) | set(received)


@transaction.atomic
def report_create(
    *,
    reporter: User,
    reported: User,
    reason: str,
    details: str,
    subject: str = "",
    message: "Message | None" = None,
) -> Report:
    """File a report for staff. Raises ValueError for a self-report and ReportLimitReached
    beyond `REPORTS_PER_DAY` in 24 hours.

    The reporter's row is locked while counting, so parallel requests cannot both slip
    under the limit.
    """
    if reporter.pk == reported.pk:
        raise ValueError("A member cannot report themselves.")
    User.objects.select_for_update().only("pk").get(pk=reporter.pk)
    since = timezone.now() - timedelta(days=1)
    if Report.objects.filter(reporter=reporter, created_at__gte=since).count() >= REPORTS_PER_DAY:
        raise ReportLimitReached
    return Report.objects.create(
        reporter=reporter,
        reported=reported,
        reason=reason,
        details=details,
        subject=subject,
        message=message,
    )


def reports_resolve(*, reports: QuerySet[Report], status: str) -> int:
    """Close reports as dismissed or actioned (staff), stamping when; returns how many."""
    if status == Report.Status.OPEN:
        return reports.update(status=status, handled_at=None)
    return reports.update(status=status, handled_at=timezone.now())


# Moderation (staff) -----------------------------------------------------------------------


class ModerationError(ValueError):
    """The moderation step does not apply (no message to remove, a staff account, ...)."""


def _report_close(*, report: Report, by: User, action: str, note: str) -> Report:
    report.status = (
        Report.Status.DISMISSED if action == Report.Action.DISMISSED else Report.Status.ACTIONED
    )
    report.action = action
    report.handled_at = timezone.now()
    report.handled_by = by
    if note.strip():
        report.staff_note = note.strip()
    report.save(update_fields=["status", "action", "handled_at", "handled_by", "staff_note"])
    return report


@transaction.atomic
def report_dismiss(*, report: Report, by: User, note: str = "") -> Report:
    return _report_close(report=report, by=by, action=Report.Action.DISMISSED, note=note)


@transaction.atomic
def report_warn(*, report: Report, by: User, note: str = "") -> Report:
    """Close the report and email the reported member a warning in their language (once, by
    Celery after the commit: members.tasks.report_warning_send)."""
    from members import tasks

    reported = report.reported
    if not reported.is_active or reported.deleted_at is not None:
        raise ModerationError(_("This account is closed or suspended: nobody would read it."))
    _report_close(report=report, by=by, action=Report.Action.WARNED, note=note)
    report_id = report.pk
    transaction.on_commit(lambda: tasks.report_warning_send.delay(report_id))
    return report


@transaction.atomic
def report_message_remove(*, report: Report, by: User, note: str = "") -> Report:
    """Soft-delete the reported room message (rooms' own service, so the room hears of it
    like any deletion) and close the report."""
    from asgiref.sync import async_to_sync

    from rooms import broadcast
    from rooms.services import message_delete

    message = report.message
    if message is None:
        raise ModerationError(_("This report is not about a room message."))
    if message_delete(message=message, by=by):
        transaction.on_commit(lambda: async_to_sync(broadcast.chat_deleted)(message=message))
    return _report_close(report=report, by=by, action=Report.Action.MESSAGE_REMOVED, note=note)


@transaction.atomic
def member_suspend(*, user: User, by: User, report: Report | None = None, note: str = "") -> User:
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
    if report is not None:
        _report_close(report=report, by=by, action=Report.Action.SUSPENDED, note=note)
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


def member_export(*, user: User) -> dict[str, Any]:
    """Everything the platform holds about `user`, as plain JSON-ready data."""
    profile = Profile.objects.filter(user=user).first()
    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "time_zone": user.time_zone,
            "language": user.language,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
            "email_addresses": [
                {"email": address.email, "verified": address.verified, "primary": address.primary}
                for address in EmailAddress.objects.filter(user=user)
            ],
            "notifications": {
                "channels": dict(
                    Preference.objects.filter(user=user).values_list("kind", "channel")
                ),
                "email_digest": user.email_digest,
            },
        },
        "notifications": [
            {
                "kind": notification.kind,
                "text": notification.text,
                "created_at": notification.created_at.isoformat(),
                "read_at": notification.read_at.isoformat() if notification.read_at else None,
            }
            for notification in Notification.objects.filter(user=user)
        ],
        "profile": None,
        "people_met": [
            {
                "member": acquaintance.other.name,
                "how": acquaintance.how,
                "context": acquaintance.context,
                "first_met_at": acquaintance.first_met_at.isoformat(),
                "last_met_at": acquaintance.last_met_at.isoformat(),
                "note": acquaintance.note,
            }
            for acquaintance in Acquaintance.objects.filter(owner=user).select_related("other")
        ],
        "blocked_members": [
            block.blocked.name
            for block in Block.objects.filter(blocker=user).select_related("blocked")
        ],
        "reports_made": [
            {
                "about": report.reported.name,
                "reason": report.reason,
                "details": report.details,
                "created_at": report.created_at.isoformat(),
                "status": report.status,
            }
            for report in Report.objects.filter(reporter=user).select_related("reported")
        ],
        "newsletter": subscriptions_export(user=user),
    }
    if profile:
        data["profile"] = {
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
            "interests": [interest.name for interest in profile.interests.all()],
            "open_to": profile.open_to,
            "links": {
                "website": profile.website,
                "linkedin": profile.linkedin,
                "github": profile.github,
            },
            "visible_in_directory": profile.visible_in_directory,
            "public": profile.public,
            "photo": profile.photo.url if profile.photo else None,
        }
    return data


@transaction.atomic
def member_delete(*, user: User) -> None:
    """Remove or anonymise everything personal; what they wrote stays, as a former member.

    Every session of the member ends: the sessions allauth tracks are deleted, and the new
    (unusable) password hash invalidates any other session Django still holds.
    """
    profile = Profile.objects.filter(user=user).first()
    if profile:
        _photo_delete(profile)
        profile.delete()
    subscriptions_delete(user=user)
    EmailAddress.objects.filter(user=user).delete()
    SocialAccount.objects.filter(user=user).delete()
    Acquaintance.objects.filter(owner=user).delete()
    Acquaintance.objects.filter(other=user).delete()
    Block.objects.filter(blocker=user).delete()
    Notification.objects.filter(user=user).delete()
    Preference.objects.filter(user=user).delete()
    user.email = f"deleted-{user.pk}@deleted.invalid"
    user.display_name = user.first_name = user.last_name = ""
    user.is_active = user.is_staff = user.is_superuser = False
    user.email_digest = False
    user.deleted_at = timezone.now()
    user.set_unusable_password()
    user.save()
    for session in UserSession.objects.filter(user=user):
        session.end()

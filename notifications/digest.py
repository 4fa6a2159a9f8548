"""The weekly digest: what a member who has been away would like to know, in one email.

Sent on Monday morning in the member's own zone (`digest_zones`), only to members who
asked for it and have not used the site for `AWAY_FOR`, so active members get no noise."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.core import signing
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from members.models import Interest, Profile, User
from members.selectors import account_closed
from members.services import blocked_user_ids
from notifications.holds import SHOWN
from notifications.models import Channel, Notification

AWAY_FOR = timedelta(days=7)
NEW_MEMBERS_SINCE = timedelta(days=7)
DIGEST_WEEKDAY = 0  # Monday
DIGEST_HOUR = 8
LIST_LIMIT = 5


@dataclass(frozen=True)
class DigestSection:
    """A part of the digest that another app writes (matching: your coffee pair; events:
    coming up this week). `collect(user, now)` returns what to say, or something falsy for
    nothing; `template` + ".txt"/".html" renders it as `data`."""

    key: str
    order: int
    collect: Callable[[User, datetime], Any]
    template: str


@dataclass(frozen=True)
class FilledSection:
    key: str
    template: str
    data: Any

    @property
    def text_template(self) -> str:
        return f"{self.template}.txt"

    @property
    def html_template(self) -> str:
        return f"{self.template}.html"


_sections: dict[str, DigestSection] = {}


def digest_section_register(
    *, key: str, order: int, collect: Callable[[User, datetime], Any], template: str
) -> None:
    """Called from an app's `ready()`; sections appear by `order`, after the member's own
    notifications and before the new members."""
    _sections[key] = DigestSection(key, order, collect, template)


@dataclass
class DigestContent:
    notifications: list[Notification] = field(default_factory=list)
    sections: list[FilledSection] = field(default_factory=list)
    new_members: list[Profile] = field(default_factory=list)

    def section(self, key: str) -> Any:
        return next((section.data for section in self.sections if section.key == key), None)

    def is_empty(self) -> bool:
        return not (self.notifications or self.sections or self.new_members)


def digest_zones(*, zones: list[str], now: datetime) -> list[str]:
    """Of `zones`, those where it is now Monday from 8 o'clock on: the digest's time there.
    Later ticks that Monday still count, so a tick missed while beat was down catches up."""
    due = []
    for name in zones:
        local = now.astimezone(ZoneInfo(name))
        if local.weekday() == DIGEST_WEEKDAY and local.hour >= DIGEST_HOUR:
            due.append(name)
    return due


def digest_recipients(*, now: datetime) -> QuerySet[User]:
    """Members due a digest now: they want it, their account is open, its address was
    confirmed, it is Monday morning where they are, and they have been away for `AWAY_FOR`
    (or never came back since joining that long ago). Not an address never confirmed: anyone
    can sign up with someone else's, who would get a digest every week and could not stop it
    without confirming it."""
    away_since = now - AWAY_FOR
    confirmed = EmailAddress.objects.filter(user=OuterRef("pk"), primary=True, verified=True)
    members = User.objects.filter(
        Exists(confirmed), is_active=True, deleted_at__isnull=True, email_digest=True
    )
    zones = list(members.order_by().values_list("time_zone", flat=True).distinct())
    return members.filter(
        Q(last_seen_at__lt=away_since) | Q(last_seen_at__isnull=True, date_joined__lt=away_since),
        time_zone__in=digest_zones(zones=zones, now=now),
    )


def _new_members(*, user: User, now: datetime) -> list[Profile]:
    mine = Interest.objects.approved().filter(profiles__user=user).values("pk")
    return list(
        Profile.objects.filter(
            visible_in_directory=True,
            onboarded_at__isnull=False,
            onboarded_at__gte=now - NEW_MEMBERS_SINCE,
            user__is_active=True,
            user__deleted_at__isnull=True,
            interests__in=mine,
        )
        .exclude(user=user)
        .exclude(user_id__in=blocked_user_ids(user=user))
        .annotate(shared=Count("interests", distinct=True))
        .select_related("user")
        .order_by("-shared", "-onboarded_at")[:LIST_LIMIT]
    )


def digest_content(*, user: User, now: datetime | None = None) -> DigestContent:
    now = now or timezone.now()
    sections = []
    for section in sorted(_sections.values(), key=lambda item: item.order):
        data = section.collect(user, now)
        if data:
            sections.append(FilledSection(section.key, section.template, data))
    from notifications.services import channels_for  # it imports this module, through tasks

    # The kinds the member wants in the digest now, not when each notice was told.
    kinds = [kind for kind, channel in channels_for(user=user).items() if channel == Channel.DIGEST]
    return DigestContent(
        notifications=list(
            Notification.objects.filter(
                SHOWN,
                user=user,
                for_digest=True,
                kind__in=kinds,
                read_at__isnull=True,
                created_at__gte=now - AWAY_FOR,
            )
            # Nobody blocked since (either way), or suspended since, is named in it.
            .exclude(about__in=blocked_user_ids(user=user))
            .exclude(account_closed("about"))[:10]
        ),
        sections=sections,
        new_members=_new_members(user=user, now=now),
    )


# One-click "no more digests" (RFC 8058): the link works from any mail client, without a
# session; its signature (SECRET_KEY) is the authentication. No expiry: an old digest's
# link must still stop the next one.
DIGEST_OFF_SALT = "notifications.digest-off"


def digest_off_token(*, user_id: int) -> str:
    return signing.dumps(user_id, salt=DIGEST_OFF_SALT)


def digest_off_token_read(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=DIGEST_OFF_SALT))
    except (signing.BadSignature, ValueError, TypeError):
        return None


def digest_off_headers(off_url: str) -> dict[str, str]:
    """What lets a mail client offer "unsubscribe" next to the digest, and do it by a POST
    to `off_url` (the absolute address of `notifications:digest_off`)."""
    return {
        "List-Unsubscribe": f"<{off_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }

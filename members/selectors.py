"""Reads about members that enforce who may see what."""

import functools
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.db import connection, models
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Block, Interest, OpenTo, Profile, User
from members.search import search_terms
from members.services import blocked_user_ids


def is_blocked_between(*, user: User, other: User) -> bool:
    return Block.objects.filter(
        Q(blocker=user, blocked=other) | Q(blocker=other, blocked=user)
    ).exists()


def profile_for_viewer(*, viewer: User, member_id: int) -> Profile:
    """The profile `viewer` may open, or Http404 (never "forbidden", which would leak it).

    Members see every onboarded, active member except those on either side of a block;
    visitors see only profiles their owner made public.
    """
    try:
        profile = (
            Profile.objects.select_related("user")
            .prefetch_related("interests", "languages")
            .get(user_id=member_id, user__is_active=True, onboarded_at__isnull=False)
        )
    except Profile.DoesNotExist:
        raise Http404 from None
    if not viewer.is_authenticated:
        if not profile.public:
            raise Http404
        return profile
    if viewer.pk != member_id and is_blocked_between(user=viewer, other=profile.user):
        raise Http404
    return profile


# --- The member directory ---------------------------------------------------------------

DIRECTORY_INTEREST_CHOICES = 60
DIRECTORY_INTEREST_CACHE_SECONDS = 600
# UTC offsets in use anywhere on Earth, in hours: the bounds of the time-zone filter.
LOWEST_UTC_OFFSET = -12
HIGHEST_UTC_OFFSET = 14


class DirectorySort(models.TextChoices):
    RELEVANCE = "relevance", _("Best match")
    NEWEST = "newest", _("Newest members")
    NAME = "name", _("Name")


@dataclass(frozen=True)
class DirectoryFilters:
    """What a member asked the directory for; every field is optional ("" or None = any)."""

    query: str = ""
    interest: Interest | None = None
    country: str = ""
    utc_offset_from: float | None = None
    utc_offset_to: float | None = None
    open_to: str = ""
    language: str = ""
    sort: str = DirectorySort.RELEVANCE


@functools.cache
def _all_zones() -> dict[str, ZoneInfo]:
    # Building 600 ZoneInfo objects is the slow part (ZoneInfo only keeps a few alive);
    # keeping them makes the offset filter cost well under a millisecond.
    return {name: ZoneInfo(name) for name in zoneinfo.available_timezones()}


def time_zones_between(*, low: float, high: float, at: datetime) -> list[str]:
    """The IANA zones whose UTC offset at `at` lies within [low, high] hours, sorted.

    Offsets move with daylight saving time, so the answer depends on `at`.
    """
    moment = at.astimezone(UTC)
    names = []
    for name, zone in _all_zones().items():
        offset = moment.astimezone(zone).utcoffset()
        if offset is not None and low <= offset.total_seconds() / 3600 <= high:
            names.append(name)
    return sorted(names)


def directory_interest_choices() -> list[tuple[str, str]]:
    """(slug, label in the reader's language) of the approved interests most listed members
    share, most common first.

    Cached for a few minutes, in both languages at once: it counts over every listed
    profile, and the filter only needs to offer the popular ones (any approved slug still
    works in the URL).
    """

    def compute() -> list[tuple[str, str, str]]:
        return list(
            Interest.objects.approved()
            .filter(profiles__visible_in_directory=True, profiles__onboarded_at__isnull=False)
            .annotate(members=Count("profiles"))
            .order_by("-members", "label_es")
            .values_list("slug", "label_es", "label_en")[:DIRECTORY_INTEREST_CHOICES]
        )

    rows: list[tuple[str, str, str]] | None = cache.get_or_set(
        "members:directory:interests:v2", compute, DIRECTORY_INTEREST_CACHE_SECONDS
    )
    return [
        (slug, Interest(label_es=label_es, label_en=label_en).label)
        for slug, label_es, label_en in rows or []
    ]


def profiles_matching_text(
    profiles: QuerySet[Profile], *, terms: list[str], vendor: str | None = None
) -> tuple[QuerySet[Profile], SearchRank | None]:
    """Keep the profiles whose `search_text` has every term as a word prefix.

    Returns the narrowed queryset and, where the database can rank, the relevance to order
    by. This is the one place that knows which database it talks to: PostgreSQL uses
    full-text search on the stored `search_vector` and its GIN index `profile_search_vector`
    (migration 0003), anything else a substring match per term.
    """
    if not terms:
        return profiles, None
    if (vendor or connection.vendor) == "postgresql":
        # search_terms() keeps letters and digits only, so quoting cannot be broken out of.
        tsquery = " & ".join(f"'{term}':*" for term in terms)
        query = SearchQuery(tsquery, search_type="raw", config="simple")
        return profiles.filter(search_vector=query), SearchRank(F("search_vector"), query)
    for term in terms:
        profiles = profiles.filter(search_text__contains=term)
    return profiles, None


@dataclass(frozen=True)
class DirectoryResults:
    profiles: QuerySet[Profile]
    # The order actually applied; "best match" falls back to the newest first when the
    # database cannot rank.
    sort: str


def directory_search(
    *, viewer: User, filters: DirectoryFilters, at: datetime | None = None
) -> DirectoryResults:
    """The profiles `viewer` finds in the directory, ordered, ready to paginate.

    Only active, onboarded, not deleted members who chose to be listed; never anyone on
    either side of a block with the viewer. Users, interests and languages come along in a
    fixed number of queries whatever the page size. Offsets are compared at `at` (now).
    """
    profiles = (
        Profile.objects.filter(
            visible_in_directory=True,
            onboarded_at__isnull=False,
            user__is_active=True,
            user__deleted_at__isnull=True,
        )
        .exclude(user_id__in=blocked_user_ids(user=viewer))
        .select_related("user")
        .prefetch_related("interests", "languages")
    )
    if filters.interest is not None:
        profiles = profiles.filter(interests=filters.interest)
    if filters.country:
        profiles = profiles.filter(country=filters.country)
    if filters.language:
        profiles = profiles.filter(languages=filters.language)
    if filters.open_to in OpenTo.values:
        profiles = profiles.filter(**{f"open_to_{filters.open_to}": True})
    if filters.utc_offset_from is not None or filters.utc_offset_to is not None:
        zones = time_zones_between(
            low=LOWEST_UTC_OFFSET if filters.utc_offset_from is None else filters.utc_offset_from,
            high=HIGHEST_UTC_OFFSET if filters.utc_offset_to is None else filters.utc_offset_to,
            at=at or timezone.now(),
        )
        profiles = profiles.filter(user__time_zone__in=zones)

    profiles, rank = profiles_matching_text(profiles, terms=search_terms(filters.query))
    newest = ["-onboarded_at", "-pk"]
    if filters.sort == DirectorySort.NAME:
        return DirectoryResults(
            profiles=profiles.order_by(Lower("user__display_name"), "pk"), sort=DirectorySort.NAME
        )
    if filters.sort == DirectorySort.RELEVANCE and rank is not None:
        # Ranking reads the stored vectors, about a microsecond a row: even "d", which
        # matches 90,000 of 100,000 profiles, ranks in about 130 ms (docs/members-directory.md).
        return DirectoryResults(
            profiles=profiles.annotate(rank=rank).order_by(F("rank").desc(), *newest),
            sort=DirectorySort.RELEVANCE,
        )
    return DirectoryResults(profiles=profiles.order_by(*newest), sort=DirectorySort.NEWEST)


def members_reachable() -> QuerySet[User]:
    """Members another member may block or report: active, not deleted, onboarded."""
    return User.objects.filter(
        is_active=True, deleted_at__isnull=True, profile__onboarded_at__isnull=False
    )

"""Reads about members that enforce who may see what."""

import base64
import binascii
import functools
import json
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.db import connection, models
from django.db.models import Count, F, IntegerField, OrderBy, Q, QuerySet
from django.db.models.functions import Cast, Lower
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Acquaintance, Block, Interest, MessagesFrom, OpenTo, Profile, User
from members.search import search_terms
from members.services import blocked_user_ids


def apart_from(user: User | int, field: str = "user_id") -> Q:
    """A filter keeping the rows whose `field` (a member's id) is on neither side of a block
    with `user`: two subqueries inside the caller's one query."""
    user_id = user if isinstance(user, int) else user.pk
    made = Block.objects.filter(blocker_id=user_id).values("blocked_id")
    received = Block.objects.filter(blocked_id=user_id).values("blocker_id")
    return ~Q(**{f"{field}__in": made}) & ~Q(**{f"{field}__in": received})


def account_open(field: str = "") -> Q:
    """A filter keeping the members (or the rows whose `field` is a member) whose account is
    neither suspended nor deleted."""
    prefix = f"{field}__" if field else ""
    return Q(**{f"{prefix}is_active": True, f"{prefix}deleted_at__isnull": True})


def account_closed(field: str = "") -> Q:
    """The opposite of `account_open`: suspended or deleted. On a many-valued `field` (a
    notice's `about`), it keeps the rows where any of them is."""
    prefix = f"{field}__" if field else ""
    return Q(**{f"{prefix}is_active": False}) | Q(**{f"{prefix}deleted_at__isnull": False})


def account_suspended() -> Q:
    """A filter keeping the members staff suspended (not deleted: deletion is final)."""
    return Q(is_active=False, suspended_at__isnull=False, deleted_at__isnull=True)


def is_blocked_between(*, user: User, other: User) -> bool:
    return Block.objects.filter(
        Q(blocker=user, blocked=other) | Q(blocker=other, blocked=user)
    ).exists()


def welcoming_first_contact(*, by: User, members: Iterable[User]) -> list[User]:
    """Those of `members` who take a first contact from `by` (a new conversation, an
    invitation to a private room), by their "who may write to me first": anyone, people
    they have met, or nobody. In two queries, whatever their number."""
    chosen = list(members)
    setting = dict(Profile.objects.filter(user__in=chosen).values_list("user_id", "messages_from"))
    only_met = [user.pk for user in chosen if setting.get(user.pk) == MessagesFrom.MET]
    met_by = set(
        Acquaintance.objects.filter(owner_id__in=only_met, other=by).values_list(
            "owner_id", flat=True
        )
        if only_met
        else ()
    )
    return [
        user
        for user in chosen
        if setting.get(user.pk, MessagesFrom.EVERYONE) == MessagesFrom.EVERYONE or user.pk in met_by
    ]


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


# Counting stops after this many matches: beyond it the page says "more than 1,000 members"
# (an exact count of 90,000 rows would cost more than the page itself), and a search is ranked
# by relevance only when it matches at most this many (ranking reads every match).
DIRECTORY_COUNT_LIMIT = 1000
DIRECTORY_PAGE_SIZE = 24
# ts_rank gives a real; ordering by it scaled to an integer keeps the order to six digits
# and makes the page cursor exact (a real does not survive the trip through text).
RANK_SCALE = 1_000_000
# A name cursor holds a display name of up to 80 characters (320 bytes of UTF-8) in base64.
MAX_CURSOR_LENGTH = 1024
# A cursor's text (a name) is at most a display name's length.
CURSOR_TEXT_MAX = 150


@dataclass(frozen=True)
class SortKey:
    """One column of a directory order: an annotation or field of the profile queryset."""

    name: str
    descending: bool
    kind: type[int] | type[str] | type[datetime]


NEWEST_KEYS = (
    SortKey("onboarded_at", descending=True, kind=datetime),
    SortKey("pk", descending=True, kind=int),
)
# The tie-breaker is the user's id, not the profile's, so that the index on
# (lower(display_name), id) of members_user (migration 0013) serves the whole order.
NAME_KEYS = (
    SortKey("name_key", descending=False, kind=str),
    SortKey("user_id", descending=False, kind=int),
)
RELEVANCE_KEYS = (SortKey("rank_key", descending=True, kind=int), *NEWEST_KEYS)


@dataclass(frozen=True)
class DirectoryResults:
    profiles: QuerySet[Profile]
    # The order actually applied; "best match" falls back to the newest first when the
    # database cannot rank, or when too many profiles match to rank them.
    sort: str
    keys: tuple[SortKey, ...]
    # Exact up to DIRECTORY_COUNT_LIMIT; DIRECTORY_COUNT_LIMIT + 1 means "more than that".
    count: int
    # A query asked for the best match first, but it matched too many profiles to rank.
    rank_skipped: bool = False

    @property
    def count_is_capped(self) -> bool:
        return self.count > DIRECTORY_COUNT_LIMIT

    @property
    def count_limit(self) -> int:
        return DIRECTORY_COUNT_LIMIT


def directory_search(
    *, viewer: User, filters: DirectoryFilters, at: datetime | None = None
) -> DirectoryResults:
    """The profiles `viewer` finds in the directory, ordered, ready for `directory_page`.

    Only active, onboarded, not deleted members who chose to be listed; never anyone on
    either side of a block with the viewer. Users, interests and languages come along in a
    fixed number of queries whatever the page size. Offsets are compared at `at` (now).
    Runs one query, the count (stopped after DIRECTORY_COUNT_LIMIT + 1 matches), which
    decides whether a search is ranked.
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
    # Counting a slice lets PostgreSQL stop after the first matches it finds, in any order.
    count = profiles.order_by()[: DIRECTORY_COUNT_LIMIT + 1].count()

    if filters.sort == DirectorySort.NAME:
        return DirectoryResults(
            profiles=profiles.annotate(name_key=Lower("user__display_name")),
            sort=DirectorySort.NAME,
            keys=NAME_KEYS,
            count=count,
        )
    wants_rank = filters.sort == DirectorySort.RELEVANCE and rank is not None
    if rank is not None and wants_rank and count <= DIRECTORY_COUNT_LIMIT:
        # Ranking reads the stored vector of every match (about a microsecond each, plus
        # fetching the row). For a very broad query ("d" matches 90% of the profiles) a rank
        # over word frequencies means little to a person, and costs 100 ms or more: those
        # are listed newest first, which an index answers after 24 rows.
        rank_key = Cast(rank * RANK_SCALE, output_field=IntegerField())
        return DirectoryResults(
            profiles=profiles.annotate(rank_key=rank_key),
            sort=DirectorySort.RELEVANCE,
            keys=RELEVANCE_KEYS,
            count=count,
        )
    return DirectoryResults(
        profiles=profiles,
        sort=DirectorySort.NEWEST,
        keys=NEWEST_KEYS,
        count=count,
        rank_skipped=wants_rank,
    )


@dataclass(frozen=True)
class DirectoryPage:
    profiles: list[Profile]
    # Opaque tokens for the `after` and `before` parameters of the neighbouring pages.
    next_cursor: str | None
    previous_cursor: str | None

    def __iter__(self) -> Iterator[Profile]:
        return iter(self.profiles)

    def __len__(self) -> int:
        return len(self.profiles)

    @property
    def object_list(self) -> list[Profile]:
        return self.profiles


def _order_by(keys: tuple[SortKey, ...], *, reverse: bool = False) -> list[OrderBy]:
    return [F(key.name).desc() if key.descending != reverse else F(key.name).asc() for key in keys]


def _beyond(keys: tuple[SortKey, ...], values: list[Any], *, before: bool) -> Q:
    """Rows strictly after (or before) `values` in the order of `keys`: the keyset condition.

    Written as "first key at or beyond its value, and (first key beyond, or equal and the
    next key beyond, ...)", so that the first half is a plain range an index can serve.
    """
    condition = Q()
    equal: dict[str, Any] = {}
    for key, value in zip(keys, values, strict=True):
        lookup = "lt" if key.descending != before else "gt"
        condition |= Q(**equal, **{f"{key.name}__{lookup}": value})
        equal[key.name] = value
    first = keys[0]
    bound = "lte" if first.descending != before else "gte"
    return Q(**{f"{first.name}__{bound}": values[0]}) & condition


def encode_cursor(*, results: DirectoryResults, profile: Profile) -> str:
    values = []
    for key in results.keys:
        value = getattr(profile, key.name)
        values.append(value.isoformat() if isinstance(value, datetime) else value)
    data = json.dumps([results.sort, *values], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def decode_cursor(*, results: DirectoryResults, cursor: str) -> list[Any] | None:
    """The sort-key values in `cursor`, or None when it is not one of this order's cursors
    (tampered with, or from before the order changed: the first page is shown then)."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        sort, *raw = data
        if sort != results.sort or len(raw) != len(results.keys):
            return None
        values: list[Any] = []
        for key, value in zip(results.keys, raw, strict=True):
            if key.kind is datetime:
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is None:
                    return None
                values.append(moment)
            elif type(value) is key.kind:  # an int or a str, exactly (True is no id)
                if isinstance(value, str) and ("\x00" in value or len(value) > CURSOR_TEXT_MAX):
                    return None  # no name has them; PostgreSQL refuses a NUL (a 500)
                values.append(value)
            else:
                return None
    except (ValueError, TypeError, binascii.Error):
        return None
    return values


def directory_page(
    *,
    results: DirectoryResults,
    after: str = "",
    before: str = "",
    size: int = DIRECTORY_PAGE_SIZE,
) -> DirectoryPage:
    """The page of `results` that follows the cursor `after`, or precedes `before`, or the
    first page. Keyset pagination: each page reads `size` + 1 rows from where the cursor
    points, however deep it is, so it never needs the total nor an OFFSET."""
    profiles = results.profiles
    if (values := decode_cursor(results=results, cursor=after)) is not None:
        rows = list(
            profiles.filter(_beyond(results.keys, values, before=False)).order_by(
                *_order_by(results.keys)
            )[: size + 1]
        )
        has_previous, has_next = True, len(rows) > size
        rows = rows[:size]
    elif (values := decode_cursor(results=results, cursor=before)) is not None:
        rows = list(
            profiles.filter(_beyond(results.keys, values, before=True)).order_by(
                *_order_by(results.keys, reverse=True)
            )[: size + 1]
        )
        has_previous, has_next = len(rows) > size, True
        rows = rows[:size][::-1]
    else:
        rows = list(profiles.order_by(*_order_by(results.keys))[: size + 1])
        has_previous, has_next = False, len(rows) > size
        rows = rows[:size]
    if not rows:
        if after or before:
            # Nothing left beyond the cursor (the last members there left): start again.
            return directory_page(results=results, size=size)
        return DirectoryPage(profiles=[], next_cursor=None, previous_cursor=None)
    return DirectoryPage(
        profiles=rows,
        next_cursor=encode_cursor(results=results, profile=rows[-1]) if has_next else None,
        previous_cursor=encode_cursor(results=results, profile=rows[0]) if has_previous else None,
    )


def members_reachable() -> QuerySet[User]:
    """Members another member may block or report: active, not deleted, onboarded. Not the
    suspended: their pages would name them to anyone trying ids, and tell of a moderation
    decision that is staff's."""
    return User.objects.filter(
        is_active=True, deleted_at__isnull=True, profile__onboarded_at__isnull=False
    )

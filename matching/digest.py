"""The weekly digest's coffee pair section (notifications.digest's registry)."""

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache

from matching.models import GroupMember, Round
from matching.selectors import current_seat, partners_of
from members.models import User
from notifications.digest import digest_section_register


@dataclass(frozen=True)
class PairNews:
    round: Round
    pairs_count: int
    partners: list[User]


def pair_news(user: User, now: datetime) -> PairNews | None:
    seat = current_seat(user)
    if seat is None:
        return None
    partners = partners_of(seat)
    if not partners:
        return None
    return PairNews(round=seat.round, pairs_count=pairs_made(seat.round), partners=partners)


# A Monday's digests all name the same round: counted once an hour rather than once a member
# (47 ms each with 40,000 pairs, for each of 40,000 digests).
PAIRS_COUNTED_FOR = 60 * 60


def pairs_made(round_: Round) -> int:
    def count() -> int:
        return GroupMember.objects.filter(round=round_).values("group").distinct().count()

    counted: int | None = cache.get_or_set(
        f"matching:pairs-made:{round_.pk}", count, PAIRS_COUNTED_FOR
    )
    return counted if counted is not None else count()


def register() -> None:
    digest_section_register(
        key="coffee_pair", order=10, collect=pair_news, template="matching/email/digest_section"
    )

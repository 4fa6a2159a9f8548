"""The weekly digest's coffee pair section (notifications.digest's registry)."""

from dataclasses import dataclass
from datetime import datetime

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
    pairs = GroupMember.objects.filter(round=seat.round).values("group").distinct().count()
    return PairNews(round=seat.round, pairs_count=pairs, partners=partners)


def register() -> None:
    digest_section_register(
        key="coffee_pair", order=10, collect=pair_news, template="matching/email/digest_section"
    )

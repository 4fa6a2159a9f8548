"""Reads for the coffee-pair pages: a member's current and past pairs, in a fixed number of
queries however many rounds they have been through."""

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from matching.apps import COMMUNITY_SLUG
from matching.models import GroupMember, Participation, Programme, Round, Unmatched
from members.models import Acquaintance, Interest, User

PAST_PAIRS_LIMIT = 20


def community_programme() -> Programme:
    """The whole community's programme (created by migrate), or Http404."""
    programme = Programme.objects.filter(slug=COMMUNITY_SLUG).first()
    if programme is None:
        raise Http404("The community programme does not exist.")
    return programme


def member_today(user: User) -> date:
    return timezone.localdate(timezone=ZoneInfo(user.time_zone))


def _seats_with_partners() -> QuerySet[GroupMember]:
    partners = GroupMember.objects.select_related("user__profile").order_by("pk")
    return GroupMember.objects.select_related("round", "group").prefetch_related(
        Prefetch("group__members", queryset=partners)
    )


def current_seat(user: User) -> GroupMember | None:
    """The member's seat in the community programme's latest round, partners prefetched."""
    if not user.is_authenticated:
        return None
    latest = (
        Round.objects.filter(programme__slug=COMMUNITY_SLUG)
        .order_by("-scheduled_for")
        .values("pk")[:1]
    )
    return _seats_with_partners().filter(user=user, round_id=Subquery(latest)).first()


def partners_of(seat: GroupMember, *, user_id: int | None = None) -> list[User]:
    """The other members of the seat's group (from the prefetched group members)."""
    me = user_id if user_id is not None else seat.user_id
    return [member.user for member in seat.group.members.all() if member.user_id != me]


@dataclass
class Partner:
    user: User
    shared_interests: list[str] = field(default_factory=list)
    acquaintance: Acquaintance | None = None


@dataclass
class Pair:
    seat: GroupMember
    partners: list[Partner]


@dataclass
class PairsPage:
    programme: Programme
    latest_round: Round | None
    current: Pair | None
    unmatched: bool
    past: list[Pair]
    participation: Participation


def participation_for(*, user: User, programme: Programme) -> Participation:
    """The member's participation, or an unsaved one saying they do not take part yet."""
    found = Participation.objects.filter(programme=programme, user=user).first()
    return found or Participation(programme=programme, user=user, opted_in=False)


def pairs_page(*, user: User) -> PairsPage:
    programme = community_programme()
    latest_round = programme.rounds.order_by("-scheduled_for").first()
    seats = list(
        _seats_with_partners()
        .filter(user=user, round__programme=programme)
        .order_by("-round__scheduled_for")[: PAST_PAIRS_LIMIT + 1]
    )
    current_seat_ = None
    if seats and latest_round and seats[0].round_id == latest_round.pk:
        current_seat_ = seats.pop(0)
    past_seats = seats[:PAST_PAIRS_LIMIT]

    shown = [current_seat_, *past_seats] if current_seat_ else past_seats
    partner_ids = {member.user_id for seat in shown for member in seat.group.members.all()}
    notes = {
        acquaintance.other_id: acquaintance
        for acquaintance in Acquaintance.objects.filter(
            owner=user, other_id__in=partner_ids - {user.pk}
        )
    }

    current = None
    if current_seat_:
        partners = partners_of(current_seat_, user_id=user.pk)
        own = set(Interest.objects.filter(profiles__user=user).values_list("pk", flat=True))
        shared: dict[int, list[str]] = {}
        for interest in Interest.objects.filter(
            pk__in=own, profiles__user__in=[partner.pk for partner in partners]
        ).values_list("profiles__user_id", "name"):
            shared.setdefault(interest[0], []).append(interest[1])
        current = Pair(
            seat=current_seat_,
            partners=[
                Partner(
                    user=partner,
                    shared_interests=sorted(shared.get(partner.pk, [])),
                    acquaintance=notes.get(partner.pk),
                )
                for partner in partners
            ],
        )
    past = [
        Pair(
            seat=seat,
            partners=[
                Partner(user=partner, acquaintance=notes.get(partner.pk))
                for partner in partners_of(seat, user_id=user.pk)
            ],
        )
        for seat in past_seats
    ]
    unmatched = bool(
        latest_round
        and current is None
        and Unmatched.objects.filter(round=latest_round, user=user).exists()
    )
    return PairsPage(
        programme=programme,
        latest_round=latest_round,
        current=current,
        unmatched=unmatched,
        past=past,
        participation=participation_for(user=user, programme=programme),
    )

"""What a member's home page reads from several apps, each card in one small query: the
page is the most visited of the site, so each read takes only the rows and columns it
shows (the apps' own selectors serve their fuller pages)."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, Subquery
from django.utils import timezone

from events.models import Event
from matching.apps import COMMUNITY_SLUG
from matching.models import GroupMember, Participation, Round
from matching.selectors import member_today
from members.models import User
from members.selectors import account_open, apart_from

PARTNER_FIELDS = (
    "display_name",
    "first_name",
    "last_name",
    "email",
    "is_active",
    "deleted_at",
    "profile__headline",
    "profile__photo",
    "profile__photo_thumbnail",
)


@dataclass(frozen=True)
class NextEvent:
    pk: int
    title: str
    starts_at: datetime
    ends_at: datetime
    starting_now: bool


def events_next(*, limit: int, now: datetime | None = None) -> list[NextEvent]:
    """The next `limit` events not cancelled and not over, soonest first (the same events as
    events.selectors.events_upcoming, without its counts)."""
    now = now or timezone.now()
    rows = (
        Event.objects.filter(cancelled_at__isnull=True, ends_at__gt=now)
        .order_by("starts_at", "id")
        .values_list("pk", "title", "starts_at", "ends_at")[:limit]
    )
    return [
        NextEvent(
            pk=pk, title=title, starts_at=starts_at, ends_at=ends_at, starting_now=starts_at <= now
        )
        for pk, title, starts_at, ends_at in rows
    ]


def coffee_partners(*, user: User) -> list[User] | None:
    """The members `user` is paired with in the community's latest round, profiles loaded,
    in seat order (as matching.selectors.current_seat and partners_of, and like them leaving
    out anyone on either side of a block with `user` and anyone who left, `STAYING`); None
    without a seat in that round, empty when a block or leaving ended the pairing."""
    latest = (
        Round.objects.filter(programme__slug=COMMUNITY_SLUG)
        .order_by("-scheduled_for")
        .values("pk")[:1]
    )
    group = GroupMember.objects.filter(user=user, round_id=Subquery(latest)).values("group_id")
    # What matching/_partner.html shows (a member's name, avatar and headline): the two
    # tables' other columns cost more to select than the query itself.
    seated = list(
        User.objects.filter(
            apart_from(user, "pk"),
            account_open() | Q(pk=user.pk),
            pair_seats__group_id__in=group,
        )
        .select_related("profile")
        .only(*PARTNER_FIELDS)
        .order_by("pair_seats__pk")
    )
    if not any(member.pk == user.pk for member in seated):
        return None
    return [member for member in seated if member.pk != user.pk]


def coffee_standing(*, user: User) -> str:
    """Why a member without a seat in the latest round has no coffee partner to show:
    "out" (not taking part), "paused" (by them, for unanswered intros, or by staff),
    "skipping" (the next round) or "waiting" (the next round brings one)."""
    participation = Participation.objects.filter(programme__slug=COMMUNITY_SLUG, user=user).first()
    if participation is None or not participation.opted_in:
        return "out"
    if participation.introductions_paused(member_today(user)):
        return "paused"
    if participation.skip_next_round:
        return "skipping"
    return "waiting"

"""Favourite partners: after meeting, a member may wish to meet a partner again every 2, 4 or
8 weeks (`MeetAgain`). When both wish it, they are paired again at the slower of their two
cadences, outside the random rounds (a one-group round of the on-demand programme, like
"pair me now"), as long as both take part and neither blocks the other."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from matching.apps import COMMUNITY_SLUG, ON_DEMAND_SLUG
from matching.models import GroupMember, MeetAgain, Programme
from matching.on_demand import pair_make
from matching.services import blocked_pairs, eligible_now
from members.models import User


class WishRefused(ValueError):
    """A wish that cannot be recorded, with a reason the member can read."""


def met_together(first: int, second: int) -> datetime | None:
    """When the two were last introduced to each other, in any programme."""
    groups = GroupMember.objects.filter(user_id=first).values("group_id")
    latest: datetime | None = GroupMember.objects.filter(
        user_id=second, group_id__in=groups
    ).aggregate(latest=Max("round__scheduled_for"))["latest"]
    return latest


def meet_again_set(*, user: User, partner: User, every_weeks: int | None) -> None:
    """Record (or, with None, drop) the member's wish to meet `partner` again."""
    if every_weeks is None:
        MeetAgain.objects.filter(user=user, partner=partner).delete()
        return
    if met_together(user.pk, partner.pk) is None:
        raise WishRefused(_("You can only ask to meet again someone you were paired with."))
    MeetAgain.objects.update_or_create(
        user=user, partner=partner, defaults={"every_weeks": every_weeks}
    )


def favourites_pair(*, now: datetime | None = None) -> int:
    """Pair again the members who both wished it and whose cadence has come. Returns how
    many pairs were made; a second run finds them met just now and makes none."""
    now = now or timezone.now()
    wishes = {
        (user_id, partner_id): weeks
        for user_id, partner_id, weeks in MeetAgain.objects.values_list(
            "user_id", "partner_id", "every_weeks"
        )
    }
    mutual = {
        (min(a, b), max(a, b)): max(weeks, wishes[(b, a)])
        for (a, b), weeks in wishes.items()
        if (b, a) in wishes
    }
    if not mutual:
        return 0
    community = Programme.objects.get(slug=COMMUNITY_SLUG)
    taking_part = set(
        eligible_now(
            programme=community, user_ids={member for pair in mutual for member in pair}, now=now
        )
    )
    blocked = {frozenset(pair) for pair in blocked_pairs(taking_part)}
    on_demand = Programme.objects.get(slug=ON_DEMAND_SLUG)
    made = 0
    for (first, second), weeks in sorted(mutual.items()):
        if not {first, second} <= taking_part or frozenset((first, second)) in blocked:
            continue
        with transaction.atomic():
            # One pairing at a time per programme: a concurrent run waits, then sees it.
            Programme.objects.select_for_update().get(pk=on_demand.pk)
            last = met_together(first, second)
            if last is not None and now - last < timedelta(weeks=weeks):
                continue
            pair_make(on_demand, first, second, now=now + timedelta(microseconds=made))
            made += 1
    return made

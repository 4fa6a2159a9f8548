""" "Pair me now": an extra coffee outside the rounds. A member asks; they are paired with
another member who asked, or, once they have waited WILLING_AFTER, with a member who said
they are happy to be asked (`Participation.on_demand`) and whose working hours meet theirs.
The rules of the rounds hold: never a blocked pair, always a shared language, nobody met
before while someone new is possible. Each pairing is a one-group round of the on-demand
programme, so the intro, the meeting, the table and the follow-up work as for any round.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from itertools import combinations

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from matching.apps import COMMUNITY_SLUG, ON_DEMAND_SLUG
from matching.models import Group, GroupMember, PairRequest, Participation, Programme, Round
from matching.services import (
    eligible_now,
    request_cancel,
    weekly_utc_minutes,
)
from members.models import Acquaintance, Block, User
from members.services import acquaintances_record_groups

# A request waits this long for another who asked, then a willing member is found.
WILLING_AFTER = timedelta(hours=24)
# One extra coffee a week: a member matched within this long may not ask again yet.
ONE_PER = timedelta(days=7)
# A request nobody could be found for in this long is closed and its member told: in a
# small community nobody may ask or be happy to be asked, and an extra coffee "this week"
# should not stay promised for ever.
GIVE_UP_AFTER = timedelta(days=7)


class RequestRefused(ValueError):
    """A request that cannot be made, with a reason the member can read."""


def open_request(*, user: User) -> PairRequest | None:
    return PairRequest.objects.filter(
        user=user, matched_at__isnull=True, cancelled_at__isnull=True
    ).first()


def request_make(*, user: User, now: datetime | None = None) -> PairRequest:
    """Ask for a coffee now (once: an open request is returned as it is), then try to pair
    at once."""
    now = now or timezone.now()
    if user.pk not in eligible_now(programme=_community(), user_ids=[user.pk], now=now):
        # A request left open from before they opted out or paused is dropped, not shown.
        request_cancel(user=user, now=now)
        raise RequestRefused(_("Take part in coffee pairs (and finish your profile) first."))
    existing = open_request(user=user)
    if existing is not None:
        return existing
    if PairRequest.objects.filter(user=user, matched_at__gte=now - ONE_PER).exists():
        raise RequestRefused(_("You had an extra coffee this week already: ask again next week."))
    try:
        with transaction.atomic():
            request = PairRequest.objects.create(user=user, created_at=now)
    except IntegrityError:  # a double click: the other one made it
        found = open_request(user=user)
        assert found is not None
        return found
    requests_match(now=now)
    request.refresh_from_db()
    return request


@dataclass(frozen=True)
class _Someone:
    user: User
    languages: frozenset[str]
    hours: tuple[tuple[int, int], ...]


def _someone(user: User, now: datetime) -> _Someone:
    return _Someone(
        user=user,
        languages=frozenset(language.code for language in user.profile.languages.all()),
        hours=weekly_utc_minutes(user, week_of=now),
    )


def _overlap(first: _Someone, second: _Someone) -> int:
    return sum(
        max(0, min(a_end, b_end) - max(a_start, b_start))
        for a_start, a_end in first.hours
        for b_start, b_end in second.hours
    )


def _community() -> Programme:
    return Programme.objects.get(slug=COMMUNITY_SLUG)


def requests_match(*, now: datetime | None = None) -> int:
    """Pair the open requests, oldest first: with another who asked, or, after
    WILLING_AFTER, with a willing member. Returns how many pairs were made. Safe to run twice
    at once: the open requests are locked while they are paired."""
    now = now or timezone.now()
    made = 0
    with transaction.atomic():
        requests = list(
            PairRequest.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(matched_at__isnull=True, cancelled_at__isnull=True)
            .select_related("user__profile")
            .order_by("created_at", "pk")
        )
        if not requests:
            return 0
        on_demand = Programme.objects.get(slug=ON_DEMAND_SLUG)
        # Only those who asked and those happy to be asked are read, not the whole community:
        # this runs every few minutes. Those happy to be asked (a quarter of the community,
        # perhaps) only once a request has waited WILLING_AFTER.
        waited = any(now - request.created_at >= WILLING_AFTER for request in requests)
        willing_ids = (
            set(
                Participation.objects.filter(
                    programme__slug=COMMUNITY_SLUG, on_demand=True
                ).values_list("user_id", flat=True)
            )
            if waited
            else set()
        )
        # Happy to be asked now and then, as the setting says: once a week at most, like
        # those who ask, not every request of a quiet week.
        willing_ids -= set(
            GroupMember.objects.filter(
                user_id__in=willing_ids,
                round__programme=on_demand,
                round__scheduled_for__gt=now - ONE_PER,
            ).values_list("user_id", flat=True)
        )
        concerned = willing_ids | {request.user_id for request in requests}
        eligible = eligible_now(programme=_community(), user_ids=concerned, now=now)
        asking = [r for r in requests if r.user_id in eligible]
        willing_ids &= set(eligible)
        people = {pk: _someone(user, now) for pk, user in eligible.items()}
        # Each pair has someone who asked in it: only theirs are read.
        askers = [request.user_id for request in asking]
        blocked = {
            frozenset(pair)
            for pair in Block.objects.filter(
                Q(blocker_id__in=askers) | Q(blocked_id__in=askers)
            ).values_list("blocker_id", "blocked_id")
        }
        met = _met_with(askers, list(eligible))
        taken: set[int] = set()
        for request in asking:
            me = request.user_id
            if me in taken:
                continue
            others = [r.user_id for r in asking if r.user_id != me and r.user_id not in taken]
            if now - request.created_at >= WILLING_AFTER:
                others += [pk for pk in willing_ids if pk != me and pk not in taken]
            partner = _best(
                me,
                others,
                people=people,
                blocked=blocked,
                met=met,
                asking={r.user_id for r in asking},
            )
            if partner is None:
                continue
            # One round per pair; rounds of a programme are unique by their time.
            at = now + timedelta(microseconds=made)
            pair_make(on_demand, me, partner, requests=asking, now=at)
            taken |= {me, partner}
            made += 1
    return made


def requests_give_up(*, now: datetime | None = None) -> int:
    """Close the requests that waited GIVE_UP_AFTER without a partner, and tell each member
    after commit (matching.tasks.pair_request_gave_up_send: a notice, and an email as they
    chose). A second run finds them closed and closes nothing again."""
    from matching import tasks

    now = now or timezone.now()
    with transaction.atomic():
        stale = list(
            PairRequest.objects.select_for_update(skip_locked=True)
            .filter(
                matched_at__isnull=True,
                cancelled_at__isnull=True,
                created_at__lte=now - GIVE_UP_AFTER,
            )
            .values_list("pk", flat=True)
        )
        PairRequest.objects.filter(pk__in=stale).update(cancelled_at=now, gave_up_at=now)
        for pk in stale:
            transaction.on_commit(partial(tasks.pair_request_gave_up_send.delay, pk))
    return len(stale)


def _met_with(askers: list[int], user_ids: list[int]) -> set[frozenset[int]]:
    """The pairs of an asker and one of `user_ids` who were introduced before, in the
    community's rounds or on demand: one query, whatever the length of the history."""
    seats = GroupMember.objects.filter(
        user_id__in=askers, round__programme__slug__in=(COMMUNITY_SLUG, ON_DEMAND_SLUG)
    )
    groups: dict[int, list[int]] = {}
    for group_id, user_id in GroupMember.objects.filter(
        group_id__in=seats.values("group_id"), user_id__in=user_ids
    ).values_list("group_id", "user_id"):
        groups.setdefault(group_id, []).append(user_id)
    return {frozenset(pair) for members in groups.values() for pair in combinations(members, 2)}


def _best(
    me: int,
    others: list[int],
    *,
    people: dict[int, _Someone],
    blocked: set[frozenset[int]],
    met: set[frozenset[int]],
    asking: set[int],
) -> int | None:
    """The partner for `me` among `others`: a shared language, no block, some common working
    time for a willing member; never met before if anyone is, then the most time in common,
    then who asked first (the order of `others`)."""
    mine = people[me]
    best: tuple[bool, int, int] | None = None
    chosen = None
    for position, other in enumerate(dict.fromkeys(others)):
        them = people[other]
        if not mine.languages & them.languages or frozenset((me, other)) in blocked:
            continue
        overlap = _overlap(mine, them)
        if not overlap and other not in asking:
            continue  # willing to help, not to meet at hours they never work
        key = (frozenset((me, other)) not in met, overlap, -position)
        if best is None or key > best:
            best, chosen = key, other
    return chosen


def pair_make(
    programme: Programme,
    first: int,
    second: int,
    *,
    requests: Sequence[PairRequest] = (),
    now: datetime,
) -> None:
    """Two members introduced outside the rounds: a one-group round of `programme` at `now`
    (unique for the programme), their requests marked matched, intros after the commit."""
    from matching import tasks  # the tasks module imports the services this one uses

    round_ = Round.objects.create(programme=programme, scheduled_for=now, eligible_count=2)
    group = Group.objects.create(round=round_, breakdown={"on_demand": 1.0})
    GroupMember.objects.bulk_create(
        [GroupMember(group=group, round=round_, user_id=user_id) for user_id in (first, second)]
    )
    for request in requests:
        if request.user_id in (first, second):
            PairRequest.objects.filter(pk=request.pk).update(matched_round=round_, matched_at=now)
    acquaintances_record_groups(
        groups=[(first, second)], how=Acquaintance.How.PAIR, context=str(programme.name), at=now
    )
    transaction.on_commit(lambda: tasks.round_announce(round_.pk))

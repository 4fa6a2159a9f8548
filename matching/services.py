"""Coffee-pair rounds: who takes part, how the solver is fed, and creating a round once."""

import hashlib
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import combinations
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from matching import solver
from matching.apps import COMMUNITY_SLUG, ON_DEMAND_SLUG
from matching.meetings import blocks_within
from matching.models import (
    Answer,
    Group,
    GroupMember,
    Meeting,
    PairRequest,
    Participation,
    Programme,
    Round,
    Unmatched,
)
from members.hours import working_span
from members.models import Acquaintance, Block, User
from members.selectors import account_open
from members.services import acquaintances_record_groups

MINUTES_PER_WEEK = 7 * 24 * 60
UTC = ZoneInfo("UTC")


def participation_get_or_create(*, programme: Programme, user: User) -> Participation:
    participation, _ = Participation.objects.get_or_create(programme=programme, user=user)
    return participation


def eligible_members(*, programme: Programme, on: date) -> QuerySet[User]:
    """Verified, active, onboarded members who opted in and are neither paused nor skipping."""
    return (
        User.objects.filter(
            is_active=True,
            deleted_at__isnull=True,
            emailaddress__verified=True,
            profile__onboarded_at__isnull=False,
            participations__programme=programme,
            participations__opted_in=True,
            participations__skip_next_round=False,
            participations__auto_paused=False,
        )
        .filter(
            # A programme for speakers of a language, or for an interest, pairs only them
            # (whoever joined before changing their profile).
            *([Q(profile__languages=programme.language_id)] if programme.language_id else []),
            *([Q(profile__interests=programme.interest_id)] if programme.interest_id else []),
        )
        .exclude(
            pk__in=Participation.objects.filter(programme=programme, paused_until__gte=on).values(
                "user_id"
            )
        )
        .select_related("profile")
        .prefetch_related("profile__languages", "profile__interests")
        .distinct()
        .order_by("pk")
    )


def eligible_now(
    *, programme: Programme, user_ids: Iterable[int], now: datetime
) -> dict[int, User]:
    """Those of `user_ids` a pairing made now may introduce (`eligible_members`), by id, a
    pause (until a date, included, as the form says) read in each member's own zone: in
    Mexico City it lasts until midnight there, seven hours after Madrid's."""
    # The latest date anywhere (UTC+14): a pause reaching it holds everywhere; a shorter
    # one is read member by member.
    latest = (now.astimezone(UTC) + timedelta(hours=14)).date()
    members = {
        user.pk: user
        for user in eligible_members(programme=programme, on=latest).filter(pk__in=user_ids)
    }
    pauses: dict[int, date] = {}
    for user_id, until in Participation.objects.filter(
        programme=programme, user_id__in=members, paused_until__isnull=False
    ).values_list("user_id", "paused_until"):
        if until is not None:
            pauses[user_id] = until
    return {
        pk: user
        for pk, user in members.items()
        if pk not in pauses or pauses[pk] < timezone.localdate(now, ZoneInfo(user.time_zone))
    }


def weekly_utc_minutes(user: User, *, week_of: datetime) -> tuple[tuple[int, int], ...]:
    """The member's usual working time in the week of `week_of`, as minutes since that
    week's Monday 00:00 UTC; DST is whatever applies that week."""
    profile = user.profile
    monday_utc = week_of.astimezone(UTC) - timedelta(days=week_of.astimezone(UTC).weekday())
    monday_utc = monday_utc.replace(hour=0, minute=0, second=0, microsecond=0)
    # That instant is Monday east of UTC and still Sunday west of it: the Monday on or after.
    local_monday = monday_utc.astimezone(ZoneInfo(user.time_zone)).date()
    local_monday += timedelta(days=(7 - local_monday.weekday()) % 7)
    intervals: list[tuple[int, int]] = []
    for day in sorted(set(profile.working_days)):
        span = working_span(
            start=profile.working_hours_start,
            end=profile.working_hours_end,
            zone=user.time_zone,
            on=local_monday + timedelta(days=day),
        )
        start = int((span.start - monday_utc).total_seconds() // 60) % MINUTES_PER_WEEK
        # In UTC: between two times of one zone Python subtracts the clocks' readings, an
        # hour off across a change of the clocks (Saturday 22:00 to Sunday 06:00 in Madrid
        # is 7 hours on the last Sunday of March).
        length = int((span.end.astimezone(UTC) - span.start.astimezone(UTC)).total_seconds() // 60)
        if start + length <= MINUTES_PER_WEEK:
            intervals.append((start, start + length))
        else:  # the week wraps around: Sunday evening in the Americas is Monday in UTC
            intervals.append((start, MINUTES_PER_WEEK))
            intervals.append((0, start + length - MINUTES_PER_WEEK))
    return tuple(sorted(intervals))


def candidate_for(user: User, *, week_of: datetime) -> solver.Candidate:
    profile = user.profile
    return solver.Candidate(
        id=user.pk,
        languages=frozenset(language.code for language in profile.languages.all()),
        interests=frozenset(interest.pk for interest in profile.approved_interests),
        hours=weekly_utc_minutes(user, week_of=week_of),
        mentor=profile.open_to_mentor,
        mentee=profile.open_to_be_mentored,
    )


@dataclass(frozen=True)
class History:
    """What the solver needs to know of a programme's earlier rounds."""

    pairs: dict[tuple[int, int], int]  # pairs that met -> how many rounds ago (1 = last)
    trios: dict[int, int]  # members -> how many trios they were in
    left_out: set[int]  # members left out of the last round, placed first in this one


def pair_history(*, programme: Programme, before: datetime) -> History:
    """Every earlier round of the programme: pairs that met, the latest time they met, who
    was in how many trios, and who was left out of the last one. The whole history: a pair
    from the first year is still a repeat in the third, while partners never met remain.
    The community's history holds the "pair me now" coffees too, each as recent as the
    community round that followed it (as "pair me now" reads the community's rounds)."""
    rounds = list(
        Round.objects.filter(programme=programme, scheduled_for__lt=before)
        .order_by("-scheduled_for")
        .values_list("pk", "scheduled_for")
    )
    ago = {round_id: index + 1 for index, (round_id, _at) in enumerate(rounds)}
    these = Q(round__programme=programme)
    if programme.slug == COMMUNITY_SLUG:
        these |= Q(round__programme__slug=ON_DEMAND_SLUG)
        starts = sorted(start for _pk, start in rounds)
        on_demand = Round.objects.filter(
            programme__slug=ON_DEMAND_SLUG, scheduled_for__lt=before
        ).values_list("pk", "scheduled_for")
        for round_id, at in on_demand:
            # The community rounds since: as many rounds ago, and the last round's at least.
            ago[round_id] = max(1, len(starts) - bisect_right(starts, at))
    groups: dict[int, tuple[int, list[int]]] = {}
    seats = GroupMember.objects.filter(these, round__scheduled_for__lt=before).values_list(
        "group_id", "round_id", "user_id"
    )
    for group_id, round_id, user_id in seats.iterator(chunk_size=10_000):
        if round_id in ago:  # not a "pair me now" made since the rounds were read
            groups.setdefault(group_id, (round_id, []))[1].append(user_id)
    pairs: dict[tuple[int, int], int] = {}
    trios: dict[int, int] = {}
    for round_id, members in groups.values():
        for first, second in combinations(sorted(members), 2):
            pairs[(first, second)] = min(pairs.get((first, second), 10**6), ago[round_id])
        if len(members) == 3:
            for user_id in members:
                trios[user_id] = trios.get(user_id, 0) + 1
    left_out = set(
        Unmatched.objects.filter(round_id__in=[pk for pk, _at in rounds[:1]]).values_list(
            "user_id", flat=True
        )
    )
    return History(pairs=pairs, trios=trios, left_out=left_out)


def blocked_pairs(user_ids: Iterable[int]) -> list[tuple[int, int]]:
    ids = list(user_ids)
    return list(
        Block.objects.filter(blocker_id__in=ids, blocked_id__in=ids).values_list(
            "blocker_id", "blocked_id"
        )
    )


def round_seed(programme: Programme, scheduled_for: datetime) -> int:
    """The same round always draws the same randomness: a preview shows what a run makes."""
    digest = hashlib.sha256(f"{programme.pk}:{scheduled_for.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass(frozen=True)
class Plan:
    programme: Programme
    scheduled_for: datetime
    members: dict[int, User]
    result: solver.Result


def _mentoring_pairs(
    members: dict[int, User],
) -> tuple[dict[int, User], list[tuple[int, int]]]:
    """A mentoring programme's members (those open to mentoring or to being mentored) and
    the pairs among them that are not a mentor with a mentee, which the solver treats as
    blocked. Quadratic in the programme's size: mentoring circles are small."""
    roles = {
        pk: (user.profile.open_to_mentor, user.profile.open_to_be_mentored)
        for pk, user in members.items()
        if user.profile.open_to_mentor or user.profile.open_to_be_mentored
    }
    kept = {pk: members[pk] for pk in roles}
    not_complementary = [
        (a, b)
        for a, b in combinations(sorted(roles), 2)
        if not ((roles[a][0] and roles[b][1]) or (roles[a][1] and roles[b][0]))
    ]
    return kept, not_complementary


def round_plan(*, programme: Programme, scheduled_for: datetime) -> Plan:
    """What a round at `scheduled_for` would pair, without saving anything."""
    on = scheduled_for.astimezone(ZoneInfo(programme.time_zone)).date()
    members = {user.pk: user for user in eligible_members(programme=programme, on=on)}
    blocked = blocked_pairs(members)
    if programme.mentoring:
        members, not_complementary = _mentoring_pairs(members)
        blocked += not_complementary
    candidates = [candidate_for(user, week_of=scheduled_for) for user in members.values()]
    history = pair_history(programme=programme, before=scheduled_for)
    result = solver.solve(
        candidates,
        blocked=blocked,
        history=history.pairs,
        trio_counts=history.trios,
        priority=history.left_out,
        table_size=programme.table_size,
        settings=solver.Settings(seed=round_seed(programme, scheduled_for)),
    )
    return Plan(programme=programme, scheduled_for=scheduled_for, members=members, result=result)


def round_create(
    *, programme: Programme, scheduled_for: datetime, notify: bool = True
) -> tuple[Round, bool]:
    """Create the round for this slot, or return the one that exists: (round, created).

    Safe to call twice at once: the programme row is locked while the round is made, and the
    unique constraint on (programme, scheduled_for) backs that up. Intros are sent by Celery
    after the commit, one task per member (`notify=False` is for importing past rounds).
    """
    try:
        with transaction.atomic():
            Programme.objects.select_for_update().get(pk=programme.pk)
            existing = Round.objects.filter(
                programme=programme, scheduled_for=scheduled_for
            ).first()
            if existing:
                return existing, False
            plan = round_plan(programme=programme, scheduled_for=scheduled_for)
            round_ = _round_save(plan, notify=notify)
    except IntegrityError:
        return Round.objects.get(programme=programme, scheduled_for=scheduled_for), False
    return round_, True


def _round_save(plan: Plan, *, notify: bool) -> Round:
    from matching import tasks

    round_ = Round.objects.create(
        programme=plan.programme,
        scheduled_for=plan.scheduled_for,
        eligible_count=len(plan.members),
        total_score=plan.result.total_score,
        # An imported past round has nothing to announce.
        announced_at=None if notify else timezone.now(),
    )
    # bulk_create fills in primary keys (RETURNING) on PostgreSQL and SQLite alike.
    groups = Group.objects.bulk_create(
        [
            Group(round=round_, score=planned.score, breakdown=planned.breakdown)
            for planned in plan.result.groups
        ],
        batch_size=2_000,
    )
    GroupMember.objects.bulk_create(
        [
            GroupMember(group=group, round=round_, user_id=user_id)
            for group, planned in zip(groups, plan.result.groups, strict=True)
            for user_id in planned.members
        ],
        batch_size=2_000,
    )
    acquaintances_record_groups(
        groups=[planned.members for planned in plan.result.groups],
        how=Acquaintance.How.PAIR,
        context=plan.programme.name,
        at=plan.scheduled_for,
    )
    Unmatched.objects.bulk_create(
        [Unmatched(round=round_, user_id=user_id) for user_id in plan.result.unmatched]
    )
    # Those who skipped sat this round out; they are back for the next one. A member the
    # plan placed asked to skip while it ran (the solver takes up to a minute): their ask
    # stands, for the round after this one.
    Participation.objects.filter(programme=plan.programme, skip_next_round=True).exclude(
        user_id__in=GroupMember.objects.filter(round=round_).values("user_id")
    ).exclude(user_id__in=Unmatched.objects.filter(round=round_).values("user_id")).update(
        skip_next_round=False
    )
    if notify:
        transaction.on_commit(lambda: tasks.round_announce(round_.pk))
    return round_


# A slot missed for longer than this (beat down for a day) is skipped, not run late.
MAX_LATENESS = timedelta(hours=24)


# How long after its commit a round's own announcement may still be under way (a round of
# 100,000 members queues as many intros) before matching_tick announces it again.
ANNOUNCE_GRACE = timedelta(minutes=10)


def rounds_unannounced(*, now: datetime) -> list[int]:
    """Rounds committed whose announcement never finished: the worker died after the
    commit, or Redis was down when their intros were queued."""
    return list(
        Round.objects.filter(
            announced_at__isnull=True, created_at__lt=now - ANNOUNCE_GRACE
        ).values_list("pk", flat=True)
    )


def rounds_start_due(*, now: datetime | None = None) -> list[Round]:
    """Start every active programme's round whose slot has come and that does not exist."""
    moment = now or timezone.now()
    started = []
    for programme in Programme.objects.filter(active=True):
        slot = programme.latest_slot(moment)
        if slot is None or moment - slot > MAX_LATENESS:
            continue
        round_, created = round_create(programme=programme, scheduled_for=slot)
        if created:
            started.append(round_)
    return started


# How far back a follow-up is still worth sending (beat down for a while, new programme).
FOLLOW_UP_WINDOW = timedelta(days=7)


def follow_ups_due(*, now: datetime | None = None) -> list[int]:
    """Seats whose intro went out and whose programme says it is time to ask. A group that
    agreed a time for its coffee is asked once that coffee is over, even past the usual week
    (a time may be agreed up to two months ahead); one whose agreed time was called off or
    changed since, once it was (unless a new time is agreed again)."""
    moment = now or timezone.now()
    over = moment - timedelta(minutes=Meeting.MINUTES)
    since = moment - FOLLOW_UP_WINDOW
    agreed = Meeting.objects.filter(accepted_at__isnull=False, starts_at__isnull=False)
    seat_ids: set[int] = set()
    # "Pair me now" pairs (an inactive programme of their own) are asked too.
    for programme in Programme.objects.filter(Q(active=True) | Q(slug=ON_DEMAND_SLUG)):
        cutoff = moment - timedelta(days=programme.follow_up_after_days)
        unasked = (
            GroupMember.objects.filter(
                round__programme=programme,
                round__scheduled_for__lte=cutoff,
                intro_sent_at__isnull=False,
                follow_up_sent_at__isnull=True,
            )
            # A member who left (their notices went with their account) or was suspended
            # is asked nothing.
            .filter(account_open("user"))
            .filter(
                # Not answered yet: "did you meet?". Met already (found at their coffee table, or
                # said so on the page) and not rated: only "how was it?".
                Q(answer="") | Q(answer=Answer.MET, rating__isnull=True)
            )
            # Their coffee is still to come, or going on: asking now would ask too soon.
            .exclude(group_id__in=agreed.filter(starts_at__gt=over).values("group_id"))
            # A block between two of the group's members ended its meeting: nothing to ask.
            .exclude(Exists(blocks_within(OuterRef("group_id"))))
        )
        # Three reads, each on its own index, rather than one whose ORs read every round's
        # seats: the rounds of the last week; the agreed coffees that ended in it; and the
        # agreed times called off or changed in it (a time agreed weeks ahead kept the group
        # out of its round's week).
        seat_ids.update(
            unasked.filter(round__scheduled_for__gt=cutoff - FOLLOW_UP_WINDOW).values_list(
                "pk", flat=True
            )
        )
        ended = agreed.filter(starts_at__gt=over - FOLLOW_UP_WINDOW, starts_at__lte=over)
        seat_ids.update(
            unasked.filter(group_id__in=ended.values("group_id")).values_list("pk", flat=True)
        )
        changed = Meeting.objects.filter(accepted_at__isnull=True, updated_at__gt=since)
        seat_ids.update(
            unasked.filter(group_id__in=changed.values("group_id")).values_list("pk", flat=True)
        )
    return sorted(seat_ids)


def participations_to_auto_pause(*, now: datetime | None = None) -> list[Participation]:
    """Members who left the last N follow-ups of a programme unanswered, N its setting; a
    question counts once it has had FOLLOW_UP_WINDOW (a week) for its answer, so the last
    one does not pause anyone the hour after it went out. After a member resumed from such
    a pause, only follow-ups sent since count (those before it would pause them again
    within the hour)."""
    answered_by = (now or timezone.now()) - FOLLOW_UP_WINDOW
    found: list[Participation] = []
    for programme in Programme.objects.filter(active=True, pause_after_ignored__gt=0):
        last_rounds = list(
            programme.rounds.order_by("-scheduled_for").values_list("pk", flat=True)[
                : programme.pause_after_ignored
            ]
        )
        if len(last_rounds) < programme.pause_after_ignored:
            continue
        resumed = Participation.objects.filter(
            programme=programme, user=OuterRef("user_id")
        ).values("resumed_at")[:1]
        ignored = (
            GroupMember.objects.filter(
                round_id__in=last_rounds, follow_up_sent_at__lte=answered_by, answer=""
            )
            .annotate(resumed_at=Subquery(resumed))
            .filter(Q(resumed_at__isnull=True) | Q(follow_up_sent_at__gt=F("resumed_at")))
            .values("user_id")
            .annotate(count=Count("pk"))
            .filter(count=programme.pause_after_ignored)
            .values("user_id")
        )
        # Not a suspended or deleted account: their email would not go (the notice is for
        # open accounts), and the pause would outlive a suspension, untold.
        found += Participation.objects.filter(
            account_open("user"),
            programme=programme,
            user_id__in=ignored,
            opted_in=True,
            auto_paused=False,
        ).select_related("user", "programme")
    return found


def participation_auto_pause(
    *, participation: Participation, notify: bool = False, by_staff: bool = False
) -> bool:
    """Pause until the member resumes. True only for the call that paused (a conditional
    UPDATE); only that call, given `notify`, queues the email telling the member why, once
    its transaction commits. Each pause starts with its notice unsent. Staff pausing by
    hand say `by_staff` and pass no `notify`: the email says the intros went unanswered."""
    paused = bool(
        Participation.objects.filter(pk=participation.pk, auto_paused=False).update(
            auto_paused=True, paused_by_staff=by_staff, auto_pause_notice_sent_at=None
        )
    )
    if paused and participation.programme.slug == COMMUNITY_SLUG:
        # As a pause of the member's own: no looking for a partner for them meanwhile, and
        # no "we found nobody" a week later.
        request_cancel(user=participation.user)
    if paused and notify:
        from matching.tasks import auto_pause_notice_send

        auto_pause_notice_send.delay_on_commit(participation.pk)
    return paused


def participation_update(
    *,
    participation: Participation,
    opted_in: bool,
    skip_next_round: bool,
    paused_until: date | None,
    on_demand: bool | None = None,
) -> Participation:
    participation.opted_in = opted_in
    participation.skip_next_round = skip_next_round
    if on_demand is not None:
        participation.on_demand = on_demand
    participation.paused_until = paused_until
    if participation.auto_paused:
        participation.resumed_at = timezone.now()
    participation.auto_paused = False
    participation.paused_by_staff = False
    participation.save()
    if participation.programme.slug == COMMUNITY_SLUG and (
        not opted_in or skip_next_round or paused_until is not None
    ):
        # "Pair me now" is for members who take part: stop looking for one who left, paused
        # or skips a round (their page no longer shows the request, nor a way to stop it).
        request_cancel(user=participation.user)
    return participation


def request_cancel(*, user: User, now: datetime | None = None) -> bool:
    """Stop looking for a partner for `user`'s open "pair me now" request, if any."""
    return bool(
        PairRequest.objects.filter(
            user=user, matched_at__isnull=True, cancelled_at__isnull=True
        ).update(cancelled_at=now or timezone.now())
    )


def participation_resume(*, participation: Participation) -> Participation:
    """The member's own "resume": back in, whatever they had chosen before."""
    return participation_update(
        participation=participation, opted_in=True, skip_next_round=False, paused_until=None
    )


def participation_pause_lift(*, participation: Participation) -> bool:
    """Staff lift a pause the member did not choose (intros left unanswered, or staff's
    own). What the member chose stays theirs: whether they take part, a pause until a date
    (a holiday), skipping the next round. Returns whether there was such a pause."""
    if not participation.auto_paused:
        return False
    participation_update(
        participation=participation,
        opted_in=participation.opted_in,
        skip_next_round=participation.skip_next_round,
        paused_until=participation.paused_until,
    )
    return True


def answer_record(*, seat: GroupMember, answer: str) -> GroupMember:
    """Store what a member answered to "did you meet?" (they may change their mind)."""
    seat.answer = answer
    seat.answered_at = timezone.now()
    seat.save(update_fields=["answer", "answered_at"])
    return seat


def programmes_open_to(*, user: User) -> list[tuple[Programme, bool, bool]]:
    """The active programmes besides the whole community's, each with whether the member
    may join (speaks its language, has its interest) and whether they take part."""
    profile = user.profile
    languages = set(profile.languages.values_list("code", flat=True))
    interests = set(profile.interests.values_list("pk", flat=True))
    taking_part = set(
        Participation.objects.filter(user=user, opted_in=True).values_list(
            "programme_id", flat=True
        )
    )
    return [
        (
            programme,
            (programme.language_id is None or programme.language_id in languages)
            and (programme.interest_id is None or programme.interest_id in interests)
            and (not programme.mentoring or profile.open_to_mentor or profile.open_to_be_mentored),
            programme.pk in taking_part,
        )
        for programme in Programme.objects.filter(active=True)
        .exclude(slug=COMMUNITY_SLUG)
        .select_related("language", "interest")
        .order_by("name")
    ]


def programme_join(*, programme: Programme, user: User, join: bool) -> Participation:
    """Join (or leave) a programme from the member's settings; joining one the member does
    not qualify for is refused (ValueError)."""
    if join and not any(
        found.pk == programme.pk and may for found, may, _in in programmes_open_to(user=user)
    ):
        raise ValueError("not open to this member")
    participation = participation_get_or_create(programme=programme, user=user)
    participation.opted_in = join
    participation.save(update_fields=["opted_in", "updated_at"])
    return participation


def rating_record(*, seat: GroupMember, rating: int) -> GroupMember:
    """The member's own "how was it?", 1 to 5 (they may change it)."""
    seat.rating = rating
    seat.save(update_fields=["rating"])
    return seat


def community_opt_in_set(*, user: User, opted_in: bool) -> Participation:
    """Join or leave the whole community's programme (from onboarding)."""
    participation = participation_get_or_create(
        programme=Programme.objects.get(slug=COMMUNITY_SLUG), user=user
    )
    participation.opted_in = opted_in
    participation.save(update_fields=["opted_in", "updated_at"])
    return participation

"""Reads for the coffee-pair pages: a member's current and past pairs, in a fixed number of
queries however many rounds they have been through."""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from matching import solver
from matching.apps import COMMUNITY_SLUG, ON_DEMAND_SLUG
from matching.meetings import blocks_within, slots_suggest, with_someone_to_meet
from matching.models import (
    GroupMember,
    Meeting,
    PairRequest,
    Participation,
    Programme,
    Round,
    Unmatched,
)
from matching.schedule import next_round_for
from matching.services import FOLLOW_UP_WINDOW
from matching.starters import starter_for
from members.models import Acquaintance, Interest, Profile, User, language_in_sentence
from members.search import normalise
from members.selectors import account_open, apart_from

PAST_PAIRS_LIMIT = 20


def community_programme() -> Programme:
    """The whole community's programme (created by migrate), or Http404."""
    programme = Programme.objects.filter(slug=COMMUNITY_SLUG).first()
    if programme is None:
        raise Http404("The community programme does not exist.")
    return programme


def member_today(user: User) -> date:
    return timezone.localdate(timezone=ZoneInfo(user.time_zone))


# A partner whose account is closed (deleted) or suspended is no partner any more: there is
# nobody to meet (docs/coffee-meetings.md, "After a block").
STAYING = account_open("user")


def _seats_with_partners(user: User) -> QuerySet[GroupMember]:
    """`user`'s seats, each group's members prefetched but for anyone on either side of a
    block with `user` (a block made after a round paired two members ends their pairing,
    docs/coffee-meetings.md, "After a block") and anyone who left (`STAYING`)."""
    partners = (
        GroupMember.objects.filter(apart_from(user), STAYING | Q(user=user))
        .select_related("user__profile")
        .order_by("pk")
    )
    return (
        GroupMember.objects.filter(user=user)
        .select_related("round", "group")
        .prefetch_related(Prefetch("group__members", queryset=partners))
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
    return _seats_with_partners(user).filter(round_id=Subquery(latest)).first()


def partners_of(seat: GroupMember, *, user_id: int | None = None) -> list[User]:
    """The other members of the seat's group (from the group members prefetched by
    `_seats_with_partners`, which leaves out those on either side of a block)."""
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
    starter: Promise | None = None  # a question to start with (the current pair only)
    meeting: Meeting | None = None  # the time proposed or agreed (the current pair only)


@dataclass
class PairsPage:
    programme: Programme
    latest_round: Round | None
    current: Pair | None
    unmatched: Unmatched | None  # the member left out of the latest round
    past: list[Pair]
    participation: Participation

    @property
    def paused(self) -> bool:
        """Introductions paused, by the member (until a date) or for unanswered ones."""
        return self.participation.introductions_paused(timezone.localdate())


def participation_for(*, user: User, programme: Programme) -> Participation:
    """The member's participation, or an unsaved one saying they do not take part yet."""
    found = Participation.objects.filter(programme=programme, user=user).first()
    return found or Participation(programme=programme, user=user, opted_in=False)


def pairs_page(*, user: User) -> PairsPage:
    programme = community_programme()
    latest_round = programme.rounds.order_by("-scheduled_for").first()
    seats = list(
        _seats_with_partners(user)
        .filter(round__programme=programme)
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
        own = Interest.objects.approved().filter(profiles__user=user).values("pk")
        shared: dict[int, list[str]] = {}
        for interest in Interest.objects.filter(
            pk__in=own, profiles__user__in=[partner.pk for partner in partners]
        ).annotate(partner_id=F("profiles__user_id")):
            shared.setdefault(interest.partner_id, []).append(interest.label)
        current = Pair(
            seat=current_seat_,
            starter=starter_for(current_seat_.group_id),
            # Agreed, or proposed for a time still to come (a proposal nobody took in time
            # is as good as none), unless a block between two of the group ended it (the
            # meeting page says so).
            meeting=Meeting.objects.filter(
                Q(accepted_at__isnull=False) | Q(starts_at__gt=timezone.now()),
                group_id=current_seat_.group_id,
                starts_at__isnull=False,
            )
            .exclude(Exists(blocks_within(current_seat_.group_id)))
            .select_related("proposed_by")
            .first(),
            partners=[
                Partner(
                    user=partner,
                    shared_interests=sorted(shared.get(partner.pk, []), key=normalise),
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
    past = [pair for pair in past if pair.partners]  # nobody left to show after blocks
    unmatched = (
        Unmatched.objects.filter(round=latest_round, user=user).select_related("round").first()
        if latest_round and current is None
        else None
    )
    return PairsPage(
        programme=programme,
        latest_round=latest_round,
        current=current,
        unmatched=unmatched,
        past=past,
        participation=participation_for(user=user, programme=programme),
    )


def names_of(users: Iterable[User]) -> str:
    """Members' names as one phrase ("Ana", "Ana and Ben", "Ana, Ben and Carla") in the
    active language. Text names people this way, never by joining users, whose list would
    print as a Python repr where autoescaping is off."""
    return str(get_text_list([user.name for user in users], gettext_lazy("and")))


def follow_ups_close_at(*, scheduled_for: datetime, follow_up_after_days: int) -> datetime:
    """When a round stops waiting for answers to "did you meet?": the question goes out
    `follow_up_after_days` after the round, and after FOLLOW_UP_WINDOW more nobody else is
    asked (members have had a week to answer). Until then unanswered seats are not news."""
    return scheduled_for + timedelta(days=follow_up_after_days) + FOLLOW_UP_WINDOW


def _points(value: float) -> str:
    return ("+" if value >= 0 else "\u2212") + number_format(abs(value), decimal_pos=2)


def _hours(value: float) -> str:
    hours = round(value, 1)
    return number_format(hours, decimal_pos=0 if hours.is_integer() else 1)


def score_explained(*, members: Sequence[User], breakdown: Mapping[str, float]) -> list[str]:
    """A group's score part by part, in words ("shared interests: Design, UX (+0.33)"), for
    staff. Interest names come from the members' profiles as they are now (`members` with
    `profile__interests` prefetched); the points are those the solver gave at the time."""
    parts = dict(breakdown)
    lines = []
    if "interests" in parts:
        counts: dict[int, int] = {}
        names: dict[int, str] = {}
        for member in members:
            profile = getattr(member, "profile", None)
            for interest in profile.approved_interests if profile else ():
                counts[interest.pk] = counts.get(interest.pk, 0) + 1
                names[interest.pk] = str(interest)
        shared = sorted(names[pk] for pk, count in counts.items() if count > 1)
        points = _points(parts.pop("interests"))
        if shared:
            lines.append(
                _("shared interests: %(names)s (%(points)s)")
                % {"names": ", ".join(shared), "points": points}
            )
        else:
            lines.append(_("no shared interests (%(points)s)") % {"points": points})
    if "overlap" in parts:
        # The part grows with the shared minutes up to a 40-hour week, so it gives them back;
        # a trio's part adds up its three pairs.
        value = parts.pop("overlap")
        hours = value / solver.Settings.overlap_weight * solver.FULL_HOURS_MINUTES / 60
        text = (
            _("working hours overlap %(hours)s h a week, over its three pairs (%(points)s)")
            if len(members) > 2
            else _("working hours overlap %(hours)s h a week (%(points)s)")
        )
        lines.append(text % {"hours": _hours(hours), "points": _points(value)})
    labels = {
        "mentoring": _("a mentor and a mentee (%(points)s)"),
        "random": _("chance (%(points)s)"),
        "apart_penalty": _("no common working hour (%(points)s)"),
        "repeat_penalty": _("met before (%(points)s)"),
    }
    # jsonb keeps no key order: the parts come in a fixed one, any unknown part last.
    for part in [*labels, *sorted(set(parts) - set(labels))]:
        value = parts.get(part, 0.0)
        if value:
            label = labels.get(part, f"{part} (%(points)s)")
            lines.append(label % {"points": _points(value)})
    return lines


def group_others(*, seat: GroupMember) -> list[User]:
    """The seat's partners in its group, in seat order, but for anyone on either side of a
    block with the seat's member and anyone who left (`STAYING`)."""
    return [
        other.user
        for other in seat.group.members.filter(apart_from(seat.user_id), STAYING)
        .select_related("user__profile")
        .exclude(user_id=seat.user_id)
        .order_by("pk")
    ]


@dataclass(frozen=True)
class MeetingPage:
    """What a member's coffee meeting page shows: the time proposed or agreed, and, when
    none is agreed yet, suggested times in everyone's working hours."""

    others: list[User]
    meeting: Meeting | None
    proposed_by_me: bool
    slots: list[datetime]
    ended: bool = False  # a block between two of the group's members ended it

    @property
    def scheduled(self) -> bool:
        return self.meeting is not None and self.meeting.accepted_at is not None

    @property
    def took_place(self) -> bool:
        return self.meeting is not None and self.meeting.took_place

    @property
    def proposed(self) -> bool:
        return (
            self.meeting is not None and self.meeting.starts_at is not None and not self.scheduled
        )


def meeting_page(*, seat: GroupMember) -> MeetingPage:
    others = group_others(seat=seat)
    meeting = (
        Meeting.objects.select_related("proposed_by", "accepted_by")
        .filter(group_id=seat.group_id)
        .first()
    )
    scheduled = meeting is not None and meeting.accepted_at is not None
    ended = not others or blocks_within(seat.group_id).exists()
    return MeetingPage(
        others=others,
        meeting=meeting,
        proposed_by_me=meeting is not None and meeting.proposed_by_id == seat.user_id,
        slots=[] if scheduled or ended else slots_suggest([seat.user, *others]),
        ended=ended,
    )


def meetings_in_feed(*, user: User, now: datetime | None = None) -> list[Meeting]:
    """The member's accepted coffee meetings for their calendar feed: upcoming, or within
    the last 30 days (as for events), their groups' members with them."""
    now = now or timezone.now()
    meetings = (
        Meeting.objects.filter(
            group__members__user=user,
            accepted_at__isnull=False,
            starts_at__gt=now - timedelta(days=30),
        )
        # A block between two of its members ends a group's meeting (meetings.blocks_within).
        .exclude(Exists(blocks_within(OuterRef("group_id"))))
    )
    return list(
        with_someone_to_meet(meetings)
        .prefetch_related(
            Prefetch(
                "group__members",
                # Named and invited: those still in the pairing (`STAYING`).
                queryset=GroupMember.objects.filter(STAYING).select_related("user"),
            )
        )
        .order_by("starts_at")
    )


# A pair's conversation links to their meeting page while their round is this recent.
COFFEE_LINK_FOR = timedelta(days=30)


def coffee_group_of(*, user_ids: Sequence[int], now: datetime | None = None) -> int | None:
    """The group of a recent round made of exactly these members (a pair's conversation, a
    trio's), or None. Two queries."""
    if len(user_ids) < 2:
        return None
    since = (now or timezone.now()) - COFFEE_LINK_FOR
    seats: dict[int, set[int]] = {}
    for group_id, user_id in GroupMember.objects.filter(
        group__in=GroupMember.objects.filter(
            user_id=user_ids[0], round__scheduled_for__gte=since
        ).values("group_id")
    ).values_list("group_id", "user_id"):
        seats.setdefault(group_id, set()).add(user_id)
    wanted = set(user_ids)
    matching = [group_id for group_id, members in seats.items() if members == wanted]
    return max(matching) if matching else None


@dataclass(frozen=True)
class IntroPerson:
    """Someone a member was introduced to, as the intro shows them; `shared_interests`:
    the approved interests both have, as labels in the language active when read."""

    user: User
    profile: Profile
    url: str
    shared_interests: list[str]


def intro_people(*, seat: GroupMember) -> list[IntroPerson]:
    """The others of the seat's group, as the intro email and the group's conversation
    introduce them (read within the reader's language)."""
    mine = {interest.pk for interest in seat.user.profile.approved_interests}
    others = (
        seat.group.members.filter(apart_from(seat.user_id), STAYING)
        .select_related("user__profile")
        .prefetch_related("user__profile__interests")
        .exclude(user_id=seat.user_id)
        .order_by("pk")
    )
    return [
        IntroPerson(
            user=other.user,
            profile=other.user.profile,
            url=other.user.get_absolute_url(),
            shared_interests=[
                interest.label
                for interest in other.user.profile.approved_interests
                if interest.pk in mine
            ],
        )
        for other in others
    ]


@dataclass(frozen=True)
class CoffeeIntro:
    """What opens a coffee group's conversation: who, what they share, a question to start
    with, and the way to their meeting."""

    group_id: int
    programme: str
    introduced_on: date
    people: list[IntroPerson]
    starter: str


def coffee_intro(*, group_id: int, user: User) -> CoffeeIntro | None:
    """The intro of `user`'s seat in the coffee group `group_id`, or None if not theirs."""
    seat = (
        GroupMember.objects.select_related("round__programme", "user__profile", "group")
        .filter(group_id=group_id, user=user)
        .first()
    )
    if seat is None:
        return None
    return CoffeeIntro(
        group_id=group_id,
        programme=seat.round.programme.display_name,
        introduced_on=timezone.localdate(seat.round.scheduled_for),
        people=intro_people(seat=seat),
        starter=str(starter_for(group_id)),
    )


@dataclass(frozen=True)
class LeftOut:
    """Why a member had no pair in a round, in terms they can act on. `reason`: "alone"
    (nobody else took part), "language" (nobody else spoke a language of theirs), or
    "nobody" (those who did were not possible this time: blocks are never named)."""

    reason: str
    languages: list[str]  # the member's own, as labels
    common: list[str]  # the languages most spoken by the others that round, as labels
    next_round: datetime | None


def left_out(*, entry: Unmatched) -> LeftOut:
    """The reason for an Unmatched entry: who else was in its round, and what they spoke.
    Worked out the first time it is asked for (the notice, right after the round) and kept
    on the entry: later readers (the email, the member's page) say the same."""
    if not entry.reason:
        _left_out_record(entry)
    participation = Participation.objects.filter(
        programme=entry.round.programme, user_id=entry.user_id
    ).first()
    return LeftOut(
        reason=entry.reason,
        languages=[language_in_sentence(code) for code in entry.languages or []],
        common=[language_in_sentence(code) for code in entry.common or []],
        next_round=next_round_for(participation) if participation else None,
    )


def _left_out_record(entry: Unmatched) -> None:
    round_ = entry.round
    # Counted in the database: a round holds up to the whole community (100,000 ids),
    # and this runs once for each member left out.
    others = (
        GroupMember.objects.filter(round=round_)
        .order_by()
        .values("user_id")
        .union(
            Unmatched.objects.filter(round=round_)
            .exclude(user_id=entry.user_id)
            .order_by()
            .values("user_id")
        )
    )
    Spoken = Profile.languages.through
    mine = set(
        Spoken.objects.filter(profile__user_id=entry.user_id).values_list("language_id", flat=True)
    )
    spoken = (
        Spoken.objects.filter(profile__user_id__in=others)
        .order_by()
        .values("language_id")
        .annotate(speakers=Count("*"))
    )
    counts = Counter({row["language_id"]: row["speakers"] for row in spoken})
    if not others.exists():
        entry.reason = "alone"
    elif not mine & set(counts):
        entry.reason = "language"
    else:
        entry.reason = "nobody"
    entry.languages = sorted(mine)
    entry.common = [code for code, _n in counts.most_common(3)]
    entry.save(update_fields=["reason", "languages", "common"])


@dataclass(frozen=True)
class ExtraCoffee:
    """ "Pair me now" on the member's page: an open request, or the pair it made lately."""

    asking_since: datetime | None
    group_id: int | None
    partners: list[User]


def extra_coffee(*, user: User, now: datetime | None = None) -> ExtraCoffee:
    now = now or timezone.now()
    request = (
        PairRequest.objects.filter(user=user, cancelled_at__isnull=True)
        .filter(Q(matched_at__isnull=True) | Q(matched_at__gte=now - timedelta(days=7)))
        .order_by("-created_at")
        .first()
    )
    seat = (
        GroupMember.objects.filter(
            user=user,
            round__programme__slug=ON_DEMAND_SLUG,
            round__scheduled_for__gte=now - timedelta(days=7),
        )
        .order_by("-round__scheduled_for")
        .first()
    )
    return ExtraCoffee(
        asking_since=request.created_at if request is not None and request.is_open else None,
        group_id=seat.group_id if seat is not None else None,
        partners=group_others(seat=seat) if seat is not None else [],
    )

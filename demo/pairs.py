"""The demo's coffee pairs: the community programme's latest rounds, answered as a lively
community would, and what the member login was told about them.

Rounds sit on the programme's own slots (`Programme.latest_slot`), so the scheduler, which
starts the round of a slot that has none, finds them there and pairs nobody twice. Rounds
are only ever added: each run adds those of the latest slots that are missing, so the
latest round is never older than the programme's cadence."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from demo.people import People, demo_users
from matching import meetings
from matching.apps import COMMUNITY_SLUG
from matching.models import Answer, GroupMember, Meeting, Programme, Round, Unmatched
from matching.selectors import names_of
from matching.services import (
    community_opt_in_set,
    eligible_members,
    participation_get_or_create,
    round_create,
)
from members.models import User
from notifications.models import Kind
from notifications.services import notifications_mark_read, notify

ROUNDS_SHOWN = 3
# What a pair answers to "did you meet?" once asked; before that, only the quick ones have.
ASKED = [Answer.MET, Answer.MET, Answer.MET, Answer.SCHEDULED, Answer.NOT_YET, Answer.WONT_HAPPEN]
EARLY = [Answer.SCHEDULED, Answer.SCHEDULED, Answer.MET, "", ""]
FRESH = timedelta(days=1)


@dataclass(frozen=True)
class PairsReport:
    latest: Round | None
    # Why rounds were left alone, when they were.
    note: str = ""


def coffee_pairs_join(*, members: list[User], created: list[User]) -> None:
    """The new members take part in the community's coffee pairs, all but one in ten."""
    programme = Programme.objects.get(slug=COMMUNITY_SLUG)
    for index, user in enumerate(members):
        if user not in created:
            continue
        participation_get_or_create(programme=programme, user=user)
        if index % 10 == 9:
            community_opt_in_set(user=user, opted_in=False)


def coffee_pairs_refresh(*, people: People, now: datetime) -> PairsReport:
    """Add the rounds of the programme's latest `ROUNDS_SHOWN` slots that are missing, as if
    they had run; let the made-up members answer; record the member login's notices about
    their pairs. A round that would pair someone from outside the demo is left to the
    scheduler: the demo pairs nobody real."""
    programme = Programme.objects.get(slug=COMMUNITY_SLUG)
    latest = programme.latest_slot(now)
    if latest is None:
        return PairsReport(latest=None, note="The coffee pairs programme has not started yet.")
    note = ""
    zone = ZoneInfo(programme.time_zone)
    for back in reversed(range(ROUNDS_SHOWN)):
        slot = latest - timedelta(days=programme.cadence_days * back)
        if Round.objects.filter(programme=programme, scheduled_for=slot).exists():
            continue
        eligible = eligible_members(programme=programme, on=slot.astimezone(zone).date())
        if eligible.exclude(pk__in=demo_users().values("pk")).exists():
            note = "Members from outside the demo take part: their rounds are the scheduler's."
            continue
        round_, created = round_create(programme=programme, scheduled_for=slot, notify=False)
        if created:
            _round_started(round_, programme=programme, member=people.member, now=now)
    _fictional_answers(programme=programme, member=people.member, now=now)
    _member_told(programme=programme, member=people.member, now=now)
    _partner_proposes(programme=programme, member=people.member, now=now)
    return PairsReport(latest=programme.rounds.order_by("-scheduled_for").first(), note=note)


def _asked_at(round_: Round, programme: Programme) -> datetime:
    return round_.scheduled_for + timedelta(days=programme.follow_up_after_days)


def _round_started(round_: Round, *, programme: Programme, member: User, now: datetime) -> None:
    """A round the demo made, as it went: everyone's intro sent when it started. The member
    login met their partners of earlier rounds; their latest pair waits for their answer."""
    slot = round_.scheduled_for
    GroupMember.objects.filter(round=round_).update(intro_sent_at=slot)
    Unmatched.objects.filter(round=round_).update(notice_sent_at=slot)
    asked_at = _asked_at(round_, programme)
    if asked_at <= now:
        GroupMember.objects.filter(round=round_, user=member).update(
            follow_up_sent_at=asked_at, answer=Answer.MET, answered_at=asked_at
        )


def _silent(seat: GroupMember, *, programme: Programme) -> bool:
    """About a third of the made-up members leave a round unanswered, never the same one
    three rounds running (they would be paused for ignoring their pairs)."""
    slot_number = seat.round.scheduled_for.date().toordinal() // programme.cadence_days
    return (seat.user_id + slot_number) % 3 == 0


def _fictional_answers(*, programme: Programme, member: User, now: datetime) -> None:
    """What the made-up members of recent rounds did since: "did you meet?" counts as
    asked once due (they read no email, so the scheduler asks the member login alone, as
    it would anyone real), and most answer, pair by pair; a few quick ones even before
    being asked. Only unanswered seats change, so a second run changes nothing."""
    since = now - timedelta(days=programme.cadence_days * ROUNDS_SHOWN)
    seats = (
        GroupMember.objects.filter(
            round__programme=programme,
            round__scheduled_for__gte=since,
            intro_sent_at__isnull=False,
            answer="",
            user__in=demo_users(),
        )
        .exclude(user=member)
        .select_related("round")
    )
    for seat in seats:
        asked_at = _asked_at(seat.round, programme)
        asked = asked_at <= now
        if asked and seat.follow_up_sent_at is None:
            seat.follow_up_sent_at = asked_at
        # A round started less than a day ago has had no time for answers yet.
        if not _silent(seat, programme=programme) and now - seat.round.scheduled_for > FRESH:
            # The same outcome for everyone in the group, and the same on every run.
            outcome = random.Random(seat.group_id).choice(ASKED if asked else EARLY)
            if outcome:
                hours = random.Random(seat.pk).randrange(1, 48)
                seat.answer = outcome
                seat.answered_at = min(
                    (asked_at if asked else seat.round.scheduled_for) + timedelta(hours=hours), now
                )
        # answer_record stamps the real clock; these answers belong to the round's past.
        GroupMember.objects.filter(pk=seat.pk).update(
            follow_up_sent_at=seat.follow_up_sent_at,
            answer=seat.answer,
            answered_at=seat.answered_at,
        )


def _member_told(*, programme: Programme, member: User, now: datetime) -> None:
    """The notices `matching.tasks` would have given the member login about their latest
    pairs (same occasions, so never twice); only the latest pair is still unread."""
    seats = (
        GroupMember.objects.filter(user=member, round__programme=programme)
        .select_related("round")
        .prefetch_related("group__members__user")
        .order_by("-round__scheduled_for")[:ROUNDS_SHOWN]
    )
    read = []
    for position, seat in enumerate(seats):
        partners = [other.user for other in seat.group.members.all() if other.user_id != member.pk]
        intro = notify(
            user=member,
            kind=Kind.PAIR_CREATED,
            key=f"pair:{seat.pk}",
            text=_("Your coffee pair this round: %(names)s. Agree on a time together."),
            params={"names": lazy(names_of, str)(partners)},
            url=reverse("matching:mine"),
            about=partners,
            now=seat.round.scheduled_for,
        )
        if position:
            read.append(intro.notification.pk)
        if seat.follow_up_sent_at:
            asked = notify(
                user=member,
                kind=Kind.PAIR_FOLLOW_UP,
                key=f"follow-up:{seat.pk}",
                text=_("Did you meet your coffee pair? Tell us in one click."),
                url=reverse("matching:mine"),
                now=seat.follow_up_sent_at,
            )
            if seat.answer:
                read.append(asked.notification.pk)
    notifications_mark_read(user=member, ids=read, now=now)


def _partner_proposes(*, programme: Programme, member: User, now: datetime) -> None:
    """The member login's latest partner has proposed a time, one of those suggested: the
    pair's page offers "Accept this time". Once: a pair with a meeting is left as it is."""
    seat = (
        GroupMember.objects.filter(user=member, round__programme=programme)
        .select_related("group")
        .order_by("-round__scheduled_for")
        .first()
    )
    if seat is None or Meeting.objects.filter(group_id=seat.group_id).exists():
        return
    partner = (
        GroupMember.objects.filter(group_id=seat.group_id)
        .exclude(user=member)
        .select_related("user__profile")
        .order_by("pk")
        .first()
    )
    if partner is None:
        return
    slots = meetings.slots_suggest([partner.user, member], now=now)
    if slots:
        meetings.meeting_propose(seat=partner, starts_at=slots[0], now=now)

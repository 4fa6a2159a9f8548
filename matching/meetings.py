"""From intro to a held meeting: times suggested inside everyone's working hours, a time
proposed by one member, accepted by another with one click, and "can't make it".

Every change to a group's `Meeting` happens under a row lock and records the notices it
owes (`MeetingNotice`) in the same transaction; `matching.tasks.meeting_notice_send` sends
them after the commit, each once. docs/coffee-meetings.md has the rules.
"""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from matching.models import GroupMember, Meeting, MeetingNotice
from members.hours import working_span
from members.models import Block, User
from members.selectors import account_open

SLOT = timedelta(minutes=Meeting.MINUTES)
# Suggestions: from LEAD ahead (time to read the email) to HORIZON ahead, at most MAX_SLOTS,
# one a day while there are days to spread them over.
LEAD = timedelta(hours=2)
HORIZON = timedelta(days=7)
MAX_SLOTS = 5
# The reminder goes this long before the meeting (matching.tasks.meeting_reminders_tick runs
# every minute).
REMINDER_AHEAD = timedelta(minutes=10)
# A member's own time: not in the past (a little ahead), not beyond two months.
EARLIEST_OWN = timedelta(minutes=10)
LATEST_OWN = timedelta(days=60)

# Busy times other apps know of (events a member is going to, ...): each source gets the
# members' ids and a window and yields (user id, start, end). Apps above this one register
# theirs when they load (events.apps), so this one imports none of them.
BusySource = Callable[[list[int], datetime, datetime], Iterable[tuple[int, datetime, datetime]]]
_busy_sources: list[BusySource] = []


class MeetingRefused(ValueError):
    """A change that cannot be made, with a reason the member can read."""


def busy_source_register(source: BusySource) -> None:
    if source not in _busy_sources:
        _busy_sources.append(source)


def _scheduled_meetings(
    user_ids: list[int], start: datetime, end: datetime
) -> Iterable[tuple[int, datetime, datetime]]:
    for user_id, starts_at in Meeting.objects.filter(
        group__members__user_id__in=user_ids,
        accepted_at__isnull=False,
        starts_at__gte=start - SLOT,
        starts_at__lt=end,
    ).values_list("group__members__user_id", "starts_at"):
        if starts_at is not None:
            yield user_id, starts_at, starts_at + SLOT


def busy_by_member(
    user_ids: list[int], start: datetime, end: datetime
) -> dict[int, list[tuple[datetime, datetime]]]:
    """When each of the members is already taken between `start` and `end` (a coffee agreed,
    an event: `_busy_sources`), by member; those free throughout are left out. What only
    touches `start` or `end` may be listed too."""
    busy: dict[int, list[tuple[datetime, datetime]]] = {}
    for source in (_scheduled_meetings, *_busy_sources):
        for user_id, begins, ends in source(user_ids, start, end):
            busy.setdefault(user_id, []).append((begins, ends))
    return busy


def busy_times(
    user_ids: list[int], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """When any of the members is already taken between `start` and `end`."""
    return [span for spans in busy_by_member(user_ids, start, end).values() for span in spans]


def _working(user: User, at: datetime) -> bool:
    """Whether [at, at + SLOT) lies inside one of the member's working days (the day
    before is looked at too: a day that ends after midnight)."""
    profile = user.profile
    local = at.astimezone(ZoneInfo(user.time_zone))
    for day in (local.date() - timedelta(days=1), local.date()):
        if day.weekday() not in profile.working_days:
            continue
        span = working_span(
            start=profile.working_hours_start,
            end=profile.working_hours_end,
            zone=user.time_zone,
            on=day,
        )
        if span.start <= at and at + SLOT <= span.end:
            return True
    return False


def _first_slot(now: datetime) -> datetime:
    start = (now + LEAD).astimezone(ZoneInfo("UTC"))
    start = start.replace(second=0, microsecond=0)
    extra = (-start.minute) % 30
    return start + timedelta(minutes=extra)


def slots_suggest(members: list[User], *, now: datetime | None = None) -> list[datetime]:
    """Up to MAX_SLOTS starts of 30 minutes in the next HORIZON (on the hour or half hour)
    when every member usually works and none is taken: one a day, near the middle of that
    day's common time, while there are days enough; the soonest days first. Empty when the
    members' hours never meet. Times are aware; show them in each reader's zone."""
    now = now or timezone.now()
    first = _first_slot(now)
    end = now + HORIZON
    busy = busy_times([member.pk for member in members], first, end)
    free: list[datetime] = []
    at = first
    while at + SLOT <= end:
        if all(_working(member, at) for member in members) and not any(
            begins < at + SLOT and at < ends for begins, ends in busy
        ):
            free.append(at)
        at += SLOT
    if not free:
        return []
    zone = ZoneInfo(members[0].time_zone)
    by_day: dict[object, list[datetime]] = {}
    for start in free:
        by_day.setdefault(start.astimezone(zone).date(), []).append(start)
    chosen = [starts[len(starts) // 2] for starts in by_day.values()][:MAX_SLOTS]
    # Few days in common: more times on those days, an hour or more apart.
    for start in free:
        if len(chosen) >= min(3, MAX_SLOTS):
            break
        if all(abs(start - taken) >= timedelta(hours=1) for taken in chosen):
            chosen.append(start)
    return sorted(chosen)


def meeting_members(meeting: Meeting) -> list[User]:
    """Those who hear of the meeting, are named in it and invited to it: a partner suspended
    or gone has left the pairing."""
    seats = meeting.group.members.filter(account_open("user"))
    return [seat.user for seat in seats.select_related("user__profile").order_by("pk")]


def with_someone_to_meet(meetings: QuerySet[Meeting]) -> QuerySet[Meeting]:
    """The meetings of `meetings` whose group still has two members to meet: a pair whose
    partner left (suspended or gone) has nobody left, and its agreed time neither stays in
    a calendar feed nor is reminded (docs/coffee-meetings.md)."""
    staying = (
        GroupMember.objects.filter(group_id=OuterRef("group_id"))
        .filter(account_open("user"))
        .order_by()
        .values("group_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return meetings.annotate(staying=Subquery(staying)).filter(staying__gte=2)


def blocks_within(group_id: int | OuterRef) -> QuerySet[Block]:
    """The blocks between two members of the group still in it (`OuterRef("group_id")`
    inside `Exists` for a query of a group's rows). A member suspended or gone has left the
    pairing: a block of theirs no longer stands between the others, who meet without them
    (their blocks stay, and still hide what each side wrote)."""
    # Joined from the group's seats to each side's block: as two `IN (seats)` lists, the
    # planner checked every block against every seat asked about (a round's follow-ups at
    # 100,000 members: 59 million comparisons, three minutes).
    return Block.objects.filter(
        account_open("blocker"),
        account_open("blocked"),
        blocker__pair_seats__group_id=group_id,
        blocked__pair_seats__group_id=group_id,
    )


def _refuse_across_a_block(seat: GroupMember) -> None:
    """A block between two members of the group, made after the round paired them, ends the
    group's meeting for all of them: no new time, acceptance, withdrawal or table, and no
    notice naming one to the other (docs/coffee-meetings.md, "After a block"). A member
    suspended or gone arranges nothing either, whatever link they still hold."""
    if not seat.user.account_is_open:
        raise MeetingRefused(_("This meeting can no longer be arranged."))
    if blocks_within(seat.group_id).exists():
        raise MeetingRefused(_("This meeting can no longer be arranged."))


def _locked(seat: GroupMember) -> Meeting:
    meeting, _created = Meeting.objects.get_or_create(group_id=seat.group_id)
    return Meeting.objects.select_for_update().select_related("group").get(pk=meeting.pk)


def _notices(
    meeting: Meeting,
    *,
    what: str,
    starts_at: datetime,
    by: User | None,
    to: Iterable[User],
) -> list[int]:
    made = MeetingNotice.objects.bulk_create(
        [
            MeetingNotice(
                meeting=meeting,
                user=user,
                what=what,
                sequence=meeting.sequence,
                starts_at=starts_at,
                by=by,
            )
            for user in to
        ]
    )
    return [notice.pk for notice in made]


def _after_commit(notice_ids: list[int]) -> None:
    from matching import tasks  # the tasks module imports this one

    for notice_id in notice_ids:
        transaction.on_commit(partial(tasks.meeting_notice_send.delay, notice_id))


def meeting_propose(
    *, seat: GroupMember, starts_at: datetime, now: datetime | None = None
) -> Meeting:
    """The seat's member proposes `starts_at` to the others. Over an accepted time, that
    time is cancelled (its invitation withdrawn) and the new one waits for an answer. The
    same proposal twice (a double click) changes nothing; the time another member proposed
    already, chosen from the same suggestions, is an acceptance: they agree."""
    now = now or timezone.now()
    if starts_at < now + EARLIEST_OWN:
        raise MeetingRefused(_("Choose a time that has not started yet."))
    if starts_at > now + LATEST_OWN:
        raise MeetingRefused(_("Choose a time in the next two months."))
    _refuse_across_a_block(seat)
    with transaction.atomic():
        meeting = _locked(seat)
        if meeting.starts_at == starts_at and (
            meeting.proposed_by_id == seat.user_id or meeting.accepted_at is not None
        ):
            return meeting
        if meeting.accepted_at is not None and meeting.starts_at and meeting.starts_at <= now:
            # An old email's "propose" would call off a coffee that was had, in everyone's
            # calendar and in the round's figures.
            raise MeetingRefused(_("You had this coffee already: its time stays as it was."))
        if meeting.starts_at == starts_at:
            return _accept(meeting, seat=seat, now=now)
        members = meeting_members(meeting)
        others = [user for user in members if user.pk != seat.user_id]
        notices: list[int] = []
        meeting.sequence += 1
        if meeting.accepted_at is not None and meeting.starts_at is not None:
            notices += _notices(
                meeting,
                what=MeetingNotice.What.CANCELLED,
                starts_at=meeting.starts_at,
                by=seat.user,
                to=members,
            )
        meeting.starts_at = starts_at
        meeting.proposed_by = seat.user
        meeting.proposed_at = now
        meeting.accepted_at = meeting.accepted_by = None
        meeting.save()
        notices += _notices(
            meeting, what=MeetingNotice.What.PROPOSED, starts_at=starts_at, by=seat.user, to=others
        )
        _after_commit(notices)
    return meeting


def meeting_accept(
    *, seat: GroupMember, starts_at: datetime, now: datetime | None = None
) -> Meeting:
    """Another member accepts the proposed `starts_at`: the meeting is on, and everyone
    gets the calendar invitation. Accepting a time no longer proposed is refused."""
    now = now or timezone.now()
    _refuse_across_a_block(seat)
    with transaction.atomic():
        meeting = _locked(seat)
        if meeting.starts_at != starts_at:
            raise MeetingRefused(_("This time is no longer the one proposed: see the latest."))
        if meeting.accepted_at is not None:
            return meeting  # accepted already, by this member or another
        if meeting.proposed_by_id == seat.user_id:
            raise MeetingRefused(_("You proposed this time: the others accept it."))
        if starts_at <= now:
            raise MeetingRefused(_("This time has passed: propose another."))
        return _accept(meeting, seat=seat, now=now)


def _accept(meeting: Meeting, *, seat: GroupMember, now: datetime) -> Meeting:
    """The proposed time is on (the meeting locked, its time proposed by another)."""
    assert meeting.starts_at is not None
    meeting.sequence += 1
    meeting.accepted_by = seat.user
    meeting.accepted_at = now
    meeting.save()
    _after_commit(
        _notices(
            meeting,
            what=MeetingNotice.What.SCHEDULED,
            starts_at=meeting.starts_at,
            by=seat.user,
            to=meeting_members(meeting),
        )
    )
    return meeting


def meeting_cancel(*, seat: GroupMember, now: datetime | None = None) -> Meeting:
    """ "Can't make it": the proposed or accepted time is dropped, the others are told
    (with the invitation withdrawn if it was on) and offered new times."""
    now = now or timezone.now()
    _refuse_across_a_block(seat)
    with transaction.atomic():
        meeting = _locked(seat)
        if meeting.starts_at is None:
            return meeting
        if meeting.accepted_at is not None and meeting.starts_at <= now:
            # Calling it off now would take it out of everyone's calendar after the fact.
            raise MeetingRefused(_("This coffee's time has come already: nothing to call off."))
        members = meeting_members(meeting)
        was = meeting.starts_at
        meeting.sequence += 1
        # Everyone's calendar holds an accepted time; only the others hear of a proposal.
        to = (
            members
            if meeting.accepted_at is not None
            else [user for user in members if user.pk != seat.user_id]
        )
        meeting.starts_at = None
        meeting.proposed_by = meeting.accepted_by = None
        meeting.proposed_at = meeting.accepted_at = None
        meeting.save()
        _after_commit(
            _notices(meeting, what=MeetingNotice.What.CANCELLED, starts_at=was, by=seat.user, to=to)
        )
    return meeting


def reminders_due(*, now: datetime | None = None) -> list[int]:
    """Notices for the accepted meetings that start within the next REMINDER_AHEAD, each
    time once (a moved meeting is reminded again for its new time)."""
    now = now or timezone.now()
    notices: list[int] = []
    due = with_someone_to_meet(
        Meeting.objects.filter(
            accepted_at__isnull=False, starts_at__gt=now, starts_at__lte=now + REMINDER_AHEAD
        )
        .exclude(reminded_for=F("starts_at"))
        .exclude(Exists(blocks_within(OuterRef("group_id"))))
    )
    for meeting in due.select_related("group"):
        with transaction.atomic():
            locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
            if locked.accepted_at is None or locked.starts_at is None:
                continue
            if locked.reminded_for == locked.starts_at:
                continue
            locked.reminded_for = locked.starts_at
            locked.save(update_fields=["reminded_for"])
            made = _notices(
                locked,
                what=MeetingNotice.What.REMINDER,
                starts_at=locked.starts_at,
                by=None,
                to=meeting_members(locked),
            )
            notices += made
            _after_commit(made)
    return notices


# Where a group meets and where it writes: an app above this one (conversations) registers,
# for each kind, the function that finds (or opens, as the round does) the group's own room
# ("place", conversations.coffee_tables) or its conversation ("conversation") and returns
# its address. It gets the seat of the member going there.
GroupLink = Callable[[GroupMember], str]
GROUP_LINK_KINDS = ("place", "conversation")
_group_links: dict[str, GroupLink] = {}


def group_link_register(kind: str, provider: GroupLink) -> None:
    if kind not in GROUP_LINK_KINDS:
        raise ValueError(f"unknown group link {kind!r}")
    _group_links.setdefault(kind, provider)


def group_link(kind: str, *, seat: GroupMember) -> str:
    """The address of the seat's group's place to meet (`kind` "place") or conversation
    ("conversation"); MeetingRefused when this site has none."""
    _refuse_across_a_block(seat)
    provider = _group_links.get(kind)
    if provider is None:
        if kind == "conversation":
            raise MeetingRefused(_("There are no conversations on this site yet."))
        raise MeetingRefused(_("There is no place to meet on this site yet."))
    return provider(seat)

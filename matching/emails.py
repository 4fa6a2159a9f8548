"""The emails of coffee pairs: intro, "no partner this time", follow-up, auto-pause."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext

from core.emails import email_for
from core.ics import Entry, calendar_bytes
from matching import links, meetings, selectors
from matching.models import (
    Answer,
    GroupMember,
    Meeting,
    MeetingNotice,
    PairRequest,
    Participation,
    Unmatched,
)
from matching.services import MINUTES_PER_WEEK, UTC, weekly_utc_minutes
from matching.starters import starter_for
from members.models import User
from notifications.email_off import email_off_headers
from notifications.models import Kind


@dataclass(frozen=True)
class SharedSlot:
    """A stretch of the week when everyone in the group usually works."""

    day: str  # weekday in the recipient's zone
    yours: str  # "15:00–17:00" in the recipient's zone
    theirs: list[tuple[str, str, str]]  # (name, weekday, "09:00–11:00") in each partner's zone


def _intersect(
    first: list[tuple[int, int]], second: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    overlap = []
    for a_start, a_end in first:
        for b_start, b_end in second:
            start, end = max(a_start, b_start), min(a_end, b_end)
            if start < end:
                overlap.append((start, end))
    return sorted(overlap)


def shared_minutes(members: list[User], *, week_of: datetime) -> list[tuple[int, int]]:
    common = list(weekly_utc_minutes(members[0], week_of=week_of))
    for member in members[1:]:
        common = _intersect(common, list(weekly_utc_minutes(member, week_of=week_of)))
    return common


def _in_zone(monday: datetime, minutes: tuple[int, int], zone: str) -> tuple[str, str]:
    start = (monday + timedelta(minutes=minutes[0])).astimezone(ZoneInfo(zone))
    end = (monday + timedelta(minutes=minutes[1])).astimezone(ZoneInfo(zone))
    return date_format(start, "l"), f"{start:%H:%M}–{end:%H:%M}"


def shared_slots(recipient: User, partners: list[User], *, week_of: datetime) -> list[SharedSlot]:
    week_utc = week_of.astimezone(UTC)
    monday = (week_utc - timedelta(days=week_utc.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    slots = []
    for minutes in shared_minutes([recipient, *partners], week_of=week_of):
        if minutes[1] - minutes[0] < 30 or minutes[1] > MINUTES_PER_WEEK:
            continue
        day, yours = _in_zone(monday, minutes, recipient.time_zone)
        theirs = [
            (partner.name, *_in_zone(monday, minutes, partner.time_zone)) for partner in partners
        ]
        slots.append(SharedSlot(day=day, yours=yours, theirs=theirs))
    return slots


def intro_email(seat: GroupMember) -> EmailMultiAlternatives:
    with translation.override(seat.user.language):  # weekday names in the slots
        return _intro_email(seat)


def _intro_email(seat: GroupMember) -> EmailMultiAlternatives:
    me = seat.user
    # Labels in the recipient's language: this runs under their translation.
    people = selectors.intro_people(seat=seat)
    partners = [person.user for person in people]
    return email_for(
        user=me,
        template="matching/email/intro",
        headers=email_off_headers(user=me, kind=Kind.PAIR_CREATED),
        key=f"intro:{seat.pk}:{seat.intro_resends}",
        context={
            "seat": seat,
            "programme": seat.round.programme,
            "people": people,
            "starter": starter_for(seat.group_id),
            "slots": shared_slots(me, partners, week_of=seat.round.scheduled_for),
            "meeting_slots": [
                (start, links.meeting_url(seat_id=seat.pk, action="propose", starts_at=start))
                for start in meetings.slots_suggest([me, *partners])
            ],
            "meeting_url": reverse("matching:meeting", args=[seat.group_id]),
            "write_url": reverse("matching:meeting_write", args=[seat.group_id]),
            "pairs_url": reverse("matching:mine"),
        },
    )


def unmatched_email(entry: Unmatched) -> EmailMultiAlternatives:
    with translation.override(entry.user.language):  # the languages' names
        why = selectors.left_out(entry=entry)
    return email_for(
        user=entry.user,
        template="matching/email/unmatched",
        headers=email_off_headers(user=entry.user, kind=Kind.PAIR_CREATED),
        key=f"unmatched:{entry.pk}",
        context={
            "programme": entry.round.programme,
            "why": why,
            "pairs_url": reverse("matching:mine"),
            "profile_url": reverse("members:profile_edit"),
        },
    )


def pair_request_gave_up_email(request: PairRequest) -> EmailMultiAlternatives:
    return email_for(
        user=request.user,
        template="matching/email/gave_up",
        headers=email_off_headers(user=request.user, kind=Kind.PAIR_CREATED),
        key=f"pair-request-gave-up:{request.pk}",
        context={"pairs_url": reverse("matching:mine")},
    )


def follow_up_email(seat: GroupMember) -> EmailMultiAlternatives:
    with translation.override(seat.user.language):
        return _follow_up_email(seat)


def _follow_up_email(seat: GroupMember) -> EmailMultiAlternatives:
    answers = [
        (answer.label, links.answer_url(seat_id=seat.pk, answer=answer.value)) for answer in Answer
    ]
    # Met already: the question is only how it was, one click per mark.
    ratings = (
        [(str(n), links.rating_url(seat_id=seat.pk, rating=n)) for n in range(1, 6)]
        if seat.answer == Answer.MET
        else []
    )
    return email_for(
        user=seat.user,
        template="matching/email/follow_up",
        headers=email_off_headers(user=seat.user, kind=Kind.PAIR_FOLLOW_UP),
        key=f"follow-up:{seat.pk}",
        context={
            "seat": seat,
            "partners": [person.user for person in selectors.intro_people(seat=seat)],
            "answers": answers,
            "ratings": ratings,
            "met_url": reverse("members:met"),
            # The member's day: the template's own dates follow their zone, this string not.
            "intro_date": date_format(
                timezone.localtime(seat.round.scheduled_for, ZoneInfo(seat.user.time_zone)),
                "DATE_FORMAT",
            ),
        },
    )


def auto_pause_email(participation: Participation) -> EmailMultiAlternatives:
    return email_for(
        user=participation.user,
        template="matching/email/auto_paused",
        # Each pause follows the last resume (none for the first): one email per pause.
        key=f"auto-paused:{participation.pk}:{participation.resumed_at}",
        context={
            "programme": participation.programme,
            "resume_url": links.resume_url(participation_id=participation.pk),
        },
    )


def _meeting_entry(
    meeting: Meeting,
    *,
    members: list[User],
    reader: User,
    starts_at: datetime,
    sequence: int,
    cancelled: bool,
) -> Entry:
    names = selectors.names_of(members)
    url = f"{settings.SITE_URL}{reverse('matching:meeting', args=[meeting.group_id])}"
    return Entry(
        uid=f"coffee-{meeting.uid}@{urlsplit(settings.SITE_URL).hostname}",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=Meeting.MINUTES),
        # Each reader's program shows it in their own zone; UTC names no one's.
        time_zone="UTC",
        summary=gettext("Coffee: %(names)s") % {"names": names},
        url=url,
        sequence=sequence,
        updated_at=meeting.updated_at,
        cancelled=cancelled,
        organizer=parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
        # The reader alone: the others are named, their addresses given to nobody.
        attendees=[(reader.name, reader.email)],
    )


def meeting_ics(
    meeting: Meeting,
    *,
    members: list[User],
    reader: User,
    starts_at: datetime,
    sequence: int,
    method: str,
) -> bytes:
    """The invitation to (METHOD:REQUEST) or withdrawal of (METHOD:CANCEL) a coffee meeting;
    one UID per meeting, so a moved meeting updates the entry the first one made. `sequence`
    is the one of the change being told, not the meeting's latest: a withdrawal sent late,
    after a newer time was accepted, must rank below that time's invitation, or calendars
    would take the newer entry out."""
    entry = _meeting_entry(
        meeting,
        members=members,
        reader=reader,
        starts_at=starts_at,
        sequence=sequence,
        cancelled=method == "CANCEL",
    )
    return calendar_bytes([entry], method=method)


def meeting_entries(meetings: list[Meeting], *, reader: User) -> list[Entry]:
    """Accepted meetings for `reader`'s calendar feed (their groups' members prefetched)."""
    return [
        _meeting_entry(
            meeting,
            members=[seat.user for seat in meeting.group.members.all()],
            reader=reader,
            starts_at=meeting.starts_at,
            # The feed shows the meeting as it is now.
            sequence=meeting.sequence,
            cancelled=False,
        )
        for meeting in meetings
        if meeting.starts_at is not None
    ]


# A calendar invitation, or its withdrawal, is a plan the member made: it always goes by
# email (it carries the calendar file), so it offers no one-click "no more emails"; the
# others follow the member's preferences.
ALWAYS_EMAILED = (MeetingNotice.What.SCHEDULED, MeetingNotice.What.CANCELLED)


def meeting_email(notice: MeetingNotice) -> EmailMultiAlternatives:
    with translation.override(notice.user.language):
        return _meeting_email(notice)


def _meeting_email(notice: MeetingNotice) -> EmailMultiAlternatives:
    me, meeting = notice.user, notice.meeting
    mine = meeting.group.members.get(user=me)
    # Named and invited (the calendar file's attendees): those still in the pairing, not a
    # partner suspended or gone, nor their address.
    members = meetings.meeting_members(meeting)
    others = [member for member in members if member.pk != me.pk]
    what = MeetingNotice.What
    context: dict[str, object] = {
        "what": notice.what,
        "by": notice.by,
        "others": others,
        "when": notice.starts_at,
        "meeting_url": reverse("matching:meeting", args=[meeting.group_id]),
    }
    if notice.what == what.PROPOSED:
        context["accept_url"] = links.meeting_url(
            seat_id=mine.pk, action="accept", starts_at=notice.starts_at
        )
    if notice.what == what.CANCELLED:
        # New times to choose from, one click each.
        context["slots"] = [
            (start, links.meeting_url(seat_id=mine.pk, action="propose", starts_at=start))
            # Times for those still here: a member who left has no hours to meet in.
            for start in meetings.slots_suggest(members)
        ]
    message = email_for(
        user=me,
        template="matching/email/meeting",
        context=context,
        key=f"meeting:{notice.pk}",
        headers=(
            {}
            if notice.what in ALWAYS_EMAILED
            else email_off_headers(user=me, kind=Kind.PAIR_CREATED)
        ),
    )
    if notice.what in (what.SCHEDULED, what.CANCELLED):
        method = "REQUEST" if notice.what == what.SCHEDULED else "CANCEL"
        body = meeting_ics(
            meeting,
            members=members,
            reader=me,
            starts_at=notice.starts_at,
            sequence=notice.sequence,
            method=method,
        )
        message.attach("coffee.ics", body, f"text/calendar; method={method}")
    return message

"""From intro to a held meeting: suggested times in both members' hours and zones (across a
change to summer time), a time proposed and accepted from the emails' links by POST, the
calendar invitations on a real SMTP server, "can't make it", reminders and the feed."""

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils.formats import date_format
from django.utils.html import strip_tags
from django.utils.translation import override
from icalendar import Calendar

from events.feeds import calendar_feed_get_or_create
from events.models import Event, EventKind, Rsvp
from matching import links, meetings, services, tasks
from matching.models import Answer, GroupMember, Meeting, MeetingNotice
from matching.selectors import meetings_in_feed
from members.models import User
from members.privacy import account_delete
from members.services import member_suspend
from notifications.models import Notification
from tests.conftest import SmtpSink
from tests.factories import BlockFactory, UserFactory, onboarded_member
from tests.test_matching_rounds import community, participant

pytestmark = pytest.mark.django_db

MEXICO, MADRID = ZoneInfo("America/Mexico_City"), ZoneInfo("Europe/Madrid")
# Thursday 25 March 2027, 10:00 UTC: Europe moves to summer time on Sunday the 28th,
# Mexico City no longer changes.
NOW = datetime(2027, 3, 25, 10, 0, tzinfo=UTC)


def hours(user: User, start: time, end: time) -> User:
    profile = user.profile
    profile.working_hours_start, profile.working_hours_end = start, end
    profile.working_days = [0, 1, 2, 3, 4]
    profile.save()
    return user


def pair(**round_kwargs: Any) -> tuple[GroupMember, GroupMember]:
    """Luis in Mexico City (9:00-17:00) and Ana in Madrid (9:00-19:00), paired in a round."""
    luis = hours(
        participant(zone="America/Mexico_City", email="luis@example.com"), time(9), time(17)
    )
    ana = hours(participant(zone="Europe/Madrid", email="ana@example.com"), time(9), time(19))
    with time_machine.travel(NOW - timedelta(days=3), tick=False):
        services.round_create(programme=community(), scheduled_for=NOW - timedelta(days=3))
    return GroupMember.objects.get(user=luis), GroupMember.objects.get(user=ana)


def agreed(proposer: GroupMember, accepter: GroupMember, capture: Any) -> datetime:
    """`proposer` proposes the first suggested time at NOW and `accepter` accepts it, the
    emails going out as after commit (`capture`: django_capture_on_commit_callbacks); the
    time."""
    with time_machine.travel(NOW, tick=False), capture(execute=True):
        start = meetings.slots_suggest([proposer.user, accepter.user])[0]
        meetings.meeting_propose(seat=proposer, starts_at=start)
        meetings.meeting_accept(seat=accepter, starts_at=start)
    return start


def test_suggested_times_fall_in_both_hours_on_either_side_of_the_change_to_summer_time() -> None:
    luis, ana = pair()

    slots = meetings.slots_suggest([luis.user, ana.user], now=NOW)

    assert 3 <= len(slots) <= 5
    assert len({slot.astimezone(MADRID).date() for slot in slots}) == len(slots)
    assert slots == sorted(slots) and slots[0] >= NOW + meetings.LEAD
    for slot in slots:
        here, there = slot.astimezone(MEXICO), slot.astimezone(MADRID)
        assert slot.minute in (0, 30)
        assert here.weekday() < 5 and there.weekday() < 5
        assert time(9) <= here.time() and (here + meetings.SLOT).time() <= time(17)
        assert time(9) <= there.time() and (there + meetings.SLOT).time() <= time(19)
    # Madrid's clock moved: the same Mexican morning is an hour later there.
    change = date(2027, 3, 28)
    before = [s for s in slots if s.astimezone(MADRID).date() < change]
    after = [s for s in slots if s.astimezone(MADRID).date() > change]
    assert before and after
    assert all(s.astimezone(MADRID).utcoffset() == timedelta(hours=1) for s in before)
    assert all(s.astimezone(MADRID).utcoffset() == timedelta(hours=2) for s in after)
    assert all(s.astimezone(MADRID).hour >= 17 for s in after)


def test_a_night_owl_s_day_after_midnight_meets_a_morning_across_the_ocean() -> None:
    """Luis in Mexico City works 20:00-02:00, Ana in Madrid 8:00-12:00: Madrid is 7 hours
    ahead until 28 March and 8 after, so they share his last hour or two after midnight."""
    luis, ana = pair()
    hours(luis.user, time(20), time(2))
    hours(ana.user, time(8), time(12))

    slots = meetings.slots_suggest([luis.user, ana.user], now=NOW)

    assert slots
    for slot in slots:
        here, there = slot.astimezone(MEXICO), slot.astimezone(MADRID)
        assert (here + meetings.SLOT).time() <= time(2)
        assert time(8) <= there.time() and (there + meetings.SLOT).time() <= time(12)
        # His Monday-to-Friday evening runs into the next morning: Saturday at 1:00 is Friday's.
        assert (here - timedelta(hours=2)).weekday() < 5 and there.weekday() < 5


def test_a_time_when_a_member_is_at_an_event_or_another_coffee_is_not_suggested() -> None:
    luis, ana = pair()
    first = meetings.slots_suggest([luis.user, ana.user], now=NOW)
    event = Event.objects.create(
        kind=EventKind.TALK,
        title="Charla",
        host=None,
        starts_at=first[0] - timedelta(minutes=15),
        ends_at=first[0] + timedelta(hours=1),
        time_zone="Europe/Madrid",
    )
    Rsvp.objects.create(event=event, user=ana.user, status=Rsvp.Status.GOING)

    again = meetings.slots_suggest([luis.user, ana.user], now=NOW)

    assert first[0] not in again
    assert all(not (event.starts_at < s + meetings.SLOT and s < event.ends_at) for s in again)


def _text(message: Any) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def _links(message: Any, path: str) -> list[str]:
    text = _text(message)
    return re.findall(rf"(/pairs/meeting/{path}/[^/\s]+/)", text)


def _attendees(entry: Any) -> list[str]:
    found = entry.get("ATTENDEE", [])
    return [str(address) for address in (found if isinstance(found, list) else [found])]


def _calendar(message: Any) -> Calendar:
    part = next(
        part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"
    )
    return Calendar.from_ical(part.get_content())


def test_two_clicks_from_the_emails_make_a_meeting_with_an_invitation_for_each(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    luis, ana = pair()
    client = Client()
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        tasks.intro_send(luis.pk)
    intro = smtp.wait_for("luis@example.com")
    proposals = _links(intro, "link")
    assert 3 <= len(proposals) <= 5

    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        # A mail scanner opening the link changes nothing; the member's click does.
        assert client.get(proposals[0]).status_code == 200
        assert not Meeting.objects.filter(starts_at__isnull=False).exists()
        smtp.messages.clear()
        response = client.post(proposals[0])
    assert response.status_code == 200
    assert "</time></strong>. " in response.content.decode()  # no space before the stop
    meeting = Meeting.objects.get(group=luis.group)
    assert meeting.proposed_by == luis.user and meeting.accepted_at is None
    # Signed out, the page still reads in Luis's zone, as it says.
    assert meeting.starts_at is not None
    (proposed,) = re.findall(r"<time [^>]*>([^<]*)</time>", response.content.decode())
    assert proposed.endswith(meeting.starts_at.astimezone(MEXICO).strftime(", %H:%M"))
    asked = smtp.wait_for("ana@example.com")
    assert "proposes" in str(asked["Subject"]) or "propone" in str(asked["Subject"])
    assert asked["List-Unsubscribe"]  # a proposal follows Ana's choice for coffee news
    (accept,) = _links(asked, "link")

    with (
        time_machine.travel(NOW + timedelta(hours=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        smtp.messages.clear()
        assert client.get(accept).status_code == 200
        assert Meeting.objects.get(pk=meeting.pk).accepted_at is None
        assert client.post(accept).status_code == 200
        assert client.post(accept).status_code == 200  # a double click: nothing more

    meeting.refresh_from_db()
    assert meeting.accepted_by == ana.user
    invitations = [smtp.wait_for("luis@example.com"), smtp.wait_for("ana@example.com")]
    assert len(smtp.messages) == 2
    uids = set()
    for invitation in invitations:
        # Sent whatever the member chose (it carries the calendar file): nothing to stop.
        assert "List-Unsubscribe" not in invitation
        calendar = _calendar(invitation)
        assert str(calendar["METHOD"]) == "REQUEST"
        (entry,) = calendar.walk("VEVENT")
        assert entry.decoded("DTSTART") == meeting.starts_at
        assert (entry.decoded("DTEND") - entry.decoded("DTSTART")) == timedelta(minutes=30)
        # Each is invited alone: the partner is named, their address given to nobody.
        reader = str(invitation["To"])
        assert _attendees(entry) == [f"mailto:{reader}"]
        assert ({"luis@example.com", "ana@example.com"} - {reader}).pop() not in str(invitation)
        uids.add(str(entry["UID"]))
    assert len(uids) == 1
    # Each reads the time in their own zone.
    assert meeting.starts_at is not None
    assert meeting.starts_at.astimezone(MEXICO).strftime("%H:%M") in _text(invitations[0])
    assert meeting.starts_at.astimezone(MADRID).strftime("%H:%M") in _text(invitations[1])


def test_cant_make_it_withdraws_the_invitation_and_offers_new_times(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    luis, ana = pair()
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        start = meetings.slots_suggest([luis.user, ana.user])[1]
        meetings.meeting_propose(seat=luis, starts_at=start)
        meetings.meeting_accept(seat=ana, starts_at=start)
        sequence = Meeting.objects.get(group=luis.group).sequence
        smtp.messages.clear()
        client = Client()
        client.force_login(ana.user)
        response = client.post(f"/pairs/meeting/{luis.group_id}/cancel/")
    assert response.status_code == 302

    withdrawn = smtp.wait_for("luis@example.com")
    own = smtp.wait_for("ana@example.com")
    assert "cannot make it" in str(withdrawn["Subject"]) or "no puede" in str(withdrawn["Subject"])
    # Ana hears of her own step differently, and her calendar loses the entry too.
    assert str(_calendar(own)["METHOD"]) == "CANCEL"
    assert "You said you cannot make it" in _text(own) or "Dijiste que no puedes" in _text(own)
    calendar = _calendar(withdrawn)
    assert str(calendar["METHOD"]) == "CANCEL"
    (entry,) = calendar.walk("VEVENT")
    assert str(entry["STATUS"]) == "CANCELLED"
    assert int(entry.decoded("SEQUENCE")) > sequence
    assert _links(withdrawn, "link"), "new times are offered, one click each"
    meeting = Meeting.objects.get(group=luis.group)
    assert meeting.starts_at is None and meeting.accepted_at is None


def test_a_withdrawal_sent_after_the_new_time_was_accepted_leaves_the_new_time_in_calendars(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    """The email withdrawing the first time goes out late (a retry, a busy queue), after the
    second time was accepted: it must rank below the new invitation, or calendars drop it."""
    luis, ana = pair()
    agreed(luis, ana, django_capture_on_commit_callbacks)
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        later = meetings.slots_suggest([luis.user, ana.user])[1]
        # Held back: the callbacks (the sends) are captured and dropped.
        with django_capture_on_commit_callbacks(execute=False):
            meetings.meeting_propose(seat=ana, starts_at=later)
        withdrawal = MeetingNotice.objects.get(user=luis.user, what=MeetingNotice.What.CANCELLED)
        with django_capture_on_commit_callbacks(execute=True):
            meetings.meeting_accept(seat=luis, starts_at=later)
        invited = Meeting.objects.get(group=luis.group).sequence
        assert invited == withdrawal.sequence + 1
        smtp.messages.clear()
        tasks.meeting_notice_send(withdrawal.pk)

    calendar = _calendar(smtp.wait_for("luis@example.com"))
    assert str(calendar["METHOD"]) == "CANCEL"
    (entry,) = calendar.walk("VEVENT")
    assert int(entry.decoded("SEQUENCE")) == withdrawal.sequence


def test_the_meeting_page_offers_times_in_the_readers_zone_and_refuses_a_stale_acceptance(
    django_capture_on_commit_callbacks: Any,
) -> None:
    luis, ana = pair()
    client = Client()
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        client.force_login(luis.user)
        page = client.get(f"/pairs/meeting/{luis.group_id}/")
        assert page.status_code == 200
        html = page.content.decode()
        first = meetings.slots_suggest([luis.user, ana.user])[0]
        assert first.astimezone(MEXICO).strftime("%H:%M") in html

        # His own time, in his zone: Monday 29 March, 10:30 in Mexico City.
        response = client.post(
            f"/pairs/meeting/{luis.group_id}/propose/", {"day": "2027-03-29", "time": "10:30"}
        )
        assert response.status_code == 302
        meeting = Meeting.objects.get(group=luis.group)
        assert meeting.starts_at == datetime(2027, 3, 29, 10, 30, tzinfo=MEXICO)

        # Bad input re-renders the page with a reason and changes nothing.
        response = client.post(f"/pairs/meeting/{luis.group_id}/propose/", {"day": "2027-03-29"})
        assert response.status_code == 400
        assert "Elige un día y una hora." in response.content.decode()
        response = client.post(
            f"/pairs/meeting/{luis.group_id}/propose/", {"day": "2020-01-01", "time": "10:00"}
        )
        assert response.status_code == 409
        # A forged suggested time far beyond any calendar (it overflowed into a 500).
        for path in ("propose", "accept"):
            response = client.post(f"/pairs/meeting/{luis.group_id}/{path}/", {"at": "9" * 25})
            assert response.status_code == 400
        assert Meeting.objects.get(pk=meeting.pk).starts_at == meeting.starts_at

        # Ana's link to an older proposal no longer accepts anything.
        stale = links.meeting_url(seat_id=ana.pk, action="accept", starts_at=first)
        response = Client().post(stale)
        assert response.status_code == 409
        assert Meeting.objects.get(pk=meeting.pk).accepted_at is None

        # Someone outside the pair sees nothing of it.
        stranger = Client()
        stranger.force_login(onboarded_member("Carla"))
        assert stranger.get(f"/pairs/meeting/{luis.group_id}/").status_code == 404


def test_each_member_is_reminded_once_ten_minutes_before_and_the_meeting_is_in_their_feed(
    django_capture_on_commit_callbacks: Any,
) -> None:
    luis, ana = pair()
    start = agreed(ana, luis, django_capture_on_commit_callbacks)

    for moment in (
        start - timedelta(minutes=11),
        start - timedelta(minutes=10),
        start - timedelta(minutes=9),
    ):
        with (
            time_machine.travel(moment, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            tasks.meeting_reminders_tick()
    reminders = MeetingNotice.objects.filter(what=MeetingNotice.What.REMINDER)
    assert sorted(reminders.values_list("user__email", flat=True)) == [
        "ana@example.com",
        "luis@example.com",
    ]
    assert not reminders.filter(sent_at__isnull=True).exists()

    feed = calendar_feed_get_or_create(user=ana.user)
    with time_machine.travel(NOW, tick=False):
        body = Client().get(f"/events/calendar/{feed.token}.ics").content
    entries = Calendar.from_ical(body).walk("VEVENT")
    assert [entry.decoded("DTSTART") for entry in entries] == [start]


def test_did_you_meet_waits_for_the_agreed_coffee_to_be_over(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Three weeks ahead, past the follow-up's usual week: asked once the coffee is over."""
    luis, ana = pair()
    GroupMember.objects.filter(pk__in=[luis.pk, ana.pk]).update(intro_sent_at=NOW)
    start = datetime(2027, 4, 15, 15, 0, tzinfo=UTC)
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        meetings.meeting_propose(seat=luis, starts_at=start)
        meetings.meeting_accept(seat=ana, starts_at=start)
    usual = luis.round.scheduled_for + timedelta(days=community().follow_up_after_days, hours=1)

    for moment in (usual, start - timedelta(hours=1), start + timedelta(minutes=10)):
        assert services.follow_ups_due(now=moment) == [], moment
    assert sorted(services.follow_ups_due(now=start + timedelta(minutes=31))) == sorted(
        [luis.pk, ana.pk]
    )
    # Found at their table ten minutes in, they are asked how it was once it is over.
    GroupMember.objects.filter(pk__in=[luis.pk, ana.pk]).update(answer=Answer.MET)
    assert services.follow_ups_due(now=start + timedelta(minutes=12)) == []
    assert len(services.follow_ups_due(now=start + timedelta(minutes=31))) == 2
    GroupMember.objects.filter(pk__in=[luis.pk, ana.pk]).update(answer="")

    # Called off ten days after the usual week: asked within the hour after.
    called_off = usual + timedelta(days=10)
    with (
        time_machine.travel(called_off, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        meetings.meeting_cancel(seat=ana)
    both = sorted([luis.pk, ana.pk])
    assert services.follow_ups_due(now=called_off + timedelta(hours=1)) == both
    # A coffee called off before the usual week leaves them to it.
    Meeting.objects.filter(group_id=luis.group_id).update(updated_at=NOW)
    assert services.follow_ups_due(now=usual) == both


def test_the_reminder_reaches_a_member_in_focus_at_once(
    django_capture_on_commit_callbacks: Any, smtp: Any
) -> None:
    """Ten minutes before the coffee, Ana sits in a focus block: the reminder is told now,
    emailed and on the site (after the block it would come too late)."""
    from focus.models import FocusBlock, Seat

    luis, ana = pair()
    start = agreed(ana, luis, django_capture_on_commit_callbacks)
    block = FocusBlock.objects.create(starts_at=start - timedelta(minutes=30), minutes=50)
    Seat.objects.create(block=block, user=ana.user, arrived_at=block.starts_at)
    smtp.messages.clear()

    with (
        time_machine.travel(start - timedelta(minutes=10), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.meeting_reminders_tick()

    assert "ana@example.com" in [message["To"] for message in smtp.messages]
    reminder = MeetingNotice.objects.get(user=ana.user, what=MeetingNotice.What.REMINDER)
    notice = Notification.objects.get(user=ana.user, key=f"meeting:{reminder.pk}")
    assert notice.held_until is None and notice.urgent


def test_a_forged_meeting_link_is_refused_and_the_meeting_page_needs_a_login(
    client: Client,
) -> None:
    luis, _ana = pair()
    good = links.meeting_url(seat_id=luis.pk, action="propose", starts_at=NOW + timedelta(days=1))
    assert client.get(good.replace("/link/", "/link/x")).status_code == 404
    assert client.post(good[:-5] + "abcd/").status_code == 404
    assert client.get(f"/pairs/meeting/{luis.group_id}/").status_code == 302  # login first
    assert not Meeting.objects.filter(starts_at__isnull=False).exists()


def test_choosing_the_time_the_other_proposed_is_agreeing_to_it(
    django_capture_on_commit_callbacks: Any,
) -> None:
    luis, ana = pair()
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        start = meetings.slots_suggest([luis.user, ana.user])[2]
        meetings.meeting_propose(seat=luis, starts_at=start)
        meetings.meeting_propose(seat=ana, starts_at=start)
        meeting = Meeting.objects.get(group=luis.group)
        assert meeting.accepted_by == ana.user and meeting.proposed_by == luis.user
        # And again, from an old email: nothing changes.
        sequence = meeting.sequence
        meetings.meeting_propose(seat=ana, starts_at=start)
        assert Meeting.objects.get(pk=meeting.pk).sequence == sequence
    assert MeetingNotice.objects.filter(what=MeetingNotice.What.SCHEDULED).count() == 2


def test_staff_see_per_round_how_many_agreed_on_a_time_and_how_soon() -> None:
    luis, _ana = pair()
    round_ = luis.round
    Meeting.objects.create(
        group=luis.group,
        starts_at=round_.scheduled_for + timedelta(days=3),
        accepted_at=round_.scheduled_for + timedelta(hours=30),
    )
    staff = UserFactory.create(is_staff=True, is_superuser=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(staff)

    page = client.get("/admin/matching/round/").content.decode()

    assert '<td class="field-agreed">1</td>' in page
    assert '<td class="field-time_to_agree">30 hours</td>' in page


def test_after_a_block_no_new_time_reaches_the_other_and_proposals_are_rate_limited(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    luis, ana = pair()
    client = Client()
    client.force_login(luis.user)
    propose = f"/pairs/meeting/{luis.group_id}/propose/"
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "meeting_propose": "2/h/user"}
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        for hour in ("10:00", "11:00"):
            assert client.post(propose, {"day": "2027-03-29", "time": hour}).status_code == 302
        # A third change of mind within the hour waits, and says so.
        response = client.post(propose, {"day": "2027-03-29", "time": "12:00"})
        assert response.status_code == 429
        assert "Has propuesto muchas veces." in response.content.decode()
        # The emails' links count against the same limit.
        slot = meetings.slots_suggest([luis.user, ana.user])[0]
        link = links.meeting_url(seat_id=luis.pk, action="propose", starts_at=slot)
        assert "Has propuesto muchas veces." in Client().post(link).content.decode()
        assert Meeting.objects.get(group=luis.group).starts_at != slot
        settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "meeting_propose": ""}

        # Ana blocks Luis after the round paired them: his new times no longer reach her,
        # and her accepting his last one is refused too.
        BlockFactory.create(blocker=ana.user, blocked=luis.user)
        notices = MeetingNotice.objects.count()
        response = client.post(propose, {"day": "2027-03-30", "time": "10:00"})
        assert response.status_code == 409
        assert "Este café ya no se puede organizar." in response.content.decode()
        proposed = datetime(2027, 3, 29, 11, tzinfo=MEXICO)
        assert Meeting.objects.get(group=luis.group).starts_at == proposed
        with pytest.raises(meetings.MeetingRefused):
            meetings.meeting_accept(seat=ana, starts_at=proposed)
        assert MeetingNotice.objects.count() == notices
        assert Meeting.objects.get(group=luis.group).accepted_at is None


def test_a_week_west_of_utc_takes_that_week_s_clock_change() -> None:
    """Chicago moved to CDT (UTC-5) on Sunday 8 March 2026: in the week of Monday 9 March,
    8:00 there is 13:00 UTC, not the week before's 14:00."""
    chicago = hours(participant(zone="America/Chicago", email="chi@example.com"), time(8), time(17))

    week = services.weekly_utc_minutes(chicago, week_of=datetime(2026, 3, 9, 8, tzinfo=UTC))

    assert week[0] == (13 * 60, 22 * 60)


def test_a_night_owl_s_week_counts_the_hours_after_midnight_for_pairing() -> None:
    """Weekly minutes since Monday 00:00 UTC: Madrid's 22:00-02:00 (UTC+1 in January) is
    21:00-01:00 UTC, and Friday's night runs into Saturday."""
    owl = hours(participant(zone="Europe/Madrid", email="owl@example.com"), time(22), time(2))
    week_of = datetime(2027, 1, 13, 12, tzinfo=UTC)

    week = services.weekly_utc_minutes(owl, week_of=week_of)

    day = 24 * 60
    assert week == tuple((d * day + 21 * 60, d * day + 25 * 60) for d in range(5))
    # Mexico City's 12:00-16:00 (UTC-6) shares the owl's first hour on each of the five days.
    early = hours(
        participant(zone="America/Mexico_City", email="mx@example.com"), time(12), time(16)
    )
    candidates = [services.candidate_for(user, week_of=week_of) for user in (owl, early)]
    shared = sum(
        max(0, min(a_end, b_end) - max(a_start, b_start))
        for a_start, a_end in candidates[0].hours
        for b_start, b_end in candidates[1].hours
    )
    assert shared == 5 * 60


def test_a_block_after_the_meeting_was_agreed_ends_the_pairing_for_both(
    django_capture_on_commit_callbacks: Any, smtp: SmtpSink
) -> None:
    """Ana blocks Luis after they agreed on a time: neither sees the other as a coffee
    partner any more, the meeting leaves their calendar feeds, no reminder or follow-up
    names the other, and their table no longer opens."""
    luis, ana = pair()
    start = agreed(ana, luis, django_capture_on_commit_callbacks)
    BlockFactory.create(blocker=ana.user, blocked=luis.user)

    for seat, other in ((luis, ana), (ana, luis)):
        client = Client()
        client.force_login(seat.user)
        with time_machine.travel(NOW, tick=False):
            pages = {
                path: client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
                for path in ("/", "/pairs/", f"/pairs/meeting/{seat.group_id}/")
            }
            feed = calendar_feed_get_or_create(user=seat.user)
            body = Client().get(f"/events/calendar/{feed.token}.ics").content
            refused = client.post(f"/pairs/meeting/{seat.group_id}/table/")
        assert "This round's coffee is off." in pages["/"]
        assert "This round's coffee is off." in pages["/pairs/"]
        assert (
            "This meeting can no longer be arranged." in pages[f"/pairs/meeting/{seat.group_id}/"]
        )
        assert all(other.user.name not in page for page in pages.values())
        assert Calendar.from_ical(body).walk("VEVENT") == []
        assert refused.status_code == 409

    smtp.messages.clear()
    with (
        time_machine.travel(start - timedelta(minutes=9), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.meeting_reminders_tick()
        for seat in (luis, ana):
            tasks.follow_up_send(seat.pk)
    assert not MeetingNotice.objects.filter(what=MeetingNotice.What.REMINDER).exists()
    assert smtp.messages == []
    assert GroupMember.objects.filter(follow_up_sent_at__isnull=False).count() == 0


def trio() -> tuple[list[User], tuple[GroupMember, GroupMember, GroupMember]]:
    """Ana, Bea and Carla, in Madrid working 9 to 17, made a trio by a round 3 days ago."""
    people = [
        hours(participant(zone="Europe/Madrid", email=f"{name}@example.com"), time(9), time(17))
        for name in ("ana", "bea", "carla")
    ]
    with time_machine.travel(NOW - timedelta(days=3), tick=False):
        services.round_create(programme=community(), scheduled_for=NOW - timedelta(days=3))
    ana, bea, carla = (GroupMember.objects.get(user=user) for user in people)
    assert ana.group_id == bea.group_id == carla.group_id
    return people, (ana, bea, carla)


def test_in_a_trio_a_block_ends_the_meeting_and_each_still_sees_who_they_may(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Bea blocks Ana after the trio agreed on a time: the meeting would bring them together,
    so it ends for all three (no reminder, no feed entry, nothing more to arrange or cancel),
    and each keeps seeing the partners on neither side of a block with them."""
    people, (ana, bea, carla) = trio()
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        start = meetings.slots_suggest(people)[0]
        meetings.meeting_propose(seat=ana, starts_at=start)
        meetings.meeting_accept(seat=carla, starts_at=start)
    BlockFactory.create(blocker=bea.user, blocked=ana.user)
    notices = MeetingNotice.objects.count()

    seen: dict[str, dict[str, str]] = {}
    with (
        time_machine.travel(start - timedelta(minutes=9), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.meeting_reminders_tick()
        for seat in (ana, bea, carla):
            client = Client()
            client.force_login(seat.user)
            token = calendar_feed_get_or_create(user=seat.user).token
            seen[seat.user.email] = {
                "pairs": client.get("/pairs/").content.decode(),
                "meeting": client.get(f"/pairs/meeting/{seat.group_id}/").content.decode(),
                "feed": client.get(f"/events/calendar/{token}.ics").content.decode(),
                "cancel": str(client.post(f"/pairs/meeting/{seat.group_id}/cancel/").status_code),
            }
        with pytest.raises(meetings.MeetingRefused):
            meetings.meeting_propose(seat=carla, starts_at=start + timedelta(days=1))
    assert MeetingNotice.objects.count() == notices  # no reminder, nothing new
    assert Meeting.objects.get(group_id=carla.group_id).accepted_at is not None
    for email, pages in seen.items():
        assert "Este café ya no se puede organizar." in pages["meeting"], email
        assert "Acordado:" not in pages["pairs"], email  # nor does /pairs/ say it is on
        assert Calendar.from_ical(pages["feed"]).walk("VEVENT") == [], email
        assert pages["cancel"] == "409", email
    names = {seat.user.email: seat.user.name for seat in (ana, bea, carla)}
    assert names["carla@example.com"] in seen["ana@example.com"]["pairs"]
    assert names["bea@example.com"] not in seen["ana@example.com"]["pairs"]
    assert names["ana@example.com"] not in seen["bea@example.com"]["pairs"]
    assert names["ana@example.com"] in seen["carla@example.com"]["pairs"]
    assert names["bea@example.com"] in seen["carla@example.com"]["pairs"]
    assert names["bea@example.com"] not in seen["ana@example.com"]["meeting"]


def test_in_a_trio_a_suspended_partner_hears_nothing_of_the_others_plans(
    django_capture_on_commit_callbacks: Any, smtp: SmtpSink
) -> None:
    people, (ana, bea, carla) = trio()
    User.objects.filter(pk=carla.user_id).update(is_active=False)  # suspended by staff

    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        start = meetings.slots_suggest(people[:2])[0]
        meetings.meeting_propose(seat=ana, starts_at=start)
        meetings.meeting_accept(seat=bea, starts_at=start)
        meetings.meeting_cancel(seat=ana)
    smtp.wait_for("ana@example.com")
    smtp.wait_for("bea@example.com")

    assert not any("carla@example.com" in str(message["To"]) for message in smtp.messages)
    assert not MeetingNotice.objects.filter(user=carla.user).exists()
    # Nor can she act through the links of emails she had before: they show nothing now.
    with time_machine.travel(NOW, tick=False):
        link = links.meeting_url(seat_id=carla.pk, action="accept", starts_at=start)
        assert Client().get(link).status_code == 404
        assert Client().post(link).status_code == 404
        with pytest.raises(meetings.MeetingRefused):
            meetings.meeting_propose(seat=carla, starts_at=start)


def test_a_block_by_a_partner_who_left_no_longer_stands_between_the_others(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Ana blocked Carla after the round, then deleted her account: Bea and Carla, who block
    # nobody, still arrange their coffee.
    people, (ana, bea, carla) = trio()
    BlockFactory.create(blocker=ana.user, blocked=carla.user)
    account_delete(user=ana.user)

    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        start = meetings.slots_suggest(people[1:])[0]
        meetings.meeting_propose(seat=bea, starts_at=start)
        meeting = meetings.meeting_accept(seat=carla, starts_at=start)

    assert meeting.accepted_at is not None


def test_a_partner_who_deleted_their_account_leaves_nothing_to_arrange(
    django_capture_on_commit_callbacks: Any, smtp: SmtpSink
) -> None:
    luis, ana = pair()
    account_delete(user=luis.user)
    client = Client()
    client.force_login(ana.user)

    with time_machine.travel(NOW, tick=False):
        page = client.get(f"/pairs/meeting/{ana.group_id}/", HTTP_ACCEPT_LANGUAGE="en")
        pairs = client.get("/pairs/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.status_code == 200
    assert "This meeting can no longer be arranged." in page.content.decode()
    assert "Former member" not in pairs
    with time_machine.travel(NOW, tick=False):
        home = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Former member" not in home and "This round's coffee is off." in home
    with django_capture_on_commit_callbacks(execute=True):
        tasks.follow_up_send(ana.pk)
    assert smtp.messages == []


def test_a_member_who_deleted_their_account_is_asked_nothing_when_the_others_are(
    django_capture_on_commit_callbacks: Any, smtp: SmtpSink
) -> None:
    """Their notices went with their account: "did you meet?" writes them no new one."""
    _people, (ana, bea, carla) = trio()
    GroupMember.objects.filter(pk__in=[ana.pk, bea.pk, carla.pk]).update(intro_sent_at=NOW)
    account_delete(user=ana.user)
    asked_at = NOW + timedelta(days=community().follow_up_after_days)

    with (
        time_machine.travel(asked_at, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        due = services.follow_ups_due()
        for seat_id in (ana.pk, bea.pk):
            tasks.follow_up_send(seat_id)

    assert bea.pk in due and carla.pk in due and ana.pk not in due
    assert not Notification.objects.filter(user_id=ana.user_id).exists()
    assert Notification.objects.filter(user_id=bea.user_id, key=f"follow-up:{bea.pk}").exists()


def test_a_partner_who_left_after_the_time_was_agreed_is_no_longer_named_nor_invited(
    django_capture_on_commit_callbacks: Any, smtp: SmtpSink, staff: User
) -> None:
    """Carla, suspended after the trio agreed, was still named in Ana and Bea's emails and
    notices, and invited by her address in their calendar files."""
    people, (ana, bea, carla) = trio()
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        start = meetings.slots_suggest(people)[0]
        meetings.meeting_propose(seat=ana, starts_at=start)
        meetings.meeting_accept(seat=carla, starts_at=start)
    member_suspend(user=carla.user, by=staff)
    smtp.messages.clear()
    # Notices already written keep their names, as after a block.
    earlier = list(Notification.objects.values_list("pk", flat=True))
    with (
        time_machine.travel(start - timedelta(minutes=9), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.meeting_reminders_tick()
        meetings.meeting_cancel(seat=bea)
    smtp.wait_for("ana@example.com")
    for message in smtp.messages:
        assert carla.user.name not in _text(message), message["Subject"]
        assert "carla@example.com" not in str(message)  # nor in a calendar file
    reminders = MeetingNotice.objects.filter(what=MeetingNotice.What.REMINDER, user=ana.user)
    assert reminders.exists()
    texts = Notification.objects.exclude(pk__in=earlier).values_list("text", flat=True)
    assert texts and all(carla.user.name not in text for text in texts)


def test_an_agreed_coffee_whose_partner_left_is_neither_reminded_nor_in_the_feed(
    django_capture_on_commit_callbacks: Any,
) -> None:
    luis, ana = pair()
    start = agreed(ana, luis, django_capture_on_commit_callbacks)
    account_delete(user=luis.user)

    with time_machine.travel(start - timedelta(minutes=9), tick=False):
        assert meetings.reminders_due() == []
        assert meetings_in_feed(user=ana.user) == []


def test_a_coffee_whose_time_has_come_cannot_be_called_off(
    django_capture_on_commit_callbacks: Any, smtp: SmtpSink
) -> None:
    luis, ana = pair()
    start = agreed(ana, luis, django_capture_on_commit_callbacks)
    smtp.messages.clear()
    client = Client()
    client.force_login(ana.user)

    with time_machine.travel(start + timedelta(hours=2), tick=False):
        page = client.get(f"/pairs/meeting/{ana.group_id}/", HTTP_ACCEPT_LANGUAGE="en")
        refused = client.post(f"/pairs/meeting/{ana.group_id}/cancel/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Your coffee was on:" in page.content.decode()
    assert "I can&#x27;t make it" not in page.content.decode()
    assert refused.status_code == 409
    assert "nothing to call off" in refused.content.decode()
    assert Meeting.objects.get(group=ana.group).starts_at == start
    assert smtp.messages == []


def test_an_old_email_s_proposal_leaves_a_coffee_that_was_had_as_it_was(
    django_capture_on_commit_callbacks: Any, smtp: SmtpSink
) -> None:
    luis, ana = pair()
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        tasks.intro_send(luis.pk)
    leftover = _links(smtp.wait_for("luis@example.com"), "link")[-1]
    start = agreed(ana, luis, django_capture_on_commit_callbacks)
    smtp.messages.clear()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")

    with (
        time_machine.travel(start + timedelta(days=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        page = client.get(leftover).content.decode()
        refused = client.post(leftover)

    assert "Your coffee was on:" in page and "Propose this time" not in page
    assert refused.status_code == 409
    meeting = Meeting.objects.get(group=ana.group)
    assert (meeting.starts_at, meeting.accepted_by) == (start, luis.user)
    assert smtp.messages == []


def test_the_pairs_page_shows_the_time_proposed_then_agreed_then_past(
    django_capture_on_commit_callbacks: Any,
) -> None:
    luis, ana = pair()
    luis_page, ana_page = Client(HTTP_ACCEPT_LANGUAGE="en"), Client(HTTP_ACCEPT_LANGUAGE="en")
    luis_page.force_login(luis.user)
    ana_page.force_login(ana.user)

    def pairs(client: Client) -> str:
        return " ".join(strip_tags(client.get("/pairs/").content.decode()).split())

    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert "Choose a time to meet" in pairs(ana_page)
        start = meetings.slots_suggest([luis.user, ana.user])[0]
        meetings.meeting_propose(seat=luis, starts_at=start)
        with override("en"):
            in_madrid = date_format(start.astimezone(ZoneInfo("Europe/Madrid")), "l j F, H:i")
        assert f"{luis.user.name} proposes {in_madrid}." in pairs(ana_page)
        assert "Accept or propose another time" in pairs(ana_page)
        assert "You proposed" in pairs(luis_page)
        meetings.meeting_accept(seat=ana, starts_at=start)
        assert f"It's on: {in_madrid}" in pairs(ana_page)
        assert "Can't make it?" in pairs(ana_page)
        assert "Choose a time to meet" not in pairs(ana_page)
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        assert f"Your coffee was on: {in_madrid}" in pairs(ana_page)


def test_a_time_that_happens_twice_is_refused_with_a_reason(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Madrid's clocks go back at 03:00 on Sunday 31 October 2027: 02:30 happens twice, and
    which one Ana meant is unknown (a proposal at it also failed to match itself, so the
    same time sent twice counted as two)."""
    _luis, ana = pair()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(ana.user)
    propose = f"/pairs/meeting/{ana.group_id}/propose/"
    with (
        time_machine.travel(datetime(2027, 10, 20, 9, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        refused = client.post(propose, {"day": "2027-10-31", "time": "02:30"})
        assert refused.status_code == 400
        assert "This time happens twice in your time zone" in refused.content.decode()
        assert not Meeting.objects.filter(group=ana.group, starts_at__isnull=False).exists()
        # An hour later there is one 03:30, and it is taken.
        assert client.post(propose, {"day": "2027-10-31", "time": "03:30"}).status_code == 302
    meeting = Meeting.objects.get(group=ana.group)
    assert meeting.starts_at == datetime(2027, 10, 31, 2, 30, tzinfo=UTC)


def test_a_weekend_night_across_the_change_to_summer_time_is_an_hour_shorter() -> None:
    """Saturday 22:00 to Sunday 06:00 in Madrid on the last weekend of March 2026 is 7 hours
    (the clocks skip 02:00-03:00): counted as 8, the intro offered a phantom hour."""
    owl = hours(participant(zone="Europe/Madrid", email="owl@example.com"), time(22), time(6))
    owl.profile.working_days = [5]
    owl.profile.save()

    week = services.weekly_utc_minutes(owl, week_of=datetime(2026, 3, 23, 12, tzinfo=UTC))

    saturday_21_utc = 5 * 24 * 60 + 21 * 60
    assert week == ((saturday_21_utc, saturday_21_utc + 7 * 60),)

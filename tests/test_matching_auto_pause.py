"""The auto-pause notice: one email per pause, sent after the pause commits, whatever the
ticks and the broker do twice."""

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from matching import on_demand, services, tasks
from matching.models import GroupMember, Participation
from members.models import User
from members.services import member_reinstate, member_suspend
from tests.conftest import SmtpSink, free_port
from tests.test_matching_rounds import SLOT, community, participant

pytestmark = pytest.mark.django_db


def ignored_three_follow_ups() -> User:
    """A member who left the last three "did you meet?" unanswered, with a partner who
    answered every time."""
    ignorer, answerer = participant(), participant()
    for number in range(3):
        round_, _ = services.round_create(
            programme=community(), scheduled_for=SLOT + timedelta(days=14 * number)
        )
        GroupMember.objects.filter(round=round_).update(follow_up_sent_at=SLOT)
        services.answer_record(seat=round_.seats.get(user=answerer), answer="met")
    return ignorer


def told(smtp: SmtpSink) -> list[str]:
    return [str(message["To"]) for message in smtp.messages]


def test_two_overlapping_ticks_tell_the_member_once(
    smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    ignorer = ignored_three_follow_ups()
    # Both ticks read who to pause before either of them paused anyone.
    seen = services.participations_to_auto_pause()
    monkeypatch.setattr(services, "participations_to_auto_pause", lambda: list(seen))

    with django_capture_on_commit_callbacks(execute=True):
        tasks.follow_ups_tick()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.follow_ups_tick()

    assert Participation.objects.get(user=ignorer).auto_paused
    assert told(smtp) == [ignorer.email]


def test_a_redelivered_notice_task_sends_nothing_more(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ignorer = ignored_three_follow_ups()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.follow_ups_tick()
    participation = Participation.objects.get(user=ignorer)

    tasks.auto_pause_notice_send(participation.pk)
    tasks.auto_pause_notice_send(participation.pk)

    assert told(smtp) == [ignorer.email]


def test_the_notice_waits_for_the_pause_to_commit(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ignorer = ignored_three_follow_ups()

    with django_capture_on_commit_callbacks() as callbacks:
        tasks.follow_ups_tick()
        assert told(smtp) == []
    for callback in callbacks:
        callback()

    assert told(smtp) == [ignorer.email]


def test_a_failed_notice_is_sent_on_the_retry(
    smtp: SmtpSink, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ignorer = ignored_three_follow_ups()
    participation = Participation.objects.get(user=ignorer)
    services.participation_auto_pause(participation=participation)
    smtp_port, settings.EMAIL_PORT = settings.EMAIL_PORT, free_port()  # nothing listens there

    result = tasks.auto_pause_notice_send.apply(
        args=[participation.pk], retries=tasks.RETRY["max_retries"], throw=False
    )
    assert result.failed()
    settings.EMAIL_PORT = smtp_port
    tasks.auto_pause_notice_send(participation.pk)

    assert told(smtp) == [ignorer.email]


def test_a_member_paused_again_after_resuming_is_told_again(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ignorer = ignored_three_follow_ups()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.follow_ups_tick()
    participation = Participation.objects.get(user=ignorer)
    services.participation_resume(participation=participation)

    with django_capture_on_commit_callbacks(execute=True):
        services.participation_auto_pause(participation=participation, notify=True)

    assert told(smtp) == [ignorer.email, ignorer.email]


def test_a_member_who_resumes_is_not_paused_again_for_the_follow_ups_before(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ignorer = ignored_three_follow_ups()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.follow_ups_tick()
    services.participation_resume(participation=Participation.objects.get(user=ignorer))

    with django_capture_on_commit_callbacks(execute=True):
        tasks.follow_ups_tick()  # the next hour

    assert not Participation.objects.get(user=ignorer).auto_paused
    assert told(smtp) == [ignorer.email]


def test_a_pause_by_staff_sends_no_notice(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ignorer = ignored_three_follow_ups()

    with django_capture_on_commit_callbacks(execute=True):
        services.participation_auto_pause(participation=Participation.objects.get(user=ignorer))

    assert told(smtp) == []


def test_the_last_question_has_its_week_before_it_counts_as_unanswered(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ignorer = ignored_three_follow_ups()
    last = GroupMember.objects.filter(user=ignorer).latest("round__scheduled_for")
    asked = SLOT + timedelta(days=33)
    GroupMember.objects.filter(pk=last.pk).update(follow_up_sent_at=asked)

    def tick_at(moment: datetime) -> None:
        with (
            time_machine.travel(moment, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            tasks.follow_ups_tick()

    tick_at(asked + timedelta(hours=1))
    paused_within_the_hour = Participation.objects.get(user=ignorer).auto_paused
    tick_at(asked + timedelta(days=7, hours=1))

    assert not paused_within_the_hour
    assert Participation.objects.get(user=ignorer).auto_paused
    assert told(smtp) == [ignorer.email]


def test_a_suspended_member_is_paused_only_once_reinstated_and_then_told(
    smtp: SmtpSink, staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    """Paused while suspended, the notice could not go (it is for open accounts) and the
    pause outlived the suspension, untold."""
    ignorer = ignored_three_follow_ups()
    with django_capture_on_commit_callbacks(execute=True):
        member_suspend(user=ignorer, by=staff)
        tasks.follow_ups_tick()
    assert not Participation.objects.get(user=ignorer).auto_paused

    with django_capture_on_commit_callbacks(execute=True):
        member_reinstate(user=User.objects.get(pk=ignorer.pk))
        tasks.follow_ups_tick()

    assert Participation.objects.get(user=ignorer).auto_paused
    # The suspension's email, the lift's, then the pause's.
    assert told(smtp).count(ignorer.email) == 3


def test_the_email_s_resume_link_works_however_late_the_member_comes_back(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ignorer = ignored_three_follow_ups()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.follow_ups_tick()
    [email] = smtp.messages
    body = email.get_body(("plain",))
    assert body is not None
    link = re.search(r"/pairs/resume/[^/\s]+/", body.get_content())
    assert link

    with time_machine.travel(timezone.now() + timedelta(days=400)):
        resumed = Client().post(link[0], follow=True)

    assert resumed.status_code == 200
    assert not Participation.objects.get(user=ignorer).auto_paused


def test_a_pause_withdraws_the_member_s_open_pair_me_now(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    """As a pause of the member's own does: no looking for a partner meanwhile, and no
    "we found nobody" a week later."""
    ignorer = ignored_three_follow_ups()
    request = on_demand.request_make(user=ignorer)
    assert request.matched_at is None  # nobody else is asking

    with django_capture_on_commit_callbacks(execute=True):
        tasks.follow_ups_tick()

    request.refresh_from_db()
    assert request.cancelled_at is not None
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        on_demand.requests_give_up()
    request.refresh_from_db()
    assert request.gave_up_at is None
    assert told(smtp) == [ignorer.email]  # the pause's notice alone

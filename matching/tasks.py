"""Celery tasks for coffee pairs. Each takes ids, re-fetches, and is safe to run twice."""

import logging

from celery import shared_task
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from core.emails import EMAIL_RETRY, send_once
from matching import emails, favourites, meetings, on_demand, selectors, services
from matching.models import (
    Answer,
    GroupMember,
    MeetingNotice,
    PairRequest,
    Participation,
    Round,
    Unmatched,
)
from matching.signals import round_introduced
from notifications.models import Kind
from notifications.services import notify

logger = logging.getLogger(__name__)
RETRY = EMAIL_RETRY


# A round of 100,000 members takes about a minute (solver, then bulk inserts).
@shared_task(ignore_result=True, time_limit=1800, soft_time_limit=1500)
def matching_tick() -> None:
    """Beat runs this every few minutes: start the rounds whose time has come."""
    for round_ in services.rounds_start_due():
        logger.info("Started round %s with %s eligible members", round_, round_.eligible_count)
    for round_id in services.rounds_unannounced(now=timezone.now()):
        logger.warning("Announcing round %s again: its announcement did not finish", round_id)
        round_announce(round_id)


def intros_queue(seat_ids: list[int]) -> None:
    for seat_id in seat_ids:
        intro_send.delay(seat_id)


def round_announce(round_id: int) -> None:
    """After a round commits: its groups' conversations open, every seat's intro and every
    left-out member's notice are queued, then the round is marked announced. matching_tick
    runs this again for a round left unannounced; each step is safe twice (a conversation
    opens once; an intro or a notice is claimed once, and one that failed is staff's to send
    again)."""
    round_introduced.send(sender=Round, round_id=round_id)
    seats = GroupMember.objects.filter(round_id=round_id, intro_sent_at__isnull=True)
    intros_queue(list(seats.filter(intro_attempts=0).values_list("pk", flat=True)))
    left_out = Unmatched.objects.filter(round_id=round_id, notice_sent_at__isnull=True)
    for unmatched_id in left_out.values_list("pk", flat=True):
        unmatched_notice_send.delay(unmatched_id)
    Round.objects.filter(pk=round_id).update(announced_at=timezone.now())


@shared_task(ignore_result=True, **RETRY)
def intro_send(seat_id: int) -> None:
    """Email one member their new partner(s), once (`core.emails.send_once`). The in-app
    notice is recorded first (once per seat, whoever runs it); the claim sets `intro_sent_at`
    and counts the attempt in one conditional update, so a concurrent duplicate finds it
    taken. A failed send gives the claim back, keeping the attempt counted (staff see the
    seat among the failed intros), and retries. A worker dying between claim and send
    leaves the intro marked sent but not sent: staff's "Send the intro email again" is the
    way back."""
    seat = GroupMember.objects.select_related("user").filter(pk=seat_id).first()
    if seat is None or seat.intro_sent_at is not None:
        return
    partners = selectors.group_others(seat=seat)
    if not partners:
        return  # a block ended the pairing before its intro went (a retry, staff's resend)
    delivery = notify(
        user=seat.user,
        kind=Kind.PAIR_CREATED,
        key=f"pair:{seat.pk}",
        text=_("Your coffee pair this round: %(names)s. Agree on a time together."),
        # Lazy, so that notify joins the names in the member's language ("Ana y Ben").
        params={"names": lazy(selectors.names_of, str)(partners)},
        url=reverse("matching:mine"),
        about=partners,
    )
    claimed_at = timezone.now()

    def send() -> None:
        if delivery.email:
            emails.intro_email(seat).send()

    send_once(
        claim=lambda: GroupMember.objects.filter(pk=seat_id, intro_sent_at__isnull=True).update(
            intro_sent_at=claimed_at, intro_attempts=F("intro_attempts") + 1
        ),
        send=send,
        give_back=lambda: GroupMember.objects.filter(pk=seat_id, intro_sent_at=claimed_at).update(
            intro_sent_at=None
        ),
    )


# The notice for a member left out of a round, by the reason (matching.selectors.LeftOut);
# the email says more.
UNMATCHED_NOTICES = {
    "alone": _("No coffee pair for you this round: nobody else was taking part."),
    "language": _(
        "No coffee pair for you this round: nobody else taking part speaks a language you speak."
    ),
    "nobody": _("No coffee pair for you this round: nobody taking part could be paired with you."),
}


@shared_task(ignore_result=True, **RETRY)
def unmatched_notice_send(unmatched_id: int) -> None:
    """Tell a member nobody was left to meet this round, once (`core.emails.send_once`:
    at most one email, even if a worker dies mid-send)."""
    entry = Unmatched.objects.select_related("user").filter(pk=unmatched_id).first()
    if entry is None or entry.notice_sent_at is not None:
        return
    delivery = notify(
        user=entry.user,
        kind=Kind.PAIR_CREATED,
        key=f"unmatched:{entry.pk}",
        text=UNMATCHED_NOTICES[selectors.left_out(entry=entry).reason],
        url=reverse("matching:mine"),
    )
    claimed_at = timezone.now()

    def send() -> None:
        if delivery.email:
            emails.unmatched_email(entry).send()

    send_once(
        claim=lambda: Unmatched.objects.filter(pk=unmatched_id, notice_sent_at__isnull=True).update(
            notice_sent_at=claimed_at
        ),
        send=send,
        give_back=lambda: Unmatched.objects.filter(
            pk=unmatched_id, notice_sent_at=claimed_at
        ).update(notice_sent_at=None),
    )


@shared_task(ignore_result=True, **RETRY)
def pair_request_gave_up_send(request_id: int) -> None:
    """Tell a member their "pair me now" was given up: the notice, and at most one email
    (`core.emails.send_once`, claimed on the request), even if a worker dies mid-send."""
    request = (
        PairRequest.objects.select_related("user")
        .filter(pk=request_id, gave_up_at__isnull=False)
        .first()
    )
    if request is None or request.gave_up_told_at is not None:
        return
    delivery = notify(
        user=request.user,
        kind=Kind.PAIR_CREATED,
        key=f"pair-request-gave-up:{request.pk}",
        text=_(
            "Nobody was free for an extra coffee this week, so we stopped looking. "
            "Ask again whenever you like."
        ),
        url=reverse("matching:mine"),
    )
    claimed_at = timezone.now()

    def send() -> None:
        if delivery.email:
            emails.pair_request_gave_up_email(request).send()

    send_once(
        claim=lambda: PairRequest.objects.filter(
            pk=request_id, gave_up_told_at__isnull=True
        ).update(gave_up_told_at=claimed_at),
        send=send,
        give_back=lambda: PairRequest.objects.filter(
            pk=request_id, gave_up_told_at=claimed_at
        ).update(gave_up_told_at=None),
    )


# How often beat runs `follow_ups_tick` (coworking/settings.py), in seconds.
FOLLOW_UPS_TICK_SECONDS = 3600


@shared_task(ignore_result=True)
def follow_ups_tick() -> None:
    """Beat runs this hourly: ask "did you meet?" where the programme says it is time. The
    tick is each question's retry (core.emails.send_once, `retried_by_tick`): a task still
    queued when the next tick comes is dropped for the one that tick queues."""
    for seat_id in services.follow_ups_due():
        follow_up_send.apply_async((seat_id,), expires=FOLLOW_UPS_TICK_SECONDS)
    for participation in services.participations_to_auto_pause():
        services.participation_auto_pause(participation=participation, notify=True)


@shared_task(ignore_result=True)
def follow_up_send(seat_id: int) -> None:
    """Ask "did you meet?" once per seat, unless already answered (`core.emails.send_once`:
    at most one email, even if a worker dies mid-send)."""
    seat = GroupMember.objects.select_related("user").filter(pk=seat_id).first()
    if seat is None or seat.follow_up_sent_at is not None:
        return
    if not seat.user.account_is_open:
        return  # left, or suspended, since the seat was found due
    met = seat.answer == Answer.MET
    if seat.answer and not met:
        return
    if meetings.blocks_within(seat.group_id).exists() or not selectors.group_others(seat=seat):
        return  # a block, or the partners leaving, ended the group's meeting since
    delivery = notify(
        user=seat.user,
        kind=Kind.PAIR_FOLLOW_UP,
        key=f"follow-up:{seat.pk}",
        # Met already (at their coffee table, or they said so): only how it was.
        text=_("You met your coffee pair: how was it? Only you see your answer.")
        if met
        else _("Did you meet your coffee pair? Tell us in one click."),
        url=reverse("matching:mine"),
    )
    claimed_at = timezone.now()

    def send() -> None:
        if delivery.email:
            emails.follow_up_email(seat).send()

    send_once(
        claim=lambda: GroupMember.objects.filter(
            pk=seat_id, follow_up_sent_at__isnull=True, answer=seat.answer
        ).update(follow_up_sent_at=claimed_at),
        send=send,
        give_back=lambda: GroupMember.objects.filter(
            pk=seat_id, follow_up_sent_at=claimed_at
        ).update(follow_up_sent_at=None),
        retried_by_tick=True,
    )


@shared_task(ignore_result=True, **RETRY)
def auto_pause_notice_send(participation_id: int) -> None:
    """Tell a member their coffee pairs were paused, once per pause (`core.emails.send_once`:
    at most one notice, even if a worker dies mid-send)."""
    participation = (
        Participation.objects.select_related("user", "programme")
        .filter(pk=participation_id)
        .first()
    )
    if participation is None:
        return
    claimed_at = timezone.now()
    send_once(
        claim=lambda: Participation.objects.filter(
            pk=participation_id,
            auto_paused=True,
            auto_pause_notice_sent_at__isnull=True,
            user__is_active=True,
        ).update(auto_pause_notice_sent_at=claimed_at),
        send=lambda: emails.auto_pause_email(participation).send(),
        give_back=lambda: Participation.objects.filter(
            pk=participation_id, auto_pause_notice_sent_at=claimed_at
        ).update(auto_pause_notice_sent_at=None),
    )


# Coffee meetings (matching.meetings) --------------------------------------------------------

MEETING_TEXTS = {
    MeetingNotice.What.PROPOSED: _(
        "%(names)s proposes a coffee on %(when)s. Accept it in one click."
    ),
    MeetingNotice.What.SCHEDULED: _("Your coffee with %(names)s is on %(when)s."),
    MeetingNotice.What.CANCELLED: _("%(by)s cannot make it on %(when)s. Choose another time."),
    MeetingNotice.What.REMINDER: _("Your coffee with %(names)s starts at %(when)s."),
}


@shared_task(ignore_result=True)
def meeting_reminders_tick() -> None:
    """Beat runs this every minute: remind the meetings that start soon."""
    meetings.reminders_due()


@shared_task(ignore_result=True, **RETRY)
def meeting_notice_send(notice_id: int) -> None:
    """Tell one member of one change to their meeting, once (`core.emails.send_once`). A
    proposal, invitation or reminder overtaken by a newer change is dropped unsent: the
    newer change has notices of its own."""
    notice = (
        MeetingNotice.objects.select_related("user", "by", "meeting")
        .filter(pk=notice_id, sent_at__isnull=True)
        .first()
    )
    if notice is None:
        return
    claimed_at = timezone.now()
    unsent = MeetingNotice.objects.filter(pk=notice_id, sent_at__isnull=True)
    if notice.what != MeetingNotice.What.CANCELLED and notice.meeting.sequence != notice.sequence:
        unsent.update(sent_at=claimed_at)
        return
    others = [
        member for member in meetings.meeting_members(notice.meeting) if member.pk != notice.user_id
    ]
    # Their own "can't make it" needs no notice on the site; the email still takes the
    # invitation out of their calendar.
    own_cancel = notice.what == MeetingNotice.What.CANCELLED and notice.by_id == notice.user_id
    delivery = (
        None
        if own_cancel
        else notify(
            user=notice.user,
            kind=Kind.PAIR_CREATED,
            key=f"meeting:{notice.pk}",
            text=MEETING_TEXTS[MeetingNotice.What(notice.what)],
            params={
                "names": lazy(selectors.names_of, str)(
                    [notice.by]
                    if notice.what == MeetingNotice.What.PROPOSED and notice.by
                    else others
                ),
                "by": notice.by.name if notice.by else "",
                "when": notice.starts_at,
            },
            url=reverse("matching:meeting", args=[notice.meeting.group_id]),
            about=[*others, *([notice.by] if notice.by else [])],
            # A calendar's change is emailed at once, below; a proposal waits with the rest
            # of what a member in focus is told at its end.
            emailed_apart=notice.what in emails.ALWAYS_EMAILED,
            # Told at its end, the reminder of a coffee about to start would come too late.
            urgent=notice.what == MeetingNotice.What.REMINDER,
        )
    )

    def send() -> None:
        if notice.what in emails.ALWAYS_EMAILED or (delivery is not None and delivery.email):
            emails.meeting_email(notice).send()

    send_once(
        claim=lambda: unsent.update(sent_at=claimed_at),
        send=send,
        give_back=lambda: MeetingNotice.objects.filter(pk=notice_id, sent_at=claimed_at).update(
            sent_at=None
        ),
    )


@shared_task(ignore_result=True)
def pair_requests_tick() -> None:
    """Beat runs this every 10 minutes: pair the "pair me now" requests that can be, those
    waiting a day with a willing member, and close those nobody was found for in a week
    (matching.on_demand)."""
    on_demand.requests_match()
    on_demand.requests_give_up()


@shared_task(ignore_result=True)
def favourites_tick() -> None:
    """Beat runs this daily: pair again those who both wished it, when their time has come
    (matching.favourites)."""
    favourites.favourites_pair()

"""Personal data of the coffee pairs (the registry: members/privacy.py)."""

from typing import Any

from matching.models import (
    GroupMember,
    MeetAgain,
    Meeting,
    MeetingNotice,
    PairRequest,
    Participation,
    Unmatched,
)
from matching.services import request_cancel
from members.models import User
from members.privacy import Deletion, export_moment, personal_data_register
from members.signals import member_suspended


def _export(user: User) -> dict[str, Any]:
    seats = GroupMember.objects.filter(user=user).select_related("round", "group")
    return {
        "programmes": [
            {
                # As the member reads it on the site: a built-in programme in their language.
                "programme": participation.programme.display_name,
                "opted_in": participation.opted_in,
                "skip_next_round": participation.skip_next_round,
                "pair_me_when_someone_asks": participation.on_demand,
                "paused_until": export_moment(participation.paused_until),
                "auto_paused": participation.auto_paused,
            }
            for participation in Participation.objects.filter(user=user).select_related("programme")
        ],
        "pairs": [
            {
                "round": export_moment(seat.round.scheduled_for),
                "partners": [
                    other.user.name
                    for other in seat.group.members.exclude(user=user).select_related("user")
                ],
                "intro_sent_at": export_moment(seat.intro_sent_at),
                "follow_up_sent_at": export_moment(seat.follow_up_sent_at),
                "answer": seat.answer,
                "answered_at": export_moment(seat.answered_at),
                "how_it_was": seat.rating,
            }
            for seat in seats.order_by("round__scheduled_for")
        ],
        "coffee_meetings": [
            {
                "round": export_moment(meeting.group.round.scheduled_for),
                "starts_at": export_moment(meeting.starts_at),
                "proposed_by_you": meeting.proposed_by_id == user.pk,
                "accepted_at": export_moment(meeting.accepted_at),
            }
            for meeting in Meeting.objects.filter(group__members__user=user)
            .select_related("group__round")
            .order_by("group__round__scheduled_for")
        ],
        "pair_me_now": [
            {
                "asked_at": export_moment(request.created_at),
                "matched_at": export_moment(request.matched_at),
                "cancelled_at": export_moment(request.cancelled_at),
                "given_up_at": export_moment(request.gave_up_at),
            }
            for request in PairRequest.objects.filter(user=user).order_by("created_at")
        ],
        "meet_again": [
            {"partner": wish.partner.name, "every_weeks": wish.every_weeks}
            for wish in MeetAgain.objects.filter(user=user).select_related("partner")
        ],
        "rounds_without_a_pair": [
            export_moment(entry.round.scheduled_for)
            for entry in Unmatched.objects.filter(user=user).select_related("round")
        ],
    }


def _delete(user: User) -> None:
    Participation.objects.filter(user=user).delete()
    Unmatched.objects.filter(user=user).delete()
    MeetingNotice.objects.filter(user=user).delete()
    PairRequest.objects.filter(user=user).delete()
    MeetAgain.objects.filter(user=user).delete()
    MeetAgain.objects.filter(partner=user).delete()
    MeetingNotice.objects.filter(by=user).update(by=None)
    # A time still waiting for an answer in their groups is withdrawn; agreed ones stay, as
    # the seats do, under “Former member”.
    Meeting.objects.filter(group__members__user=user, accepted_at__isnull=True).update(
        starts_at=None, proposed_by=None, proposed_at=None
    )
    Meeting.objects.filter(proposed_by=user).update(proposed_by=None)
    Meeting.objects.filter(accepted_by=user).update(accepted_by=None)
    # Their seats stay, so that each round's statistics (pairs made, pairs that met) hold.


def _suspended(sender: object, user: User, **kwargs: object) -> None:
    # A "pair me now" would stay open, and a week later tell of giving up: withdrawn, as a
    # pause withdraws it (the rounds already leave suspended members out).
    request_cancel(user=user)


def register() -> None:
    member_suspended.connect(_suspended, dispatch_uid="matching_request_cancel_on_suspension")
    personal_data_register(
        key="coffee_pairs",
        models=(
            "matching.Participation",
            "matching.GroupMember",
            "matching.Unmatched",
            "matching.Meeting",
            "matching.MeetingNotice",
            "matching.PairRequest",
            "matching.MeetAgain",
        ),
        export=_export,
        delete=_delete,
        deletion=Deletion.ANONYMISE,
        note="They leave every programme; past pairs stay in the rounds' statistics, under "
        "“Former member”.",
    )

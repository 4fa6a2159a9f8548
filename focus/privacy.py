"""Personal data of focus sessions (the registry: members/privacy.py)."""

from typing import Any

from focus.models import FocusBlock, FocusMember, FocusSeries, Seat
from focus.services import seats_release
from members.models import User
from members.privacy import Deletion, export_moment, personal_data_register
from members.signals import member_suspended


def _export(user: User) -> dict[str, Any]:
    standing = FocusMember.objects.filter(user=user).first()
    return {
        "settings": (
            {
                "share_stats": standing.share_stats,
                "drop_in_only_until": (export_moment(standing.drop_in_only_until)),
            }
            if standing
            else None
        ),
        "seats": _seats(user),
        # What they set up stays after they go (`_delete`), without them: listed here.
        "blocks_set_up": [
            {"title": block.title, "starts_at": block.starts_at.isoformat()}
            for block in FocusBlock.objects.filter(created_by=user).order_by("starts_at")
        ],
        "series_set_up": [
            {"title": series.title, "created_at": export_moment(series.created_at)}
            for series in FocusSeries.objects.filter(created_by=user).order_by("pk")
        ],
    }


def _seats(user: User) -> list[dict[str, Any]]:
    return [
        {
            "block": seat.block.starts_at.isoformat(),
            "minutes": seat.block.minutes,
            "booked_at": seat.booked_at.isoformat(),
            "dropped_in": seat.dropped_in,
            "cancelled_at": export_moment(seat.cancelled_at),
            "goal": seat.goal,
            "outcome": seat.outcome,
            "arrived_at": export_moment(seat.arrived_at),
            "no_show": seat.no_show,
        }
        for seat in Seat.objects.filter(user=user).select_related("block").order_by("pk")
    ]


def _delete(user: User) -> None:
    Seat.objects.filter(user=user).delete()
    FocusMember.objects.filter(user=user).delete()
    FocusBlock.objects.filter(created_by=user).update(created_by=None)
    FocusSeries.objects.filter(created_by=user).update(created_by=None)


def _suspended(sender: object, user: User, **kwargs: object) -> None:
    seats_release(user=user)


def register() -> None:
    member_suspended.connect(_suspended, dispatch_uid="focus_seats_release_on_suspension")
    personal_data_register(
        key="focus",
        models=("focus.FocusBlock", "focus.FocusMember", "focus.FocusSeries", "focus.Seat"),
        export=_export,
        delete=_delete,
        deletion=Deletion.ERASE,
        note=(
            "Their seats, goals, outcomes and focus settings go; blocks and series they set"
            " up stay, with no author."
        ),
    )

"""Personal data of focus sessions (the registry: members/privacy.py)."""

from typing import Any

from focus.models import FocusBlock, Seat
from members.models import User
from members.privacy import Deletion, personal_data_register


def _export(user: User) -> list[dict[str, Any]]:
    return [
        {
            "block": seat.block.starts_at.isoformat(),
            "minutes": seat.block.minutes,
            "booked_at": seat.booked_at.isoformat(),
            "dropped_in": seat.dropped_in,
            "cancelled_at": seat.cancelled_at.isoformat() if seat.cancelled_at else None,
            "goal": seat.goal,
            "outcome": seat.outcome,
        }
        for seat in Seat.objects.filter(user=user).select_related("block").order_by("pk")
    ]


def _delete(user: User) -> None:
    Seat.objects.filter(user=user).delete()
    FocusBlock.objects.filter(created_by=user).update(created_by=None)


def register() -> None:
    personal_data_register(
        key="focus",
        models=("focus.FocusBlock", "focus.Seat"),
        export=_export,
        delete=_delete,
        deletion=Deletion.ERASE,
        note="Their seats, goals and outcomes go; blocks they set up stay, with no author.",
    )

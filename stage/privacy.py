"""Personal data of the stage (the registry: members/privacy.py)."""

from typing import Any

from members.models import User
from members.privacy import Deletion, personal_data_register
from members.signals import member_suspended
from stage.models import Attendance, Hand, Speaker, Stage
from stage.services import stages_leave


def _stage_export(user: User) -> dict[str, Any]:
    return {
        "hosted": [
            str(stage.room) for stage in Stage.objects.filter(host=user).select_related("room")
        ],
        "attended": [
            {"stage": str(row.stage.room), "first_seen_at": row.first_seen_at.isoformat()}
            for row in Attendance.objects.filter(user=user).select_related("stage__room")
        ],
        "on_stage": [
            {"stage": str(row.stage.room), "invited_at": row.invited_at.isoformat()}
            for row in Speaker.objects.filter(user=user).select_related("stage__room")
        ],
        "hands_raised": [
            {"stage": str(row.stage.room), "raised_at": row.raised_at.isoformat()}
            for row in Hand.objects.filter(user=user).select_related("stage__room")
        ],
    }


def _stage_delete(user: User) -> None:
    # Off every stage at once, live ones included: their media end and the pages hear of it.
    # Stages they hosted stay (the room's), with no host.
    stages_leave(user=user)
    Attendance.objects.filter(user=user).delete()


def _suspended(sender: object, user: User, **kwargs: object) -> None:
    # Off every stage, as for a deletion: a suspended member holds no speaker's place or
    # raised hand, which the host could not take back (they are no longer a member).
    stages_leave(user=user)


def register() -> None:
    member_suspended.connect(_suspended, dispatch_uid="stage_leave_on_suspension")
    personal_data_register(
        key="stage",
        models=(
            "stage.Stage",
            "stage.Speaker",
            "stage.Hand",
            "stage.Attendance",
            "stage.MediaSession",
        ),
        export=_stage_export,
        delete=_stage_delete,
        deletion=Deletion.ERASE,
        note="Their places on stages, raised hands and attendance go; stages they hosted "
        "stay, with no host.",
    )

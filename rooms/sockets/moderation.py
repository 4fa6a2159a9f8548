"""Moderation on the room socket: staff mute and remove members (rooms.services decides
who may); the member concerned hears of it on every socket of theirs."""

from datetime import timedelta
from typing import Any, ClassVar

from channels.db import database_sync_to_async
from django.utils import timezone

from members.models import User
from rooms import broadcast
from rooms.models import Room, RoomParticipation
from rooms.services import room_member_mute, room_member_remove
from rooms.sockets.base import CLOSE_REMOVED, Handler, MemberSocket, as_now
from rooms.sockets.frames import FrameError, positive_int

MUTE_MAX_MINUTES = 24 * 60


def _minutes(content: dict[str, Any]) -> int:
    """0 unmutes."""
    value = content.get("minutes")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MUTE_MAX_MINUTES:
        raise FrameError("invalid_fields")
    return value


def _member_get(user_id: int) -> User:
    member = User.objects.filter(pk=user_id).first()
    if member is None:
        raise FrameError("no_member")
    return member


@database_sync_to_async
def _mute(room: Room, by: User, user_id: int, minutes: int) -> RoomParticipation:
    until = timezone.now() + timedelta(minutes=minutes) if minutes else None
    return room_member_mute(room=room, member=_member_get(user_id), by=as_now(by), until=until)


@database_sync_to_async
def _remove(room: Room, by: User, user_id: int) -> RoomParticipation:
    return room_member_remove(room=room, member=_member_get(user_id), by=as_now(by))


class ModerationFrames(MemberSocket):
    async def on_member_mute(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        user_id, minutes = positive_int(content, "user_id"), _minutes(content)
        await self.spend("chat")  # moderation shares chat's budget
        # The member's pages hear of it from the service, after its commit.
        participation = await _mute(self.room, self.user, user_id, minutes)
        until = participation.muted_until
        action = "mute" if minutes else "unmute"
        await self.send_json(
            {
                "type": "moderation.done",
                "action": action,
                "user_id": user_id,
                "until": until.isoformat() if until else None,
            }
        )

    async def on_member_remove(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        user_id = positive_int(content, "user_id")
        await self.spend("chat")
        await _remove(self.room, self.user, user_id)
        await broadcast.member_removed(room_id=self.room.pk, user_id=user_id)
        await self.send_json({"type": "moderation.done", "action": "remove", "user_id": user_id})

    HANDLERS: ClassVar[dict[str, Handler]] = {
        "member.mute": on_member_mute,
        "member.remove": on_member_remove,
    }

    # Sent to the member's group (`user_<id>`), which spans rooms: only this room's counts.

    async def member_removed(self, event: dict[str, Any]) -> None:
        if self.room is not None and event["room_id"] == self.room.pk:
            await self.say_bye(CLOSE_REMOVED)

    async def member_muted(self, event: dict[str, Any]) -> None:
        if self.room is not None and event["room_id"] == self.room.pk:
            await self.send_json({"type": "you.muted", "until": event["until"]})

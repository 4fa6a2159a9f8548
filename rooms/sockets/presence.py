"""Presence on the room socket: a member's status, and who is in the room, minus blocks."""

from typing import Any, ClassVar

from channels.db import database_sync_to_async

from members.models import User
from rooms import broadcast
from rooms import presence as presence_rows
from rooms.models import Presence, Room
from rooms.sockets.base import Handler, MemberSocket
from rooms.sockets.frames import FrameError


@database_sync_to_async
def _set_status(room: Room, user: User, status: str) -> bool:
    return bool(presence_rows.presence_set_status(room=room, user=user, status=status))


class PresenceFrames(MemberSocket):
    """Needs `room`, and `blocked`: the ids this member does not see come and go."""

    async def on_presence_status(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        status = content.get("status")
        if status not in Presence.Status.values:
            raise FrameError("invalid_fields")
        await self.spend("presence")
        if await _set_status(self.room, self.user, str(status)):
            broadcast.presence_mark(room_id=self.room.pk, user_id=self.user.pk)

    HANDLERS: ClassVar[dict[str, Handler]] = {"presence.status": on_presence_status}

    async def access_check(self, event: dict[str, Any]) -> None:
        """A block made or lifted while both are here applies to the list at once: the one
        now hidden leaves it, the one shown again joins it (later frames about either are
        filtered by `blocked`, so without this the list would stay as it was)."""
        before = self.blocked
        await super().access_check(event)
        changed = before.symmetric_difference(self.blocked)
        if self.room is None or not changed:
            return  # nothing changed, or the socket was told to go
        here, _gone = await database_sync_to_async(presence_rows.presence_entries)(
            room_id=self.room.pk, user_ids=changed
        )
        members = [m for m in here if m["id"] not in self.blocked]
        left = sorted(m["id"] for m in here if m["id"] in self.blocked)
        if members or left:
            await self.send_json({"type": "presence.update", "members": members, "left": left})

    async def presence_update(self, event: dict[str, Any]) -> None:
        """A batch from rooms.broadcast, its frame ready-encoded for everyone; re-encoded
        only for a member who blocked someone in it."""
        assert self.room is not None
        presence_rows.forget_reading(self.room.pk)
        members: list[dict[str, Any]] = event["members"]
        left: list[int] = event["left"]
        hidden = self.blocked
        if not any(m["id"] in hidden for m in members) and not hidden.intersection(left):
            await self.send_text(event["frame"])
            return
        members = [m for m in members if m["id"] not in hidden]
        left = [user_id for user_id in left if user_id not in hidden]
        if members or left:
            await self.send_json({"type": "presence.update", "members": members, "left": left})

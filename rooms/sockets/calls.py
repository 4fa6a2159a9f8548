"""Call signalling on the room socket (docs/calls.md): sitting at a table and relaying
offers, answers and ICE candidates between its peers. Seats are rooms/calls.py's."""

from typing import Any, ClassVar

from channels.db import database_sync_to_async

from members.models import User
from rooms import broadcast, calls
from rooms.ice import ice_refresh_seconds, ice_servers
from rooms.models import Room
from rooms.sockets import limits
from rooms.sockets.base import Handler, MemberSocket
from rooms.sockets.frames import FrameError, boolean, positive_int

# Signalling payloads (characters). A browser's SDP for audio, video and a screen is a few
# thousand; an ICE candidate line is under 200.
SDP_MAX_LENGTH = 16_000
CANDIDATE_MAX_LENGTH = 1_000
ICE_FIELD_MAX_LENGTH = 256


def _table(content: dict[str, Any]) -> int | None:
    """None: the meeting room's call, or a new cafeteria table."""
    value = content.get("table")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= calls.TABLE_MAX:
        raise FrameError("invalid_fields")
    return value


def _sdp(content: dict[str, Any]) -> str:
    value = content.get("sdp")
    if not isinstance(value, str) or not value:
        raise FrameError("invalid_fields")
    if len(value) > SDP_MAX_LENGTH:
        raise FrameError("sdp_too_large")
    return value


def _short_string_or_null(candidate: dict[str, Any], key: str) -> str | None:
    value = candidate.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > ICE_FIELD_MAX_LENGTH:
        raise FrameError("invalid_fields")
    return value


def _candidate(content: dict[str, Any]) -> dict[str, Any] | None:
    """An `RTCIceCandidateInit`, rebuilt from its known fields so nothing else is relayed;
    null is the end of candidates."""
    if "candidate" not in content:
        raise FrameError("invalid_fields")
    value = content["candidate"]
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FrameError("invalid_fields")
    line = value.get("candidate")
    if not isinstance(line, str) or len(line) > CANDIDATE_MAX_LENGTH:
        raise FrameError("invalid_fields")
    index = value.get("sdpMLineIndex")
    if index is not None and (
        isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= 65535
    ):
        raise FrameError("invalid_fields")
    return {
        "candidate": line,
        "sdpMid": _short_string_or_null(value, "sdpMid"),
        "sdpMLineIndex": index,
        "usernameFragment": _short_string_or_null(value, "usernameFragment"),
    }


@database_sync_to_async
def _call_join(
    room: Room,
    user: User,
    channel_name: str,
    table: int | None,
    audio: bool,
    video: bool,
    replace: bool,
) -> calls.Seat:
    return calls.call_join(
        room=room,
        user=user,
        channel_name=channel_name,
        table=table,
        audio=audio,
        video=video,
        replace=replace,
    )


_call_leave = database_sync_to_async(calls.call_leave)
_call_target = database_sync_to_async(calls.call_target)
_call_media = database_sync_to_async(calls.call_media)
_blocks_someone_at_its_table = database_sync_to_async(calls.blocks_someone_at_its_table)


class CallFrames(MemberSocket):
    """A connection sits at one table at most; its seat is its presence row's."""

    # The table this connection sits at, and its peer id there.
    table: int | None = None
    peer: int | None = None

    async def call_rate_limit(self) -> None:
        # Signalling has its own budget, so a call setting up never eats into chat's.
        await self.spend("calls")

    async def call_depart(self) -> None:
        """Leave the call, if in one: the peers hear `call.peer_left` at once."""
        if self.table is None:
            return
        self.table = self.peer = None
        departure = await _call_leave(channel_name=self.channel_name)
        if departure is not None:
            await broadcast.call_peer_left(departure=departure)
            broadcast.presence_mark(room_id=departure.room_id, user_id=departure.user_id)

    async def call_left(self, reason: str) -> None:
        """This connection is out of its call without having asked (the server dropped it,
        or another connection of the member took its seat)."""
        self.table = self.peer = None
        await self.send_json({"type": "call.left", "reason": reason})

    async def _in_call(self) -> None:
        if self.table is None:
            raise calls.NotInCall

    async def say_bye(self, code: int) -> None:
        await self.call_depart()
        await super().say_bye(code)

    async def access_check(self, event: dict[str, Any]) -> None:
        """A block made while both sit at one table: the blocker gets up (their peers hear
        an ordinary `call.peer_left`), rather than the call going on face to face."""
        before = self.blocked
        await super().access_check(event)
        if not self.gets_up_after_a_block() or self.table is None:
            return
        if not set(self.blocked) - set(before):
            return
        if await _blocks_someone_at_its_table(channel_name=self.channel_name, user_id=self.user.pk):
            await self.call_depart()
            await self.send_json({"type": "call.left", "reason": "blocked"})

    def gets_up_after_a_block(self) -> bool:
        """Whether a block made at the table gets the blocker up here (`access_check`)."""
        return True

    async def presence_restored(self, event: dict[str, Any]) -> None:
        # The restored row has no seat, and the peers heard this connection leave.
        if self.table is not None:
            await self.call_left("dropped")

    # Client frames ---------------------------------------------------------------------

    async def on_call_join(self, content: dict[str, Any]) -> None:
        assert self.room is not None
        await self.call_rate_limit()
        table, audio = _table(content), boolean(content, "audio")
        video, replace = boolean(content, "video"), boolean(content, "replace", default=False)
        if self.table is not None:
            raise calls.AlreadyInCall
        if not await limits.frame_allowed(user_id=self.user.pk, kind="call_joins"):
            raise calls.JoiningTooOften
        seat = await _call_join(
            self.room, self.user, self.channel_name, table, audio, video, replace
        )
        self.table, self.peer = seat.table, seat.me.peer
        for departure in seat.replaced:
            await broadcast.call_peer_left(departure=departure)
            await broadcast.call_dropped(departure=departure, reason="replaced")
        await broadcast.call_frame(
            channel_names=[peer.channel_name for peer in seat.peers],
            table=seat.table,
            frame={"type": "call.peer_joined", **seat.me.data()},
        )
        await self.send_json(
            {
                "type": "call.joined",
                "table": seat.table,
                "peer": seat.me.peer,
                "peers": [peer.data() for peer in seat.peers],
                "ice_servers": ice_servers(user_id=self.user.pk),
                "ice_refresh": ice_refresh_seconds(),
            }
        )
        broadcast.presence_mark(room_id=self.room.pk, user_id=self.user.pk)

    async def on_call_credentials(self, content: dict[str, Any]) -> None:
        """New TURN credentials for a call that outlives them (the page asks every
        `ice_refresh` seconds): the peers who arrive later are reached through them."""
        await self.call_rate_limit()
        await self._in_call()
        await self.send_json(
            {"type": "call.credentials", "ice_servers": ice_servers(user_id=self.user.pk)}
        )

    async def on_call_leave(self, content: dict[str, Any]) -> None:
        await self.call_rate_limit()
        await self._in_call()
        await self.call_depart()
        await self.send_json({"type": "call.left", "reason": "left"})

    async def _relay(self, to: int, frame: dict[str, Any]) -> None:
        """Hand `frame` (plus `from`) to peer `to` at this connection's table, and only to it."""
        await self._in_call()
        try:
            peer, table, channel_name = await _call_target(channel_name=self.channel_name, peer=to)
        except calls.NotInCall:
            # Its seat went (pruned during a stall) before this connection heard of it.
            await self.call_left("dropped")
            raise
        await broadcast.call_frame(
            channel_names=[channel_name], table=table, frame={**frame, "from": peer}
        )

    async def on_call_offer(self, content: dict[str, Any]) -> None:
        await self.call_rate_limit()
        to, sdp = positive_int(content, "to"), _sdp(content)
        await self._relay(to, {"type": "call.offer", "sdp": sdp})

    async def on_call_answer(self, content: dict[str, Any]) -> None:
        await self.call_rate_limit()
        to, sdp = positive_int(content, "to"), _sdp(content)
        await self._relay(to, {"type": "call.answer", "sdp": sdp})

    async def on_call_ice(self, content: dict[str, Any]) -> None:
        await self.call_rate_limit()
        to, candidate = positive_int(content, "to"), _candidate(content)
        await self._relay(to, {"type": "call.ice", "candidate": candidate})

    async def on_call_media(self, content: dict[str, Any]) -> None:
        await self.call_rate_limit()
        audio, video = boolean(content, "audio"), boolean(content, "video")
        screen = boolean(content, "screen")
        await self._in_call()
        peer, table, others = await _call_media(
            channel_name=self.channel_name, audio=audio, video=video, screen=screen
        )
        await broadcast.call_frame(
            channel_names=others,
            table=table,
            frame={
                "type": "call.peer_media",
                "peer": peer,
                "audio": audio,
                "video": video,
                "screen": screen,
            },
        )

    HANDLERS: ClassVar[dict[str, Handler]] = {
        "call.join": on_call_join,
        "call.credentials": on_call_credentials,
        "call.leave": on_call_leave,
        "call.offer": on_call_offer,
        "call.answer": on_call_answer,
        "call.ice": on_call_ice,
        "call.media": on_call_media,
    }

    # Call events, sent to this connection's own channel (rooms.broadcast, "Calls") -------

    async def call_frame(self, event: dict[str, Any]) -> None:
        # A frame for a table this connection has left (a late ICE candidate) is dropped.
        if self.table is not None and event["table"] == self.table:
            await self.send(text_data=event["frame"])

    async def call_dropped(self, event: dict[str, Any]) -> None:
        if self.table is not None and event["table"] == self.table:
            await self.call_left(event["reason"])

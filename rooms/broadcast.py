"""Every broadcast to a room's sockets goes through here (group `room_<id>`), and so does
every call frame, sent to the few connections of one table (their addresses, rooms.fanout).

The functions are coroutines, awaited by consumers once their database helper has returned:
the helpers run in autocommit, so the write is committed by then and nobody hears of a
message that was rolled back. Synchronous code (a service, a Celery task, an admin action)
sends them with `on_commit(...)`, after its transaction.
"""

import asyncio
import hashlib
from collections.abc import Callable, Collection, Coroutine
from functools import partial
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from rooms import fanout
from rooms.calls import Departure
from rooms.encoding import encode
from rooms.models import Message
from rooms.presence import presence_entries
from rooms.quotes import quote_author_id, quote_data
from rooms.reactions import reactions_summary
from rooms.sockets import limits

LOBBY_GROUP = "lobby"
# Presence changes made by this process's connections wait this long and go out together;
# longer in a crowd (`presence_batch_delay`).
PRESENCE_BATCH_SECONDS = 1.0
PRESENCE_BATCH_MAX_SECONDS = 5.0
# From this many sockets of the room in the process, the wait grows with the crowd. A room
# of 1,000 keeps its second: from 500, the last of 1,000 arrivals (rooms_ramp bench) showed
# in an observer's list a second later.
PRESENCE_CROWD = 1000


def room_group(room_id: int) -> str:
    return f"room_{room_id}"


def user_group(user_id: int) -> str:
    """Every socket of a member, whatever the room: for logouts, removals and mutes."""
    return f"user_{user_id}"


def session_digest(session_key: str) -> str:
    # Session keys are credentials; the channel layer only ever carries a digest.
    return hashlib.sha256(session_key.encode()).hexdigest()


def message_data(message: Message, hidden: Collection[int] = ()) -> dict[str, Any]:
    """A message as the protocol shows it (docs/websocket-protocol.md, "The message object").
    Its `mentions` and `reply_to__author` must be loaded (`rooms.selectors.history`,
    `rooms.mentions.mentions_record`): this runs in async code too, where no query may run.
    `hidden`: whom the reader does not see, for the quote of the message it answers."""
    author = message.author
    mentions = [] if message.is_deleted else sorted(user.pk for user in message.mentions.all())
    data: dict[str, Any] = {
        "id": message.pk,
        "seq": message.seq,
        # `staff`: the page marks the team's messages, so that a member named "Moderación"
        # cannot pass for them.
        "author": {"id": author.pk, "name": author.name, "staff": author.is_staff}
        if author
        else None,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": message.is_deleted,
        "mentions": mentions,
        "reply_to": quote_data(message.reply_to, hidden),
        "question": message.is_question,
    }
    # Pages of history carry the reactions (rooms.selectors prefetches them); a new message
    # has none, and an edit leaves them as they were.
    prefetched = getattr(message, "_prefetched_objects_cache", {})
    if "reactions" in prefetched:
        data["reactions"] = reactions_summary(prefetched["reactions"], hidden)
        data["reactions_version"] = message.reactions_version
    return data


async def group_send(group: str, event: dict[str, Any]) -> None:
    """`event` to every socket in `group`, on every server process (no layer: nobody)."""
    layer = get_channel_layer()
    if layer is not None:
        await fanout.group_send(layer, group, event)


def _message_event(kind: str, message: Message) -> dict[str, Any]:
    """A message's group event: its frame encoded once and, when it answers someone, once
    more with that quote hidden, for the sockets of those on either side of a block with
    them (`quoted_id`)."""
    quoted = quote_author_id(message)
    event: dict[str, Any] = {
        "type": kind,
        "frame": encode({"type": kind, "message": message_data(message)}),
        "author_id": message.author_id,
        "quoted_id": quoted,
        "id": message.pk,
        "seq": message.seq,
    }
    if quoted is not None:
        hidden = message_data(message, hidden={quoted})
        event["frame_quote_hidden"] = encode({"type": kind, "message": hidden})
    return event


async def chat_message(*, message: Message, sender_channel: str) -> None:
    """A new message; the sending connection got its `chat.ack` instead."""
    event = _message_event("chat.message", message)
    await group_send(room_group(message.room_id), {**event, "sender_channel": sender_channel})


async def chat_edited(*, message: Message) -> None:
    await group_send(room_group(message.room_id), _message_event("chat.edited", message))


async def chat_deleted(*, message: Message) -> None:
    frame = {"type": "chat.deleted", "id": message.pk}
    await group_send(
        room_group(message.room_id),
        {"type": "chat.deleted", "frame": encode(frame), "author_id": message.author_id},
    )


async def chat_reactions(
    *, message: Message, reactions: list[dict[str, Any]], version: int, by: int
) -> None:
    """A message's reactions as they are now, numbered (`Message.reactions_version`)."""
    frame = {"type": "chat.reactions", "id": message.pk, "reactions": reactions, "version": version}
    await group_send(
        room_group(message.room_id),
        {
            "type": "chat.reactions",
            "frame": encode(frame),
            "author_id": message.author_id,
            # For the sockets of members who do not see one of those who reacted: `by`, who
            # changed them now, or one who did before.
            "reactions": reactions,
            "by": by,
        },
    )


async def presence_update(*, room_id: int, members: list[dict[str, Any]], left: list[int]) -> None:
    """Who came, changed status or left (docs/websocket-protocol.md, "Presence"). Each socket
    leaves out the members it must not see, so the event carries the lists as well as the
    ready-made frame for the common case where nobody is hidden."""
    frame = {"type": "presence.update", "members": members, "left": left}
    await group_send(
        room_group(room_id),
        {"type": "presence.update", "frame": encode(frame), "members": members, "left": left},
    )
    await group_send(LOBBY_GROUP, {"type": "lobby.changed"})


async def event_ended(*, room_id: int, title: str) -> None:
    """The event held in this room ended: its sockets invite their members to the cafeteria."""
    await group_send(room_group(room_id), {"type": "event.ended", "title": title})


async def room_closed(*, room_id: int) -> None:
    """The room closed (by hand or idle): its sockets say goodbye and close."""
    await group_send(room_group(room_id), {"type": "room.closed"})
    await group_send(LOBBY_GROUP, {"type": "lobby.changed"})


async def lobby_changed() -> None:
    """A room opened: lobby pages fetch their list again."""
    await group_send(LOBBY_GROUP, {"type": "lobby.changed"})


async def session_ended(*, user_id: int, session_key: str) -> None:
    """The member logged out of one session: the sockets opened with it close."""
    await group_send(
        user_group(user_id),
        {"type": "session.ended", "session": session_digest(session_key)},
    )


async def account_closed(*, user_id: int) -> None:
    """The account is gone (deleted or deactivated): every socket of it closes."""
    await group_send(user_group(user_id), {"type": "account.closed"})


async def password_changed(*, user_id: int) -> None:
    """Sessions opened with the old password end: every socket of the member closes."""
    await group_send(user_group(user_id), {"type": "password.changed"})


async def access_check(*, user_id: int | None = None, room_id: int | None = None) -> None:
    """Something a socket's access depends on changed (staff rights, a block, an invitation
    list): the member's sockets (or a room's) look again and close if they must go."""
    if user_id is not None:
        await group_send(user_group(user_id), {"type": "access.check"})
    if room_id is not None:
        await group_send(room_group(room_id), {"type": "access.check"})


async def member_removed(*, room_id: int, user_id: int) -> None:
    await group_send(user_group(user_id), {"type": "member.removed", "room_id": room_id})


async def member_muted(*, room_id: int, user_id: int, until: str | None) -> None:
    await group_send(
        user_group(user_id), {"type": "member.muted", "room_id": room_id, "until": until}
    )


# Calls ------------------------------------------------------------------------------------
#
# Call frames go to the channel of each connection concerned, never to the room's group:
# only the peers of one table hear them, and a thousand others in the room cost nothing. On
# the pub/sub layer a send to a channel is one PUBLISH on its name.


async def call_frame(*, channel_names: list[str], table: int, frame: dict[str, Any]) -> None:
    """Send `frame` (encoded once) to the connections `channel_names` at `table`. A
    connection that has left that table meanwhile drops it."""
    layer = get_channel_layer()
    if layer is None or not channel_names:
        return
    event = {"type": "call.frame", "table": table, "frame": encode(frame)}
    await asyncio.gather(*(fanout.send(layer, name, event) for name in channel_names))


async def call_peer_left(*, departure: Departure) -> None:
    """Tell those still at the table that a peer is gone (their tile goes)."""
    await call_frame(
        channel_names=departure.remaining,
        table=departure.table,
        frame={"type": "call.peer_left", "peer": departure.peer},
    )


async def call_dropped(*, departure: Departure, reason: str) -> None:
    """Tell the connection itself that the server took it out of its call (`replaced` by
    another connection of the member, or `dropped` after its server process went silent)."""
    layer = get_channel_layer()
    if layer is not None:
        await fanout.send(
            layer,
            departure.channel_name,
            {"type": "call.dropped", "table": departure.table, "reason": reason},
        )


# Presence batching ------------------------------------------------------------------------
#
# A join, a leave or a status change marks the member as changed in that room; the first
# mark starts a timer, and when it fires this process reads the changed members' state once
# and sends one `presence.update` for all of them. So a room hears at most one presence
# event per second per server process, however many people come and go: with 1,000 people
# arriving, that is a handful of events, not a million frames.
#
# Each batch costs a frame per socket in the whole room: with 5,000 members over two
# processes arriving at once, those frames took more of each process than the arrivals
# themselves. In a crowd the batches wait longer, up to `PRESENCE_BATCH_MAX_SECONDS`: in a
# room of thousands, someone showing up in the list a few seconds after arriving goes
# unnoticed.
#
# With several processes (Redis), a room's batches are one at a time for all of them: a
# process whose batch is due adds its changed members to the room's set in Redis and sends
# the set only if it takes the room's turn (a lease as long as its wait); otherwise it waits
# for the turn to end and tries again, unless another process has sent its members meanwhile.
# Each process sending its own batches, the room heard one per process per wait (ten
# processes, ten times the frames), and two batches read a moment apart could arrive in the
# other order, leaving the older reading on every page.


def presence_batch_delay(local_sockets: int) -> float:
    """How long a batch waits, by the number of this process's sockets in the room (a
    measure of the crowd each process can take without asking anyone): 1 s up to
    `PRESENCE_CROWD`, then growing with the crowd to the maximum at five times that."""
    crowd = max(1.0, local_sockets / PRESENCE_CROWD)
    return min(PRESENCE_BATCH_MAX_SECONDS, PRESENCE_BATCH_SECONDS * crowd)


_pending: dict[int, set[int]] = {}
_timers: dict[int, asyncio.Task[None]] = {}
# Batches waiting for their room's turn (several processes): their timer has let go.
_waiting: set[asyncio.Task[Any]] = set()


def presence_mark(*, room_id: int, user_id: int) -> None:
    """Note that `user_id`'s presence in `room_id` changed; announced within a second (a
    few in a crowd)."""
    _pending.setdefault(room_id, set()).add(user_id)
    timer = _timers.get(room_id)
    loop = asyncio.get_running_loop()
    if timer is None or timer.done() or timer.get_loop() is not loop:
        delay = presence_batch_delay(fanout.local_count(room_group(room_id)))
        _timers[room_id] = loop.create_task(_presence_flush_later(room_id, delay))


async def _presence_flush_later(room_id: int, delay: float) -> None:
    await asyncio.sleep(delay)
    # Taken before reading: a change from now on starts the next batch.
    user_ids = _pending.pop(room_id, set())
    _timers.pop(room_id, None)
    if not user_ids:
        return
    client = limits.shared_redis()
    if client is None:  # the embedded default: one process
        await presence_announce(room_id=room_id, user_ids=user_ids)
        return
    task = asyncio.current_task()
    assert task is not None
    _waiting.add(task)
    try:
        await _presence_send_in_turn(client, room_id=room_id, user_ids=user_ids, delay=delay)
    finally:
        _waiting.discard(task)


async def _presence_send_in_turn(
    client: Any, *, room_id: int, user_ids: set[int], delay: float
) -> None:
    # Run by its digest (EVALSHA), not sent whole on every look.
    turn = client.register_script(_PRESENCE_TURN)
    keys = [f"presence:pending:{room_id}", f"presence:turn:{room_id}"]
    offered: Collection[int] = user_ids
    while True:
        answer = await turn(keys=keys, args=[int(delay * 1000), *offered])
        offered = ()
        if answer[0] == b"taken":
            taken = {int(user_id) for user_id in answer[1:]}
            if taken:
                await presence_announce(room_id=room_id, user_ids=taken)
            return
        if answer[0] == b"none":  # another process sent them
            return
        # Looked at again within a quarter of a second: another process may send them first.
        await asyncio.sleep(min(max(int(answer[1]), 10), 250) / 1000)


# Offer members (ARGV from the second on) to the room's set (KEYS[1]), then take the room's
# turn (KEYS[2], ARGV[1] ms) and the whole set; or say nothing is left, or how long the
# turn has to run. The set outlives a process that dies holding the turn by a minute.
_PRESENCE_TURN = """
for i = 2, #ARGV do
    redis.call('SADD', KEYS[1], ARGV[i])
end
if #ARGV > 1 then
    redis.call('PEXPIRE', KEYS[1], 60000)
end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then
    local members = redis.call('SMEMBERS', KEYS[1])
    redis.call('DEL', KEYS[1])
    table.insert(members, 1, 'taken')
    return members
end
if redis.call('EXISTS', KEYS[1]) == 0 then
    return {'none'}
end
return {'wait', redis.call('PTTL', KEYS[2])}
"""


async def presence_announce(*, room_id: int, user_ids: set[int]) -> None:
    """Read and send the current presence of `user_ids` in the room (used by the batcher
    and by the prune task, which batches by itself)."""
    members, left = await database_sync_to_async(presence_entries)(
        room_id=room_id, user_ids=user_ids
    )
    await presence_update(room_id=room_id, members=members, left=left)


def on_commit(send: Callable[..., Coroutine[Any, Any, None]], /, **kwargs: Any) -> None:
    """Run one of the broadcasts above once the current transaction commits (at once when
    there is none), from synchronous code: services, tasks, admin actions, signal handlers.
    Nobody hears of a write that was rolled back."""
    transaction.on_commit(partial(async_to_sync(send), **kwargs))

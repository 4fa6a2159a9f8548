"""Budgets that span all of a member's sockets, on every server process: how many sockets a
member may hold at once, and how many frames of each kind they may send per window. Opening
150 tabs must not buy 150 chat budgets.

They live in Redis when REDIS_URL is set (several server processes share them), else in this
process: the embedded default runs a single one. Either way a socket's claim expires unless
its process's sweep (rooms.liveness) renews it, so a process that dies frees its members'
places within `CLAIM_TTL`.
"""

import asyncio
import time
import weakref
from collections.abc import Iterable

from django.conf import settings
from redis import asyncio as aioredis

from rooms.presence import PRESENCE_TTL

# Every page of a member holds one socket (`/ws/me/`), and a room's page a second one: ten
# tabs in rooms.
MAX_SOCKETS = 20
CLAIM_TTL = PRESENCE_TTL.total_seconds()
# Frames per member per kind within one window, across all of the member's sockets.
WINDOW_SECONDS = 10
BUDGETS = {
    # Sending, editing and deleting messages, and moderation.
    "chat": 10,
    # History pages and catching up after reconnecting.
    "history": 20,
    # Status changes.
    "presence": 10,
    # Private messages (conversations.consumers).
    "messages": 20,
    # "Typing" and "read" in conversations: each page sends them as the member types and
    # reads, at most one "typing" every 2 s per conversation.
    "signals": 60,
    # Call signalling: setting up a call with five peers takes a few dozen frames.
    "calls": 300,
    # Sitting down at a table (`call.join`), within `calls`: each join sets up a connection
    # with every peer and is said aloud on their pages, so joining and leaving in a loop
    # would keep a whole table busy.
    "call_joins": 4,
}

# Claim a place if there is one, atomically: drop expired claims, count, add.
_CLAIM = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
    redis.call('EXPIRE', KEYS[1], ARGV[5])
    return 1
end
return 0
"""

# Renew claims, many in one command: KEYS are the members' keys, ARGV the new expiry, the
# keys' lifetime, then each key's channel name in KEYS' order. One sweep renews all of a
# web process's sockets: as a pipeline of two commands a socket, packing and parsing 5,000
# of them held the event loop for 65 ms at 2,500 sockets (its broadcasts waited). The keys
# of one call may live on different shards: a Redis Cluster would refuse it (one Redis, or
# channels-redis' own sharding, which leaves this client alone, is what the site uses).
_RENEW = """
for i, key in ipairs(KEYS) do
    redis.call('ZADD', key, ARGV[1], ARGV[i + 2])
    redis.call('EXPIRE', key, ARGV[2])
end
return #KEYS
"""
# Claims per call of _RENEW: each call is short for Redis too (it serves no one else
# while a script runs).
RENEW_BATCH = 500

# Connections to Redis per event loop. A crowd leaving or arriving at once (a web process
# restarting, a proxy dropping its connections) makes thousands of calls in the same instant:
# they wait here for a free connection, up to REDIS_WAIT_SECONDS, rather than fail (redis-py's
# own pool refuses the call past its hundredth connection). Redis serves one command at a
# time, so more connections would not serve them sooner.
REDIS_CONNECTIONS = 20
REDIS_WAIT_SECONDS = 10

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
    weakref.WeakKeyDictionary()
)
# The embedded default's budgets: {user_id: {channel_name: expires}}, {key: (window, count)}.
_local_claims: dict[int, dict[str, float]] = {}
_local_counts: dict[str, tuple[int, int]] = {}
# {(user_id, kind): window} of the budgets this process has seen spent: a member flooding
# past a budget is refused without a trip to Redis until the window ends.
_spent: dict[tuple[int, str], int] = {}


def shared_redis() -> aioredis.Redis | None:
    """This event loop's client of the Redis that server processes share, None in the
    embedded default (one process)."""
    if not settings.REDIS_URL:
        return None
    # A client belongs to the event loop it was made on.
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.REDIS_URL,
            max_connections=REDIS_CONNECTIONS,
            timeout=REDIS_WAIT_SECONDS,
            socket_timeout=2,
        )
        client = aioredis.Redis.from_pool(pool)
        _clients[loop] = client
    return client


def _sockets_key(user_id: int) -> str:
    return f"sockets:member:{user_id}"


async def socket_claim(*, user_id: int, channel_name: str) -> bool:
    """Take one of the member's `MAX_SOCKETS` places for this connection; False when all are
    taken."""
    now = time.time()
    client = shared_redis()
    if client is None:
        claims = _local_claims.setdefault(user_id, {})
        for name, expires in list(claims.items()):
            if expires <= now:
                del claims[name]
        if channel_name not in claims and len(claims) >= MAX_SOCKETS:
            return False
        claims[channel_name] = now + CLAIM_TTL
        return True
    claimed = await client.eval(  # type: ignore[misc]
        _CLAIM,
        1,
        _sockets_key(user_id),
        now,
        now + CLAIM_TTL,
        channel_name,
        MAX_SOCKETS,
        int(CLAIM_TTL) * 2,
    )
    return bool(claimed)


async def socket_release(*, user_id: int, channel_name: str) -> None:
    client = shared_redis()
    if client is None:
        _local_claims.get(user_id, {}).pop(channel_name, None)
        return
    await client.zrem(_sockets_key(user_id), channel_name)


async def sockets_renew(*, claims: Iterable[tuple[int, str]]) -> None:
    """Keep this process's connections' claims `(user_id, channel_name)` from expiring."""
    expires = time.time() + CLAIM_TTL
    client = shared_redis()
    if client is None:
        for user_id, name in claims:
            _local_claims.setdefault(user_id, {})[name] = expires
        return
    pending = list(claims)
    for start in range(0, len(pending), RENEW_BATCH):
        batch = pending[start : start + RENEW_BATCH]
        keys = [_sockets_key(user_id) for user_id, _name in batch]
        names = [name for _user_id, name in batch]
        await client.eval(_RENEW, len(keys), *keys, expires, int(CLAIM_TTL) * 2, *names)  # type: ignore[misc]


async def frame_allowed(*, user_id: int, kind: str) -> bool:
    """Count one frame of `kind` (a key of BUDGETS) against the member's budget for the
    current window; False once it is spent. Fixed windows: a burst may straddle two."""
    window = _window()
    if _spent.get((user_id, kind)) == window:
        return False
    key = f"frames:member:{user_id}:{kind}:{window}"
    client = shared_redis()
    if client is None:
        _window_seen, count = _local_counts.get(key, (window, 0))
        if len(_local_counts) > 10_000:
            _forget_old_windows(window)
        _local_counts[key] = (window, count + 1)
        allowed = count < BUDGETS[kind]
    else:
        async with client.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS * 2)
            count, _expiry = await pipe.execute()
        allowed = int(count) <= BUDGETS[kind]
    if not allowed:
        if len(_spent) > 10_000:
            for spent_key, seen in list(_spent.items()):
                if seen < window - 1:
                    del _spent[spent_key]
        _spent[(user_id, kind)] = window
    return allowed


def ran_dry_lately(*, user_id: int, kind: str) -> bool:
    """Did this process see the member's budget for `kind` spent in this window or the last?"""
    return _spent.get((user_id, kind), -2) >= _window() - 1


def _window() -> int:
    return int(time.time() // WINDOW_SECONDS)


def _forget_old_windows(window: int) -> None:
    for key, (seen, _count) in list(_local_counts.items()):
        if seen < window:
            del _local_counts[key]

"""Django's Redis cache with one client, so one pool of connections, per process.

Under ASGI each request has its own `caches["default"]` (Django keeps cache objects in a
context-local, and every request runs in its own context), and each RedisCache object
builds its own client and pool: every request that touched the cache (any signed-in page
reads its session there) opened a new connection to Redis and dropped it at the end
(Django pull request #18459). Clients are thread-safe, so the process shares one per
location and options.

Django's client also builds a new `redis.Redis` for every operation, whose constructor
fills a table of about 170 response callbacks: 0.1 ms of Python per cache read, as much as
the round trip to Redis. The shared client keeps one per server instead.
"""

import threading
from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[tuple[str, str], RedisCacheClient] = {}
_clients_lock = threading.Lock()


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._redis_clients: dict[int, redis.Redis] = {}  # by the server's index

    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._redis_clients.get(index)
        if client is None:
            # Once per server and process, locked: two first requests at once would each
            # build a pool (Django's client fills its `_pools` unlocked).
            with _clients_lock:
                client = self._redis_clients.get(index)
                if client is None:
                    pools = self._pools  # type: ignore[attr-defined]
                    if index not in pools:
                        pools[index] = self._pool_class.from_url(  # type: ignore[attr-defined]
                            self._servers[index],  # type: ignore[attr-defined]
                            **self._pool_options,  # type: ignore[attr-defined]
                        )
                    client = self._client(connection_pool=pools[index])  # type: ignore[attr-defined]
                    self._redis_clients[index] = client
        return client


class SharedRedisCache(RedisCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
        self._shared_key = (str(server), repr(sorted(params.get("OPTIONS", {}).items())))

    @cached_property
    def _cache(self) -> RedisCacheClient:
        with _clients_lock:
            if self._shared_key not in _clients:
                _clients[self._shared_key] = RedisCache._cache.func(self)  # type: ignore[attr-defined]
            return _clients[self._shared_key]

"""Django's Redis cache with one client, so one pool of connections, per process.

Under ASGI each request has its own `caches["default"]` (Django keeps cache objects in a
context-local, and every request runs in its own context), and each RedisCache object
builds its own client and pool: every request that touched the cache (any signed-in page
reads its session there) opened a new connection to Redis and dropped it at the end
(Django pull request #18459). Clients are thread-safe, so the process shares one per
location and options.
"""

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[tuple[str, str], RedisCacheClient] = {}
_clients_lock = threading.Lock()


class SharedRedisCache(RedisCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._shared_key = (str(server), repr(sorted(params.get("OPTIONS", {}).items())))

    @cached_property
    def _cache(self) -> RedisCacheClient:
        with _clients_lock:
            if self._shared_key not in _clients:
                _clients[self._shared_key] = RedisCache._cache.func(self)  # type: ignore[attr-defined]
            return _clients[self._shared_key]

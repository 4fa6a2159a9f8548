from django.core.cache import caches


def test_every_request_s_cache_shares_one_redis_client_and_its_connections() -> None:
    # Under ASGI each request builds its own cache object: two stand for two requests.
    first = caches.create_connection("default")
    second = caches.create_connection("default")

    first.set("shared", "from the first request")
    client = first._cache.get_client()  # type: ignore[attr-defined]
    opened = client.connection_pool._created_connections
    for _ in range(20):
        assert second.get("shared") == "from the first request"

    assert second._cache.get_client() is client  # type: ignore[attr-defined]
    assert first._cache.get_client(write=True) is client  # type: ignore[attr-defined]
    # Sequential operations reuse a connection rather than opening one each.
    assert client.connection_pool._created_connections == opened

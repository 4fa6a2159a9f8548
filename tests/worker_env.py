"""Give each pytest-xdist worker its own Redis database and channel-layer prefix.

Loaded with `-p tests.worker_env` (pyproject's addopts), so it runs before pytest-django reads
the settings. Each worker gets its own test database (`test_<name>_gw0`, copied from one migrated
template by `django_db_setup` in tests/conftest.py);
Redis needs the same care: every worker flushes its database at start, runs Celery workers on it
as a broker, and publishes to channel groups (pub/sub ignores database numbers, hence the prefix).
Server and worker processes that tests start inherit these variables.
"""

import os
from urllib.parse import urlsplit, urlunsplit

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_redis_url = os.environ.get("REDIS_URL", "")

if _worker.startswith("gw") and _redis_url:
    number = int(_worker.removeprefix("gw"))
    url = urlsplit(_redis_url)
    base = int(url.path.strip("/") or 0)
    # Redis has 16 databases: the run's own number, then one per worker after it.
    database = (base + 1 + number) % 16
    os.environ["REDIS_URL"] = urlunsplit(url._replace(path=f"/{database}"))
    prefix = os.environ.get("CHANNEL_LAYER_PREFIX", "asgi")
    os.environ["CHANNEL_LAYER_PREFIX"] = f"{prefix}{_worker}"

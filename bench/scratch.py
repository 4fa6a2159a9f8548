"""What the benchmarks that need a big database share: a scratch PostgreSQL database made
afresh and migrated, a worker process running the benchmark module against it, and a fast
bulk insert with COPY."""

import fcntl
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


# Every benchmark's database is a copy of this one, migrated once per run of bench/run.py:
# a migration from scratch takes 15-35 s here, a copy about one.
TEMPLATE = "coworking_bench_template"
_template_ready = False


def _psql(statement: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", statement],
        env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
        check=True,
        capture_output=True,
    )


def bench_env(database_url: str) -> dict[str, str]:
    """The environment of a benchmark's Django processes (no Redis unless it sets one)."""
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "x" * 50,
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
    }


def template_migrate(server: str = "postgres://postgres@127.0.0.1:5432") -> None:
    """Bring the template on `server` up to date, once per run of bench/run.py."""
    global _template_ready
    if _template_ready:
        return
    exists = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-qAtc",
            f"SELECT 1 FROM pg_database WHERE datname = '{TEMPLATE}'",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not exists:
        _psql(f"CREATE DATABASE {TEMPLATE}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=bench_env(f"{server}/{TEMPLATE}"),
        check=True,
        capture_output=True,
    )
    _template_ready = True


def fresh_database(database_url: str) -> None:
    """Drop the database of `database_url` and make it again, migrated: a copy of the
    template (`template_migrate`)."""
    server, name = database_url.rsplit("/", 1)
    template_migrate(server)
    # Quick mode runs benchmarks side by side: PostgreSQL refuses to copy a template while
    # another copy of it is being made.
    with open(Path(tempfile.gettempdir()) / "coworking-bench-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        _psql(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")


def scratch_run(
    *, module: str, database_url: str, env: dict[str, str], timeout: float | None = None
) -> str:
    """Make the database of `database_url` afresh (`fresh_database`), then run
    `python -m <module>` against it with `env` on top of the defaults; returns its output."""
    fresh_database(database_url)
    result = subprocess.run(
        [sys.executable, "-m", module],
        cwd=ROOT,
        env={**bench_env(database_url), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode:
        sys.stderr.write(result.stderr)
        result.check_returncode()
    return result.stdout.strip()


def copy_rows(model: Any, objects: Iterable[Any]) -> int:
    """Insert model instances with COPY, every concrete column, ids included. Runs in the
    worker process, with Django set up."""
    from django.db import connection

    fields = list(model._meta.concrete_fields)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for obj in objects:
            copy.write_row(
                [
                    field.get_db_prep_save(getattr(obj, field.attname), connection)
                    for field in fields
                ]
            )
            count += 1
    return count

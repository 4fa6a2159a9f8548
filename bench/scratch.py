"""What the benchmarks that need a big database share: a scratch PostgreSQL database made
afresh and migrated, a worker process running the benchmark module against it, and a fast
bulk insert with COPY."""

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def scratch_run(
    *, module: str, database_url: str, env: dict[str, str], timeout: float | None = None
) -> str:
    """Drop and create the database of `database_url`, migrate it, then run
    `python -m <module>` against it with `env` on top of the defaults; returns its output."""
    name = database_url.rsplit("/", 1)[1]
    for statement in (f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"):
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", statement],
            check=True,
            capture_output=True,
        )
    full_env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "x" * 50,
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=full_env,
        check=True,
        capture_output=True,
    )
    result = subprocess.run(
        [sys.executable, "-m", module],
        cwd=ROOT,
        env=full_env,
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
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

"""Squashed migrations (docs/deploy.md, "Upgrading"): each app's migrations up to 2026-12-06
are one migration now, and their files are gone. A database that ran all of those a squashed
migration replaces is marked as having run it; a new database runs it. A database that ran
only some of them (an older release) would be marked as having run none of the app's
migrations, and `migrate` would carry on without a word: this check stops it first."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Tags, register
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

# The last commit that still has the migrations squashed on 2026-12-06.
LAST_RELEASE_BEFORE_SQUASH = "84bd0ad"


@register(Tags.database)
def squashed_history_check(
    *, app_configs: Sequence[AppConfig] | None, databases: Sequence[str] | None, **kwargs: Any
) -> list[CheckMessage]:
    """An error for each squashed migration the database ran only part of (`migrate` runs
    the database checks before it plans)."""
    errors: list[CheckMessage] = []
    for alias in databases or []:
        recorder = MigrationRecorder(connections[alias])
        if not recorder.has_table():
            continue
        applied = set(recorder.applied_migrations())
        files = MigrationLoader(None, ignore_no_migrations=True)
        for (app, name), migration in sorted(files.replacements.items()):
            ran = [key for key in migration.replaces if tuple(key) in applied]
            if ran and len(ran) < len(migration.replaces):
                errors.append(
                    Error(
                        f"The database {alias!r} ran {len(ran)} of the {len(migration.replaces)}"
                        f" migrations that {app} {name} replaces: it is at an older release.",
                        hint=(
                            f"Upgrade to commit {LAST_RELEASE_BEFORE_SQUASH} first, run"
                            " `manage.py migrate` there, then come back to this release"
                            " (docs/deploy.md, Upgrading)."
                        ),
                        id="core.E001",
                    )
                )
    return errors

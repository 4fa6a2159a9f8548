"""Each app's migrations up to 2026-12-06 are squashed into one (core/migration_history.py):
a database of the last release before it carries on; one of an older release is stopped."""

from collections.abc import Sequence
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

Recorded = MigrationRecorder.Migration

pytestmark = pytest.mark.django_db


def _squashed() -> dict[tuple[str, str], Sequence[tuple[str, str]]]:
    files = MigrationLoader(None, ignore_no_migrations=True)
    return {key: migration.replaces for key, migration in files.replacements.items()}


def test_a_database_of_the_last_release_has_nothing_to_run_and_counts_as_squashed() -> None:
    squashed = _squashed()
    assert ("members", "0001_squashed_0019_user_avatar_thumbnail") in squashed
    # As that release left it: the replaced migrations recorded, not the squashed ones.
    for app, name in squashed:
        Recorded.objects.filter(app=app, name=name).delete()
    for replaced in squashed.values():
        for app, name in replaced:
            Recorded.objects.get_or_create(app=app, name=name)

    out = StringIO()
    call_command("migrate", "--plan", skip_checks=False, stdout=out)

    assert "No planned migration operations." in out.getvalue()
    assert set(squashed) <= set(MigrationLoader(connection).applied_migrations)


def test_a_database_of_an_older_release_is_stopped_before_migrate_plans() -> None:
    Recorded.objects.filter(app="members", name="0019_user_avatar_thumbnail").delete()
    Recorded.objects.filter(app="members", name="0001_squashed_0019_user_avatar_thumbnail").delete()

    with pytest.raises(SystemCheckError) as refused:
        # As from the command line: call_command leaves the checks out unless asked.
        call_command("migrate", "--plan", skip_checks=False, stdout=StringIO())

    message = str(refused.value)
    assert "core.E001" in message
    assert "ran 18 of the 19 migrations that members 0001_squashed_0019" in message
    assert "Upgrade to commit 84bd0ad first" in message

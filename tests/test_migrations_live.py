"""Migrations run on a live database while the site serves (docs/deploy.md, "Upgrading"):
the code of the release before keeps serving until the new processes are up, and the big
tables (messages, notifications, presence) stay writable."""

from django.db import connection, migrations
from django.db.migrations.loader import MigrationLoader
from django.db.models import NOT_PROVIDED

from core.schema import AddIndexWithoutLocking

OWN_APPS = {
    *("members", "matching", "rooms", "events", "conversations", "stage", "focus"),
    *("newsletter", "notifications", "dashboard", "moderation", "core", "demo"),
}
# Released before these rules were written down: stage 0004 gave that column its default
# in the database; the two indexes went onto tables that were small then.
RELEASED_BEFORE = {
    ("stage", "0003_stage_version"),
    ("conversations", "0012_conversation_last_message_index"),
    ("rooms", "0016_room_open_listed_index"),
}


def _operations[Kind: migrations.operations.base.Operation](
    kind: type[Kind],
) -> list[tuple[str, str, Kind]]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return [
        (app, name, operation)
        for (app, name), migration in sorted(loader.disk_migrations.items())
        if app in OWN_APPS and (app, name) not in RELEASED_BEFORE
        for operation in migration.operations
        if type(operation) is kind
    ]


def test_a_column_added_to_a_table_can_be_left_out_by_the_code_before_and_adds_no_check() -> None:
    """NOT NULL without a default in the database: the release before, still serving, fails
    to insert rows. A CHECK (a Positive...Field's, on the suite's PostgreSQL): PostgreSQL
    reads the whole table while it holds the lock that stops every reader and writer."""
    added = _operations(migrations.AddField)
    assert added  # the rule reads the migrations it means to
    wrong = [
        f"{app} {name}: {operation.model_name}.{operation.name}"
        for app, name, operation in added
        if not operation.field.many_to_many
        and (
            (not operation.field.null and operation.field.db_default is NOT_PROVIDED)
            or operation.field.db_check(connection=connection)
        )
    ]
    assert wrong == []


def test_an_index_added_to_a_table_is_built_without_stopping_its_writes() -> None:
    plain = [f"{app} {name}" for app, name, _op in _operations(migrations.AddIndex)]
    assert plain == [], f"use {AddIndexWithoutLocking.__module__}.AddIndexWithoutLocking"


# Operations that lock a table for as long as it takes to read or rewrite it, or that take
# away what the release before still reads: a constraint added checks every row; a column
# altered may rewrite the table; a column, table or name removed or renamed breaks the code
# still serving. Each needs its own plan (a NOT VALID constraint validated later, two
# releases for a removal), written in its migration and allowed here by name.
LOCKING_OR_BREAKING = (
    migrations.AddConstraint,
    migrations.AlterField,
    migrations.RemoveField,
    migrations.RenameField,
    migrations.DeleteModel,
    migrations.RenameModel,
    migrations.AlterModelTable,
)
PLANNED = {
    # A default in the database for a column that already had one in Python: no rewrite.
    ("stage", "0004_stage_version_db_default"),
}


def test_no_migration_rewrites_under_lock_or_removes_what_is_still_read() -> None:
    risky = [
        f"{app} {name}: {type(operation).__name__}"
        for kind in LOCKING_OR_BREAKING
        for app, name, operation in _operations(kind)
        if (app, name) not in PLANNED
    ]
    # A column added with an index, a uniqueness or a foreign key builds the index (and
    # checks the key over the whole table) under the lock that stops every write.
    risky += [
        f"{app} {name}: {operation.model_name}.{operation.name} indexed"
        for app, name, operation in _operations(migrations.AddField)
        if not operation.field.many_to_many
        # (db_index is a field's attribute the type stubs leave out.)
        and (
            getattr(operation.field, "db_index", False)
            or operation.field.unique
            or operation.field.is_relation
        )
    ]
    assert risky == []


def test_what_fills_a_table_after_migrate_does_nothing_once_migrate_took_the_table_away(
    db: None,
) -> None:
    """`migrate <app> zero` (a rollback) sends post_migrate too, with the app's tables gone:
    the receivers that make the cafeteria, the languages and the programmes must not look."""
    from django.db.migrations.state import ProjectState
    from django.test.utils import CaptureQueriesContext

    from matching.apps import community_programme_ensure
    from members.apps import languages_ensure
    from rooms.apps import cafeteria_ensure

    none_migrated = ProjectState().apps
    for receiver in (cafeteria_ensure, languages_ensure, community_programme_ensure):
        with CaptureQueriesContext(connection) as captured:
            receiver(apps=none_migrated)
        assert len(captured) == 0, receiver.__name__

"""Schema changes that big tables need made without stopping writes."""

from typing import Any

from django.db import migrations


def _without_locking(schema_editor: Any) -> dict[str, bool]:
    # PostgreSQL builds and drops the index concurrently; SQLite has one writer anyway.
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


class AddIndexWithoutLocking(migrations.AddIndex):
    """`AddIndex` that lets writes go on while the index is built: on PostgreSQL with
    CREATE INDEX CONCURRENTLY, so the migration holding it must set `atomic = False`;
    elsewhere as usual."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, **_without_locking(schema_editor))

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, **_without_locking(schema_editor))

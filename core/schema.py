"""Schema changes that big tables need made without stopping writes."""

from typing import Any

from django.db import migrations


class AddIndexWithoutLocking(migrations.AddIndex):
    """`AddIndex` that lets writes go on while the index is built: on PostgreSQL with
    CREATE INDEX CONCURRENTLY, so the migration holding it must set `atomic = False`;
    elsewhere (SQLite, with its one writer at a time) as usual."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.add_index(model, self.index, concurrently=True)
            else:
                schema_editor.add_index(model, self.index)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.remove_index(model, self.index, concurrently=True)
            else:
                schema_editor.remove_index(model, self.index)

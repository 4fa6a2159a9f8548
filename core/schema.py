"""Schema changes that big tables need made without stopping writes."""

from typing import Any

from django.db import migrations


class AddIndexWithoutLocking(migrations.AddIndex):
    """`AddIndex` that lets writes go on while the index is built: on PostgreSQL with
    CREATE INDEX CONCURRENTLY, so the migration holding it must set `atomic = False`;
    elsewhere as usual."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        self._change(app_label, schema_editor, to_state, schema_editor.add_index)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        self._change(app_label, schema_editor, from_state, schema_editor.remove_index)

    def _change(self, app_label: str, schema_editor: Any, state: Any, change: Any) -> None:
        model = state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            # PostgreSQL builds and drops the index concurrently; SQLite has one writer.
            postgresql = schema_editor.connection.vendor == "postgresql"
            change(model, self.index, **({"concurrently": True} if postgresql else {}))


def is_migrated(model: str, post_migrate_kwargs: dict[str, Any]) -> bool:
    """Whether `model` ("app_label.ModelName") has its table after the `migrate` that sent
    post_migrate: `migrate <app> zero` sends it too, with that app's tables gone, and a
    receiver that fills them must then do nothing."""
    apps = post_migrate_kwargs.get("apps")
    if apps is None:  # a test database's flush: everything is there
        return True
    try:
        apps.get_model(model)
    except LookupError:
        return False
    return True

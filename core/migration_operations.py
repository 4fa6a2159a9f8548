"""Migration operations of the project's own (imported by migrations: keep the names)."""

from typing import Any

from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation, OperationCategory
from django.db.migrations.state import ProjectState
from django.db.models import Field


class LabelFields(Operation):
    """Fields changed in what no table stores (their verbose names), each given whole as
    AlterField takes it: `LabelFields({"model": {"field": models.ForeignKey(...)}})`.

    AlterField re-renders every model related to the field's model, once per field. For a
    key to the member model that is most of the project, and a migration that names a few
    dozen keys rendered it a few dozen times, in every fresh migrate (the tests' databases
    included). This one changes the fields, then re-renders their models together, once."""

    category = OperationCategory.ALTERATION
    reduces_to_sql = False
    reversible = True

    def __init__(self, fields: dict[str, dict[str, Field[Any, Any]]]) -> None:
        self.fields = fields
        super().__init__()

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__qualname__, [], {"fields": self.fields})

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        for model_name, fields in self.fields.items():
            model_key = (app_label, model_name)
            model_fields = state.models[model_key].fields
            # The state's index of relations, once built (Django's private attribute, which
            # ProjectState.alter_field keeps up to date as below).
            indexed = getattr(state, "_relations", None) is not None
            for name, field in fields.items():
                # In alter_field's order: the index follows whether the field is in the model.
                old = model_fields.pop(name)
                if indexed and old.is_relation:
                    state.resolve_model_field_relations(model_key, name, old)
                model_fields[name] = field
                if indexed and field.is_relation:
                    state.resolve_model_field_relations(model_key, name, field)
        state.reload_models([(app_label, model_name) for model_name in self.fields], delay=True)

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        """Nothing: no table stores a label."""

    database_backwards = database_forwards

    def describe(self) -> str:
        return f"Label fields of {', '.join(self.fields)}"

    @property
    def migration_name_fragment(self) -> str:
        return "labels"

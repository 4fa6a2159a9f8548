"""The project's own migration operations (core/migration_operations.py), on the migrations'
own states: no database."""

from django.db.migrations.loader import MigrationLoader

from core.migration_operations import LabelFields


def test_label_fields_changes_labels_keeps_the_index_of_relations_and_renders_them() -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    state = loader.project_state(("stage", "0001_initial"))
    state.apps  # rendered, as when a migration runs  # noqa: B018
    state.relations  # the index of relations built, as some operations do  # noqa: B018
    [operation] = loader.get_migration("stage", "0002_relation_names").operations
    assert isinstance(operation, LabelFields)

    operation.state_forwards("stage", state)

    field = state.models["stage", "hand"].fields["user"]
    assert field.verbose_name == "user"
    assert state.relations["members", "user"]["stage", "hand"]["user"] is field
    rendered = state.apps.get_model("stage", "Hand")._meta.get_field("user")
    assert rendered.verbose_name == "user"
    assert rendered.related_model is state.apps.get_model("members", "User")
    assert operation.describe() == "Label fields of attendance, hand, mediasession, speaker"

"""Members' uploaded files (photos, attachments): what the apps share about them."""

from django.db import transaction
from django.db.models.fields.files import FieldFile


def files_delete_on_commit(*files: FieldFile) -> None:
    """Take `files` off their rows' instances, and out of storage once the transaction
    commits: a rollback leaves its rows pointing at files that are still there. Outside a
    transaction, at once."""
    doomed = [(file.storage, file.name) for file in files if file and file.name]
    for file in files:
        if file:
            setattr(file.instance, file.field.attname, None)

    def delete() -> None:
        for storage, name in doomed:
            storage.delete(name)

    transaction.on_commit(delete)

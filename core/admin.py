"""What the apps' admins share (no model of core's is registered here)."""

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the site records by itself (visits, answers, deliveries, pairs, the languages of
    the code's list): staff list and read them, and add, change or delete none. What each
    keeps, and why, its admin says."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RefusesDeleting:
    """For a model admin whose rows may be deleted only when nothing is lost with them: the
    delete page and the "Delete selected" action both list each row `deletion_refused`
    gives a reason for, and delete nothing while there is one (Django's own "cannot
    delete" page)."""

    # Models that go with a deleted row though staff delete none by itself (its answers,
    # its deliveries), or whose refusal the reasons say better than "you lack the right to
    # delete them": their missing permission is left out of the page.
    reasons_cover: tuple[type[Model], ...] = ()

    def deletion_refused(self, obj: Any) -> str | None:
        """Why `obj` is not deleted, or None."""
        return None

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        deleted, counts, needed, protected = super().get_deleted_objects(  # type: ignore[misc]
            objs, request
        )
        for model in self.reasons_cover:
            needed.discard(str(model._meta.verbose_name))
        protected.extend(reason for obj in objs if (reason := self.deletion_refused(obj)))
        return deleted, counts, needed, protected

"""What the apps' admins share (no model of core's is registered here)."""

from typing import Any

from django.contrib import admin
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

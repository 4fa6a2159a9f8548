from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from members import services
from members.models import Acquaintance, Block, Interest, Language, Profile, Report, User


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    autocomplete_fields = ["interests"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [ProfileInline]
    ordering = ["email"]
    list_display = ["email", "display_name", "time_zone", "is_active", "is_staff", "date_joined"]
    list_filter = ["is_active", "is_staff", "language", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "display_name", "first_name", "last_name"]
    readonly_fields = ["deleted_at"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            _("Person"),
            {"fields": ("display_name", "first_name", "last_name", "time_zone", "language")},
        ),
        (
            _("Email notifications"),
            {
                "fields": (
                    "email_pairing",
                    "email_event_reminders",
                    "email_mentions",
                    "email_digest",
                )
            },
        ),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined", "deleted_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Interest)
class InterestAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ["code", "__str__"]
    search_fields = ["code"]


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["created_at", "reason", "reported", "reporter", "status", "handled_at"]
    list_filter = ["status", "reason"]
    search_fields = [
        "details",
        "subject",
        "reported__email",
        "reported__display_name",
        "reporter__email",
        "reporter__display_name",
    ]
    list_select_related = ["reported", "reporter"]
    date_hierarchy = "created_at"
    fields = [
        "reporter",
        "reported",
        "reason",
        "subject",
        "details",
        "created_at",
        "status",
        "staff_note",
        "handled_at",
    ]
    readonly_fields = [
        "reporter",
        "reported",
        "reason",
        "subject",
        "details",
        "created_at",
        "handled_at",
    ]
    actions = ["mark_dismissed", "mark_actioned"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Reports come from members; staff only handle them.
        return False

    def save_model(
        self, request: HttpRequest, obj: Report, form: forms.ModelForm[Report], change: bool
    ) -> None:
        if change and "status" in form.changed_data:
            obj.handled_at = None if obj.status == Report.Status.OPEN else timezone.now()
        super().save_model(request, obj, form, change)

    def _resolve(self, request: HttpRequest, queryset: QuerySet[Report], status: str) -> None:
        count = services.reports_resolve(reports=queryset, status=status)
        self.message_user(
            request,
            ngettext("%(count)d report updated.", "%(count)d reports updated.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Mark dismissed"), permissions=["change"])
    def mark_dismissed(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._resolve(request, queryset, Report.Status.DISMISSED)

    @admin.action(description=_("Mark actioned"), permissions=["change"])
    def mark_actioned(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._resolve(request, queryset, Report.Status.ACTIONED)


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    """Read only: a block is the member's own decision, staff only look."""

    list_display = ["blocker", "blocked", "created_at"]
    list_select_related = ["blocker", "blocked"]
    search_fields = ["blocker__email", "blocked__email"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Block | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Block | None = None) -> bool:
        return False


@admin.register(Acquaintance)
class AcquaintanceAdmin(admin.ModelAdmin):
    """Who met whom. The private note is left out: only its owner may read it."""

    list_display = ["owner", "other", "how", "first_met_at", "last_met_at"]
    list_filter = ["how"]
    list_select_related = ["owner", "other"]
    search_fields = ["owner__email", "other__email", "context"]
    fields = ["owner", "other", "how", "context", "first_met_at", "last_met_at"]
    readonly_fields = ["owner", "other", "how", "context", "first_met_at", "last_met_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from notifications.models import Digest, Notification, Preference, PushSubscription, QuietHours


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Millions of rows: no date drill-down (a DISTINCT over the whole table), newest first by
    the primary key (no index sorts by date), no exact count, found by the member's address."""

    list_display = ["created_at", "user", "kind", "text", "in_app", "for_digest", "read_at"]
    list_filter = ["kind", "in_app", "for_digest", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["=user__email"]
    search_help_text = _("The member's email address, exactly.")
    list_select_related = ["user"]
    ordering = ["-id"]
    show_full_result_count = False
    # `about` (members) too: as a form field it listed every member.
    readonly_fields = [field.name for field in Notification._meta.fields] + ["about"]
    raw_id_fields = ["user"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "channel", "push"]
    list_filter = ["kind", "channel", "push"]
    search_fields = ["user__email", "user__display_name"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = ["week", "user", "sent_at", "skipped"]
    list_filter = ["week", "skipped"]
    search_fields = ["user__email", "user__display_name"]
    list_select_related = ["user"]
    ordering = ["-id"]
    show_full_result_count = False
    readonly_fields = ["user", "week", "sent_at", "skipped", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin):
    """Devices are added by their browsers only; staff may look, and remove one."""

    list_display = ["created_at", "user", "device", "last_push_at"]
    search_fields = ["user__email", "user__display_name", "device"]
    list_select_related = ["user"]
    exclude = ["p256dh", "auth", "session_key"]
    raw_id_fields = ["user"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return ["user", "endpoint", "device", "created_at", "last_push_at"]


@admin.register(QuietHours)
class QuietHoursAdmin(admin.ModelAdmin):
    list_display = ["user", "start", "end"]
    search_fields = ["user__email", "user__display_name"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]

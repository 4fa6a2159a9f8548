from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from focus.models import FocusBlock, Seat


class SeatInline(admin.TabularInline):
    model = Seat
    extra = 0
    fields = ("user", "booked_at", "dropped_in", "cancelled_at", "table", "outcome")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(FocusBlock)
class FocusBlockAdmin(admin.ModelAdmin):
    list_display = ("starts_at", "title", "minutes", "capacity", "booked", "cancelled_at")
    list_filter = ("minutes",)
    date_hierarchy = "starts_at"
    search_fields = ("title",)
    raw_id_fields = ("created_by",)
    inlines = [SeatInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[FocusBlock]:
        return (
            super()
            .get_queryset(request)
            .annotate(booked=Count("seats", filter=Q(seats__cancelled_at__isnull=True)))
        )

    @admin.display(description=_("booked"), ordering="booked")
    def booked(self, block: FocusBlock) -> int:
        return block.booked  # type: ignore[attr-defined]

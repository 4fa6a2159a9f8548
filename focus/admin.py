from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from focus.models import FocusBlock, FocusMember, FocusSeries, Seat
from focus.standing import no_shows_reset


class SeatInline(admin.TabularInline):
    model = Seat
    extra = 0
    fields = (
        "user",
        "booked_at",
        "dropped_in",
        "cancelled_at",
        "arrived_at",
        "no_show",
        "table",
        "outcome",
    )
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(FocusBlock)
class FocusBlockAdmin(admin.ModelAdmin):
    list_display = ("starts_at", "title", "minutes", "capacity", "booked", "cancelled_at")
    list_filter = ("minutes", "series")
    date_hierarchy = "starts_at"
    search_fields = ("title",)
    raw_id_fields = ("created_by", "room")
    readonly_fields = ("series", "room", "tables_at", "wrapped_at")
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


@admin.register(FocusSeries)
class FocusSeriesAdmin(admin.ModelAdmin):
    list_display = ("title", "weekday", "local_time", "time_zone", "minutes", "starts_on")
    raw_id_fields = ("created_by",)


@admin.register(FocusMember)
class FocusMemberAdmin(admin.ModelAdmin):
    list_display = ("user", "share_stats", "drop_in_only_until", "no_shows_reset_at")
    search_fields = ("user__email", "user__display_name")
    raw_id_fields = ("user",)
    actions = ["reset_no_shows"]

    @admin.action(description=_("Reset no-shows"), permissions=["change"])
    def reset_no_shows(self, request: HttpRequest, queryset: QuerySet[FocusMember]) -> None:
        # Earlier no-shows stop counting and drop-in only ends (docs/focus.md).
        count = no_shows_reset(members=queryset, now=timezone.now())
        self.message_user(
            request,
            ngettext(
                "No-shows reset for %(count)d member: they can book ahead again.",
                "No-shows reset for %(count)d members: they can book ahead again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

from datetime import time
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import RefusesDeleting
from core.admin_actions import confirm_first
from focus.models import FocusBlock, FocusMember, FocusSeries, Seat
from focus.series import (
    series_apply,
    series_extend,
    validate_series_days,
    validate_series_time,
    validate_series_zone,
)
from focus.services import (
    CapacityBelowSeats,
    block_attended,
    block_cancel,
    block_capacity_check,
    block_deletable,
    block_update,
)
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

    def get_queryset(self, request: HttpRequest) -> QuerySet[Seat]:
        # Each row shows the seat's name: its member and its block.
        return super().get_queryset(request).select_related("user", "block")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class FocusBlockForm(forms.ModelForm):
    """A block's capacity never goes below the seats already held in it."""

    class Meta:
        model = FocusBlock
        # The rest (series, room, the moments it was drawn, wrapped up, cancelled) is shown
        # read-only.
        fields = ["title", "starts_at", "minutes", "capacity", "created_by", "created_at"]

    def clean_capacity(self) -> int:
        value: int = self.cleaned_data["capacity"]
        if self.instance.pk is not None:
            # Counted under the block's row lock, held by the admin's transaction until the
            # save: no seat is booked in between (focus.services.block_capacity_check).
            try:
                block_capacity_check(block=self.instance, capacity=value)
            except CapacityBelowSeats as error:
                raise forms.ValidationError(str(error), code=error.code) from error
        return value


@admin.register(FocusBlock)
class FocusBlockAdmin(RefusesDeleting, admin.ModelAdmin):
    form = FocusBlockForm
    list_display = ("starts_at", "title", "minutes", "capacity", "booked", "cancelled_at")
    list_filter = ("minutes", "series")
    date_hierarchy = "starts_at"
    search_fields = ("title",)
    raw_id_fields = ("created_by", "room")
    # Cancelling goes through the action ("Cancel the selected blocks"), which tells members.
    readonly_fields = ("series", "room", "tables_at", "wrapped_at", "cancelled_at")
    inlines = [SeatInline]
    actions = ["cancel_blocks"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[FocusBlock]:
        return (
            super()
            .get_queryset(request)
            .annotate(booked=Count("seats", filter=Q(seats__cancelled_at__isnull=True)))
        )

    def deletion_refused(self, obj: FocusBlock) -> str | None:
        """A block whose seats are still held is cancelled first (the action), which tells
        each member: deleted, its seats would go with it unheard of. A block members came to
        stays: its seats are their focus history."""
        if block_deletable(block=obj):
            return None
        return (self.ATTENDED if block_attended(block=obj) else self.HELD) % {"block": obj}

    HELD = _(
        "%(block)s: members hold seats in it. Cancel it first (the action), which takes it "
        "out of their calendars; delete it two days later, once that has reached them all."
    )
    ATTENDED = _(
        "%(block)s: members came to it, and it counts in their focus history (sessions, "
        "hours, goals done, streaks), so it stays. A block that has not ended can still be "
        "cancelled (the action)."
    )

    @admin.display(description=_("booked"), ordering="booked")
    def booked(self, block: FocusBlock) -> int:
        return block.booked  # type: ignore[attr-defined]

    def save_model(
        self, request: HttpRequest, obj: FocusBlock, form: ModelForm, change: bool
    ) -> None:
        if change:
            # A new time, length or title reaches the calendars of those with a seat, and a
            # new time their reminders (focus.services.block_update).
            block_update(block=obj)
            return
        if obj.created_by_id is None:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Cancel the selected blocks"), permissions=["change"])
    @confirm_first(
        _(
            "The blocks are cancelled for everyone with a seat, and each of them gets the "
            "cancellation for their calendar."
        )
    )
    def cancel_blocks(self, request: HttpRequest, queryset: QuerySet[FocusBlock]) -> None:
        # Each member with a seat gets a cancellation for their calendar (focus/tasks.py).
        now = timezone.now()
        count = sum(block_cancel(block=block, now=now) for block in queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d block cancelled: its members are told.",
                "%(count)d blocks cancelled: their members are told.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


class FocusSeriesForm(forms.ModelForm):
    """Power hours start on the hour or half hour, in a real zone, within their days."""

    class Meta:
        model = FocusSeries
        fields = [
            "title",
            "weekday",
            "local_time",
            "time_zone",
            "minutes",
            "capacity",
            "starts_on",
            "ends_on",
            "created_by",
        ]

    def clean_local_time(self) -> time:
        value: time = self.cleaned_data["local_time"]
        validate_series_time(value)
        return value

    def clean_time_zone(self) -> str:
        value: str = self.cleaned_data["time_zone"]
        validate_series_zone(value)
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        validate_series_days(starts_on=cleaned.get("starts_on"), ends_on=cleaned.get("ends_on"))
        return cleaned


@admin.register(FocusSeries)
class FocusSeriesAdmin(admin.ModelAdmin):
    form = FocusSeriesForm
    list_display = ("title", "weekday", "local_time", "time_zone", "minutes", "starts_on")
    raw_id_fields = ("created_by",)

    def save_model(
        self, request: HttpRequest, obj: FocusSeries, form: ModelForm, change: bool
    ) -> None:
        if not change and obj.created_by_id is None:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
        # The first four weeks at once; an edit moves the blocks nobody booked, and leaves
        # the booked ones (focus/series.py).
        now = timezone.now()
        made = series_apply(series=obj, now=now) if change else series_extend(now=now, series=obj)
        if made:
            self.message_user(
                request,
                ngettext(
                    "%(count)d block made for the coming weeks.",
                    "%(count)d blocks made for the coming weeks.",
                    made,
                )
                % {"count": made},
                messages.SUCCESS,
            )


@admin.register(FocusMember)
class FocusMemberAdmin(admin.ModelAdmin):
    list_display = ("user", "share_stats", "drop_in_only_until", "no_shows_reset_at")
    search_fields = ("user__email", "user__display_name")
    # Sharing their figures is the member's choice; drop-in only is lifted by the action,
    # which also stops the earlier no-shows counting.
    readonly_fields = ("user", "share_stats", "drop_in_only_until", "no_shows_reset_at")
    actions = ["reset_no_shows"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: FocusMember | None = None) -> bool:
        # Deleted, the member's choice to share went back to the default, and their standing
        # was reset without the action (deleting their account removes it).
        return False

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

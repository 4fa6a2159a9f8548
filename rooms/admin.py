from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.access import staff_may
from core.admin import ReadOnlyAdmin
from core.admin_actions import confirm_first
from rooms import broadcast, rights, services
from rooms.models import (
    HourlyUsage,
    Mention,
    Message,
    Presence,
    Room,
    RoomParticipation,
    Visit,
)


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "private",
        "capacity",
        "created_by",
        "last_activity_at",
        "closed_at",
    ]
    list_filter = ["kind", "private", ("closed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["created_by"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["created_by", "invitees"]
    # Closed by the action below (rooms.services.room_close tells and sends out who is in).
    readonly_fields = ["created_at", "last_activity_at", "closed_at"]
    actions = ["close_rooms"]

    def get_readonly_fields(self, request: HttpRequest, obj: Room | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is None:
            return fields
        # A room's address is in notices, events, calendars and links members shared.
        fields.append("slug")
        if obj.is_cafeteria:
            # Always open, to everyone.
            fields += ["kind", "private", "invitees"]
        elif obj.private:
            # What was said in it was said to its invitees only (a coffee table's pair, a
            # meeting's guests): made public, its whole history would be everyone's to read.
            fields.append("private")
            if not staff_may(request.user, rights.READ):
                # Nor does staff who may not read it get in by inviting themselves, or by
                # taking it over as its creator.
                fields += ["created_by", "invitees"]
        return fields

    def get_prepopulated_fields(
        self, request: HttpRequest, obj: Room | None = None
    ) -> dict[str, Any]:
        # A room's slug is read-only once it exists, and a read-only field is not prepopulated.
        if obj is not None:
            return {}
        return super().get_prepopulated_fields(request, obj)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        # Rooms staff make here are permanent ones, unless they say otherwise.
        return {"kind": Room.Kind.PERMANENT, "created_by": request.user.pk}

    def has_delete_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        if obj is not None and obj.is_cafeteria:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        # "Delete selected rooms" may include the cafeteria; it survives.
        if queryset.filter(kind=Room.Kind.CAFETERIA).exists():
            messages.warning(request, _("The cafeteria cannot be deleted; it was left alone."))
        super().delete_queryset(request, queryset.exclude(kind=Room.Kind.CAFETERIA))

    @admin.action(description=_("Close selected rooms"), permissions=["change"])
    @confirm_first(
        _(
            "Everyone in them is sent away, and nobody can enter them again. Their chat "
            "stays readable to those who were in them."
        )
    )
    def close_rooms(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        if queryset.filter(kind=Room.Kind.CAFETERIA).exists():
            messages.warning(request, _("The cafeteria cannot be closed; it was left alone."))
        closed = 0
        for room in queryset.exclude(kind=Room.Kind.CAFETERIA).filter(closed_at__isnull=True):
            if services.room_close(room=room, by=request.user):  # type: ignore[arg-type]
                closed += 1
        self.message_user(
            request,
            ngettext("%(count)d room closed.", "%(count)d rooms closed.", closed)
            % {"count": closed},
            messages.SUCCESS,
        )


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """Millions of rows: filtered by the room's kind (one link per room listed them all),
    found by the author's address or the room's name, newest first by the primary key, no
    date drill-down and no exact count (each read the whole table). Messages are deleted
    softly, through the action below, so history keeps its shape."""

    list_display = ["__str__", "room", "author", "created_at", "edited_at", "deleted_at"]
    list_filter = ["room__kind", ("deleted_at", admin.EmptyFieldListFilter)]
    list_select_related = ["room", "author"]
    search_fields = ["=author__email", "room__name"]
    search_help_text = _("The author's email address, exactly, or the room's name.")
    ordering = ["-id"]
    show_full_result_count = False
    readonly_fields = [
        "room",
        "seq",
        "author",
        "text",
        "created_at",
        "edited_at",
        "deleted_at",
        "deleted_by",
        "mentions",
    ]
    actions = ["soft_delete"]

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        # The form changes nothing (above); deleting for everyone takes the right to change
        # messages, not merely to read them.
        return request.user.has_perm("rooms.change_message")

    @admin.action(description=_("Delete selected messages"), permissions=["moderate"])
    @confirm_first(
        _(
            "The messages are deleted for everyone: each leaves a “deleted” mark in its "
            "room's history."
        )
    )
    def soft_delete(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        deleted = 0
        for message in queryset:
            if services.message_delete(message=message, by=request.user):  # type: ignore[arg-type]
                # The room's sockets drop it from their history, as for a deletion in the room.
                broadcast.on_commit(broadcast.chat_deleted, message=message)
                deleted += 1
        self.message_user(
            request,
            ngettext("%(count)d message deleted.", "%(count)d messages deleted.", deleted)
            % {"count": deleted},
            messages.SUCCESS,
        )


@admin.register(RoomParticipation)
class RoomParticipationAdmin(ReadOnlyAdmin):
    list_display = ["user", "room", "first_seen_at", "last_seen_at", "muted_until", "removed_at"]
    # By kind: one link per room listed every coffee group's room.
    list_filter = ["room__kind", ("removed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "room"]
    search_fields = ["user__email", "user__display_name", "room__name"]
    # Undoing what staff did in the room (its page removes and mutes, and undoes nothing).
    actions = ["readmit", "unmute"]

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        # The rows are the rooms' own record (no form changes them); undoing a removal or a
        # mute takes the right to change them, not merely to read them.
        return request.user.has_perm("rooms.change_roomparticipation")

    @admin.action(
        description=_("Let the selected members back into their room"), permissions=["moderate"]
    )
    def readmit(self, request: HttpRequest, queryset: QuerySet[RoomParticipation]) -> None:
        done = self._each(request, queryset, services.room_member_readmit, removed_at__isnull=False)
        self.message_user(
            request,
            ngettext(
                "%(count)d member may come back in.", "%(count)d members may come back in.", done
            )
            % {"count": done},
            messages.SUCCESS,
        )

    @admin.action(description=_("Lift the selected members' mute"), permissions=["moderate"])
    def unmute(self, request: HttpRequest, queryset: QuerySet[RoomParticipation]) -> None:
        done = self._each(
            request,
            queryset,
            lambda **kwargs: services.room_member_mute(until=None, **kwargs),
            muted_until__isnull=False,
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d member may write again.", "%(count)d members may write again.", done
            )
            % {"count": done},
            messages.SUCCESS,
        )

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[RoomParticipation],
        undo: Any,
        **concerned: object,
    ) -> int:
        done = 0
        for participation in queryset.filter(**concerned).select_related("room", "user"):
            try:
                undo(room=participation.room, member=participation.user, by=request.user)
            except services.NotAllowed as refusal:  # their own row, say
                self.message_user(request, f"{participation}: {refusal}", messages.WARNING)
            else:
                done += 1
        return done


# Visits, hourly use, presence and mentions are recorded by the rooms themselves; staff only
# look (ReadOnlyAdmin).


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = ["user", "room", "started_at", "ended_at", "duration"]
    list_filter = ["room__kind"]
    list_select_related = ["user", "room"]
    search_fields = ["=user__email", "room__name"]
    search_help_text = _("The member's email address, exactly, or the room's name.")
    ordering = ["-id"]
    show_full_result_count = False

    @admin.display(description=_("duration"))
    def duration(self, visit: Visit) -> str:
        minutes = int((visit.ended_at - visit.started_at).total_seconds() // 60)
        return _("%(hours)d h %(minutes)02d min") % {
            "hours": minutes // 60,
            "minutes": minutes % 60,
        }


@admin.register(HourlyUsage)
class HourlyUsageAdmin(ReadOnlyAdmin):
    list_display = ["hour", "room", "seconds", "people_hours"]
    list_filter = ["room__kind"]
    search_fields = ["room__name"]
    list_select_related = ["room"]
    date_hierarchy = "hour"
    ordering = ["-hour"]

    @admin.display(description=_("people-hours"), ordering="seconds")
    def people_hours(self, usage: HourlyUsage) -> str:
        return f"{usage.seconds / 3600:.2f}"


@admin.register(Presence)
class PresenceAdmin(ReadOnlyAdmin):
    """Who is connected right now, one row per open socket (the sweep removes stale ones)."""

    list_display = ["user", "room", "status", "table", "connected_at", "heartbeat_at"]
    list_filter = ["room__kind", "status"]
    list_select_related = ["user", "room"]
    search_fields = ["user__email", "user__display_name", "room__name"]
    exclude = ["channel_name"]


@admin.register(Mention)
class MentionAdmin(ReadOnlyAdmin):
    list_display = ["user", "message", "created_at", "emailed_at"]
    list_filter = [("emailed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "message__room", "message__author"]
    search_fields = ["=user__email"]
    search_help_text = _("The member's email address, exactly.")
    ordering = ["-id"]
    show_full_result_count = False

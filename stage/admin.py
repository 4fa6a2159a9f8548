from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from stage.models import Speaker, Stage


class SpeakerInline(admin.TabularInline):
    model = Speaker
    fk_name = "stage"
    extra = 0
    fields = ("user", "invited_at", "live_since", "screen", "muted")
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Speaker]:
        # Each row shows the speaker's name: their member and their stage's room.
        return super().get_queryset(request).select_related("user", "stage__room")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    """Stages are run from their page; here staff see them, their host and attendance."""

    list_display = ("room", "host", "state", "started_at", "ended_at", "attendees")
    list_filter = ("state",)
    search_fields = ("room__name", "room__slug")
    # Made by its page, ended there (which closes its Janus room and tells the audience):
    # deleted or moved here, its media room stayed open and its audience was never told, and
    # a stage could be moved into the cafeteria, which has none.
    readonly_fields = ("room", "host", "state", "started_at", "ended_at", "created_at")
    inlines = [SpeakerInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Stage | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Stage]:
        return (
            super()
            .get_queryset(request)
            .select_related("room", "host")
            .annotate(attendees=Count("attendance", distinct=True))
        )

    @admin.display(description=_("attendees"), ordering="attendees")
    def attendees(self, stage: Stage) -> int:
        return stage.attendees  # type: ignore[attr-defined]

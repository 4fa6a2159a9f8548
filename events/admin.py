from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ReadOnlyAdmin, RefusesDeleting
from events.feeds import calendar_feed_rotate
from events.models import CalendarFeed, Event, EventSeries, Rsvp
from events.rsvps import host_seat_take
from events.series import SERIES_HORIZON, series_extend
from events.services import event_deletable, series_apply


@admin.register(Event)
class EventAdmin(RefusesDeleting, admin.ModelAdmin):
    list_display = [
        "title",
        "kind",
        "starts_at",
        "ends_at",
        "time_zone",
        "host",
        "room",
        "capacity",
        "going_count",
        "waitlisted_count",
        "attendance_count",
        "sequence",
        "cancelled_at",
    ]
    list_filter = [
        "kind",
        ("cancelled_at", admin.EmptyFieldListFilter),
        ("attendance_count", admin.EmptyFieldListFilter),
        "series",
    ]
    list_select_related = ["host", "room"]
    search_fields = ["title", "description", "host__email", "host__display_name"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["host", "created_by", "room"]
    readonly_fields = [
        "uid",
        "sequence",
        "series",
        "going_count",
        "waitlisted_count",
        "wrapped_up_at",
        "attendance_count",
        "created_at",
        "updated_at",
        "answers",
    ]
    # What those who answered must hear of: changed on the event's page (events.services),
    # which tells them, moves the room's opening and seats the waiting list.
    ANNOUNCED = ("starts_at", "ends_at", "time_zone", "capacity", "room", "cancelled_at")

    # An event's answers go with it, though staff do not delete answers one by one
    # (RsvpAdmin): deleting a spam meetup must not ask for that permission.
    reasons_cover = (Rsvp,)

    def deletion_refused(self, obj: Event) -> str | None:
        """An event whose people have not been told it is off is not deleted (cancel it
        first), nor one members came to."""
        now = timezone.now()
        if event_deletable(event=obj, now=now):
            return None
        if obj.ends_at > now:
            return self.UNTOLD % {"event": obj}
        return (self.ATTENDED if obj.attendance_count else self.COUNTING) % {"event": obj}

    ATTENDED = _(
        "%(event)s: members came to it, and it counts in the community's figures, so it stays."
    )
    COUNTING = _(
        "%(event)s: who came to it is counted in the hour after it ends, for the community's "
        "figures. Try again once that is done."
    )
    UNTOLD = _(
        "%(event)s: those who answered have not heard it is off. Cancel it on its page "
        "first, which tells them; delete it once they have been told."
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Event | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is None:
            return fields
        fields += [*self.ANNOUNCED, "on_the_site"]
        if obj.doors_open_at <= timezone.now():
            # A talk's host runs its stage from the moment its room opens: changed then (or
            # the talk made a meetup, which has no stage), the one on stage lost the host's
            # controls mid-talk to whoever took the field, with nobody told.
            fields += ["host", "kind"]
        return fields

    @admin.display(description=_("time, room, seats or cancelling"))
    def on_the_site(self, obj: Event) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("events:edit", args=[obj.pk]),
            _("Change them on the event's page, which tells everyone who answered."),
        )

    @admin.display(description=_("answers"))
    def answers(self, obj: Event) -> str:
        """A link to the event's answers. Listed here, a talk's hundreds of answers made the
        page heavy and its form too big to save; and the answers change through the event's
        page (events.rsvps), which moves the waiting list."""
        return format_html(
            '<a href="{}?event__id__exact={}">{}</a>',
            reverse("admin:events_rsvp_changelist"),
            obj.pk,
            _("See who answered"),
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                going=Count("rsvps", filter=Q(rsvps__status=Rsvp.Status.GOING)),
                waitlisted=Count("rsvps", filter=Q(rsvps__status=Rsvp.Status.WAITLISTED)),
            )
        )

    @admin.display(description=_("going"), ordering="going")
    def going_count(self, obj: Event) -> int:
        return int(getattr(obj, "going", 0))

    @admin.display(description=_("waiting"), ordering="waitlisted")
    def waitlisted_count(self, obj: Event) -> int:
        return int(getattr(obj, "waitlisted", 0))

    def save_model(self, request: HttpRequest, obj: Event, form: ModelForm, change: bool) -> None:
        # Calendars only pick up a change that comes with a higher revision.
        if change and set(form.changed_data) & {*Event.CALENDAR_FIELDS, "cancelled_at"}:
            obj.sequence += 1
        if not change and obj.created_by_id is None:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        if not change or "host" in form.changed_data:
            host_seat_take(event=form.instance)


@admin.register(EventSeries)
class EventSeriesAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "kind",
        "weekdays",
        "local_start",
        "duration",
        "time_zone",
        "starts_on",
        "until",
        "host",
        "occurrences",
    ]
    list_filter = ["kind", "time_zone"]
    list_select_related = ["host"]
    search_fields = ["title", "description", "host__email", "host__display_name"]
    autocomplete_fields = ["host", "created_by", "room"]
    readonly_fields = ["created_at", "occurrences"]
    actions = ["extend_series"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[EventSeries]:
        return super().get_queryset(request).annotate(occurrence_count=Count("events"))

    @admin.display(description=_("occurrences"), ordering="occurrence_count")
    def occurrences(self, obj: EventSeries) -> int:
        return int(getattr(obj, "occurrence_count", 0))

    def save_model(
        self, request: HttpRequest, obj: EventSeries, form: ModelForm, change: bool
    ) -> None:
        if not change and obj.created_by_id is None:
            obj.created_by = request.user  # type: ignore[assignment]
        before = EventSeries.objects.get(pk=obj.pk) if change else None
        super().save_model(request, obj, form, change)
        if before is None:
            return
        # Its coming occurrences follow the change, and its new days are made.
        applied = series_apply(series=obj, before=before, by=request.user)  # type: ignore[arg-type]
        made = series_extend(series=obj, until=timezone.localdate() + SERIES_HORIZON)
        self.message_user(
            request,
            _(
                "Coming occurrences: %(updated)d changed, %(cancelled)d cancelled, %(made)d "
                "made; those who answered are told."
            )
            % {"updated": applied.updated, "cancelled": applied.cancelled, "made": len(made)},
            messages.SUCCESS,
        )
        for refusal in applied.refused:
            self.message_user(
                request, _("Left as it was: %(why)s") % {"why": refusal}, messages.WARNING
            )

    @admin.action(description=_("Create the coming occurrences"), permissions=["change"])
    def extend_series(self, request: HttpRequest, queryset: QuerySet[EventSeries]) -> None:
        until = timezone.localdate() + SERIES_HORIZON
        created = sum(len(series_extend(series=s, until=until)) for s in queryset)
        self.message_user(
            request,
            ngettext("%(count)d event created.", "%(count)d events created.", created)
            % {"count": created},
            messages.SUCCESS,
        )


@admin.register(Rsvp)
class RsvpAdmin(ReadOnlyAdmin):
    """Answers change through the event's page and the members' own (events.rsvps), which
    keep the capacity, the waiting list and the host's seat: here staff only look."""

    list_display = ["event", "user", "status", "position", "promoted_at", "updated_at"]
    list_filter = ["status", ("promoted_at", admin.EmptyFieldListFilter)]
    list_select_related = ["event", "user"]
    search_fields = ["event__title", "user__email", "user__display_name"]
    autocomplete_fields = ["event", "user"]
    readonly_fields = [
        "promoted_at",
        "going_since",
        "promotion_emailed_at",
        "reminded_day_at",
        "reminded_soon_at",
        "announced_sequence",
        "calendar_sequence",
        "calendar_held",
        "created_at",
        "updated_at",
    ]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Who has a calendar feed. The token is a password to the member's calendar: it is never
    shown; revoking gives the feed a new one."""

    list_display = ["user", "created_at"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__display_name"]
    fields = ["user", "created_at"]
    readonly_fields = ["user", "created_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revoke the feed URL (a new one is made)"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[CalendarFeed]) -> None:
        count = 0
        for feed in queryset.select_related("user"):
            calendar_feed_rotate(user=feed.user)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d feed URL revoked.", "%(count)d feed URLs revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )

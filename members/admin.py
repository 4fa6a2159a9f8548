import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_stubs_ext import StrOrPromise

from matching import services as matching_services
from matching.apps import COMMUNITY_SLUG
from matching.models import Participation
from members import services
from members.models import Acquaintance, Block, Interest, Language, Profile, Report, User


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    autocomplete_fields = ["interests"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class SuspendedFilter(admin.SimpleListFilter):
    title = _("suspended")
    parameter_name = "suspended"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> QuerySet[User]:
        if self.value() == "yes":
            return queryset.filter(suspended_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(suspended_at__isnull=True)
        return queryset


class SeenFilter(admin.SimpleListFilter):
    title = _("last seen")
    parameter_name = "seen"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("7", _("In the last 7 days")),
            ("30", _("In the last 30 days")),
            ("never", _("Never")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> QuerySet[User]:
        value = self.value()
        if value == "never":
            return queryset.filter(last_seen_at__isnull=True)
        if value in ("7", "30"):
            return queryset.filter(last_seen_at__gte=timezone.now() - timedelta(days=int(value)))
        return queryset


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [ProfileInline]
    ordering = ["email"]
    list_display = [
        "email",
        "display_name",
        "time_zone",
        "is_active",
        "is_staff",
        "date_joined",
        "last_seen_at",
        "suspended",
    ]
    list_filter = [
        "is_active",
        "is_staff",
        SuspendedFilter,
        SeenFilter,
        "language",
        ("deleted_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["email", "display_name", "first_name", "last_name"]
    readonly_fields = ["deleted_at", "last_seen_at", "suspended_at", "suspended_by", "reports"]
    list_select_related = ["suspended_by"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            _("Person"),
            {"fields": ("display_name", "first_name", "last_name", "time_zone", "language")},
        ),
        # The other notification choices live in notifications.Preference.
        (_("Email notifications"), {"fields": ("email_digest",)}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (
            _("Dates"),
            {"fields": ("last_login", "last_seen_at", "date_joined", "deleted_at")},
        ),
        (_("Moderation"), {"fields": ("suspended_at", "suspended_by", "reports")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    actions = ["pause_pairs", "resume_pairs", "suspend", "reinstate", "export_csv"]

    @admin.display(description=_("suspended"), boolean=True, ordering="suspended_at")
    def suspended(self, user: User) -> bool:
        return user.suspended_at is not None

    @admin.display(description=_("reports received"))
    def reports(self, user: User) -> str:
        counts = Report.objects.filter(reported=user).aggregate(
            total=Count("pk"), open=Count("pk", filter=Q(status=Report.Status.OPEN))
        )
        return str(_("%(total)s, %(open)s open") % counts)

    def _participations(self, queryset: QuerySet[User]) -> QuerySet[Participation]:
        return Participation.objects.filter(
            programme__slug=COMMUNITY_SLUG, user__in=queryset
        ).select_related("user", "programme")

    @admin.action(description=_("Pause their coffee pairs"), permissions=["change"])
    def pause_pairs(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        # The same pause as an ignored-intros one: the member sees it and may resume.
        paused = sum(
            matching_services.participation_auto_pause(participation=participation)
            for participation in self._participations(queryset).filter(opted_in=True)
        )
        self.message_user(
            request,
            ngettext("%(count)d member paused.", "%(count)d members paused.", paused)
            % {"count": paused},
            messages.SUCCESS,
        )

    @admin.action(description=_("Resume their coffee pairs"), permissions=["change"])
    def resume_pairs(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = 0
        for participation in self._participations(queryset):
            matching_services.participation_resume(participation=participation)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d member resumed.", "%(count)d members resumed.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Suspend (deactivate) the accounts"), permissions=["change"])
    def suspend(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        staff = request.user
        assert isinstance(staff, User)
        done = 0
        for user in queryset.filter(is_active=True):
            try:
                services.member_suspend(user=user, by=staff)
            except services.ModerationError as error:
                self.message_user(request, f"{user}: {error}", messages.WARNING)
            else:
                done += 1
        self.message_user(
            request,
            ngettext("%(count)d member suspended.", "%(count)d members suspended.", done)
            % {"count": done},
            messages.SUCCESS,
        )

    @admin.action(description=_("Lift the suspension"), permissions=["change"])
    def reinstate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        done = 0
        for user in queryset.filter(suspended_at__isnull=False):
            services.member_reinstate(user=user)
            done += 1
        self.message_user(
            request,
            ngettext("%(count)d member reinstated.", "%(count)d members reinstated.", done)
            % {"count": done},
            messages.SUCCESS,
        )

    @admin.action(description=_("Export as CSV"), permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[User]) -> StreamingHttpResponse:
        response = StreamingHttpResponse(
            members_csv(queryset), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="members-{stamp}.csv"'
        return response


# What staff already see in the member list, nothing from profiles: no bios, no links.
CSV_COLUMNS = [
    ("id", "pk"),
    ("email", "email"),
    ("display_name", "display_name"),
    ("first_name", "first_name"),
    ("last_name", "last_name"),
    ("language", "language"),
    ("time_zone", "time_zone"),
    ("date_joined", "date_joined"),
    ("last_seen_at", "last_seen_at"),
    ("is_active", "is_active"),
    ("is_staff", "is_staff"),
    ("suspended_at", "suspended_at"),
    ("deleted_at", "deleted_at"),
]
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write() hands the line back: csv.writer for streaming."""

    def write(self, value: str) -> str:
        return value


def members_csv(queryset: QuerySet[User]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([header for header, _field in CSV_COLUMNS])
    fields = [field for _header, field in CSV_COLUMNS]
    # Chunks from a server-side cursor: 100,000 members never sit in memory at once.
    for row in queryset.order_by("pk").values_list(*fields).iterator(chunk_size=2_000):
        yield writer.writerow([csv_cell(value) for value in row])


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
    """The moderation queue in the admin; /staff/moderation/ is the same with more room."""

    list_display = [
        "created_at",
        "reason",
        "reported",
        "reporter",
        "about",
        "status",
        "action",
        "handled_by",
        "handled_at",
    ]
    list_filter = ["status", "reason", "action", ("message", admin.EmptyFieldListFilter)]
    search_fields = [
        "details",
        "subject",
        "reported__email",
        "reported__display_name",
        "reporter__email",
        "reporter__display_name",
    ]
    list_select_related = ["reported", "reporter", "handled_by", "message__room"]
    date_hierarchy = "created_at"
    fields = [
        "reporter",
        "reported",
        "reason",
        "subject",
        "message_text",
        "details",
        "created_at",
        "status",
        "action",
        "staff_note",
        "handled_by",
        "handled_at",
        "warning_sent_at",
    ]
    readonly_fields = [
        "reporter",
        "reported",
        "reason",
        "subject",
        "message_text",
        "details",
        "created_at",
        "action",
        "handled_by",
        "handled_at",
        "warning_sent_at",
    ]
    actions = ["mark_dismissed", "warn", "remove_message", "suspend", "mark_actioned"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Reports come from members; staff only handle them.
        return False

    @admin.display(description=_("about"))
    def about(self, report: Report) -> str:
        if report.message_id and report.message:
            return str(_("a message in %(room)s") % {"room": report.message.room})
        return report.subject or str(_("the profile"))

    @admin.display(description=_("reported message"))
    def message_text(self, report: Report) -> str:
        message = report.message
        if message is None:
            return "–"
        if message.is_deleted:
            return str(_("(deleted)"))
        return message.text

    def save_model(
        self, request: HttpRequest, obj: Report, form: forms.ModelForm[Report], change: bool
    ) -> None:
        if change and "status" in form.changed_data:
            open_ = obj.status == Report.Status.OPEN
            obj.handled_at = None if open_ else timezone.now()
            obj.handled_by = None if open_ else request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Report],
        step: Any,
        done_message: StrOrPromise,
    ) -> None:
        staff = request.user
        assert isinstance(staff, User)
        done = 0
        for report in queryset.filter(status=Report.Status.OPEN).select_related(
            "reported", "message"
        ):
            try:
                step(report, staff)
            except services.ModerationError as error:
                self.message_user(request, f"{report}: {error}", messages.WARNING)
            else:
                done += 1
        self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Dismiss"), permissions=["change"])
    def mark_dismissed(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._each(
            request,
            queryset,
            lambda report, staff: services.report_dismiss(report=report, by=staff),
            _("%(count)d open reports dismissed."),
        )

    @admin.action(description=_("Warn the reported member by email"), permissions=["change"])
    def warn(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._each(
            request,
            queryset,
            lambda report, staff: services.report_warn(report=report, by=staff),
            _("%(count)d warnings on their way."),
        )

    @admin.action(description=_("Remove the reported message"), permissions=["change"])
    def remove_message(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._each(
            request,
            queryset,
            lambda report, staff: services.report_message_remove(report=report, by=staff),
            _("%(count)d messages removed."),
        )

    @admin.action(description=_("Suspend the reported member"), permissions=["change"])
    def suspend(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._each(
            request,
            queryset,
            lambda report, staff: services.member_suspend(
                user=report.reported, by=staff, report=report
            ),
            _("%(count)d reports handled by suspending the member."),
        )

    @admin.action(description=_("Mark actioned (handled elsewhere)"), permissions=["change"])
    def mark_actioned(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        count = services.reports_resolve(reports=queryset, status=Report.Status.ACTIONED)
        self.message_user(
            request,
            ngettext("%(count)d report updated.", "%(count)d reports updated.", count)
            % {"count": count},
            messages.SUCCESS,
        )


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

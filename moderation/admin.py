from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from conversations.models import Attachment
from core.admin_actions import confirm_first
from members.models import User
from moderation import services
from moderation.models import Report


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
    list_select_related = [
        "reported",
        "reporter",
        "handled_by",
        "message__room",
        "conversation_message",
    ]
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

    def has_delete_permission(self, request: HttpRequest, obj: Report | None = None) -> bool:
        # Reports are the moderation history: who was reported, for what, and what staff
        # did. Staff close them; only deleting the reported member's account removes them
        # (moderation/privacy.py).
        return False

    @admin.display(description=_("about"))
    def about(self, report: Report) -> str:
        if report.message_id and report.message:
            return str(_("a message in %(room)s") % {"room": report.message.room})
        if report.conversation_message_id:
            return str(_("a private message"))
        return report.subject or str(_("the profile"))

    @admin.display(description=_("reported message"))
    def message_text(self, report: Report) -> str:
        # The reported message only: staff never see the rest of a private conversation.
        message = report.message or report.conversation_message
        if message is None:
            return "–"
        if message.is_deleted:
            return str(_("(deleted)"))
        shared = Attachment.objects.filter(message=report.conversation_message).first()
        if shared is None:
            return message.text
        # The only file of a private conversation staff may open (moderation.views).
        link = reverse("moderation:reported_file", args=[report.pk])
        return format_html('{}<br><a href="{}">{}</a>', message.text, link, shared.name)

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
        done_message: Callable[[int], str],
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
        self.message_user(request, done_message(done) % {"count": done}, messages.SUCCESS)

    def confirm_label(self, report: Report) -> str:
        """A report on an action's confirmation page (core.admin_actions): whom it is about."""
        return f"{report} <{report.reported.email}>"

    @admin.action(description=_("Dismiss"), permissions=["change"])
    def mark_dismissed(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._each(
            request,
            queryset,
            lambda report, staff: services.report_dismiss(report=report, by=staff),
            lambda count: ngettext(
                "%(count)d open report dismissed.", "%(count)d open reports dismissed.", count
            ),
        )

    @admin.action(description=_("Warn the reported member by email"), permissions=["change"])
    @confirm_first(
        _(
            "Each reported member gets an email warning them about what was reported, "
            "and the open reports are closed."
        )
    )
    def warn(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._each(
            request,
            queryset,
            lambda report, staff: services.report_warn(report=report, by=staff),
            lambda count: ngettext(
                "%(count)d warning on its way.", "%(count)d warnings on their way.", count
            ),
        )

    @admin.action(description=_("Remove the reported message"), permissions=["change"])
    @confirm_first(
        _("The reported messages are deleted for everyone, and the open reports are closed.")
    )
    def remove_message(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._each(
            request,
            queryset,
            lambda report, staff: services.report_message_remove(report=report, by=staff),
            lambda count: ngettext(
                "%(count)d message removed.", "%(count)d messages removed.", count
            ),
        )

    def has_suspend_permission(self, request: HttpRequest) -> bool:
        # As in the queue (moderation.views.act): handling reports is not changing accounts.
        return self.has_change_permission(request) and request.user.has_perm("members.change_user")

    @admin.action(description=_("Suspend the reported member"), permissions=["suspend"])
    @confirm_first(
        _(
            "The reported members' accounts are deactivated: they are logged out "
            "everywhere and cannot log in until the suspension is lifted."
        )
    )
    def suspend(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._each(
            request,
            queryset,
            lambda report, staff: services.report_suspend(report=report, by=staff),
            lambda count: ngettext(
                "%(count)d report handled by suspending the member.",
                "%(count)d reports handled by suspending the member.",
                count,
            ),
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

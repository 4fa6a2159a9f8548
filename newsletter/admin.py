from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from core.admin import ReadOnlyAdmin, RefusesDeleting
from core.admin_actions import confirm_first
from core.emails import MAIL_ERRORS
from members.models import User
from newsletter import services
from newsletter.models import Delivery, Issue, Subscriber

PENDING = [Delivery.Status.PENDING, Delivery.Status.SENDING]


def _count(*statuses: str) -> Count:
    return Count("deliveries", filter=Q(deliveries__status__in=statuses))


@admin.register(Issue)
class IssueAdmin(RefusesDeleting, admin.ModelAdmin):
    list_display = [
        "subject",
        "status",
        "created_by",
        "sent_at",
        "sent_count",
        "failed_count",
        "pending_count",
        "unknown_count",
    ]
    list_filter = ["status"]
    list_select_related = ["created_by"]

    search_fields = ["subject", "body_markdown", "subject_en", "body_markdown_en"]
    change_form_template = "admin/newsletter/issue/change_form.html"
    readonly_fields = [
        "status",
        "preview",
        "sent_count",
        "failed_count",
        "pending_count",
        "unknown_count",
        "skipped_count",
        "created_by",
        "created_at",
        "send_started_at",
        "sent_at",
    ]
    fieldsets = [
        (None, {"fields": ["subject", "body_markdown"]}),
        (
            _("In English"),
            {
                "fields": ["subject_en", "body_markdown_en"],
                "description": _(
                    "Optional. Subscribers who read English get this version; without it, "
                    "they get the Spanish one."
                ),
            },
        ),
        (None, {"fields": ["preview"]}),
        (
            _("Sending"),
            {
                "fields": [
                    "status",
                    ("sent_count", "failed_count", "pending_count", "unknown_count"),
                    "skipped_count",
                    "send_started_at",
                    "sent_at",
                    "created_by",
                    "created_at",
                ]
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Issue]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_sent=_count(Delivery.Status.SENT),
                n_failed=_count(Delivery.Status.FAILED),
                n_pending=_count(*PENDING),
                n_unknown=_count(Delivery.Status.UNKNOWN),
                n_skipped=_count(Delivery.Status.SKIPPED),
            )
        )

    def has_delete_permission(self, request: HttpRequest, obj: Issue | None = None) -> bool:
        # Once sending starts the emails out there link to the issue's page, and deleting
        # it mid-send would stop the send without a word (its deliveries go with it). A
        # draft has no deliveries: issue_send_start makes them as it moves the issue on.
        if obj is not None and obj.status != Issue.Status.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    # Refused by has_delete_permission, which the page would word as the staff member
    # lacking the right; the reason says what it is.
    reasons_cover = (Issue, Delivery)

    def deletion_refused(self, obj: Issue) -> str | None:
        """The bulk action asks this too: an issue no longer a draft is listed with why it
        stays, and nothing is deleted."""
        return None if obj.status == Issue.Status.DRAFT else self.SENT % {"issue": obj}

    SENT = _(
        "%(issue)s: it has been sent, or is being sent. It stays: the emails that went out "
        "link to its page, and its deliveries record who got it."
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Issue | None = None) -> list[str]:
        # What subscribers received must stay what the archive shows.
        if obj is not None and obj.status != Issue.Status.DRAFT:
            return [
                "subject",
                "body_markdown",
                "subject_en",
                "body_markdown_en",
                *self.readonly_fields,
            ]
        return list(self.readonly_fields)

    @admin.display(description=_("emails sent"), ordering="n_sent")
    def sent_count(self, obj: Issue) -> int:
        return int(getattr(obj, "n_sent", 0))

    @admin.display(description=_("failed"), ordering="n_failed")
    def failed_count(self, obj: Issue) -> int:
        return int(getattr(obj, "n_failed", 0))

    @admin.display(description=_("pending"), ordering="n_pending")
    def pending_count(self, obj: Issue) -> int:
        return int(getattr(obj, "n_pending", 0))

    @admin.display(description=_("unknown (interrupted)"), ordering="n_unknown")
    def unknown_count(self, obj: Issue) -> int:
        return int(getattr(obj, "n_unknown", 0))

    @admin.display(description=_("skipped (left before their turn)"))
    def skipped_count(self, obj: Issue) -> int:
        return int(getattr(obj, "n_skipped", 0))

    @admin.display(description=_("preview"))
    def preview(self, obj: Issue) -> SafeString:
        """Both versions, each as its readers will see it."""
        if not obj.pk:
            return mark_safe("—")
        english = (
            format_html(
                '<h2 lang="en">{}</h2><div class="newsletter-preview" lang="en">{}</div>',
                obj.subject_en,
                # Sanitised with nh3 when the issue was saved, as body_html.
                mark_safe(obj.body_html_en),
            )
            if obj.has_english
            else format_html(
                "<p>{}</p>", _("No English version: English readers get the Spanish one.")
            )
        )
        return format_html(
            '<h3>{}</h3><h2 lang="es">{}</h2><div class="newsletter-preview" lang="es">{}</div>'
            "<h3>{}</h3>{}",
            _("In Spanish"),
            obj.subject,
            mark_safe(obj.body_html),
            _("In English"),
            english,
        )

    def save_model(self, request: HttpRequest, obj: Issue, form: ModelForm, change: bool) -> None:
        if not change and obj.created_by_id is None:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<id:pk>/send-test/",
                self.admin_site.admin_view(self.send_test_view),
                name="newsletter_issue_send_test",
            ),
            path(
                "<id:pk>/send/",
                self.admin_site.admin_view(self.send_view),
                name="newsletter_issue_send",
            ),
        ]
        return own + super().get_urls()

    def _issue_for_sending(self, request: HttpRequest, pk: int) -> Issue:
        issue = get_object_or_404(Issue, pk=pk)
        if not self.has_change_permission(request, issue):
            raise PermissionDenied
        return issue

    def _change_url(self, issue: Issue) -> str:
        return reverse("admin:newsletter_issue_change", args=[issue.pk])

    def send_test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return require_POST(self._send_test)(request, pk)

    def _send_test(self, request: HttpRequest, pk: int) -> HttpResponse:
        issue = self._issue_for_sending(request, pk)
        user: User = request.user  # type: ignore[assignment]
        try:
            copies = services.issue_send_test(issue=issue, user=user)
        except MAIL_ERRORS as error:
            self.message_user(
                request,
                _("The test copy was not sent: the mail server answered “%(error)s”. Try again.")
                % {"error": error},
                messages.ERROR,
            )
            return HttpResponseRedirect(self._change_url(issue))
        self.message_user(
            request,
            ngettext(
                "A test copy went to %(email)s.",
                "%(count)d test copies, one per language, went to %(email)s.",
                copies,
            )
            % {"email": user.email, "count": copies},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(self._change_url(issue))

    def send_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """GET asks for confirmation (with the number of recipients); POST starts sending."""
        issue = self._issue_for_sending(request, pk)
        if request.method == "POST":
            try:
                count = services.issue_send_start(issue=issue)
            except services.NewsletterError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(
                    request,
                    ngettext(
                        "Sending to %(count)d subscriber. The counts below show progress.",
                        "Sending to %(count)d subscribers. The counts below show progress.",
                        count,
                    )
                    % {"count": count},
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(self._change_url(issue))
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "issue": issue,
            "recipients": services.issue_recipients_count(),
            "nobody_subscribed": services.NOBODY_SUBSCRIBED,
            "english_readers": 0 if issue.has_english else services.issue_recipients_count("en"),
            "title": _("Send “%(subject)s”?") % {"subject": issue.subject},
        }
        return TemplateResponse(request, "admin/newsletter/issue/send_confirm.html", context)


@admin.register(Subscriber)
class SubscriberAdmin(RefusesDeleting, admin.ModelAdmin):
    list_display = [
        "email",
        "status",
        "language",
        "consent_source",
        "confirmed_at",
        "undeliverable_reason",
        "created_at",
    ]
    list_filter = ["status", "language", "consent_source", "undeliverable_reason"]
    search_fields = ["email", "user__email"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["user"]
    readonly_fields = [
        "consent_source",
        "consent_ip",
        "requested_at",
        "confirmed_at",
        "unsubscribed_at",
        "undeliverable_at",
        "undeliverable_reason",
        "undeliverable_detail",
        "created_at",
    ]
    exclude = ["confirmation_nonce"]
    actions = ["mark_undeliverable"]

    # Those who left or bounced: their row is what keeps the address from being mailed
    # again, and (the address being unique) from being added back as confirmed.
    KEPT = (Subscriber.Status.UNSUBSCRIBED, Subscriber.Status.UNDELIVERABLE)

    def has_delete_permission(self, request: HttpRequest, obj: Subscriber | None = None) -> bool:
        # Only deleting the member's account removes such a row (newsletter/privacy.py).
        if obj is not None and obj.status in self.KEPT:
            return False
        return super().has_delete_permission(request, obj)

    # Their deliveries go with an address deleted, though none is deleted by itself; the
    # addresses kept are refused by has_delete_permission, which the reason says better.
    reasons_cover = (Subscriber, Delivery)

    def deletion_refused(self, obj: Subscriber) -> str | None:
        """As for issues: the bulk action lists why each such row stays, and deletes nothing."""
        return self.LEFT % {"subscriber": obj} if obj.status in self.KEPT else None

    LEFT = _(
        "%(subscriber)s: unsubscribed or undeliverable. The row stays so that nothing is "
        "sent to the address again; only deleting the member's account removes it."
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Subscriber | None = None) -> list[str]:
        # Status changes go through the flows that record why (confirm, leave, bounce).
        if obj is not None:
            return ["email", "status", *self.readonly_fields]
        return list(self.readonly_fields)

    def save_model(
        self, request: HttpRequest, obj: Subscriber, form: ModelForm, change: bool
    ) -> None:
        if not change:
            obj.consent_source = Subscriber.Source.ADMIN
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Mark as undeliverable (no more issues)"), permissions=["change"])
    @confirm_first(
        _(
            "No more issues go to these addresses until they subscribe again and confirm "
            "the link sent to them."
        )
    )
    def mark_undeliverable(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        count = services.subscribers_mark_undeliverable(
            emails=queryset.values_list("email", flat=True),
            reason=Subscriber.Reason.MANUAL,
            detail=f"by {request.user}",
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d subscriber marked undeliverable.",
                "%(count)d subscribers marked undeliverable.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    """The ledger of a send, to look into; nothing here is edited by hand. A delivery
    deleted mid-send dropped its address from the send, and one deleted after it the record
    that the address got the issue, which a resend then repeats."""

    list_display = ["subscriber", "issue", "status", "attempts", "claimed_at", "sent_at", "error"]
    list_filter = ["status", "issue"]
    list_select_related = ["subscriber", "issue"]
    search_fields = ["subscriber__email"]

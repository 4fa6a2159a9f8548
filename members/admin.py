import csv
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from allauth.account import admin as account_admin
from allauth.account.models import EmailAddress
from allauth.socialaccount import admin as socialaccount_admin
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from allauth.usersessions.models import UserSession
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ReadOnlyAdmin
from core.admin_actions import confirm_first
from members import privacy as personal_data
from members import services
from members.models import Acquaintance, Block, Interest, Language, Profile, User


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    # Shown, not edited here: clearing the field left its thumbnail showing everywhere. The
    # "Remove the profile photo" action takes both down.
    readonly_fields = ["photo"]
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


def _above_a_clerk(request: HttpRequest, account: User) -> bool:
    """Whether `account` (staff or superuser, not the requester) is beyond what a staff
    account that is no superuser may change."""
    if request.user.is_superuser or account.pk == request.user.pk:
        return False
    return account.is_staff or account.is_superuser


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
    readonly_fields = [
        # Through the suspend and lift actions, which say why, tell the member and close
        # what they host: unticked here, an account was out with none of that.
        "is_active",
        "deleted_at",
        "last_seen_at",
        "first_steps_done_at",
        "suspended_at",
        "suspended_by",
        "reinstated_at",
        "reports",
    ]
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
            {
                "fields": (
                    "last_login",
                    "last_seen_at",
                    "first_steps_done_at",
                    "date_joined",
                    "deleted_at",
                )
            },
        ),
        (
            _("Moderation"),
            {"fields": ("suspended_at", "suspended_by", "reinstated_at", "reports")},
        ),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    # Higher apps add their own bulk actions with `user_actions_add` (matching: pause pairs).
    actions: list[Any] = ["suspend", "reinstate", "photo_remove", "export_csv", "erase"]

    # Who may grant rights: the right to change accounts (to suspend, to correct a name) is
    # not the right to make oneself, or anyone, staff or superuser.
    GRANTS = ("is_staff", "is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += self.GRANTS
        # A confirmed address is the member's to change (allauth: confirmed first, then it
        # replaces the old one); written here, the old one kept signing in and resetting.
        if obj is not None and EmailAddress.objects.filter(user=obj, verified=True).exists():
            fields.append("email")
        return fields

    def save_model(
        self, request: HttpRequest, obj: User, form: forms.ModelForm[User], change: bool
    ) -> None:
        old_name = services.name_stored(user=obj) if change else ""
        super().save_model(request, obj, form, change)
        services.member_rename_tell(user=obj, old_name=old_name)
        if change and "email" in form.changed_data:
            services.account_email_correct(user=obj, request=request)

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm[User], formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        # A name or profile staff corrected is what the directory finds, as after the
        # member's own edit: not the old words.
        profile = Profile.objects.filter(user=form.instance).select_related("user").first()
        if profile is not None:
            services.profile_refresh_search_text(profile=profile)

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Another staff account's address or password is a way into its rights: only a
        # superuser changes those (its own account, a clerk changes as any member would).
        if obj is not None and _above_a_clerk(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        target = self.get_object(request, unquote(id))
        if target is not None and _above_a_clerk(request, target):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def within_reach(self, request: HttpRequest, queryset: QuerySet[User]) -> QuerySet[User]:
        """The accounts of `queryset` the requester may act on (`_above_a_clerk`), saying
        how many were left alone."""
        if request.user.is_superuser:
            return queryset
        reach = queryset.filter(Q(is_staff=False, is_superuser=False) | Q(pk=request.user.pk))
        left = queryset.count() - reach.count()
        if left:
            self.message_user(
                request,
                ngettext(
                    "%(count)d staff account was left alone: only a superuser acts on it.",
                    "%(count)d staff accounts were left alone: only a superuser acts on them.",
                    left,
                )
                % {"count": left},
                messages.WARNING,
            )
        return reach

    @admin.display(description=_("suspended"), boolean=True, ordering="suspended_at")
    def suspended(self, user: User) -> bool:
        return user.suspended_at is not None

    @admin.display(description=_("reports received"))
    def reports(self, user: User) -> str:
        # Through the reverse relation: reports belong to the moderation app, above this one.
        counts = user.reports_received.aggregate(  # type: ignore[attr-defined]
            total=Count("pk"), open=Count("pk", filter=Q(status="open"))
        )
        return str(_("%(total)s, %(open)s open") % counts)

    def confirm_label(self, user: User) -> str:
        """A member on an action's confirmation page (core.admin_actions)."""
        return f"{user.name} <{user.email}>"

    @admin.action(description=_("Suspend (deactivate) the accounts"), permissions=["change"])
    @confirm_first(
        _(
            "Their accounts are deactivated: they are logged out everywhere, leave every "
            "room and cannot log in until the suspension is lifted."
        )
    )
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

    @admin.action(description=_("Remove the profile photo"), permissions=["change"])
    def photo_remove(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        done = sum(
            services.photo_remove(user=user) for user in self.within_reach(request, queryset)
        )
        self.message_user(
            request,
            ngettext("%(count)d photo removed.", "%(count)d photos removed.", done)
            % {"count": done},
            messages.SUCCESS,
        )

    @admin.action(description=_("Lift the suspension"), permissions=["change"])
    def reinstate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        done = 0
        # An account deleted by its owner keeps its suspension's record and stays closed.
        for user in queryset.filter(suspended_at__isnull=False, deleted_at__isnull=True):
            services.member_reinstate(user=user)
            done += 1
        self.message_user(
            request,
            ngettext("%(count)d member reinstated.", "%(count)d members reinstated.", done)
            % {"count": done},
            messages.SUCCESS,
        )

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        """Not Django's delete, which drops the row and its cascade without what deleting an
        account does (the newsletter's subscriptions, the waiting lists, the scrubbed
        notices...): staff use the action below, which does it as the member's own page."""
        return False

    def has_erase_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("members.delete_user")

    @admin.action(
        description=_("Delete the accounts and their personal data"), permissions=["erase"]
    )
    @confirm_first(
        _(
            "Their accounts are deleted as if they had deleted them themselves: their "
            "personal data is erased or anonymised (docs/privacy.md) and they are logged "
            "out everywhere. This cannot be undone."
        )
    )
    def erase(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        done = 0
        staff = request.user
        assert isinstance(staff, User)
        reach = self.within_reach(request, queryset)
        for user in reach.filter(deleted_at__isnull=True).exclude(pk=staff.pk):
            personal_data.account_delete(user=user)
            done += 1
        self.message_user(
            request,
            ngettext("%(count)d account deleted.", "%(count)d accounts deleted.", done)
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
# Spanish spreadsheets split a CSV at ";" (Excel's list separator there): this file's quotes
# are around values with a comma, so what follows a ";" inside a value becomes a cell of its
# own there, and must not start a formula either.
SEPARATED_FORMULA = re.compile(r"(;)(\s*)(?=[=+\-@\t\r])")


def csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    text = SEPARATED_FORMULA.sub(r"\1\2'", str(value))
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


class InterestAdminForm(forms.ModelForm[Interest]):
    """Labels must name one tag only, in either language and whatever the accents, or a
    member's typing could not tell which tag they mean."""

    class Meta:
        model = Interest
        fields = ["label_es", "label_en", "slug", "status"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        known = services.interests_by_key()
        for field in ("label_es", "label_en"):
            label = services.interest_label_clean(cleaned.get(field) or "")
            if field in cleaned:
                cleaned[field] = label
            other = known.get(services.interest_key(label)) if label else None
            if other is not None and other.pk != self.instance.pk:
                self.add_error(
                    field,
                    _("“%(label)s” is already the interest “%(other)s”: merge them instead.")
                    % {"label": label, "other": other.label_es},
                )
        if services.interest_key(cleaned.get("label_en") or "") == services.interest_key(
            cleaned.get("label_es") or ""
        ):
            cleaned["label_en"] = ""  # the same in both languages
        return cleaned


class InterestMergeChoiceField(forms.ModelChoiceField[Interest]):
    def label_from_instance(self, obj: Interest) -> str:
        members = getattr(obj, "members", 0)
        return str(
            ngettext("%(labels)s (%(count)d member)", "%(labels)s (%(count)d members)", members)
            % {"labels": " / ".join(obj.labels), "count": members}
        )


class InterestMergeForm(forms.Form):
    into = InterestMergeChoiceField(
        label=_("Keep"),
        queryset=Interest.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
    )

    def __init__(self, *args: Any, interests: QuerySet[Interest], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        into = self.fields["into"]
        assert isinstance(into, InterestMergeChoiceField)
        into.queryset = interests


@admin.register(Interest)
class InterestAdmin(admin.ModelAdmin):
    """The curated tags (docs/interests.md). Suggestions come first: staff approve them,
    fix their labels, or merge them into a tag that says the same."""

    form = InterestAdminForm
    list_display = ["label_es", "label_en", "status", "members", "suggested_by", "created_at"]
    list_filter = ["status"]
    list_select_related = ["suggested_by"]
    search_fields = ["label_es", "label_en", "slug"]
    ordering = ["-status", "label_es"]
    prepopulated_fields = {"slug": ["label_es"]}
    fields = ["label_es", "label_en", "slug", "status", "suggested_by", "created_at", "members"]
    readonly_fields = ["suggested_by", "created_at", "members"]
    actions = ["approve", "merge"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Interest]:
        return super().get_queryset(request).annotate(members=Count("profiles", distinct=True))

    @admin.display(description=_("members"), ordering="members")
    def members(self, interest: Interest) -> int:
        return int(getattr(interest, "members", 0))

    def save_model(
        self, request: HttpRequest, obj: Interest, form: forms.ModelForm[Interest], change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        if change and {"label_es", "label_en", "status"} & set(form.changed_data):
            services.interest_profiles_refresh(interest_ids=[obj.pk])

    def delete_model(self, request: HttpRequest, obj: Interest) -> None:
        self.delete_queryset(request, Interest.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Interest]) -> None:
        # The members keep everything else; their search text forgets the deleted labels.
        holders = list(Profile.objects.filter(interests__in=queryset).values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        services.profiles_refresh_search_text(profiles=Profile.objects.filter(pk__in=holders))

    @admin.action(description=_("Approve the selected suggestions"), permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Interest]) -> None:
        count = services.interests_approve(interests=queryset)
        self.message_user(
            request,
            ngettext("%(count)d interest approved.", "%(count)d interests approved.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Merge the selected interests into one…"), permissions=["change"])
    def merge(self, request: HttpRequest, queryset: QuerySet[Interest]) -> TemplateResponse | None:
        # A page first asks which tag stays; its button (a POST with "confirm") merges.
        interests = queryset.order_by("label_es")
        if interests.count() < 2:
            self.message_user(
                request, _("Choose at least two interests to merge."), messages.WARNING
            )
            return None
        form = InterestMergeForm(
            request.POST if "confirm" in request.POST else None, interests=interests
        )
        if form.is_valid():
            into = form.cleaned_data["into"]
            moved = services.interests_merge(into=into, merged=list(interests))
            self.message_user(
                request,
                ngettext(
                    "Merged into “%(interest)s”; %(count)d member gained it.",
                    "Merged into “%(interest)s”; %(count)d members gained it.",
                    moved,
                )
                % {"interest": into.label_es, "count": moved},
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/members/interest/merge.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Merge interests"),
                "opts": self.model._meta,
                "form": form,
                "interests": interests,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(Language)
class LanguageAdmin(ReadOnlyAdmin):
    """The languages are the code's list (`Language.Code`, made by `members.apps`): one
    deleted here went from every profile that had it, silently changing pairing and the
    directory, and came back empty at the next migrate."""

    list_display = ["code", "__str__"]
    search_fields = ["code"]


@admin.register(Block)
class BlockAdmin(ReadOnlyAdmin):
    """Read only: a block is the member's own decision, staff only look."""

    list_display = ["blocker", "blocked", "created_at"]
    list_select_related = ["blocker", "blocked"]
    search_fields = ["blocker__email", "blocked__email"]
    date_hierarchy = "created_at"


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

    def has_delete_permission(self, request: HttpRequest, obj: Acquaintance | None = None) -> bool:
        # The member's own record of whom they met, with their private note: theirs to keep
        # (deleting their account removes it).
        return False


def user_actions_add(*actions: Any) -> None:
    """Add bulk actions to the member list from another app's admin module: the action runs
    there, with that app's services, and this module imports none of them."""
    UserAdmin.actions = [*actions, *UserAdmin.actions]


# allauth's own admin for sessions searches `user__username`, which this User has not, and
# offers a form whose save fails: here the records are read, and deleting one ends it.
admin.site.unregister(UserSession)
# allauth names the model in no language but English: the admin's list says it in the staff's.
UserSession._meta.verbose_name = _("sign-in session")
UserSession._meta.verbose_name_plural = _("sign-in sessions")


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "last_seen_at", "ip", "user_agent"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__display_name", "ip"]
    ordering = ["-last_seen_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: UserSession) -> None:
        # The record alone would come back on the member's next page: end the session itself.
        obj.end()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[UserSession]) -> None:
        for session in queryset:
            session.end()


class SuperusersChange:
    """A way into accounts or rights: an address receives an account's reset links, a linked
    sign-in opens it, a group's permissions are its members'. Whoever may change these
    makes themselves anyone, superusers included: staff may read them, only superusers
    change them (docs/security.md, "Nobody grants themselves rights")."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def get_actions(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # allauth's "mark as verified" asks no permission of its own.
        if not request.user.is_superuser:
            return {}
        return super().get_actions(request, *args, **kwargs)  # type: ignore[misc]


class SuperusersOnly(SuperusersChange):
    """Secrets: a sign-in provider's client secret, a member's access tokens."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser


for model in (EmailAddress, SocialAccount, SocialApp, SocialToken, Group):
    admin.site.unregister(model)


@admin.register(EmailAddress)
class EmailAddressAdmin(SuperusersChange, account_admin.EmailAddressAdmin):
    pass


@admin.register(SocialAccount)
class SocialAccountAdmin(SuperusersChange, socialaccount_admin.SocialAccountAdmin):
    pass


@admin.register(SocialApp)
class SocialAppAdmin(SuperusersOnly, socialaccount_admin.SocialAppAdmin):
    pass


@admin.register(SocialToken)
class SocialTokenAdmin(SuperusersOnly, socialaccount_admin.SocialTokenAdmin):
    pass


@admin.register(Group)
class GroupAdmin(SuperusersChange, BaseGroupAdmin):
    pass

from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import transaction
from django.db.models import (
    Avg,
    Count,
    DurationField,
    F,
    IntegerField,
    Model,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ReadOnlyAdmin, RefusesDeleting
from core.admin_actions import confirm_first
from matching import selectors, services, tasks
from matching.apps import COMMUNITY_SLUG, ON_DEMAND_SLUG
from matching.forms import RoundStartForm
from matching.models import (
    Answer,
    Group,
    GroupMember,
    Meeting,
    PairRequest,
    Participation,
    Programme,
    Round,
    Unmatched,
)
from matching.schedule import next_slot
from members.admin import user_actions_add
from members.models import Interest, User


def _now_to_the_minute() -> Any:
    return timezone.now().replace(second=0, microsecond=0)


@admin.register(Programme)
class ProgrammeAdmin(RefusesDeleting, admin.ModelAdmin):
    list_display = [
        "__str__",  # the name as read: a built-in programme's in the staff member's language
        "slug",
        "active",
        "table_size",
        "cadence_days",
        "weekday",
        "hour",
        "time_zone",
    ]
    list_filter = ["active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["preview_round", "start_round"]

    # The site finds these by their slug: the community's rounds, and "pair me now".
    BUILT_IN = (COMMUNITY_SLUG, ON_DEMAND_SLUG)

    def get_readonly_fields(self, request: HttpRequest, obj: Programme | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "slug"] if obj is not None and obj.slug in self.BUILT_IN else fields

    def get_prepopulated_fields(self, request: HttpRequest, obj: Programme | None = None) -> Any:
        # A programme's slug is its address: written from the name once, then left alone.
        return super().get_prepopulated_fields(request, obj) if obj is None else {}

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "interest":
            # A suggestion may yet be merged away or dropped with its member's account.
            kwargs["queryset"] = Interest.objects.filter(status=Interest.Status.APPROVED)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # Said by the reasons below: the permission staff lack is no permission staff can have.
    # Members' choices to take part go with a programme deleted, never by themselves.
    reasons_cover = (Round, Group, GroupMember, Meeting, Unmatched, PairRequest, Participation)

    def deletion_refused(self, obj: Programme) -> str | None:
        """A programme's rounds are its members' history: the pairs later rounds avoid
        repeating, and the figures staff read. One that has had rounds is stopped (not
        active), not deleted; the two built-in programmes stay."""
        if obj.slug in self.BUILT_IN:
            return self.BUILT_IN_KEPT % {"programme": obj}
        if Round.objects.filter(programme=obj).exists():
            return self.HAS_ROUNDS % {"programme": obj}
        return None

    BUILT_IN_KEPT = _(
        "%(programme)s: the site relies on this programme. Untick “active” to stop its rounds."
    )
    HAS_ROUNDS = _(
        "%(programme)s: its rounds are its members' history (the pairs later rounds avoid "
        "repeating, and its figures). Untick “active” to stop it instead."
    )

    @admin.action(description=_("Preview the next round"))
    def preview_round(
        self, request: HttpRequest, queryset: QuerySet[Programme]
    ) -> TemplateResponse:
        # round_plan reads only: nothing is saved, so staff can look as often as they like.
        now = timezone.now()
        return TemplateResponse(
            request,
            "matching/admin/preview.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Preview of the next round"),
                "opts": self.model._meta,
                # Only active programmes have rounds on their cadence (rounds_start_due).
                "previews": [
                    _plan_preview(programme, scheduled_for=next_slot(programme, now=now))
                    for programme in queryset
                    if programme.active
                ],
                "unscheduled": [programme for programme in queryset if not programme.active],
            },
        )

    @admin.action(description=_("Start the round now"), permissions=["change"])
    def start_round(
        self, request: HttpRequest, queryset: QuerySet[Programme]
    ) -> TemplateResponse | None:
        # The action first shows who would be paired; only the button under that preview
        # (a POST naming the previewed minute) starts the round.
        form = RoundStartForm(request.POST) if "confirm" in request.POST else RoundStartForm()
        if form.is_valid():
            self._start_rounds(request, queryset, scheduled_for=form.cleaned_data["scheduled_for"])
            return None
        scheduled_for = _now_to_the_minute()
        return TemplateResponse(
            request,
            "matching/admin/start_round.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Start the round now?"),
                "opts": self.model._meta,
                "form": form,
                "scheduled_for": scheduled_for.isoformat(),
                "selected": [programme.pk for programme in queryset],
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "previews": [
                    _plan_preview(programme, scheduled_for=scheduled_for) for programme in queryset
                ],
            },
        )

    def _start_rounds(
        self, request: HttpRequest, queryset: QuerySet[Programme], *, scheduled_for: datetime
    ) -> None:
        for programme in queryset:
            round_, created = services.round_create(
                programme=programme, scheduled_for=scheduled_for
            )
            if created:
                self.message_user(
                    request,
                    ngettext(
                        "%(programme)s: round started with %(count)s eligible member.",
                        "%(programme)s: round started with %(count)s eligible members.",
                        round_.eligible_count,
                    )
                    % {"programme": programme, "count": round_.eligible_count},
                    messages.SUCCESS,
                )
            else:
                self.message_user(
                    request,
                    _("%(programme)s: a round for this minute already exists.")
                    % {"programme": programme},
                    messages.WARNING,
                )


def _plan_preview(programme: Programme, *, scheduled_for: datetime) -> dict[str, Any]:
    """What a round of `programme` at `scheduled_for` would pair, for the admin's pages."""
    plan = services.round_plan(programme=programme, scheduled_for=scheduled_for)
    groups = []
    for group in plan.result.groups:
        members = [plan.members[user_id] for user_id in group.members]
        groups.append(
            {
                "names": [member.name for member in members],
                "score": group.score,
                "breakdown": selectors.score_explained(members=members, breakdown=group.breakdown),
            }
        )
    return {
        "plan": plan,
        "groups": groups,
        "unmatched": [plan.members[user_id].name for user_id in plan.result.unmatched],
    }


def _count(model: type[Model], **filters: Any) -> Coalesce:
    """COUNT of `model` rows of each round, as a subquery (no join fan-out in the list)."""
    rows = (
        model._default_manager.filter(round=OuterRef("pk"), **filters)
        .order_by()
        .values("round")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def _groups_explained(groups: QuerySet[Group]) -> QuerySet[Group]:
    """Groups with what `people` and `score_breakdown` read, in a fixed number of queries."""
    seats = GroupMember.objects.select_related("user__profile").prefetch_related(
        "user__profile__interests"
    )
    return groups.prefetch_related(Prefetch("members", queryset=seats))


class GroupColumns:
    """What the group pages show of a group: who, and its score in words rather than JSON."""

    @admin.display(description=_("members"))
    def people(self, group: Group) -> str:
        return ", ".join(str(member.user) for member in group.members.all())

    @admin.display(description=_("score breakdown"))
    def score_breakdown(self, group: Group) -> str:
        return "; ".join(
            selectors.score_explained(
                members=[member.user for member in group.members.all()],
                breakdown=group.breakdown,
            )
        )


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "scheduled_for",
        "eligible_count",
        "groups_count",
        "intros_sent",
        "intros_failed",
        "agreed",
        "time_to_agree",
        "met_rate",
    ]
    list_filter = ["programme"]
    list_select_related = ["programme"]
    date_hierarchy = "scheduled_for"
    readonly_fields = [
        "programme",
        "scheduled_for",
        "created_at",
        "announced_at",
        "eligible_count",
        "total_score",
        "groups",
    ]

    @admin.display(description=_("groups"))
    def groups(self, round_: Round) -> str:
        """A link to the round's groups, a page at a time: listed here, a round of the whole
        community made the page heavy and its form too big to save."""
        return format_html(
            '<a href="{}?round__id__exact={}">{}</a>',
            reverse("admin:matching_group_changelist"),
            round_.pk,
            _("See the round's groups"),
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Round]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                groups_total=_count(Group),
                seats_total=_count(GroupMember),
                sent_total=_count(GroupMember, intro_sent_at__isnull=False),
                failed_total=_count(GroupMember, intro_sent_at__isnull=True, intro_attempts__gt=0),
                met_total=_count(GroupMember, answer="met"),
                unmatched_total=_count(Unmatched),
                agreed_total=_count(Group, meeting__accepted_at__isnull=False),
                # From the intro to the time agreed on, on average over the groups that did.
                agree_after=Subquery(
                    Group.objects.filter(round=OuterRef("pk"), meeting__accepted_at__isnull=False)
                    .order_by()
                    .values("round")
                    .annotate(after=Avg(F("meeting__accepted_at") - F("round__scheduled_for")))
                    .values("after"),
                    output_field=DurationField(),
                ),
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rounds are made by the schedule or the "Start the round now" action

    def has_delete_permission(self, request: HttpRequest, obj: Round | None = None) -> bool:
        # Its pairs are history: later rounds avoid repeating them, and their coffees may be
        # agreed and in calendars, which nothing would take out.
        return False

    @admin.display(description=_("groups"), ordering="groups_total")
    def groups_count(self, round_: Round) -> int:
        return round_.groups_total  # type: ignore[attr-defined,no-any-return]

    @admin.display(description=_("intros sent"), ordering="sent_total")
    def intros_sent(self, round_: Round) -> int:
        return round_.sent_total  # type: ignore[attr-defined,no-any-return]

    @admin.display(description=_("intros failed"), ordering="failed_total")
    def intros_failed(self, round_: Round) -> int:
        return round_.failed_total  # type: ignore[attr-defined,no-any-return]

    @admin.display(description=_("agreed on a time"), ordering="agreed_total")
    def agreed(self, round_: Round) -> int:
        return round_.agreed_total  # type: ignore[attr-defined,no-any-return]

    @admin.display(description=_("time to agree"), ordering="agree_after")
    def time_to_agree(self, round_: Round) -> str:
        after: timedelta | None = round_.agree_after  # type: ignore[attr-defined]
        if after is None:
            return "–"
        hours = after.total_seconds() / 3600
        if hours < 48:
            return ngettext("%(n)d hour", "%(n)d hours", round(hours)) % {"n": round(hours)}
        return ngettext("%(n)d day", "%(n)d days", round(hours / 24)) % {"n": round(hours / 24)}

    @admin.display(description=_("met rate"))
    def met_rate(self, round_: Round) -> str:
        seats: int = round_.seats_total  # type: ignore[attr-defined]
        if not seats:
            return "–"
        return f"{round_.met_total / seats:.0%}"  # type: ignore[attr-defined]


@admin.register(Participation)
class ParticipationAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "programme",
        "opted_in",
        "skip_next_round",
        "paused_until",
        "auto_paused",
        "paused_by_staff",
        "updated_at",
    ]
    list_filter = ["programme", "opted_in", "auto_paused"]
    search_fields = ["user__email"]
    list_select_related = ["user", "programme"]
    raw_id_fields = ["user"]
    actions = ["pause", "resume"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        """Whether a member takes part is theirs to say (participation_update, which also
        withdraws an open "pair me now"); staff pause and resume with the actions."""
        return [field.name for field in Participation._meta.fields]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleted, a member's choices went (taking part, a pause until a date, a skipped
        # round); deleting their account removes it.
        return False

    @admin.action(description=_("Pause until they resume"), permissions=["change"])
    def pause(self, request: HttpRequest, queryset: QuerySet[Participation]) -> None:
        paused = sum(
            services.participation_auto_pause(participation=participation, by_staff=True)
            for participation in queryset.filter(opted_in=True)
        )
        self.message_user(
            request,
            ngettext("%(count)d member paused.", "%(count)d members paused.", paused)
            % {"count": paused},
            messages.SUCCESS,
        )

    @admin.action(description=_("Resume"), permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Participation]) -> None:
        # Only members who take part: one who left is opted back in by nobody but them.
        count = sum(
            services.participation_pause_lift(participation=participation)
            for participation in queryset.filter(opted_in=True, auto_paused=True)
        )
        self.message_user(
            request,
            ngettext("%(count)d member resumed.", "%(count)d members resumed.", count)
            % {"count": count},
            messages.SUCCESS,
        )


# Pairs, seats, meetings, unmatched notes and requests are made and changed by the members
# and the rounds (ReadOnlyAdmin): deleting one would drop history later rounds read, or a
# coffee agreed and held in calendars, with nobody told. Account deletion (members.privacy)
# removes a member's.


class AnsweredFilter(admin.SimpleListFilter):
    title = _("answer")
    parameter_name = "answer"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [*Answer.choices, ("none", _("No answer"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        field = "answer" if queryset.model is GroupMember else "members__answer"
        if value == "none":
            return queryset.filter(**{field: ""}).distinct()
        return queryset.filter(**{field: value}).distinct()


@admin.register(Group)
class GroupAdmin(GroupColumns, ReadOnlyAdmin):
    list_display = ["pk", "round", "people", "score"]
    list_filter = ["round__programme", AnsweredFilter]
    list_select_related = ["round__programme"]
    search_fields = ["members__user__email"]
    fields = ["round", "people", "score", "score_breakdown"]
    readonly_fields = ["people", "score_breakdown"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Group]:
        return _groups_explained(super().get_queryset(request))


class IntroFilter(admin.SimpleListFilter):
    title = _("intro")
    parameter_name = "intro"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("sent", _("Sent")), ("failed", _("Failed so far")), ("pending", _("Not tried"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "sent":
            return queryset.filter(intro_sent_at__isnull=False)
        if value == "failed":
            return queryset.filter(intro_sent_at__isnull=True, intro_attempts__gt=0)
        if value == "pending":
            return queryset.filter(intro_sent_at__isnull=True, intro_attempts=0)
        return queryset


# Intros sent again in one action: queued from the request, a handful of seconds at most.
RESEND_MAX = 1_000


@admin.register(GroupMember)
class GroupMemberAdmin(ReadOnlyAdmin):
    list_display = [
        "user",
        "round",
        "answer",
        "answered_at",
        "intro_sent_at",
        "intro_attempts",
        "follow_up_sent_at",
    ]
    list_filter = [AnsweredFilter, IntroFilter, "round__programme"]
    list_select_related = ["user", "round__programme"]
    search_fields = ["user__email"]
    # "How was it?" is the member's own: staff do not see it.
    exclude = ["rating"]
    actions = ["resend_intro"]

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("matching.change_groupmember")

    @admin.action(description=_("Send the intro email again"), permissions=["resend"])
    @confirm_first(
        _(
            "Each member gets their intro email again, with their partners' names, as if the "
            "round had just paired them."
        )
    )
    def resend_intro(self, request: HttpRequest, queryset: QuerySet[GroupMember]) -> None:
        # intro_send sends only while intro_sent_at is empty (its guard against duplicates),
        # so clearing it is what asks for another email: deliberately, for these seats only.
        if queryset.count() > RESEND_MAX:
            self.message_user(
                request,
                _("Choose at most %(count)d seats at a time: nothing was sent.")
                % {"count": RESEND_MAX},
                messages.ERROR,
            )
            return
        seat_ids = list(queryset.values_list("pk", flat=True))
        with transaction.atomic():
            GroupMember.objects.filter(pk__in=seat_ids).update(
                intro_sent_at=None, intro_resends=F("intro_resends") + 1
            )
            transaction.on_commit(lambda: tasks.intros_queue(seat_ids))
        self.message_user(
            request,
            ngettext(
                "%(count)d intro email queued again.",
                "%(count)d intro emails queued again.",
                len(seat_ids),
            )
            % {"count": len(seat_ids)},
            messages.SUCCESS,
        )


@admin.register(Unmatched)
class UnmatchedAdmin(ReadOnlyAdmin):
    list_display = ["user", "round", "reason", "notice_sent_at"]
    list_filter = ["round__programme", "reason"]
    list_select_related = ["user", "round__programme"]
    search_fields = ["user__email"]


@admin.register(PairRequest)
class PairRequestAdmin(ReadOnlyAdmin):
    """ "Pair me now" requests (matching.on_demand): waiting, matched, cancelled by the
    member, or given up (nobody found in a week)."""

    list_display = ["user", "created_at", "matched_at", "cancelled_at", "gave_up_at"]
    list_filter = [
        ("matched_at", admin.EmptyFieldListFilter),
        ("gave_up_at", admin.EmptyFieldListFilter),
    ]
    list_select_related = ["user"]
    search_fields = ["user__email"]


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    """When pairs meet (matching.meetings): staff see how far scheduling got."""

    list_display = ["group_id", "round", "starts_at", "proposed_by", "accepted_at", "sequence"]
    list_filter = ["group__round__programme", ("accepted_at", admin.EmptyFieldListFilter)]
    list_select_related = ["group__round__programme", "proposed_by"]
    search_fields = ["group__members__user__email"]
    date_hierarchy = "starts_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Meeting]:
        # Each row's checkbox is labelled with the meeting's name, which names its people.
        seats = GroupMember.objects.select_related("user")
        return super().get_queryset(request).prefetch_related(Prefetch("group__members", seats))

    @admin.display(description=_("round"), ordering="group__round__scheduled_for")
    def round(self, meeting: Meeting) -> Round:
        return meeting.group.round


def _community_participations(users: QuerySet[User]) -> QuerySet[Participation]:
    return Participation.objects.filter(
        programme__slug=COMMUNITY_SLUG, user__in=users
    ).select_related("user", "programme")


@admin.action(description=_("Pause their coffee pairs"), permissions=["change"])
def pause_pairs(
    modeladmin: admin.ModelAdmin[User], request: HttpRequest, queryset: QuerySet[User]
) -> None:
    # The same pause as an ignored-intros one: the member sees it and may resume.
    paused = sum(
        services.participation_auto_pause(participation=participation, by_staff=True)
        for participation in _community_participations(queryset).filter(opted_in=True)
    )
    modeladmin.message_user(
        request,
        ngettext("%(count)d member paused.", "%(count)d members paused.", paused)
        % {"count": paused},
        messages.SUCCESS,
    )


@admin.action(description=_("Resume their coffee pairs"), permissions=["change"])
def resume_pairs(
    modeladmin: admin.ModelAdmin[User], request: HttpRequest, queryset: QuerySet[User]
) -> None:
    # Only members who take part: one who left is opted back in by nobody but them.
    count = sum(
        services.participation_pause_lift(participation=participation)
        for participation in _community_participations(queryset).filter(
            opted_in=True, auto_paused=True
        )
    )
    modeladmin.message_user(
        request,
        ngettext("%(count)d member resumed.", "%(count)d members resumed.", count)
        % {"count": count},
        messages.SUCCESS,
    )


user_actions_add(pause_pairs, resume_pairs)

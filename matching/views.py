from datetime import datetime

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from matching import favourites, links, meetings, on_demand, selectors, services
from matching.forms import (
    AnswerForm,
    LinkAnswerForm,
    MeetAgainForm,
    MeetingTimeForm,
    ParticipationForm,
    RatingForm,
)
from matching.models import Answer, GroupMember, MeetAgain, Participation, Programme
from matching.schedule import next_round_for
from members.forms import AcquaintanceNoteForm
from members.models import User

# Proposing a meeting time emails the others: the page and the emails' links share a limit.
PROPOSED_TOO_OFTEN = gettext_lazy("You have proposed many times. Wait a while and try again.")


def _mine_page(
    request: HttpRequest, *, form: ParticipationForm | None = None, status: int = 200
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    page = selectors.pairs_page(user=user)
    if form is None:
        form = ParticipationForm.for_participation(
            page.participation, today=selectors.member_today(user)
        )
    wishes = dict(MeetAgain.objects.filter(user=user).values_list("partner_id", "every_weeks"))
    again_forms = {
        partner.user.pk: MeetAgainForm(
            initial={"every_weeks": wishes.get(partner.user.pk)}, prefix=f"again-{partner.user.pk}"
        )
        for partner in (page.current.partners if page.current else [])
        # Nobody is met again who has left or been suspended.
        if partner.user.account_is_open
    }
    # Nor is a note kept here about them: "People I've met" keeps the notes of the past.
    note_forms = {
        partner.user.pk: AcquaintanceNoteForm(
            instance=partner.acquaintance,
            prefix=f"note-{partner.user.pk}",
            about=partner.user.name,
        )
        for partner in (page.current.partners if page.current else [])
        if partner.acquaintance and partner.user.account_is_open
    }
    # Opting in between rounds: say when the first pair comes.
    first_pair_at = (
        next_round_for(page.participation)
        if page.participation.opted_in
        and page.current is None
        and not page.past
        and user.profile_onboarded
        else None
    )
    current_partners = [
        (partner, note_forms.get(partner.user.pk), again_forms.get(partner.user.pk))
        for partner in (page.current.partners if page.current else [])
    ]
    return render(
        request,
        "matching/mine.html",
        {
            "page": page,
            "extra": selectors.extra_coffee(user=user),
            "programmes": services.programmes_open_to(user=user),
            "first_pair_at": first_pair_at,
            # Left out of the latest round: why, and when the next try is (as the email says).
            "left_out": (
                selectors.left_out(entry=page.unmatched)
                if page.unmatched and page.participation.opted_in
                else None
            ),
            "form": form,
            "answers": Answer.choices,
            "current_partners": current_partners,
            # "After your coffee": whom there is something to keep about.
            "after_partners": [entry for entry in current_partners if entry[1] or entry[2]],
        },
        status=status,
    )


@login_required
@require_safe
def mine(request: HttpRequest) -> HttpResponse:
    return _mine_page(request)


@login_required
@require_POST
def participation_settings(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = ParticipationForm(request.POST, today=selectors.member_today(user))
    if not form.is_valid():
        return _mine_page(request, form=form, status=400)
    participation = services.participation_get_or_create(
        programme=selectors.community_programme(), user=user
    )
    services.participation_update(participation=participation, **form.cleaned_data)
    messages.success(request, _("Your coffee pair settings are saved."))
    return redirect("matching:mine")


@login_required
@require_POST
def pair_now(request: HttpRequest) -> HttpResponse:
    """ "Pair me now": ask for an extra coffee (paired at once if someone else asked)."""
    user: User = request.user  # type: ignore[assignment]
    try:
        made = on_demand.request_make(user=user)
    except on_demand.RequestRefused as refused:
        messages.error(request, str(refused))
        return redirect("matching:mine")
    if made.is_open:
        messages.success(
            request,
            _("We are looking for someone for you. You'll get an email as soon as we find them."),
        )
    else:
        messages.success(request, _("We found someone! Your intro is on its way."))
    return redirect("matching:mine")


@login_required
@require_POST
def pair_now_cancel(request: HttpRequest) -> HttpResponse:
    if on_demand.request_cancel(user=request.user):  # type: ignore[arg-type]
        messages.success(request, _("Done: we stopped looking."))
    return redirect("matching:mine")


@login_required
@require_POST
def programme_join(request: HttpRequest, slug: str) -> HttpResponse:
    """Join or leave one of the other programmes (`join` is "1" or "0")."""
    user: User = request.user  # type: ignore[assignment]
    programme = get_object_or_404(Programme, slug=slug, active=True)
    join = request.POST.get("join") == "1"
    try:
        services.programme_join(programme=programme, user=user, join=join)
    except ValueError:
        messages.error(request, _("This programme is for other members: see who it is for."))
    else:
        if join:
            messages.success(request, _("You joined %(name)s.") % {"name": programme.display_name})
        else:
            messages.success(request, _("You left %(name)s.") % {"name": programme.display_name})
    return redirect("matching:mine")


@login_required
@require_POST
def meet_again(request: HttpRequest, member_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    partner = get_object_or_404(User, pk=member_id, is_active=True)
    form = MeetAgainForm(request.POST, prefix=f"again-{partner.pk}")
    if not form.is_valid():
        messages.error(request, _("Choose how often, or “Not planned”."))
        return redirect("matching:mine")
    try:
        favourites.meet_again_set(
            user=user, partner=partner, every_weeks=form.cleaned_data["every_weeks"]
        )
    except favourites.WishRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Saved. Only you see it."))
    return redirect("matching:mine")


@login_required
@require_POST
def answer_set(request: HttpRequest) -> HttpResponse:
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Choose one of the answers."))
    seat = get_object_or_404(GroupMember, pk=form.cleaned_data["seat_id"], user=request.user)
    services.answer_record(seat=seat, answer=form.cleaned_data["answer"])
    messages.success(request, _("Thanks, we noted your answer."))
    return redirect("matching:mine")


def _seat_from_token(token: str) -> tuple[GroupMember, str]:
    """The seat and answer a signed link stands for; Http404 when forged, expired or stale."""
    try:
        seat_id, answer = links.answer_from_token(token)
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise Http404("This link is not valid.") from exc
    if answer not in Answer.values:
        raise Http404("Unknown answer.")
    seat = GroupMember.objects.select_related("round__programme", "user").filter(pk=seat_id).first()
    # A member suspended or gone has left the pairing: their emails' links record nothing.
    if seat is None or not seat.user.account_is_open:
        raise Http404("This pairing no longer exists.")
    return seat, answer


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def answer(request: HttpRequest, token: str) -> HttpResponse:
    # Mail scanners open every link in an email, so a GET only asks, with the link's answer
    # chosen; the member's click on the button (a POST, CSRF-checked) records it.
    seat, value = _seat_from_token(token)
    if request.method == "POST":
        form = LinkAnswerForm(request.POST)
        if form.is_valid():
            chosen = form.cleaned_data["answer"]
            services.answer_record(seat=seat, answer=chosen)
            messages.success(request, _("Thanks, we noted your answer."))
            # Back to the page for the answer now recorded, so that a reload changes nothing.
            return redirect(links.answer_url(seat_id=seat.pk, answer=chosen))
    else:
        form = LinkAnswerForm(initial={"answer": value})
    # Read signed out too: the introduction's date is the link's member's, as their email
    # gave it (the community's zone can be the next day for a member in the Americas).
    with timezone.override(seat.user.time_zone):
        return render(
            request,
            "matching/answer.html",
            {"seat": seat, "form": form, "token": token},
            status=400 if form.is_bound else 200,
        )


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def rating(request: HttpRequest, token: str) -> HttpResponse:
    """ "How was it?" from the follow-up email: the GET only asks (mail scanners open links),
    the member's POST records it. Private: nobody else sees it."""
    try:
        seat_id, value = links.rating_from_token(token)
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise Http404("This link is not valid.") from exc
    seat = get_object_or_404(GroupMember.objects.select_related("user", "round"), pk=seat_id)
    if not seat.user.account_is_open:
        raise Http404("This pairing no longer exists.")
    saved = False
    if request.method == "POST":
        form = RatingForm(request.POST)
        if form.is_valid():
            services.rating_record(seat=seat, rating=form.cleaned_data["rating"])
            # To a page that says so, which a reload does not send again.
            return redirect(f"{request.path}?saved=1")
    else:
        # Once saved, the page shows the member's mark, not the link's.
        saved = request.GET.get("saved") == "1" and seat.rating is not None
        form = RatingForm(initial={"rating": seat.rating if saved else value})
    return render(
        request,
        "matching/rating.html",
        {
            "seat": seat,
            "form": form,
            "saved": saved,
            "others": selectors.group_others(seat=seat),
        },
        status=400 if form.is_bound else 200,
    )


def _participation_from_token(token: str) -> Participation:
    try:
        participation_id = links.participation_from_token(token)
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise Http404("This link is not valid.") from exc
    return get_object_or_404(
        Participation.objects.select_related("programme", "user"), pk=participation_id
    )


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def resume(request: HttpRequest, token: str) -> HttpResponse:
    participation = _participation_from_token(token)
    # The email's link lifts the pause it told of, however late, and nothing else: a member
    # who since opted out or paused by choice is not put back in by an old email.
    resumable = participation.auto_paused and participation.user.account_is_open
    if request.method == "POST":
        if resumable:
            services.participation_resume(participation=participation)
            messages.success(request, _("Welcome back! You are in the next round."))
        return redirect("matching:resume", token)
    taking_part = (
        participation.opted_in
        and not participation.auto_paused
        and not participation.skip_next_round
        and not participation.is_paused(selectors.member_today(participation.user))
    )
    return render(
        request,
        "matching/resume.html",
        {
            "participation": participation,
            "taking_part": taking_part,
            "resumable": resumable,
            "token": token,
        },
    )


# Coffee meetings (matching.meetings) --------------------------------------------------------


def _seat_in_group(user: User, group_id: int) -> GroupMember:
    return get_object_or_404(
        GroupMember.objects.select_related("group", "round", "user__profile"),
        group_id=group_id,
        user=user,
    )


def _meeting_page(
    request: HttpRequest,
    seat: GroupMember,
    *,
    form: MeetingTimeForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    page = selectors.meeting_page(seat=seat)
    return render(
        request,
        "matching/meeting.html",
        {
            "seat": seat,
            "page": page,
            "form": form or MeetingTimeForm(zone=user.time_zone),
            "error": error,
        },
        status=status,
    )


@login_required
@require_safe
def meeting(request: HttpRequest, group_id: int) -> HttpResponse:
    return _meeting_page(request, _seat_in_group(request.user, group_id))  # type: ignore[arg-type]


@login_required
@require_POST
def meeting_propose(request: HttpRequest, group_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    seat = _seat_in_group(user, group_id)
    form = MeetingTimeForm(request.POST, zone=user.time_zone)
    if not form.is_valid():
        return _meeting_page(request, seat, form=form, status=400)
    if not ratelimit.consume(request, action="meeting_propose"):
        return _meeting_page(request, seat, form=form, error=str(PROPOSED_TOO_OFTEN), status=429)
    try:
        meetings.meeting_propose(seat=seat, starts_at=form.cleaned_data["starts_at"])
    except meetings.MeetingRefused as refused:
        return _meeting_page(request, seat, form=form, error=str(refused), status=409)
    messages.success(
        request, _("Proposed. We let the others know; one click from them and it's on.")
    )
    return redirect("matching:meeting", group_id)


@login_required
@require_POST
def meeting_accept(request: HttpRequest, group_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    seat = _seat_in_group(user, group_id)
    form = MeetingTimeForm(request.POST, zone=user.time_zone)
    if not form.is_valid():
        return _meeting_page(request, seat, error=_("Choose one of the times."), status=400)
    try:
        meetings.meeting_accept(seat=seat, starts_at=form.cleaned_data["starts_at"])
    except meetings.MeetingRefused as refused:
        return _meeting_page(request, seat, error=str(refused), status=409)
    messages.success(request, _("It's on! The calendar invitation is in your email."))
    return redirect("matching:meeting", group_id)


@login_required
@require_POST
def meeting_cancel(request: HttpRequest, group_id: int) -> HttpResponse:
    seat = _seat_in_group(request.user, group_id)  # type: ignore[arg-type]
    try:
        meetings.meeting_cancel(seat=seat)
    except meetings.MeetingRefused as refused:
        return _meeting_page(request, seat, error=str(refused), status=409)
    messages.success(request, _("Done. We told the others; choose another time when you can."))
    return redirect("matching:meeting", group_id)


@login_required
@require_POST
def meeting_place(request: HttpRequest, group_id: int) -> HttpResponse:
    """To the group's own table (opened on the first visit: a POST, so that a link opened by
    a mail scanner makes no room)."""
    seat = _seat_in_group(request.user, group_id)  # type: ignore[arg-type]
    try:
        return redirect(meetings.group_link("place", seat=seat))
    except meetings.MeetingRefused as refused:
        return _meeting_page(request, seat, error=str(refused), status=409)


@login_required
@require_safe
def meeting_write(request: HttpRequest, group_id: int) -> HttpResponse:
    """To the group's conversation (the intro email's "write to them" link)."""
    seat = _seat_in_group(request.user, group_id)  # type: ignore[arg-type]
    try:
        return redirect(meetings.group_link("conversation", seat=seat))
    except meetings.MeetingRefused as refused:
        return _meeting_page(request, seat, error=str(refused), status=409)


def _meeting_link(token: str) -> tuple[GroupMember, str, datetime]:
    try:
        seat_id, action, starts_at = links.meeting_from_token(token)
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise Http404("This link is not valid.") from exc
    seat = (
        GroupMember.objects.select_related("group", "round", "user__profile")
        .filter(pk=seat_id)
        .first()
    )
    # A member suspended or gone has left the pairing: their emails' links show nothing more.
    if seat is None or not seat.user.account_is_open:
        raise Http404("This pairing no longer exists.")
    return seat, action, starts_at


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def meeting_link(request: HttpRequest, token: str) -> HttpResponse:
    """A time from an email, to propose or accept. Mail scanners open every link, so a GET
    only asks; the member's click on the button (a POST, CSRF-checked) does it. The signed
    link stands for the member: it works without logging in, only for their own seat."""
    seat, action, starts_at = _meeting_link(token)
    error = ""
    done = False
    if request.method == "POST":
        try:
            if action == "propose":
                # The page's proposals and the links' share one limit: the link's member.
                if not ratelimit.consume(request, action="meeting_propose", user=seat.user):
                    raise meetings.MeetingRefused(PROPOSED_TOO_OFTEN)
                meetings.meeting_propose(seat=seat, starts_at=starts_at)
            else:
                meetings.meeting_accept(seat=seat, starts_at=starts_at)
        except meetings.MeetingRefused as refused:
            error = str(refused)
        else:
            done = True
    # Read signed out too: the times are the link's member's, in their zone, as it says.
    with timezone.override(seat.user.time_zone):
        return render(
            request,
            "matching/meeting_link.html",
            {
                "seat": seat,
                "action": action,
                "starts_at": starts_at,
                "page": selectors.meeting_page(seat=seat),
                "error": error,
                "done": done,
            },
            status=409 if error else 200,
        )

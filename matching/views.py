from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from matching import links, selectors, services
from matching.forms import AnswerForm, LinkAnswerForm, ParticipationForm
from matching.models import Answer, GroupMember, Participation
from matching.schedule import next_round_for
from members.forms import AcquaintanceNoteForm
from members.models import User


def _mine_page(
    request: HttpRequest, *, form: ParticipationForm | None = None, status: int = 200
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    page = selectors.pairs_page(user=user)
    if form is None:
        form = ParticipationForm.for_participation(
            page.participation, today=selectors.member_today(user)
        )
    note_forms = {
        partner.user.pk: AcquaintanceNoteForm(
            instance=partner.acquaintance, prefix=f"note-{partner.user.pk}"
        )
        for partner in (page.current.partners if page.current else [])
        if partner.acquaintance
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
    return render(
        request,
        "matching/mine.html",
        {
            "page": page,
            "first_pair_at": first_pair_at,
            "form": form,
            "answers": Answer.choices,
            "current_partners": [
                (partner, note_forms.get(partner.user.pk))
                for partner in (page.current.partners if page.current else [])
            ],
        },
        status=status,
    )


@login_required
@require_GET
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
    if seat is None:
        raise Http404("This pairing no longer exists.")
    return seat, answer


@require_http_methods(["GET", "POST"])
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
    return render(
        request,
        "matching/answer.html",
        {"seat": seat, "form": form, "token": token},
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


@require_http_methods(["GET", "POST"])
@never_cache
def resume(request: HttpRequest, token: str) -> HttpResponse:
    participation = _participation_from_token(token)
    if request.method == "POST":
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
        {"participation": participation, "taking_part": taking_part, "token": token},
    )

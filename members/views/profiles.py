from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.i18n import language_remember
from members import services
from members.forms import AcquaintanceNoteForm, ProfileForm
from members.models import Acquaintance, Profile, User
from members.profile_sections import profile_sections_for
from members.selectors import apart_from, profile_for_viewer
from members.signals import onboarding_completed
from members.status import busy_until


def _profile_form_page(request: HttpRequest, *, onboarding: bool) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    profile = services.profile_get_or_create(user=user)
    if request.method == "POST":
        language_before = user.language
        form = ProfileForm(request.POST, request.FILES, instance=profile, onboarding=onboarding)
        if form.is_valid():
            profile = services.profile_update(
                profile=form.save(commit=False),
                interests=form.cleaned_data["interests"],
                new_interests=form.cleaned_data["interest_names"],
                languages=form.cleaned_data["languages"],
                photo=form.photo,
                remove_photo=form.cleaned_data["remove_photo"],
                complete_onboarding=True,
            )
            # A language changed here is the site's too, from this answer on (not only the
            # emails'): this browser keeps it, as after the footer's switch.
            switched = profile.user.language != language_before
            if switched:
                translation.activate(profile.user.language)

            def answer(response: HttpResponse) -> HttpResponse:
                return language_remember(response, profile.user.language) if switched else response

            if onboarding:
                onboarding_completed.send(
                    sender=User,
                    user=user,
                    choices={"coffee_pairs": form.cleaned_data["coffee_pairs"]},
                )
                messages.success(request, _("Welcome aboard! Your profile is ready."))
                _suggestions_waiting(request, profile)
                # On to the page that asked for the login (members.adapters.post_login).
                then = request.GET.get("next", "")
                safe = url_has_allowed_host_and_scheme(
                    then, allowed_hosts={request.get_host()}, require_https=request.is_secure()
                )
                return answer(redirect(then if safe else "home"))
            messages.success(request, _("Your profile is saved."))
            _suggestions_waiting(request, profile)
            return answer(redirect("members:profile", user.pk))
        if form.photo is not None:
            services.photo_set(user=user, photo=form.photo)
            # The page shows it, with "Remove my photo": the member need not choose it again.
            profile.refresh_from_db(fields=["photo", "photo_thumbnail"])
            messages.info(
                request, _("Your new photo is saved. Fix what is marked below to save the rest.")
            )
    else:
        form = ProfileForm(instance=profile, onboarding=onboarding)
    return render(
        request,
        "members/profile_form.html",
        {
            "form": form,
            "onboarding": onboarding,
            "profile": profile,
            # Signing in with GitHub, Google or the like is on: linking and unlinking is there.
            "social_sign_in": bool(settings.SOCIALACCOUNT_PROVIDERS),
            "interest_options": ProfileForm.interest_options(),
        },
    )


def _suggestions_waiting(request: HttpRequest, profile: Profile) -> None:
    if waiting := profile.suggested_interests:
        messages.info(
            request,
            ngettext(
                "Our team will review %(interests)s before it shows to others; "
                "until then only you see it.",
                "Our team will review %(interests)s before they show to others; "
                "until then only you see them.",
                len(waiting),
            )
            % {
                "interests": get_text_list(
                    [_("“%(interest)s”") % {"interest": tag} for tag in waiting], _("and")
                )
            },
        )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def onboarding(request: HttpRequest) -> HttpResponse:
    # Once: saving it again would join the coffee pairs a member has since left.
    if request.user.profile_onboarded:  # type: ignore[union-attr]
        return redirect("members:profile_edit")
    return _profile_form_page(request, onboarding=True)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile_edit(request: HttpRequest) -> HttpResponse:
    # Not before the welcome form, which joins the coffee pairs and honours a `next`.
    if not request.user.profile_onboarded:  # type: ignore[union-attr]
        query = request.GET.urlencode()
        return redirect(reverse("members:onboarding") + (f"?{query}" if query else ""))
    return _profile_form_page(request, onboarding=False)


@require_safe
def profile_detail(request: HttpRequest, member_id: int) -> HttpResponse:
    if request.user.pk == member_id and not request.user.profile_onboarded:  # type: ignore[union-attr]
        return redirect("members:onboarding")
    try:
        profile = profile_for_viewer(viewer=request.user, member_id=member_id)  # type: ignore[arg-type]
    except Http404:
        # A visitor here is most often a member signed out on this device, following a
        # profile link from an email (a coffee partner, the digest's newcomers): the login
        # leads back. Every profile a visitor may not see answers so, whether or not there
        # is one, which tells no more about who is a member than a 404 would.
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise
    acquaintance = None
    is_blocked = False
    if request.user.is_authenticated and request.user.pk != member_id:
        acquaintance = Acquaintance.objects.filter(owner=request.user, other_id=member_id).first()
        is_blocked = request.user.blocks_made.filter(blocked_id=member_id).exists()
    # Whether they are in focus now is for members, never for visitors of a public profile.
    busy = (
        busy_until(user_ids=[member_id], now=timezone.now())
        if request.user.is_authenticated
        else {}
    )
    return render(
        request,
        "members/profile_detail.html",
        {
            "profile": profile,
            "member": profile.user,
            "acquaintance": acquaintance,
            "is_self": request.user.pk == member_id,
            "is_blocked": is_blocked,
            # What other apps show here (members/profile_sections.py).
            "sections": profile_sections_for(member=profile.user, viewer=request.user),
            "busy": busy,
            "note_form": AcquaintanceNoteForm(instance=acquaintance, prefix=f"note-{member_id}")
            if acquaintance
            else None,
        },
    )


# People on one page of "People I've met": a few years of coffee pairs and tables.
MET_PAGE_SIZE = 50


def _met_entries(user: User) -> QuerySet[Acquaintance]:
    # Nobody on either side of a block with the member: the list would show them each other.
    return (
        Acquaintance.objects.filter(apart_from(user, "other_id"), owner=user, other__is_active=True)
        .select_related("other__profile")
        .order_by("-last_met_at", "-pk")
    )


def _met_page(
    request: HttpRequest, *, bound: AcquaintanceNoteForm | None = None, status: int = 200
) -> HttpResponse:
    acquaintances = _met_entries(request.user)  # type: ignore[arg-type]
    number: int | str | None = request.GET.get("page")
    if bound is not None:
        # The page that holds the note with its error.
        ids = list(acquaintances.values_list("pk", flat=True))
        at = ids.index(bound.instance.pk) if bound.instance.pk in ids else 0
        number = at // MET_PAGE_SIZE + 1
    page = Paginator(acquaintances, MET_PAGE_SIZE).get_page(number)
    entries = [
        (
            entry,
            bound
            if bound and bound.instance.pk == entry.pk
            else AcquaintanceNoteForm(
                instance=entry, prefix=f"note-{entry.other_id}", about=entry.other.name
            ),
        )
        for entry in page
    ]
    # For "Send a message", shown only to those who take one (conversations_start).
    profiles = [entry.other.profile for entry, _form in entries if hasattr(entry.other, "profile")]
    return render(
        request,
        "members/met_list.html",
        {"entries": entries, "profiles": profiles, "page": page},
        status=status,
    )


@login_required
@require_safe
def met_list(request: HttpRequest) -> HttpResponse:
    return _met_page(request)


@login_required
@require_POST
def met_note(request: HttpRequest, member_id: int) -> HttpResponse:
    acquaintance = get_object_or_404(
        Acquaintance.objects.select_related("other"), owner=request.user, other_id=member_id
    )
    form = AcquaintanceNoteForm(
        request.POST,
        instance=acquaintance,
        prefix=f"note-{member_id}",
        about=acquaintance.other.name,
    )
    if not form.is_valid():
        return _met_page(request, bound=form, status=400)
    services.acquaintance_note_set(
        owner=acquaintance.owner, other=acquaintance.other, note=form.cleaned_data["note"]
    )
    messages.success(request, _("Note saved."))
    if request.POST.get("return_to") == "profile":
        return redirect("members:profile", member_id)
    if request.POST.get("return_to") == "pairs":
        return redirect("matching:mine")
    page = request.POST.get("page", "")
    back = reverse("members:met")
    return redirect(f"{back}?page={page}" if page.isdigit() and page != "1" else back)

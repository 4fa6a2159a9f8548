"""The home page: a visitor's landing page, or a member's day at a glance (their first
steps while some are left, the cafeteria, the next events). It shows several apps at once,
so it lives with the project."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST, require_safe
from django.views.i18n import set_language

from coworking.home import coffee_partners, coffee_standing, events_next
from coworking.onboarding import first_steps
from members.models import User
from rooms.models import Room
from rooms.presence import Glance, present_glances

# Avatars on the dashboard's rooms card; the count says how many more there are.
DASHBOARD_AVATARS = 6
# The dashboard's events card: the next few, the list has the rest.
DASHBOARD_EVENTS = 3


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        user: User = request.user  # type: ignore[assignment]
        # The card links to the cafeteria by its slug: nothing else of the room is shown.
        cafeteria = Room.objects.filter(kind=Room.Kind.CAFETERIA).only("slug").first()
        glance = (
            present_glances(viewer=user, rooms=[cafeteria], faces=DASHBOARD_AVATARS)[cafeteria.pk]
            if cafeteria
            else Glance(0, [])
        )
        partners = coffee_partners(user=user)
        return render(
            request,
            "home/dashboard.html",
            {
                "cafeteria": cafeteria,
                "in_cafeteria": glance,
                "coffee_partners": partners,
                "coffee_standing": coffee_standing(user=user) if partners is None else "",
                "next_events": events_next(limit=DASHBOARD_EVENTS),
                "checklist": first_steps(user=user),
            },
        )
    return render(request, "home/landing.html")


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The footer's language switch (Django's `set_language`, which keeps the choice in this
    browser), saved to a signed-in member's account too: their emails follow it."""
    response = set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        User.objects.filter(pk=request.user.pk).update(language=language)
    return response

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import run_checks, worker_last_seen
from events.selectors import events_upcoming
from members.models import User
from rooms.models import Room
from rooms.presence import present_by_room

# Avatars on the dashboard's rooms card; the count says how many more there are.
DASHBOARD_AVATARS = 6
# The dashboard's events card: the next few, the list has the rest.
DASHBOARD_EVENTS = 3


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        user: User = request.user  # type: ignore[assignment]
        cafeteria = Room.objects.filter(kind=Room.Kind.CAFETERIA).first()
        in_cafeteria = (
            present_by_room(viewer=user, rooms=[cafeteria])[cafeteria.pk] if cafeteria else []
        )
        return render(
            request,
            "core/dashboard.html",
            {
                "cafeteria": cafeteria,
                "in_cafeteria": in_cafeteria,
                "cafeteria_faces": in_cafeteria[:DASHBOARD_AVATARS],
                "next_events": list(events_upcoming()[:DASHBOARD_EVENTS]),
            },
        )
    return render(request, "core/landing.html")


@require_GET
@never_cache
async def healthz(request: HttpRequest) -> JsonResponse:
    checks = await run_checks()
    healthy = all(result.ok for result in checks.values())
    body = {
        "status": "ok" if healthy else "error",
        "checks": {name: result.as_dict() for name, result in checks.items()},
        "worker_last_seen": await worker_last_seen(),
    }
    return JsonResponse(body, status=200 if healthy else 503)

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import run_checks, worker_last_seen


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

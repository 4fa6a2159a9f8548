from django.http import Http404, HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.static import serve

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


def media_serve(request: HttpRequest, path: str, document_root: str) -> HttpResponseBase:
    """Uploaded files, where the site serves them itself (SERVE_MEDIA): Django's `serve`,
    but a name the file system refuses (longer than it allows) is a file not found."""
    try:
        return serve(request, path, document_root=document_root)
    except OSError as refused:
        raise Http404 from refused

from django.http import Http404, HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.static import serve

from core.health import run_checks, worker_last_seen


@require_safe
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


# Profile photos are each written once, under a new random name (members/images.py): a
# name never comes to hold other bytes, so a browser keeps them rather than asking again on
# every page (a directory page showed 24 avatars). Private: not in a shared cache, where a
# photo its member deleted would outlive the file. Other files in media (an image staff put
# there for the newsletter, say) may be replaced under the same name, and are asked again.
PHOTOS = "photos/"
MEDIA_CACHE_CONTROL = "private, max-age=31536000, immutable"


def media_serve(request: HttpRequest, path: str, document_root: str) -> HttpResponseBase:
    """Uploaded files, where the site serves them itself (SERVE_MEDIA): Django's `serve`,
    but a name the file system refuses (longer than it allows) is a file not found, and a
    photo found may be kept (`MEDIA_CACHE_CONTROL`)."""
    try:
        response = serve(request, path, document_root=document_root)
    except OSError as refused:
        raise Http404 from refused
    if path.startswith(PHOTOS):
        response["Cache-Control"] = MEDIA_CACHE_CONTROL
    return response

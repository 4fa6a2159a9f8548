"""The installable web app: its manifest, its service worker and the page the worker shows
when the network is gone (docs/webapp.md). Served from the site's root, so that the worker's
scope is the whole site; it lives with the project because its shortcuts name several apps."""

import hashlib
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from rooms.models import CAFETERIA_SLUG

# What the worker keeps for the offline page: the page itself and what it shows.
OFFLINE_ASSETS = ("css/site.css", "img/favicon.svg")
# The colours of static/css/site.css (--primary; --bg in the light scheme).
THEME_COLOR = "#0f766e"
BACKGROUND_COLOR = "#f8fafc"


@cache
def assets_version() -> str:
    """Changes with every deploy that changes a static file, and only then: the hash of the
    collected files' names (each carries its content's hash), or where nothing was collected
    (development) of every file's path, size and modification time. Every web process
    computes the same, so the worker's bytes do not flip between processes."""
    digest = hashlib.sha256()
    hashed = getattr(staticfiles_storage, "hashed_files", None)
    if hashed:
        for name in sorted(hashed):
            digest.update(f"{name}={hashed[name]}\n".encode())
    else:
        for finder in finders.get_finders():
            for path, storage in finder.list([]):
                full = Path(storage.path(path))
                stat = full.stat()
                digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


@require_safe
@cache_control(max_age=3600, private=True)  # in the member's language
def manifest(request: HttpRequest) -> JsonResponse:
    icons = [
        {
            "src": static(f"img/icons/{kind}-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": purpose,
        }
        for kind, purpose in (("icon", "any"), ("maskable", "maskable"))
        for size in (192, 512)
    ]
    body = {
        "name": settings.SITE_NAME,
        "short_name": settings.SITE_NAME,
        "description": _(
            "Your online coworking community: meet people, keep in touch and work side by side."
        ),
        "lang": request.LANGUAGE_CODE,
        "id": "/",
        "start_url": reverse("home"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": icons,
        "shortcuts": [
            {
                "name": _("Cafeteria"),
                "url": reverse("rooms:room", args=[CAFETERIA_SLUG]),
                "icons": [icons[0]],
            },
            {"name": _("Messages"), "url": reverse("conversations:list"), "icons": [icons[0]]},
        ],
    }
    return JsonResponse(
        body, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False}
    )


@require_safe
@cache_control(no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    # Browsers look for a new worker at least daily and on navigations; no-cache makes
    # every look reach the server, so a deploy reaches an open app at its next page.
    return render(
        request,
        "webapp/service-worker.js",
        {
            "version": assets_version(),
            "offline_url": reverse("offline"),
            "languages": [code for code, _name in settings.LANGUAGES],
            "default_language": settings.LANGUAGE_CODE,
            "static_url": settings.STATIC_URL,
            "hashed": bool(getattr(staticfiles_storage, "hashed_files", None)),
            "assets": [static(name) for name in OFFLINE_ASSETS],
            "icon": static("img/icons/icon-192.png"),
            "push_renew_url": reverse("notifications:push_renew"),
            "site_name": settings.SITE_NAME,
        },
        content_type="text/javascript",
    )


@require_safe
def offline(request: HttpRequest) -> HttpResponse:
    """The page the worker shows without network, kept once per language (`?lang=`): it
    shows the copy in the language of the last page the member saw."""
    language = request.GET.get("lang", "")
    if language not in dict(settings.LANGUAGES):
        return render(request, "webapp/offline.html")
    with translation.override(language):
        return render(request, "webapp/offline.html")

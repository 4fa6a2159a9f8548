"""The scripts' strings: the djangojs catalogues, served at /jsi18n/ by Django's
JavaScriptCatalog. Pages name the catalogue's version in its address
(`?language=es&v=<version>`), and an address with the current version is kept by browsers
for a year, so no page waits on a check of it: on a slow mobile connection each check cost
a round trip. The version changes when the strings do (their compiled files), with a
deploy. An address without it, or with an old one (a page cached before a deploy), is
answered as before: checked on each use with If-Modified-Since, a bodyless 304.

The address's language decides the strings, not the request's cookie or headers: a kept
address is shared by every browser and proxy that asks for it."""

import hashlib
from functools import cache
from pathlib import Path

import django
from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.views.decorators.http import last_modified
from django.views.i18n import JavaScriptCatalog

YEAR = 365 * 24 * 3600


@cache
def catalogue_version() -> str:
    """Changes when any script string does, in any language; the same in every process."""
    digest = hashlib.sha256(django.get_version().encode())
    for root in settings.LOCALE_PATHS:
        for compiled in sorted(Path(root).glob("*/LC_MESSAGES/djangojs.mo")):
            digest.update(compiled.parent.parent.name.encode())
            digest.update(compiled.read_bytes())
    return digest.hexdigest()[:12]


loaded_at = timezone.now()
_checked = last_modified(lambda request: loaded_at)(JavaScriptCatalog.as_view())


def javascript_catalog(request: HttpRequest) -> HttpResponseBase:
    named = request.GET.get("language", "")
    says_it_all = named in dict(settings.LANGUAGES)
    language = named if says_it_all else translation.get_language()
    with translation.override(language):
        response: HttpResponseBase = _checked(request)
    response["Content-Language"] = language
    # Kept only where the address says it all: without its language, the strings follow
    # the request's cookie or headers, which a shared copy must not.
    if request.GET.get("v") == catalogue_version() and says_it_all:
        patch_cache_control(response, public=True, max_age=YEAR, immutable=True)
    else:
        patch_cache_control(response, no_cache=True)
    return response

"""The site's language in a browser."""

from django.conf import settings
from django.http import HttpResponse


def language_remember(response: HttpResponse, language: str) -> HttpResponse:
    """Have the browser read the site in `language` from now on, as Django's `set_language`
    does (its cookie, with the LANGUAGE_COOKIE_* settings)."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response

from django.conf import settings
from django.http import HttpRequest

from core.catalogue import catalogue_version


def site(request: HttpRequest) -> dict[str, str]:
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "CONTACT_EMAIL": settings.CONTACT_EMAIL,
        # In the scripts' strings' address, so that browsers keep them (core.catalogue).
        "CATALOGUE_VERSION": catalogue_version(),
    }

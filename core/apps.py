from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every app builds on: layout, emails, access helpers, middleware, health check."""

    name = "core"
    verbose_name = _("Site")

    def ready(self) -> None:
        post_migrate.connect(sync_site_from_settings, sender=self)


def sync_site_from_settings(**kwargs: Any) -> None:
    """Keep the Site row (used by allauth in emails) in step with SITE_URL and SITE_NAME."""
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.contrib.sites.models import Site

    domain = urlsplit(settings.SITE_URL).netloc
    Site.objects.update_or_create(
        id=settings.SITE_ID, defaults={"domain": domain, "name": settings.SITE_NAME}
    )

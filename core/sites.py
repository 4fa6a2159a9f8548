"""The Sites framework's row follows SITE_URL and SITE_NAME, so that what reads it (allauth's
emails: "Hello from ...", the domain they sign with, links built without a request) names
the site where it runs."""

from typing import Any
from urllib.parse import urlsplit

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.conf import settings
from django.contrib.sites.models import Site
from django.db import DEFAULT_DB_ALIAS, router


def site_sync(
    sender: AppConfig, *, using: str = DEFAULT_DB_ALIAS, apps: Apps = global_apps, **kwargs: Any
) -> None:
    """post_migrate receiver for the sites app, connected after Django's own (which creates
    "example.com" in an empty table): makes row SITE_ID say SITE_URL's host:port and
    SITE_NAME. Every `migrate` runs it, even with nothing to migrate, so `make run` and a
    deploy bring the row in line with the environment they start with."""
    try:
        model = apps.get_model("sites", "Site")
    except LookupError:  # migrating the sites app backwards
        return
    if not router.allow_migrate_model(using, model):
        return
    model.objects.using(using).update_or_create(
        pk=settings.SITE_ID,
        defaults={"domain": urlsplit(settings.SITE_URL).netloc, "name": settings.SITE_NAME},
    )
    # The historical model sends no signal the real one listens to: forget this process's copy.
    Site.objects.clear_cache()

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every app builds on: layout, emails, access helpers, middleware, health check."""

    name = "core"
    verbose_name = _("Site")

    def ready(self) -> None:
        from core.sites import site_sync

        # post_migrate is only sent for apps with models (core has none): hear the sites
        # app's, after Django's own receiver has created the row.
        post_migrate.connect(site_sync, sender=apps.get_app_config("sites"))

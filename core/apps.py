from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.urls import register_converter
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every app builds on: layout, emails, access helpers, middleware, health check."""

    name = "core"
    verbose_name = _("Site")

    def ready(self) -> None:
        # Registers its check of the database's migration history.
        import core.migration_history  # noqa: F401
        from core.converters import RowIdConverter
        from core.sites import site_sync

        # Before any URLconf is imported: every app's URLs take ids as <id:…>.
        register_converter(RowIdConverter, "id")

        # post_migrate is only sent for apps with models (core has none): hear the sites
        # app's, after Django's own receiver has created the row.
        post_migrate.connect(site_sync, sender=apps.get_app_config("sites"))

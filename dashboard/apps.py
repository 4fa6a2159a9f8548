from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = _("Staff dashboard")

    def ready(self) -> None:
        from django.contrib import admin

        # The admin's index links to the dashboard and the moderation queue.
        admin.site.index_template = "dashboard/admin_index.html"

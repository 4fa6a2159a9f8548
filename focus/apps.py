from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FocusConfig(AppConfig):
    name = "focus"
    verbose_name = _("Focus sessions")

    def ready(self) -> None:
        from focus import presence, privacy

        privacy.register()
        presence.register()

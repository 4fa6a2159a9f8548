from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StageConfig(AppConfig):
    name = "stage"
    verbose_name = _("Stage")

    def ready(self) -> None:
        from stage import privacy

        privacy.register()

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Events")

    def ready(self) -> None:
        from events import digest, privacy, selectors, stage
        from matching.meetings import busy_source_register

        digest.register()
        privacy.register()
        stage.register()
        busy_source_register(selectors.busy_going)

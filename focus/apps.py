from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FocusConfig(AppConfig):
    name = "focus"
    verbose_name = _("Focus sessions")

    def ready(self) -> None:
        from focus import presence, privacy

        privacy.register()
        presence.register()
        # The member's focus figures on their profile (focus/stats.py).
        from focus.stats import stats_profile_section
        from members.profile_sections import profile_section_register

        profile_section_register(key="focus-stats", maker=stats_profile_section)

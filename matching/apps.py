from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    name = "matching"
    verbose_name = _("Coffee pairs")

    def ready(self) -> None:
        from matching import digest, privacy, receivers
        from members.signals import onboarding_completed

        post_migrate.connect(community_programme_ensure, sender=self)
        onboarding_completed.connect(receivers.on_onboarding_completed)
        digest.register()
        privacy.register()


COMMUNITY_SLUG = "community"


def community_programme_ensure(**kwargs: Any) -> None:
    """The whole community's programme exists from the start; staff may add others."""
    from matching.models import Programme

    Programme.objects.get_or_create(
        slug=COMMUNITY_SLUG,
        defaults={"name": "Coffee pairs", "description": "Every two weeks, a new colleague."},
    )

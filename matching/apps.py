from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop


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
# "Pair me now" pairs (matching.on_demand): a programme of its own, never scheduled.
ON_DEMAND_SLUG = "on-demand"


def community_programme_ensure(**kwargs: Any) -> None:
    """The whole community's programme exists from the start; staff may add others."""
    from core.schema import is_migrated
    from matching.models import Programme

    if not is_migrated("matching.Programme", kwargs):
        return
    Programme.objects.get_or_create(
        slug=COMMUNITY_SLUG,
        defaults={
            # Stored in English, shown in each member's language (Programme.display_name).
            "name": gettext_noop("Coffee pairs"),
            "description": gettext_noop("Every two weeks, a new colleague."),
        },
    )
    Programme.objects.get_or_create(
        slug=ON_DEMAND_SLUG,
        defaults={
            "name": gettext_noop("Coffee now"),
            "description": gettext_noop("An extra coffee, when a member asks for one."),
            "active": False,
        },
    )

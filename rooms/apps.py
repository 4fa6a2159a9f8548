from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class RoomsConfig(AppConfig):
    name = "rooms"
    verbose_name = _("Rooms")

    def ready(self) -> None:
        from notifications.push import busy_check_register
        from rooms import privacy, signals  # noqa: F401  (signals connects the receivers)
        from rooms.presence import does_not_disturb

        post_migrate.connect(cafeteria_ensure, sender=self)
        privacy.register()
        busy_check_register(does_not_disturb)


def cafeteria_ensure(**kwargs: Any) -> None:
    """The cafeteria exists from the start. The migration creates it; this brings it back
    after a test-database flush."""
    from core.schema import is_migrated
    from rooms.models import CAFETERIA_SLUG, Room

    if not is_migrated("rooms.Room", kwargs):
        return
    if not Room.objects.filter(kind=Room.Kind.CAFETERIA).exists():
        Room.objects.get_or_create(
            slug=CAFETERIA_SLUG, defaults={"kind": Room.Kind.CAFETERIA, "name": "Cafeteria"}
        )

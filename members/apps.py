from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")

    def ready(self) -> None:
        from members.privacy import register_members_data

        post_migrate.connect(languages_ensure, sender=self)
        register_members_data()


def languages_ensure(**kwargs: Any) -> None:
    """One Language row per choice. After every migrate (and every test-database flush), so
    a language added to the choices needs no data migration."""
    from core.schema import is_migrated
    from members.models import Language

    if not is_migrated("members.Language", kwargs):
        return
    Language.objects.bulk_create(
        [Language(code=code) for code in Language.Code.values], ignore_conflicts=True
    )

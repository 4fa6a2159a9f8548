from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo community (`manage.py seed_demo`): the top layer, it uses every app."""

    name = "demo"
    verbose_name = _("Demo community")

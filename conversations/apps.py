from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConversationsConfig(AppConfig):
    name = "conversations"
    verbose_name = _("Conversations")

    def ready(self) -> None:
        from conversations import coffee_tables, digest, signals  # noqa: F401 (signals connects receivers)
        from conversations.privacy import register_conversations_data
        from matching.meetings import place_provider_register

        register_conversations_data()
        digest.register()
        place_provider_register(coffee_tables.table_url)

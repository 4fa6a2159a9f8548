from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConversationsConfig(AppConfig):
    name = "conversations"
    verbose_name = _("Conversations")

    def ready(self) -> None:
        from conversations import coffee_tables, digest, services, signals  # noqa: F401 (signals connects receivers)
        from conversations.privacy import register_conversations_data
        from matching.meetings import group_link_register

        register_conversations_data()
        digest.register()
        group_link_register("place", coffee_tables.table_url)
        group_link_register("conversation", services.coffee_conversation_url)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConversationsConfig(AppConfig):
    name = "conversations"
    verbose_name = _("Conversations")

    def ready(self) -> None:
        from conversations import coffee_tables, digest, services, signals  # noqa: F401 (signals connects receivers)
        from conversations.privacy import register_conversations_data
        from matching.meetings import group_link_register
        from rooms.services import room_run_by_nobody_register

        register_conversations_data()
        digest.register()
        group_link_register("place", coffee_tables.table_url)
        group_link_register("conversation", services.coffee_conversation_url)
        # Whoever of a pair opened their table may not invite anyone else to it.
        room_run_by_nobody_register(coffee_tables.is_table)

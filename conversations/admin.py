from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from conversations.models import Conversation


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """That a conversation exists and how busy it is; never what is said in it (private
    between its members: reported messages reach staff through the moderation queue)."""

    list_display = ["__str__", "kind", "members", "created_at", "last_message_at"]
    list_filter = ["kind"]
    fields = ["kind", "title", "created_at", "last_message_at"]
    readonly_fields = ["kind", "created_at", "last_message_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        return super().get_queryset(request).annotate(member_count=Count("participants"))

    @admin.display(description=_("members"), ordering="member_count")
    def members(self, conversation: Conversation) -> int:
        return conversation.member_count  # type: ignore[attr-defined]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Conversation | None = None) -> bool:
        """A conversation is its members': it goes when the last of them has left, files
        included (conversations.services.conversations_without_readers_delete). Deleted here,
        its files stayed on disk for good, and the page asking first listed their names."""
        return False

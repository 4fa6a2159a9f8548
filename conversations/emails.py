from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils.functional import lazy

from conversations.models import Conversation, Message
from core.emails import email_for
from matching.selectors import names_of
from members.models import User
from notifications.email_off import email_off_headers
from notifications.models import Kind


def unread_email(
    *, user: User, conversation: Conversation, writers: list[User], unread: list[Message]
) -> EmailMultiAlternatives:
    return email_for(
        user=user,
        template="conversations/email/unread",
        headers=email_off_headers(user=user, kind=Kind.MESSAGE),
        # The latest message told: a retry after more came is a new email, with them too.
        key=f"unread:{conversation.pk}:{unread[-1].pk}",
        context={
            # Joined in the reader's language, when email_for renders it.
            "names": lazy(names_of, str)(writers),
            "writers": len(writers),
            "conversation": conversation,
            # The latest few, so the email reads as the conversation does.
            "shown": unread[-5:],
            "count": len(unread),
            "conversation_url": conversation.get_absolute_url(),
            "settings_url": reverse("notifications:settings"),
        },
    )

from django.dispatch import Signal

# A member's unread in-app notifications changed (one was recorded, or some were read);
# sent with `user`. The member socket (conversations.signals) pushes the new count to the
# member's pages.
notices_changed = Signal()

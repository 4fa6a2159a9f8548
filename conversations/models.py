from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from conversations.attachments import private_storage
from core.models import CountsBroadcasts

# The longest message, as in the rooms' chat.
MESSAGE_MAX_LENGTH = 4000
# Members of a group conversation, its creator included: a table's worth of people who know
# each other, not a room (rooms are for crowds).
GROUP_MAX_MEMBERS = 20
GROUP_TITLE_MAX_LENGTH = 80


class Conversation(models.Model):
    """A private conversation between members. Only its participants read it: staff see
    that it exists, never what is said (reported messages aside)."""

    class Kind(models.TextChoices):
        DIRECT = "direct", _("Direct")
        GROUP = "group", _("Group")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("name"), max_length=GROUP_TITLE_MAX_LENGTH, blank=True)
    # "<smaller user id>:<larger user id>" for a direct conversation, so that two members
    # share exactly one; empty for groups.
    direct_key = models.CharField(max_length=41, null=True, blank=True, unique=True, editable=False)
    # What opened a group conversation for its members, e.g. "coffee:<matching group id>" for a
    # coffee trio: opened once, however many times the round's task runs.
    origin = models.CharField(max_length=40, null=True, blank=True, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_message_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [
            # The unread-messages tick reads only conversations written in lately
            # (selectors.seats_to_tell), not every seat of every conversation ever.
            models.Index(fields=["last_message_at"], name="conversation_last_message"),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.get_kind_display()} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("conversations:detail", args=[self.pk])


class Participant(models.Model):
    """A member's seat in a conversation, and how far they have read."""

    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="participants",
        verbose_name=_("conversation"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="conversation_seats",
        verbose_name=_("user"),
    )
    joined_at = models.DateTimeField(default=timezone.now, editable=False)
    # The id of the last message they have seen; later ones from others are unread.
    last_read_id = models.BigIntegerField(default=0, editable=False)
    # The last message they were told about (in the app and, as they chose, by email) while
    # it was unread: one notice per stretch of unread messages, and none again until they
    # have read (conversations.tasks).
    told_upto_id = models.BigIntegerField(default=0, editable=False)
    # Muted by the member: no notice, email or push about this conversation's messages; they
    # still count as unread, and the list and the page say it is muted.
    muted_at = models.DateTimeField(_("muted"), null=True, blank=True, editable=False)
    # Put away by the member: out of their list (it has a view of its own) until a new
    # message comes, which brings it back unless they muted it (`services.message_store`).
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="one_seat_per_member")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.conversation}"


class Message(CountsBroadcasts):
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("conversation"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("author"),
    )
    # Chosen by the sender's page: sending the same message twice stores it once.
    client_id = models.UUIDField()
    text = models.TextField(_("message"), validators=[MaxLengthValidator(MESSAGE_MAX_LENGTH)])
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The message this one answers, quoted above it.
    reply_to = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reply to"),
    )
    edited_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Removed by its author, or by staff after a report (the text goes, the row stays, so
    # the conversation keeps its shape and a report its reference).
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The text as the members' own search reads it on PostgreSQL (lower case, no accents,
    # `to_tsvector('simple', ...)`, GIN-indexed by migration 0005); NULL elsewhere, where the
    # search reads `text` itself (conversations.selectors.messages_search).
    search_vector = SearchVectorField(null=True, editable=False)
    # Counts the changes of its reactions (conversations.services.reaction_toggle, under
    # the row's lock; core.models.CountsBroadcasts). A default in the database, and no
    # CHECK, as rooms.Message's.
    reactions_version = models.IntegerField(default=0, db_default=0, editable=False)
    COUNTER = "reactions_version"
    # When its reactions last changed: a page back from a dropped connection hears of them
    # with the edits and deletions it missed (selectors.messages_changed).
    reactions_changed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "author", "client_id"], name="conversation_message_once"
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "id"], name="conversation_message_page"),
            # A reconnecting page asks what was edited or deleted since it last heard
            # (selectors.messages_changed): these read only those, not years of messages.
            models.Index(
                fields=["conversation", "edited_at"],
                condition=models.Q(edited_at__isnull=False),
                name="conversation_message_edited",
            ),
            models.Index(
                fields=["conversation", "deleted_at"],
                condition=models.Q(deleted_at__isnull=False),
                name="conversation_message_deleted",
            ),
            models.Index(
                fields=["conversation", "reactions_changed_at"],
                condition=models.Q(reactions_changed_at__isnull=False),
                name="conversation_message_reacted",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} in {self.conversation_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class Reaction(models.Model):
    """A member's reaction to a message: one of rooms.reactions.REACTIONS, each at most once."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="reactions", verbose_name=_("message")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    emoji = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("reaction")
        verbose_name_plural = _("reactions")
        constraints = [
            models.UniqueConstraint(
                fields=["message", "user", "emoji"], name="conversation_reaction_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.emoji} on #{self.message_id}"


def _attachment_path(attachment: "Attachment", filename: str) -> str:
    # `filename` is generated (conversations.attachments): an upload never picks its path.
    return f"conversations/{attachment.message.conversation_id}/{filename}"


class Attachment(models.Model):
    """A file or picture shared with a message, kept out of MEDIA_ROOT and served only to
    the conversation's members (conversations/attachments.py)."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("Picture")
        FILE = "file", _("File")

    message = models.OneToOneField(
        Message, on_delete=models.CASCADE, related_name="attachment", verbose_name=_("message")
    )
    kind = models.CharField(_("kind"), max_length=5, choices=Kind.choices)
    file = models.FileField(upload_to=_attachment_path, storage=private_storage, max_length=200)
    thumbnail = models.FileField(
        upload_to=_attachment_path, storage=private_storage, max_length=200, blank=True
    )
    # The name it had on the sender's computer, made safe: what a download is saved as.
    name = models.CharField(_("name"), max_length=120)
    size = models.PositiveIntegerField(_("size in bytes"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class CoffeeTable(models.Model):
    """A coffee group's own place to meet: a private room (rooms.Room) for its members only,
    made the first time one of them goes there, made again if it closed while idle
    (conversations.coffee_tables)."""

    group = models.OneToOneField(
        "matching.Group", on_delete=models.CASCADE, related_name="table", verbose_name=_("group")
    )
    room = models.ForeignKey(
        "rooms.Room",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("room"),
    )
    # When met detection saw two of them there together long enough.
    met_at = models.DateTimeField(_("met at"), null=True, blank=True)

    class Meta:
        verbose_name = _("coffee table")
        verbose_name_plural = _("coffee tables")

    def __str__(self) -> str:
        return f"{self.group_id} · {self.room_id}"

import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import CountsBroadcasts

MESSAGE_MAX_LENGTH = 2000
CAFETERIA_SLUG = "cafeteria"
# A focus block without a title names its room this, in English (Room.title translates it).
FOCUS_ROOM_NAME = "Focus session"


class RoomError(ValueError):
    """A refused room operation. `code` is stable, for clients (the WebSocket protocol) to map
    to their own wording; `message` is the translated explanation."""

    code = "refused"
    default_message = _("This is not possible in this room.")

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or str(self.default_message))


class CafeteriaProtected(RoomError):
    code = "cafeteria_protected"
    default_message = _("The cafeteria is always open: it cannot be closed or deleted.")


class Room(models.Model):
    """A place to meet live: the cafeteria (exactly one, always open) or a meeting room."""

    class Kind(models.TextChoices):
        CAFETERIA = "cafeteria", _("Cafeteria")
        PERMANENT = "permanent", _("Permanent meeting room")
        MEMBER = "member", _("Member's meeting room")
        # A focus block's room: its tables are drawn by the block (focus/sessions.py).
        FOCUS = "focus", _("Focus block's room")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.MEMBER)
    name = models.CharField(_("name"), max_length=80)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    description = models.TextField(
        _("description"), blank=True, validators=[MaxLengthValidator(500)]
    )
    private = models.BooleanField(
        _("private"), default=False, help_text=_("Only invited members can enter.")
    )
    capacity = models.PositiveSmallIntegerField(
        _("capacity"),
        null=True,
        blank=True,
        validators=[MinValueValidator(2)],
        help_text=_("Leave empty for no limit."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rooms_created",
        verbose_name=_("created by"),
    )
    invitees = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="room_invitations",
        verbose_name=_("invited members"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Moved forward by entries and messages; what `rooms_close_idle` measures idleness by.
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Before this, only staff and the creator may come in (to prepare); NULL: open from the start.
    opens_at = models.DateTimeField(_("opens at"), null=True, blank=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(kind="cafeteria"),
                name="room_one_cafeteria",
                violation_error_message=_("There is already a cafeteria."),
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="cafeteria")
                | models.Q(closed_at__isnull=True, private=False),
                name="room_cafeteria_open_to_all",
                violation_error_message=_("The cafeteria is always open to every member."),
            ),
        ]
        indexes = [
            models.Index(
                fields=["last_activity_at"],
                condition=models.Q(kind="member", closed_at__isnull=True),
                name="room_member_open_activity",
            ),
            # The lobby (selectors.rooms_open_to) lists the open rooms other than focus
            # blocks', which never close: without it, each lobby read the whole table.
            models.Index(
                fields=["name"],
                condition=models.Q(closed_at__isnull=True) & ~models.Q(kind="focus"),
                name="room_open_listed",
            ),
            # rooms.tasks.rooms_opened_tick, every minute: the rooms that opened since the
            # last one, among a table that only grows (focus blocks' and coffee tables').
            models.Index(
                fields=["opens_at"],
                condition=models.Q(closed_at__isnull=True, opens_at__isnull=False),
                name="room_opening",
            ),
        ]

    def __str__(self) -> str:
        return str(self.title)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.is_cafeteria:
            raise CafeteriaProtected
        return super().delete(*args, **kwargs)

    @property
    def is_cafeteria(self) -> bool:
        return self.kind == self.Kind.CAFETERIA

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def has_opened(self, *, now: datetime | None = None) -> bool:
        """Has the opening time passed (or is there none)? Says nothing of being closed."""
        return self.opens_at is None or self.opens_at <= (now or timezone.now())

    @property
    def title(self) -> str:
        # Names the site gives are stored in English; show them in the reader's language.
        if self.is_cafeteria:
            return str(_("Cafeteria"))
        if self.kind == self.Kind.FOCUS and self.name == FOCUS_ROOM_NAME:
            return str(_("Focus session"))
        return self.name

    def close(self, *, now: datetime | None = None) -> bool:
        """Close this room (keeping its history). False when it was already closed."""
        if self.is_cafeteria:
            raise CafeteriaProtected
        when = now or timezone.now()
        updated = Room.objects.filter(pk=self.pk, closed_at__isnull=True).update(closed_at=when)
        if updated:
            self.closed_at = when
        return bool(updated)


class RoomParticipation(models.Model):
    """A member who entered a room: who may read its history once it closes, and the staff
    moderation that applies to them there (mute, removal). One row per member and room."""

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="participations", verbose_name=_("room")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="room_participations",
        verbose_name=_("user"),
    )
    # NULL for a member moderated before they ever entered.
    first_seen_at = models.DateTimeField(_("first seen"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    muted_until = models.DateTimeField(_("muted until"), null=True, blank=True)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("moderated by"),
    )

    class Meta:
        verbose_name = _("room participation")
        verbose_name_plural = _("room participations")
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="room_participation_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.room}"

    def is_muted(self, *, now: datetime | None = None) -> bool:
        return self.muted_until is not None and self.muted_until > (now or timezone.now())


class Message(CountsBroadcasts):
    """A chat line in a room, kept as history. Deleting is soft: the row stays, the text goes."""

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="messages", verbose_name=_("room")
    )
    # Accounts are anonymised rather than deleted; SET_NULL covers a hard delete by staff,
    # and the message then reads as from a former member.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="room_messages",
        verbose_name=_("author"),
    )
    text = models.TextField(_("text"), validators=[MaxLengthValidator(MESSAGE_MAX_LENGTH)])
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("deleted by"),
    )
    # The message's number in its room: 1, 2, 3... in the order they are stored, none
    # skipped (`message_seq_next`). A page that gets number 7 after 5 knows it missed one,
    # whatever the reason, and catches up (docs/websocket-protocol.md, "Catching up").
    seq = models.PositiveIntegerField(_("number in the room"), editable=False)
    # Chosen by the client per message, so that a message resent after a dropped connection
    # is stored once.
    client_id = models.UUIDField(_("client id"), null=True, blank=True, default=uuid.uuid4)
    # Asked as a question (the stage's Q&A: docs/stage.md); members upvote it with 👍.
    is_question = models.BooleanField(_("question"), default=False)
    # Counts the changes of its reactions (rooms.services.reaction_toggle, under the row's
    # lock), so that a page keeps the latest counts of a burst of votes
    # (core.models.CountsBroadcasts). Its default is the database's too, so that code that
    # predates it, still serving during a deploy, can insert messages; no CHECK, which would
    # have PostgreSQL read the whole table while it is locked to add the column.
    reactions_version = models.IntegerField(default=0, db_default=0, editable=False)
    COUNTER = "reactions_version"
    # When its reactions last changed: a page back from a dropped connection hears of them
    # with the edits and deletions it missed (selectors.messages_changed).
    reactions_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The message this one answers, quoted above it (rooms.quotes); its deletion leaves the
    # answer standing, quoting a deleted message.
    reply_to = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("in reply to"),
    )
    # Who "@Name" in the text reaches; kept in step with the text (rooms.mentions).
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Mention",
        blank=True,
        related_name="room_mentions",
        verbose_name=_("mentioned members"),
    )

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(
                fields=["room", "author", "client_id"], name="message_client_id_once"
            ),
            models.UniqueConstraint(fields=["room", "seq"], name="message_seq_once"),
            models.CheckConstraint(
                condition=models.Q(deleted_at__isnull=True) | models.Q(text=""),
                name="message_deleted_has_no_text",
            ),
        ]
        indexes = [
            models.Index(fields=["room", "-id"], name="message_room_history"),
            # What was said in a room between two moments (an event's conversation): read
            # from the index, not the room's whole history (68 ms in a cafeteria of a
            # million messages).
            models.Index(fields=["room", "created_at", "id"], name="message_room_time"),
            # A reconnecting page asks what was edited or deleted since it last heard
            # (selectors.messages_changed): these read only those, not years of messages.
            models.Index(
                fields=["room", "edited_at"],
                condition=models.Q(edited_at__isnull=False),
                name="message_room_edited",
            ),
            models.Index(
                fields=["room", "deleted_at"],
                condition=models.Q(deleted_at__isnull=False),
                name="message_room_deleted",
            ),
            models.Index(
                fields=["room", "reactions_changed_at"],
                condition=models.Q(reactions_changed_at__isnull=False),
                name="message_room_reacted",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:60] if not self.deleted_at else str(_("(deleted)"))

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


def message_seq_next(*, room_id: int) -> int:
    """The `seq` of the next message stored in the room. Call it in the transaction that
    stores the message: it locks the room's row until that transaction ends, so a room's
    messages are stored one at a time and commit in `seq` order (and id order). A reading
    that holds number n therefore holds every message before it."""
    list(Room.objects.select_for_update(no_key=True).filter(pk=room_id).values_list("pk"))
    last = Message.objects.filter(room_id=room_id).aggregate(last=models.Max("seq"))["last"]
    return (last or 0) + 1


class Reaction(models.Model):
    """A member's reaction to a room message: one of rooms.reactions.REACTIONS, each at most
    once (the same set as in conversations)."""

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
            models.UniqueConstraint(fields=["message", "user", "emoji"], name="room_reaction_once")
        ]

    def __str__(self) -> str:
        return f"{self.emoji} on #{self.message_id}"


class Mention(models.Model):
    """A member a message mentions. The email telling them goes out at most once per row
    (`emailed_at`, set by `rooms.tasks.mention_notify`)."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="+", verbose_name=_("message")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="mention_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.message_id}"


class Presence(models.Model):
    """One open connection of a member to a room (one row per browser tab and server process).

    A member is present while any of their rows has a recent heartbeat; rows of connections
    that vanished without a goodbye are pruned by `rooms.presence.presence_prune`.
    """

    class Status(models.TextChoices):
        WORKING = "working", _("Working")
        BREAK = "break", _("On a break")
        CALL = "call", _("In a call")
        DND = "dnd", _("Do not disturb")

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="presences", verbose_name=_("room")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="room_presences",
        verbose_name=_("user"),
    )
    channel_name = models.CharField(_("channel name"), max_length=200, unique=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.WORKING
    )
    since = models.DateTimeField(_("since"), default=timezone.now)
    # When the member's stay began: a second tab inherits it, so the stay is one visit.
    connected_at = models.DateTimeField(_("connected at"), default=timezone.now)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), default=timezone.now)
    # The call this connection sits in (rooms.calls): a meeting room's one table is 1, the
    # cafeteria's are numbered from 1. NULL: not in a call. The row's id is its peer id.
    table = models.PositiveSmallIntegerField(_("table"), null=True, blank=True)
    # What the connection is sending in its call, as it last told the server.
    audio = models.BooleanField(_("audio"), default=False)
    video = models.BooleanField(_("video"), default=False)
    screen = models.BooleanField(_("screen sharing"), default=False)

    class Meta:
        verbose_name = _("presence")
        verbose_name_plural = _("presences")
        indexes = [
            models.Index(fields=["room", "heartbeat_at"], name="presence_room_live"),
            models.Index(fields=["heartbeat_at"], name="presence_heartbeat"),
            models.Index(
                fields=["room", "table"],
                condition=models.Q(table__isnull=False),
                name="presence_seated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.room} ({self.status})"


class Visit(models.Model):
    """A member's stay in a room, from their first connection to their last one closing:
    what event attendance and the staff dashboard's people-hours are counted from."""

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="visits", verbose_name=_("room")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="room_visits",
        verbose_name=_("user"),
    )
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"))

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        constraints = [
            # Two tabs closing at once both see the other gone: the stay is still one visit.
            models.UniqueConstraint(fields=["room", "user", "started_at"], name="visit_once"),
            models.CheckConstraint(
                condition=models.Q(ended_at__gte=models.F("started_at")), name="visit_ends_after"
            ),
        ]
        indexes = [models.Index(fields=["room", "ended_at"], name="visit_room_ended")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.room} ({self.started_at:%Y-%m-%d %H:%M})"


class HourlyUsage(models.Model):
    """Seconds members spent in a room during one UTC hour, summed as visits end: the staff
    dashboard reads a year of room use from at most 8,760 rows per room."""

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="hourly_usage", verbose_name=_("room")
    )
    hour = models.DateTimeField(_("hour"))
    seconds = models.PositiveIntegerField(_("member-seconds"), default=0)

    class Meta:
        verbose_name = _("hourly use")
        verbose_name_plural = _("hourly use")
        constraints = [models.UniqueConstraint(fields=["room", "hour"], name="usage_room_hour")]
        indexes = [models.Index(fields=["hour"], name="usage_hour")]

    def __str__(self) -> str:
        return f"{self.room} {self.hour:%Y-%m-%d %H}h: {self.seconds} s"

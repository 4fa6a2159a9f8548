from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    """What a member is told about. Each has a channel the member chooses (`Preference`),
    except event changes: a plan the member made changed, so they always hear of it."""

    PAIR_CREATED = "pair_created", _("New coffee pair")
    PAIR_FOLLOW_UP = "pair_follow_up", _("Coffee pair follow-up")
    EVENT_REMINDER = "event_reminder", _("Event reminder")
    WAITLIST_PROMOTED = "waitlist_promoted", _("Seat from the waiting list")
    MENTION = "mention", _("Mention in a room")
    EVENT_CHANGED = "event_changed", _("Event changed or cancelled")
    MESSAGE = "message", _("Unread private messages")
    FOCUS_REMINDER = "focus_reminder", _("Focus session about to start")
    FOCUS_NO_SHOW = "focus_no_show", _("Missed focus session")
    ROOM_INVITED = "room_invited", _("Invitation to a room")


class Channel(models.TextChoices):
    BOTH = "both", _("On the site and by email")
    IN_APP = "in_app", _("On the site only")
    EMAIL = "email", _("By email only")
    DIGEST = "digest", _("On the site, and in the weekly digest if I have been away")


class Preference(models.Model):
    """How a member wants to hear of one kind of news. No row: the kind's default
    (`notifications.services.default_channel`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    # Also as a push notification on the member's devices (notifications.push), if they
    # turned push on for any device.
    push = models.BooleanField(_("push notification"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="preference_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} → {self.channel}"


class Notification(models.Model):
    """Something a member was told. Written in their language when it happened, like an
    email; `key` names the occasion, so one occasion is one notification however often the
    task that tells it runs."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    key = models.CharField(_("occasion"), max_length=120)
    text = models.CharField(_("text"), max_length=300)
    url = models.CharField(_("link"), max_length=300, blank=True)
    # The members the text names (a coffee partner, who mentioned you): deleting one of their
    # accounts takes their name out of the text (notifications.privacy).
    about = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="+", blank=True, verbose_name=_("about")
    )
    # False when the member chose email only: kept for the once-only rule, not listed.
    in_app = models.BooleanField(_("shown on the site"), default=True)
    # The member chose the digest for this kind: the next digest mentions it if still unread.
    for_digest = models.BooleanField(_("for the digest"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Told while the member was in a focus session: kept from them until then, and then
    # delivered with the others of that session in one batch (notifications.holds).
    held_until = models.DateTimeField(_("held until"), null=True, blank=True)
    # Whether the held notice was to be emailed: the batch email carries it.
    held_email = models.BooleanField(_("email when released"), default=False)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    # Claimed when its push goes out (notifications.push): a second run of the task pushes
    # nothing twice.
    pushed_at = models.DateTimeField(_("pushed at"), null=True, blank=True)
    # A reminder of something about to start: told at once, even in focus, and pushed as
    # urgent and short-lived (notifications.push), since it is worthless later.
    urgent = models.BooleanField(_("about to start"), default=False, db_default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_once"),
        ]
        indexes = [
            models.Index(
                fields=["user", "-created_at"],
                condition=models.Q(in_app=True),
                name="notification_list",
            ),
            models.Index(
                fields=["user"],
                condition=models.Q(in_app=True, read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(
                fields=["held_until"],
                condition=models.Q(held_until__isnull=False, released_at__isnull=True),
                name="notification_held",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.text}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Digest(models.Model):
    """The weekly digest of one member for one week (its Monday): the unique row is the
    claim, so a second run of the weekly task sends nobody a second digest."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="digests",
        verbose_name=_("user"),
    )
    week = models.DateField(_("week"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # Nothing worth a message that week: claimed, not sent.
    skipped = models.BooleanField(_("skipped"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-week"]
        verbose_name = _("digest")
        verbose_name_plural = _("digests")
        constraints = [models.UniqueConstraint(fields=["user", "week"], name="digest_once")]

    def __str__(self) -> str:
        return f"{self.user}: {self.week}"


def week_of(day: date) -> date:
    """The Monday of `day`'s week."""
    return date.fromordinal(day.toordinal() - day.weekday())


class PushSubscription(models.Model):
    """One device (one browser's profile) that receives a member's push notifications: the
    `PushSubscription` its browser gave, through the browser maker's push service."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="push_subscriptions",
        verbose_name=_("user"),
    )
    # The push service's address for this device: checked before it is stored
    # (notifications.push.endpoint_problem), as the server posts to it.
    endpoint = models.URLField(_("endpoint"), max_length=1000, unique=True)
    # The device's P-256 public key and authentication secret (base64url), which encrypt
    # what is sent so that only the device can read it.
    p256dh = models.CharField(_("public key"), max_length=100)
    auth = models.CharField(_("authentication secret"), max_length=40)
    device = models.CharField(_("device"), max_length=80, blank=True)
    # The session that turned it on: signing out of that session turns the device off, so a
    # shared computer stops showing the member's news.
    session_key = models.CharField(_("session"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("added at"), default=timezone.now)
    last_push_at = models.DateTimeField(_("last push"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")

    def __str__(self) -> str:
        return f"{self.user}: {self.device or self.endpoint[:40]}"


class QuietHours(models.Model):
    """When a member's devices stay silent, in their own time zone. No row: the default
    night (notifications.push.DEFAULT_QUIET); both empty: never quiet."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        verbose_name=_("user"),
    )
    start = models.TimeField(_("from"), null=True, blank=True)
    end = models.TimeField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("quiet hours")
        verbose_name_plural = _("quiet hours")

    def __str__(self) -> str:
        return f"{self.user}: {self.start}–{self.end}"

"""The stage of a room: who hosts it, who is on it or invited, whose hand is up, who
watched, and the Janus room behind it (docs/stage.md)."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import CountsBroadcasts
from rooms.models import RoomError

# Host plus speakers publishing at once: the "host and up to 6 speakers".
SPEAKERS_MAX = 6
PUBLISHERS_MAX = SPEAKERS_MAX + 1
# Janus room numbers are JSON numbers: below 2**53, and random so that none is guessed.
JANUS_ROOM_MAX = 2**52


def janus_room_number() -> int:
    return secrets.randbelow(JANUS_ROOM_MAX - 1) + 1


def janus_secret() -> str:
    return secrets.token_urlsafe(18)


class StageError(RoomError):
    """A refused stage operation; `code` is stable for the socket protocol."""

    code = "stage_refused"
    default_message = _("This is not possible on this stage.")


class Stage(CountsBroadcasts):
    """A room's stage: a host and up to six speakers publish through Janus, everyone else
    in the room watches. At most one per room."""

    class State(models.TextChoices):
        OFF = "off", _("Not started")
        LIVE = "live", _("Live")
        ENDED = "ended", _("Ended")

    room = models.OneToOneField(
        "rooms.Room", on_delete=models.CASCADE, related_name="stage", verbose_name=_("room")
    )
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stages_hosted",
        verbose_name=_("host"),
    )
    state = models.CharField(_("state"), max_length=5, choices=State.choices, default=State.OFF)
    # The Janus VideoRoom room behind it, and what only the site knows of it: the PIN and
    # the token that get a participant in, the secret that changes it.
    janus_room = models.PositiveBigIntegerField(
        _("Janus room"), unique=True, default=janus_room_number, editable=False
    )
    janus_pin = models.CharField(max_length=40, default=janus_secret, editable=False)
    janus_token = models.CharField(max_length=40, default=janus_secret, editable=False)
    janus_secret = models.CharField(max_length=40, default=janus_secret, editable=False)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Counts the stage's announced states (stage.services._announce, under the stage's
    # lock; core.models.CountsBroadcasts).
    version = models.PositiveBigIntegerField(default=0, db_default=0, editable=False)
    COUNTER = "version"

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")

    def __str__(self) -> str:
        return str(self.room)

    @property
    def is_live(self) -> bool:
        return self.state == self.State.LIVE


class Speaker(models.Model):
    """A member invited to the stage (the host is one from the start). `feed` is their
    Janus publisher while they publish; `live_since` is set once their media flow."""

    stage = models.ForeignKey(
        Stage, on_delete=models.CASCADE, related_name="speakers", verbose_name=_("stage")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="stage_speaking",
        verbose_name=_("user"),
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    invited_at = models.DateTimeField(default=timezone.now)
    feed = models.PositiveBigIntegerField(null=True, blank=True)
    live_since = models.DateTimeField(null=True, blank=True)
    screen = models.BooleanField(default=False)
    # The host muted their microphone for everyone (Janus's `moderate`).
    muted = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("speaker")
        verbose_name_plural = _("speakers")
        constraints = [
            models.UniqueConstraint(fields=["stage", "user"], name="stage_speaker_once"),
            models.UniqueConstraint(fields=["feed"], name="stage_feed_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.stage}"


class Hand(models.Model):
    """A raised hand in the audience: the host's queue, oldest first."""

    stage = models.ForeignKey(
        Stage, on_delete=models.CASCADE, related_name="hands", verbose_name=_("stage")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="stage_hands",
        verbose_name=_("user"),
    )
    raised_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["raised_at", "id"]
        constraints = [models.UniqueConstraint(fields=["stage", "user"], name="stage_hand_once")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.stage}"


class Attendance(models.Model):
    """A member who watched the stage while it was live: the event's stats count these."""

    stage = models.ForeignKey(
        Stage, on_delete=models.CASCADE, related_name="attendance", verbose_name=_("stage")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="stage_attendance",
        verbose_name=_("user"),
    )
    first_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(fields=["stage", "user"], name="stage_attended_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.stage}"


class MediaSession(models.Model):
    """A Janus session a member's page opened and the site joined to the stage's room (as
    a subscriber, or a publisher): what the site ends to take a member's media away."""

    stage = models.ForeignKey(
        Stage, on_delete=models.CASCADE, related_name="media_sessions", verbose_name=_("stage")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="stage_media",
        verbose_name=_("user"),
    )
    channel_name = models.CharField(max_length=200)
    janus_session = models.PositiveBigIntegerField()
    # The speaker's feed it publishes; none for watching.
    feed = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stage", "janus_session"], name="stage_media_session_once"
            )
        ]
        indexes = [models.Index(fields=["channel_name"], name="stage_media_by_channel")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.stage} ({self.janus_session})"

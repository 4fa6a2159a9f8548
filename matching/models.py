import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from matching.apps import COMMUNITY_SLUG, ON_DEMAND_SLUG
from members.models import validate_time_zone


class Programme(models.Model):
    """A matching cadence: the whole community, a mentoring circle, ..."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), unique=True)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    # Who may join (besides the whole community's programme, which is for everyone): members
    # who speak this language ("English practice"), or who have this interest.
    language = models.ForeignKey(
        "members.Language",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("for members who speak"),
    )
    interest = models.ForeignKey(
        "members.Interest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("for members interested in"),
    )
    mentoring = models.BooleanField(
        _("mentoring"),
        default=False,
        help_text=_(
            "Only a member open to mentoring with one open to being mentored; members who "
            "are neither are left out."
        ),
    )

    class TableSize(models.IntegerChoices):
        PAIRS = 2, _("pairs (a trio when the count is odd)")
        SMALL_TABLES = 4, _("small tables of 4 (of 3 where the count needs it)")

    table_size = models.PositiveSmallIntegerField(
        _("group size"), choices=TableSize.choices, default=TableSize.PAIRS
    )
    cadence_days = models.PositiveSmallIntegerField(
        _("days between rounds"), default=14, validators=[MinValueValidator(1)]
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), choices=Weekday.choices, default=Weekday.MONDAY
    )
    hour = models.PositiveSmallIntegerField(
        _("hour"), default=9, validators=[MaxValueValidator(23)]
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Madrid", validators=[validate_time_zone]
    )
    starts_on = models.DateField(
        _("first round date"),
        default=date(2026, 1, 5),
        help_text=_(
            "Rounds happen on this date's cadence: every N days from the first "
            "chosen weekday on or after it."
        ),
    )
    follow_up_after_days = models.PositiveSmallIntegerField(
        _("ask “did you meet?” after how many days"), default=5
    )
    pause_after_ignored = models.PositiveSmallIntegerField(
        _("pause members who ignore this many intros in a row"), default=3
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")

    def __str__(self) -> str:
        # As staff read it too, in the admin's lists and messages.
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name as members read it: the built-in programmes' in their language (their
        English names are stored; a name staff gave one is shown as written)."""
        return self._as_read(self.name)

    @property
    def display_description(self) -> str:
        return self._as_read(self.description)

    def _as_read(self, text: str) -> str:
        return gettext(text) if text and self.slug in (COMMUNITY_SLUG, ON_DEMAND_SLUG) else text

    def latest_slot(self, now: datetime) -> datetime | None:
        """The most recent scheduled round time at or before `now` (aware, UTC), if any."""
        zone = ZoneInfo(self.time_zone)
        first = self.starts_on + timedelta(days=(self.weekday - self.starts_on.weekday()) % 7)
        local_today = now.astimezone(zone).date()
        if local_today < first:
            return None
        steps = (local_today - first).days // self.cadence_days
        for back in (0, 1):
            day = first + timedelta(days=(steps - back) * self.cadence_days)
            if day < first:
                return None
            slot = datetime.combine(day, time(self.hour), tzinfo=zone)
            if slot <= now:
                return slot.astimezone(ZoneInfo("UTC"))
        return None


class Participation(models.Model):
    """A member's place in a programme: in or out, skipping, paused."""

    programme = models.ForeignKey(
        Programme,
        on_delete=models.CASCADE,
        related_name="participations",
        verbose_name=_("programme"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="participations",
        verbose_name=_("user"),
    )
    opted_in = models.BooleanField(_("take part"), default=True)
    skip_next_round = models.BooleanField(_("skip the next round"), default=False)
    # Willing to be the partner of someone who asked for a coffee now and found nobody else.
    on_demand = models.BooleanField(
        _("pair me with someone who asks for a coffee now"), default=False
    )
    paused_until = models.DateField(_("paused until"), null=True, blank=True)
    auto_paused = models.BooleanField(_("paused until they resume"), default=False, editable=False)
    # Who paused: staff by hand, or the follow-ups for intros that went unanswered. The
    # member's page says which.
    paused_by_staff = models.BooleanField(_("paused by staff"), default=False, editable=False)
    # When the last such pause was lifted: follow-ups left unanswered before it no longer
    # count towards the next one (matching.services.participations_to_auto_pause).
    resumed_at = models.DateTimeField(_("resumed at"), null=True, blank=True, editable=False)
    # Claimed by the one task that emails the member about this pause; cleared on resume.
    auto_pause_notice_sent_at = models.DateTimeField(
        _("notice sent"), null=True, blank=True, editable=False
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [
            models.UniqueConstraint(fields=["programme", "user"], name="participation_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.programme}"

    def is_paused(self, on: date) -> bool:
        return self.paused_until is not None and self.paused_until >= on

    def introductions_paused(self, on: date) -> bool:
        """No introductions on `on`: paused by the member (until a date), or for unanswered
        ones or by staff (until they resume)."""
        return self.auto_paused or self.is_paused(on)


class Round(models.Model):
    """One pairing of a programme. Unique per scheduled time: a second start is a no-op."""

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="rounds", verbose_name=_("programme")
    )
    scheduled_for = models.DateTimeField(_("scheduled for"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    eligible_count = models.PositiveIntegerField(_("eligible members"), default=0)
    total_score = models.FloatField(_("total score"), default=0)
    # When its groups' conversations were opened and its intros queued, after the commit
    # (`matching.tasks.round_announce`): matching_tick announces a round left without it.
    announced_at = models.DateTimeField(_("announced at"), null=True, blank=True)

    class Meta:
        ordering = ["-scheduled_for"]
        get_latest_by = "scheduled_for"
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "scheduled_for"], name="round_once_per_slot"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme} · {timezone.localtime(self.scheduled_for):%Y-%m-%d}"


class Group(models.Model):
    """Two members (three for the trio) introduced to each other in a round."""

    round = models.ForeignKey(
        Round, on_delete=models.CASCADE, related_name="groups", verbose_name=_("round")
    )
    score = models.FloatField(_("score"), default=0)
    breakdown = models.JSONField(_("score breakdown"), default=dict)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")

    def __str__(self) -> str:
        return ", ".join(str(member.user) for member in self.members.all())


class Answer(models.TextChoices):
    MET = "met", _("We met")
    SCHEDULED = "scheduled", _("We have a date")
    NOT_YET = "not_yet", _("Not yet")
    WONT_HAPPEN = "wont_happen", _("It won't happen")


class GroupMember(models.Model):
    """A member's seat in a group, with what we sent them and what they answered."""

    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, related_name="members", verbose_name=_("group")
    )
    # The round again, so that the database itself forbids two seats in one round.
    round = models.ForeignKey(
        Round, on_delete=models.CASCADE, related_name="seats", verbose_name=_("round")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="pair_seats",
        verbose_name=_("user"),
    )
    intro_sent_at = models.DateTimeField(_("intro sent"), null=True, blank=True)
    intro_attempts = models.PositiveSmallIntegerField(_("intro attempts"), default=0)
    # Staff's "Send the intro email again": each resend is a new email (its own Message-ID,
    # core.emails.email_for), where a retry of one is the same.
    # No CHECK and a database default: added to a live table without reading it, and the
    # release before still inserts seats (tests/test_migrations_live.py).
    intro_resends = models.SmallIntegerField(_("intro resends"), default=0, db_default=0)
    follow_up_sent_at = models.DateTimeField(_("follow-up sent"), null=True, blank=True)
    answer = models.CharField(_("answer"), max_length=12, choices=Answer.choices, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    # "How was it?", 1 to 5, for the member alone (never shown to the partner or to staff
    # by name: the admin shows no column for it).
    rating = models.PositiveSmallIntegerField(
        _("how it was"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )

    class Meta:
        verbose_name = _("group member")
        verbose_name_plural = _("group members")
        constraints = [
            models.UniqueConstraint(fields=["round", "user"], name="one_seat_per_round"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.round}"


class Unmatched(models.Model):
    """A member who was eligible but had no valid partner this round: they are told so."""

    round = models.ForeignKey(
        Round, on_delete=models.CASCADE, related_name="unmatched", verbose_name=_("round")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    notice_sent_at = models.DateTimeField(_("notice sent"), null=True, blank=True)
    # Why, as it was when first told (matching.selectors.left_out): the member's page says
    # the same as the email even after they add a language, and does not count the round's
    # languages again on every visit. "alone", "language" or "nobody"; empty until then.
    # (A database default, and null, for rows the release before still inserts.)
    reason = models.CharField(
        _("reason"), max_length=10, blank=True, default="", db_default="", editable=False
    )
    languages = models.JSONField(null=True, blank=True, editable=False)  # theirs, as codes
    common = models.JSONField(null=True, blank=True, editable=False)  # the others' most spoken

    class Meta:
        verbose_name = _("unmatched member")
        verbose_name_plural = _("unmatched members")
        constraints = [
            models.UniqueConstraint(fields=["round", "user"], name="unmatched_once_per_round"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.round}"


class Meeting(models.Model):
    """When a group meets: a time one member proposed (`starts_at`), scheduled once another
    accepts it (`accepted_at`). Its `uid` and `sequence` make the calendar invitations of
    one meeting update each other (RFC 5546): each change to an accepted time counts."""

    MINUTES = 30

    group = models.OneToOneField(
        Group, on_delete=models.CASCADE, related_name="meeting", verbose_name=_("group")
    )
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    proposed_at = models.DateTimeField(_("proposed at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    uid = models.UUIDField(_("calendar id"), default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(_("calendar sequence"), default=0)
    # The accepted time the reminder was sent for: a new time gets its own reminder.
    reminded_for = models.DateTimeField(_("reminder sent for"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("coffee meeting")
        verbose_name_plural = _("coffee meetings")
        indexes = [models.Index(fields=["accepted_at", "starts_at"])]

    def __str__(self) -> str:
        return (
            f"{self.group} · {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"
            if self.starts_at
            else str(self.group)
        )

    @property
    def ends_at(self) -> datetime | None:
        return self.starts_at + timedelta(minutes=self.MINUTES) if self.starts_at else None

    @property
    def is_scheduled(self) -> bool:
        return self.accepted_at is not None

    @property
    def took_place(self) -> bool:
        """The agreed time has come: nothing more to arrange or call off."""
        return self.is_scheduled and self.starts_at is not None and self.starts_at <= timezone.now()


class MeetingNotice(models.Model):
    """One thing to tell one member about their meeting, once: the rows are made with the
    change (in its transaction) and a task sends each, claiming `sent_at` first."""

    class What(models.TextChoices):
        PROPOSED = "proposed", _("time proposed")
        SCHEDULED = "scheduled", _("meeting scheduled")
        CANCELLED = "cancelled", _("time cancelled")
        REMINDER = "reminder", _("reminder")

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="notices", verbose_name=_("meeting")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    what = models.CharField(_("what"), max_length=12, choices=What.choices)
    # The meeting's sequence when this was decided, and the time it is about.
    sequence = models.PositiveIntegerField(_("calendar sequence"))
    starts_at = models.DateTimeField(_("starts at"))
    # Who did it (the proposer, the one who accepted or cancelled); none for reminders.
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("meeting notice")
        verbose_name_plural = _("meeting notices")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "user", "what", "sequence"], name="meeting_notice_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting} · {self.what} · {self.user}"


class PairRequest(models.Model):
    """ "Pair me now": a member asks for an extra coffee outside the rounds (matching.on_demand).
    Open until matched (a one-group round of the on-demand programme) or cancelled."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="pair_requests",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)
    matched_round = models.ForeignKey(
        Round,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("matched round"),
    )
    matched_at = models.DateTimeField(_("matched at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # Closed by the site, nobody found in time (matching.on_demand.GIVE_UP_AFTER), rather
    # than by the member; `cancelled_at` is set too. Told once (notice and email): the
    # claim of matching.tasks.pair_request_gave_up_send.
    gave_up_at = models.DateTimeField(_("given up at"), null=True, blank=True)
    gave_up_told_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("pair request")
        verbose_name_plural = _("pair requests")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(matched_at__isnull=True, cancelled_at__isnull=True),
                name="one_open_pair_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.matched_at is None and self.cancelled_at is None


class MeetAgain(models.Model):
    """A member's wish to meet a past partner again every `every_weeks` weeks. When both
    wish it, matching.favourites pairs them at the slower of their two cadences, outside the
    rounds. Private: the partner learns of it only by being paired again."""

    class Every(models.IntegerChoices):
        TWO = 2, _("every 2 weeks")
        FOUR = 4, _("every 4 weeks")
        EIGHT = 8, _("every 8 weeks")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="meet_again",
        verbose_name=_("user"),
    )
    partner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("partner"),
    )
    every_weeks = models.PositiveSmallIntegerField(_("how often"), choices=Every.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("wish to meet again")
        verbose_name_plural = _("wishes to meet again")
        constraints = [
            models.UniqueConstraint(fields=["user", "partner"], name="meet_again_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.partner} / {self.every_weeks}"

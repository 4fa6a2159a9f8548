import zoneinfo
from collections.abc import Iterable
from datetime import datetime, time
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from members.search import normalise


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value})


def default_working_days() -> list[int]:
    return [0, 1, 2, 3, 4]


# Functions, not time values: Django's checks take a fixed time default for a mistake when
# they run within ten seconds of it (fields.W161), so `manage.py check` warned at 9:00 UTC.
def default_working_start() -> time:
    return time(9, 0)


def default_working_end() -> time:
    return time(17, 0)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        """An address in lower case, whole: allauth looks addresses up so, and an account
        made with `Jefa@Example.com` (createsuperuser, the admin) could never sign in or
        reset its password. The admin's forms clean the address through here too
        (`AbstractUser.clean`)."""
        return (email or "").strip().lower()

    def _create_user(self, email: str, password: str | None, **extra: Any) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        """`manage.py createsuperuser`: the owner's first account. Its address counts as
        confirmed, since whoever can run the command controls the server; otherwise the
        first login (allauth's mandatory verification) would wait for an email a new site
        may not be able to send yet."""
        from allauth.account.models import EmailAddress

        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        user = self._create_user(email, password, **extra)
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        return user


class User(AbstractUser):
    """A person with an account. People sign in with their email; there is no username.

    Account-level settings every feature needs (time zone, language, what we may email
    about) live here; what makes a member memorable lives on `Profile`.
    """

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=80, blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Madrid", validators=[validate_time_zone]
    )
    language = models.CharField(
        _("language for emails"), max_length=8, choices=settings.LANGUAGES, default="es"
    )
    # Per kind of news, members choose how they hear of it: notifications.Preference.
    email_digest = models.BooleanField(_("weekly digest"), default=True)
    # The profile photo's thumbnail (its name in storage), kept here by members.services
    # whenever the photo changes: the header shows it on every page, and the member is read
    # on every request anyway, where the profile is not.
    avatar_thumbnail = models.CharField(max_length=200, blank=True, editable=False)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, editable=False)
    # The last time the member used the site, to the hour (core.middleware.LastSeenMiddleware):
    # who is active for the staff dashboard, who gets the digest for having been away.
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True, editable=False)
    # When the home page first found every first step done (coworking/onboarding.py): the
    # list is then gone for good, and not read again on each visit.
    first_steps_done_at = models.DateTimeField(
        _("first steps done"), null=True, blank=True, editable=False
    )
    # Set with is_active=False by staff (members.services.member_suspend); kept when they are
    # reinstated would be misleading, so reinstating clears both.
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True, editable=False)
    suspended_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("suspended by"),
    )
    # When the member was told of their suspension (members.tasks.suspension_notice_send):
    # cleared by each suspension, so that each is told once.
    suspension_notice_sent_at = models.DateTimeField(
        _("suspension notice sent"), null=True, blank=True, editable=False
    )
    # The last lift of a suspension (members.services.member_reinstate), and when the member
    # was told of it (members.tasks.reinstatement_notice_send): cleared by each lift.
    reinstated_at = models.DateTimeField(_("reinstated at"), null=True, blank=True, editable=False)
    reinstatement_notice_sent_at = models.DateTimeField(
        _("reinstatement notice sent"), null=True, blank=True, editable=False
    )

    objects = UserManager()  # type: ignore[assignment,misc]

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="members_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return str(self.name)

    def get_absolute_url(self) -> str:
        return reverse("members:profile", args=[self.pk])

    @property
    def name(self) -> str:
        return self.name_of(self.display_name, self.first_name, self.last_name, self.deleted_at)

    @staticmethod
    def name_of(
        display_name: str,
        first_name: str,
        last_name: str,
        deleted_at: datetime | None = None,
        *,
        unnamed: str | None = None,
    ) -> str:
        """`name` from the columns it is made of, for lists that read those columns rather
        than whole rows. Before onboarding asks for a name, a member is "New member" to
        everyone (part of their email address would tell others how to reach them), or
        `unnamed`."""
        if deleted_at:
            return str(_("Former member"))
        return (
            display_name
            or f"{first_name} {last_name}".strip()
            or (unnamed if unnamed is not None else str(_("New member")))
        )

    @property
    def profile_onboarded(self) -> bool:
        profile = Profile.objects.filter(user_id=self.pk).only("onboarded_at").first()
        return bool(profile and profile.onboarded_at)

    @property
    def account_is_open(self) -> bool:
        """Neither suspended nor deleted (members.selectors.account_open, as a filter)."""
        return self.is_active and self.deleted_at is None

    @property
    def avatar_url(self) -> str:
        """The header's photo: the thumbnail's address, or "" (initials instead)."""
        if not self.avatar_thumbnail:
            return ""
        return str(Profile._meta.get_field("photo_thumbnail").storage.url(self.avatar_thumbnail))

    @property
    def initials(self) -> str:
        words = [word for word in str(self.name).split() if word[:1].isalnum()]
        return "".join(word[0] for word in words[:2]).upper() or "?"

    @property
    def avatar_hue(self) -> int:
        """One of eight colours for the generated initials avatar, stable per member."""
        return (self.pk or 0) % 8


class Language(models.Model):
    """A language people speak, for pairing and the directory. One row per choice."""

    class Code(models.TextChoices):
        SPANISH = "es", _("Spanish")
        ENGLISH = "en", _("English")
        PORTUGUESE = "pt", _("Portuguese")
        CATALAN = "ca", _("Catalan")
        BASQUE = "eu", _("Basque")
        GALICIAN = "gl", _("Galician")
        FRENCH = "fr", _("French")
        ITALIAN = "it", _("Italian")
        GERMAN = "de", _("German")
        DUTCH = "nl", _("Dutch")
        QUECHUA = "qu", _("Quechua")
        GUARANI = "gn", _("Guarani")
        CHINESE = "zh", _("Chinese")
        ARABIC = "ar", _("Arabic")

    code = models.CharField(_("code"), max_length=8, primary_key=True, choices=Code.choices)

    class Meta:
        ordering = ["code"]
        verbose_name = _("language")
        verbose_name_plural = _("languages")

    def __str__(self) -> str:
        return str(self.get_code_display())

    @property
    def name_in_sentence(self) -> str:
        return language_in_sentence(self.code)


# The languages' names inside a sentence, where Spanish writes them in lower case ("habla
# inglés y español"); a list or a label starts with a capital ("Inglés").
_IN_SENTENCE = {
    Language.Code.SPANISH: pgettext_lazy("language, mid-sentence", "Spanish"),
    Language.Code.ENGLISH: pgettext_lazy("language, mid-sentence", "English"),
    Language.Code.PORTUGUESE: pgettext_lazy("language, mid-sentence", "Portuguese"),
    Language.Code.CATALAN: pgettext_lazy("language, mid-sentence", "Catalan"),
    Language.Code.BASQUE: pgettext_lazy("language, mid-sentence", "Basque"),
    Language.Code.GALICIAN: pgettext_lazy("language, mid-sentence", "Galician"),
    Language.Code.FRENCH: pgettext_lazy("language, mid-sentence", "French"),
    Language.Code.ITALIAN: pgettext_lazy("language, mid-sentence", "Italian"),
    Language.Code.GERMAN: pgettext_lazy("language, mid-sentence", "German"),
    Language.Code.DUTCH: pgettext_lazy("language, mid-sentence", "Dutch"),
    Language.Code.QUECHUA: pgettext_lazy("language, mid-sentence", "Quechua"),
    Language.Code.GUARANI: pgettext_lazy("language, mid-sentence", "Guarani"),
    Language.Code.CHINESE: pgettext_lazy("language, mid-sentence", "Chinese"),
    Language.Code.ARABIC: pgettext_lazy("language, mid-sentence", "Arabic"),
}


def language_in_sentence(code: str) -> str:
    """A language's name as a sentence uses it, in the active language (a code we do not
    know as it is)."""
    return str(_IN_SENTENCE.get(code, code))  # type: ignore[call-overload]


class InterestQuerySet(models.QuerySet["Interest"]):
    def approved(self) -> "InterestQuerySet":
        return self.filter(status=Interest.Status.APPROVED)


class Interest(models.Model):
    """A curated tag for skills and interests, labelled in Spanish and English, so that
    "fotografía" and "photography" are one tag whoever types it. Staff approve, rename and
    merge tags; what a member types that matches none becomes a suggestion only they see
    until staff approve it (docs/interests.md)."""

    class Status(models.TextChoices):
        APPROVED = "approved", _("Approved")
        SUGGESTED = "suggested", _("Suggested, waiting for review")

    label_es = models.CharField(_("label in Spanish"), max_length=50)
    # Spanish is the community's language: an English label is only needed where it differs.
    label_en = models.CharField(
        _("label in English"),
        max_length=50,
        blank=True,
        help_text=_("Leave it empty when it is written as in Spanish (“Python”, “UX”)."),
    )
    slug = models.SlugField(
        _("slug"),
        max_length=60,
        unique=True,
        help_text=_("How the member directory's filter names it in its address."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.APPROVED
    )
    suggested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("suggested by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = InterestQuerySet.as_manager()

    class Meta:
        ordering = ["label_es"]
        verbose_name = _("interest")
        verbose_name_plural = _("interests")
        constraints = [
            models.CheckConstraint(condition=~models.Q(label_es=""), name="interest_label_es"),
            # The services also compare labels without accents and across languages
            # (members.services.interest_key); the database guards the plain case.
            models.UniqueConstraint(Lower("label_es"), name="interest_label_es_ci_unique"),
            models.UniqueConstraint(
                Lower("label_en"),
                condition=~models.Q(label_en=""),
                name="interest_label_en_ci_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The label in the language being read (a page's, or an email's recipient's)."""
        return self.label_for(get_language())

    def label_for(self, language: str | None) -> str:
        if language and language.startswith("en") and self.label_en:
            return self.label_en
        return self.label_es

    @property
    def labels(self) -> list[str]:
        """Every way it is written: what the directory searches and members may type."""
        return [self.label_es, *([self.label_en] if self.label_en else [])]

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED


class OpenTo(models.TextChoices):
    COLLABORATE = "collaborate", _("Collaborating on projects")
    MENTOR = "mentor", _("Mentoring someone")
    BE_MENTORED = "be_mentored", _("Being mentored")
    CLIENTS = "clients", _("Finding clients")
    CHAT = "chat", _("Just chatting")


class MessagesFrom(models.TextChoices):
    """Who may write to a member first (members they already share a conversation with
    always may)."""

    EVERYONE = "everyone", _("Any member")
    MET = "met", _("Only people I've met")
    NOBODY = "nobody", _("Nobody")


class Profile(models.Model):
    """What makes a member memorable, and who may see it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="profile",
        verbose_name=_("user"),
    )
    photo = models.ImageField(_("photo"), upload_to="photos/", blank=True)
    photo_thumbnail = models.ImageField(upload_to="photos/", blank=True, editable=False)
    headline = models.CharField(_("what I do"), max_length=120, blank=True)
    bio = models.TextField(
        _("about me"),
        blank=True,
        validators=[MaxLengthValidator(2000)],
        help_text=_("Up to 2,000 characters."),
    )
    city = models.CharField(_("city"), max_length=80, blank=True)
    # Words for "none chosen" in the profile form instead of Django's "---------".
    country = CountryField(  # type: ignore[call-overload]
        _("country"), blank=True, blank_label=_("Choose your country (optional)")
    )
    working_hours_start = models.TimeField(_("I usually start at"), default=default_working_start)
    working_hours_end = models.TimeField(_("and finish at"), default=default_working_end)
    working_days = models.JSONField(_("working days"), default=default_working_days)
    languages = models.ManyToManyField(
        Language, blank=True, related_name="profiles", verbose_name=_("languages I speak")
    )
    interests = models.ManyToManyField(
        Interest, blank=True, related_name="profiles", verbose_name=_("skills and interests")
    )
    open_to_collaborate = models.BooleanField(OpenTo.COLLABORATE.label, default=False)
    open_to_mentor = models.BooleanField(OpenTo.MENTOR.label, default=False)
    open_to_be_mentored = models.BooleanField(OpenTo.BE_MENTORED.label, default=False)
    open_to_clients = models.BooleanField(OpenTo.CLIENTS.label, default=False)
    open_to_chat = models.BooleanField(OpenTo.CHAT.label, default=True)
    website = models.URLField(_("website"), blank=True)
    linkedin = models.URLField(_("LinkedIn"), blank=True)
    github = models.URLField(_("GitHub"), blank=True)
    visible_in_directory = models.BooleanField(_("show me in the member directory"), default=True)
    public = models.BooleanField(
        _("let visitors who are not members see my profile"), default=False
    )
    messages_from = models.CharField(
        _("who may start a conversation with me"),
        max_length=10,
        choices=MessagesFrom.choices,
        default=MessagesFrom.EVERYONE,
    )
    onboarded_at = models.DateTimeField(_("onboarded at"), null=True, blank=True)
    # Name, headline, bio, place and approved interests (both labels), lower-cased without
    # accents: what the directory searches (see docs/members-directory.md).
    search_text = models.TextField(blank=True, editable=False)
    # search_text parsed once on save (PostgreSQL only; NULL elsewhere), so that searching
    # and ranking read it instead of re-parsing every row's text.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")
        indexes = [
            models.Index(fields=["visible_in_directory", "country"], name="profile_dir_country"),
        ]

    def __str__(self) -> str:
        return str(self.user)

    def get_absolute_url(self) -> str:
        return reverse("members:profile", args=[self.user_id])

    def clean(self) -> None:
        if self.working_hours_start == self.working_hours_end:
            raise ValidationError({"working_hours_end": _("Your working day must last some time.")})

    @property
    def approved_interests(self) -> list[Interest]:
        """What others see: the approved tags, in the reader's alphabetical order. Filtered
        here rather than in SQL so that `prefetch_related("interests")` serves it."""
        return _by_label(interest for interest in self.interests.all() if interest.is_approved)

    @property
    def suggested_interests(self) -> list[Interest]:
        """The member's suggestions still waiting for staff: only they see them."""
        return _by_label(interest for interest in self.interests.all() if not interest.is_approved)

    @property
    def open_to(self) -> list[str]:
        return [choice.value for choice in OpenTo if getattr(self, f"open_to_{choice.value}")]

    @property
    def open_to_labels(self) -> list[str]:
        return [str(choice.label) for choice in OpenTo if getattr(self, f"open_to_{choice.value}")]


def _by_label(interests: Iterable[Interest]) -> list[Interest]:
    return sorted(interests, key=lambda interest: normalise(interest.label))


class Block(models.Model):
    """A private block: neither sees the other in rooms, they are never paired or messaged."""

    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="blocks_made",
        verbose_name=_("blocker"),
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="blocks_received",
        verbose_name=_("blocked"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_once"),
            models.CheckConstraint(
                condition=~models.Q(blocker=models.F("blocked")), name="block_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.blocker} ⊘ {self.blocked}"


class Acquaintance(models.Model):
    """Someone `owner` has met here, with a note only the owner sees ("People I've met")."""

    class How(models.TextChoices):
        PAIR = "pair", _("Coffee pair")
        EVENT = "event", _("Event")
        ROOM = "room", _("Room")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="acquaintances",
        verbose_name=_("owner"),
    )
    other = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("other"),
    )
    how = models.CharField(_("how we met"), max_length=10, choices=How.choices)
    context = models.CharField(_("where"), max_length=200, blank=True)
    first_met_at = models.DateTimeField(_("first met"))
    last_met_at = models.DateTimeField(_("last met"))
    note = models.TextField(
        _("private note"),
        blank=True,
        validators=[MaxLengthValidator(2000)],
        help_text=_("Only you can see this."),
    )

    class Meta:
        ordering = ["-last_met_at"]
        verbose_name = _("acquaintance")
        verbose_name_plural = _("acquaintances")
        constraints = [
            models.UniqueConstraint(fields=["owner", "other"], name="acquaintance_once"),
        ]

    def __str__(self) -> str:
        return f"{self.owner} → {self.other}"

    @property
    def context_as_read(self) -> str:
        """Where, in the reader's language: a pair's context is its programme's name, and the
        built-in programmes' names are stored in English (matching.Programme.display_name);
        a name staff gave one, an event's title or a room's name is shown as written."""
        return gettext(self.context) if self.how == self.How.PAIR and self.context else self.context

import django.contrib.postgres.search
import django.core.validators
import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
import django_countries.fields
from django.conf import settings
from django.db import migrations, models

import members.models

# What the models do not declare. The directory's full-text search (members/selectors.py)
# reads search_vector through this GIN index on PostgreSQL; members.services
# profile_refresh_search_text keeps it to_tsvector('simple', search_text).
VECTOR_INDEX = (
    "CREATE INDEX IF NOT EXISTS profile_search_vector ON members_profile USING gin (search_vector)"
)
# The directory pages through its two orders with keyset pagination (members/selectors.py
# `directory_page`). Newest first: the listed profiles only, in the order of NEWEST_KEYS.
# Plain SQL that PostgreSQL and SQLite both understand (partial and expression indexes).
NEWEST_INDEX = (
    "CREATE INDEX IF NOT EXISTS profile_directory_newest "
    "ON members_profile (onboarded_at DESC, id DESC) "
    "WHERE visible_in_directory AND onboarded_at IS NOT NULL"
)
# By name: LOWER(display_name) is what the directory sorts by, the id its tie-breaker.
NAME_INDEX = (
    "CREATE INDEX IF NOT EXISTS user_directory_name ON members_user (LOWER(display_name), id)"
)


def vector_index_add(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(VECTOR_INDEX)


def vector_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS profile_search_vector")


class Migration(migrations.Migration):
    """The app's migrations up to the name's, squashed into one (docs/deploy.md, "Upgrading"):
    written anew from the models, as makemigrations would, plus what the models do not hold.
    A database that ran all of those is marked as having run this one; a new one runs it."""

    replaces = [
        ("members", "0001_initial"),
        ("members", "0002_search_index"),
        ("members", "0003_profile_search_vector"),
        ("members", "0004_mention_emails_on_by_default"),
        ("members", "0005_last_seen"),
        ("members", "0006_moderation"),
        ("members", "0007_notification_preferences"),
        ("members", "0008_report_moved_to_moderation"),
        ("members", "0009_interest_labels"),
        ("members", "0010_interests_merged"),
        ("members", "0011_interest_name_removed"),
        ("members", "0012_profile_messages_from"),
        ("members", "0013_directory_order_indexes"),
        ("members", "0014_user_first_steps_done_at"),
        ("members", "0015_relation_names"),
        ("members", "0016_suspension_notice"),
        ("members", "0017_working_hours_defaults"),
        ("members", "0018_search_text_shown_name_only"),
        ("members", "0019_user_avatar_thumbnail"),
    ]

    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.CreateModel(
            name="Language",
            fields=[
                (
                    "code",
                    models.CharField(
                        choices=[
                            ("es", "Spanish"),
                            ("en", "English"),
                            ("pt", "Portuguese"),
                            ("ca", "Catalan"),
                            ("eu", "Basque"),
                            ("gl", "Galician"),
                            ("fr", "French"),
                            ("it", "Italian"),
                            ("de", "German"),
                            ("nl", "Dutch"),
                            ("qu", "Quechua"),
                            ("gn", "Guarani"),
                            ("zh", "Chinese"),
                            ("ar", "Arabic"),
                        ],
                        max_length=8,
                        primary_key=True,
                        serialize=False,
                        verbose_name="code",
                    ),
                ),
            ],
            options={
                "verbose_name": "language",
                "verbose_name_plural": "languages",
                "ordering": ["code"],
            },
        ),
        migrations.CreateModel(
            name="User",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("password", models.CharField(max_length=128, verbose_name="password")),
                (
                    "last_login",
                    models.DateTimeField(blank=True, null=True, verbose_name="last login"),
                ),
                (
                    "is_superuser",
                    models.BooleanField(
                        default=False,
                        help_text="Designates that this user has all permissions without explicitly assigning them.",
                        verbose_name="superuser status",
                    ),
                ),
                (
                    "first_name",
                    models.CharField(blank=True, max_length=150, verbose_name="first name"),
                ),
                (
                    "last_name",
                    models.CharField(blank=True, max_length=150, verbose_name="last name"),
                ),
                (
                    "is_staff",
                    models.BooleanField(
                        default=False,
                        help_text="Designates whether the user can log into this admin site.",
                        verbose_name="staff status",
                    ),
                ),
                (
                    "is_active",
                    models.BooleanField(
                        default=True,
                        help_text="Designates whether this user should be treated as active. Unselect this instead of deleting accounts.",
                        verbose_name="active",
                    ),
                ),
                (
                    "date_joined",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="date joined"
                    ),
                ),
                (
                    "email",
                    models.EmailField(max_length=254, unique=True, verbose_name="email address"),
                ),
                (
                    "display_name",
                    models.CharField(blank=True, max_length=80, verbose_name="display name"),
                ),
                (
                    "time_zone",
                    models.CharField(
                        default="Europe/Madrid",
                        max_length=64,
                        validators=[members.models.validate_time_zone],
                        verbose_name="time zone",
                    ),
                ),
                (
                    "language",
                    models.CharField(
                        choices=[("es", "Spanish"), ("en", "English")],
                        default="es",
                        max_length=8,
                        verbose_name="language for emails",
                    ),
                ),
                ("email_digest", models.BooleanField(default=True, verbose_name="weekly digest")),
                ("avatar_thumbnail", models.CharField(blank=True, editable=False, max_length=200)),
                (
                    "deleted_at",
                    models.DateTimeField(
                        blank=True, editable=False, null=True, verbose_name="deleted at"
                    ),
                ),
                (
                    "last_seen_at",
                    models.DateTimeField(
                        blank=True, editable=False, null=True, verbose_name="last seen"
                    ),
                ),
                (
                    "first_steps_done_at",
                    models.DateTimeField(
                        blank=True, editable=False, null=True, verbose_name="first steps done"
                    ),
                ),
                (
                    "suspended_at",
                    models.DateTimeField(
                        blank=True, editable=False, null=True, verbose_name="suspended at"
                    ),
                ),
                (
                    "suspension_notice_sent_at",
                    models.DateTimeField(
                        blank=True, editable=False, null=True, verbose_name="suspension notice sent"
                    ),
                ),
                (
                    "groups",
                    models.ManyToManyField(
                        blank=True,
                        help_text="The groups this user belongs to. A user will get all permissions granted to each of their groups.",
                        related_name="user_set",
                        related_query_name="user",
                        to="auth.group",
                        verbose_name="groups",
                    ),
                ),
                (
                    "suspended_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="suspended by",
                    ),
                ),
                (
                    "user_permissions",
                    models.ManyToManyField(
                        blank=True,
                        help_text="Specific permissions for this user.",
                        related_name="user_set",
                        related_query_name="user",
                        to="auth.permission",
                        verbose_name="user permissions",
                    ),
                ),
            ],
            options={
                "verbose_name": "member",
                "verbose_name_plural": "members",
                "constraints": [
                    models.UniqueConstraint(
                        django.db.models.functions.text.Lower("email"),
                        name="members_user_email_ci_unique",
                    )
                ],
            },
            managers=[
                ("objects", members.models.UserManager()),
            ],
        ),
        migrations.CreateModel(
            name="Acquaintance",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "how",
                    models.CharField(
                        choices=[("pair", "Coffee pair"), ("event", "Event"), ("room", "Room")],
                        max_length=10,
                        verbose_name="how we met",
                    ),
                ),
                ("context", models.CharField(blank=True, max_length=200, verbose_name="where")),
                ("first_met_at", models.DateTimeField(verbose_name="first met")),
                ("last_met_at", models.DateTimeField(verbose_name="last met")),
                (
                    "note",
                    models.TextField(
                        blank=True,
                        help_text="Only you can see this.",
                        validators=[django.core.validators.MaxLengthValidator(2000)],
                        verbose_name="private note",
                    ),
                ),
                (
                    "other",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="other",
                    ),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="acquaintances",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="owner",
                    ),
                ),
            ],
            options={
                "verbose_name": "acquaintance",
                "verbose_name_plural": "acquaintances",
                "ordering": ["-last_met_at"],
                "constraints": [
                    models.UniqueConstraint(fields=("owner", "other"), name="acquaintance_once")
                ],
            },
        ),
        migrations.CreateModel(
            name="Block",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                (
                    "blocked",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="blocks_received",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="blocked",
                    ),
                ),
                (
                    "blocker",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="blocks_made",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="blocker",
                    ),
                ),
            ],
            options={
                "verbose_name": "block",
                "verbose_name_plural": "blocks",
                "constraints": [
                    models.UniqueConstraint(fields=("blocker", "blocked"), name="block_once"),
                    models.CheckConstraint(
                        condition=models.Q(("blocker", models.F("blocked")), _negated=True),
                        name="block_not_self",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Interest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("label_es", models.CharField(max_length=50, verbose_name="label in Spanish")),
                (
                    "label_en",
                    models.CharField(
                        blank=True,
                        help_text="Leave it empty when it is written as in Spanish (“Python”, “UX”).",
                        max_length=50,
                        verbose_name="label in English",
                    ),
                ),
                (
                    "slug",
                    models.SlugField(
                        help_text="How the member directory's filter names it in its address.",
                        max_length=60,
                        unique=True,
                        verbose_name="slug",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("approved", "Approved"),
                            ("suggested", "Suggested, waiting for review"),
                        ],
                        default="approved",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="created"
                    ),
                ),
                (
                    "suggested_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="suggested by",
                    ),
                ),
            ],
            options={
                "verbose_name": "interest",
                "verbose_name_plural": "interests",
                "ordering": ["label_es"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("label_es", ""), _negated=True),
                        name="interest_label_es",
                    ),
                    models.UniqueConstraint(
                        django.db.models.functions.text.Lower("label_es"),
                        name="interest_label_es_ci_unique",
                    ),
                    models.UniqueConstraint(
                        django.db.models.functions.text.Lower("label_en"),
                        condition=models.Q(("label_en", ""), _negated=True),
                        name="interest_label_en_ci_unique",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Profile",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("photo", models.ImageField(blank=True, upload_to="photos/", verbose_name="photo")),
                (
                    "photo_thumbnail",
                    models.ImageField(blank=True, editable=False, upload_to="photos/"),
                ),
                (
                    "headline",
                    models.CharField(blank=True, max_length=120, verbose_name="what I do"),
                ),
                (
                    "bio",
                    models.TextField(
                        blank=True,
                        help_text="Up to 2,000 characters.",
                        validators=[django.core.validators.MaxLengthValidator(2000)],
                        verbose_name="about me",
                    ),
                ),
                ("city", models.CharField(blank=True, max_length=80, verbose_name="city")),
                (
                    "country",
                    django_countries.fields.CountryField(
                        blank=True, max_length=2, verbose_name="country"
                    ),
                ),
                (
                    "working_hours_start",
                    models.TimeField(
                        default=members.models.default_working_start,
                        verbose_name="I usually start at",
                    ),
                ),
                (
                    "working_hours_end",
                    models.TimeField(
                        default=members.models.default_working_end, verbose_name="and finish at"
                    ),
                ),
                (
                    "working_days",
                    models.JSONField(
                        default=members.models.default_working_days, verbose_name="working days"
                    ),
                ),
                (
                    "open_to_collaborate",
                    models.BooleanField(default=False, verbose_name="Collaborating on projects"),
                ),
                (
                    "open_to_mentor",
                    models.BooleanField(default=False, verbose_name="Mentoring someone"),
                ),
                (
                    "open_to_be_mentored",
                    models.BooleanField(default=False, verbose_name="Being mentored"),
                ),
                (
                    "open_to_clients",
                    models.BooleanField(default=False, verbose_name="Finding clients"),
                ),
                ("open_to_chat", models.BooleanField(default=True, verbose_name="Just chatting")),
                ("website", models.URLField(blank=True, verbose_name="website")),
                ("linkedin", models.URLField(blank=True, verbose_name="LinkedIn")),
                ("github", models.URLField(blank=True, verbose_name="GitHub")),
                (
                    "visible_in_directory",
                    models.BooleanField(
                        default=True, verbose_name="show me in the member directory"
                    ),
                ),
                (
                    "public",
                    models.BooleanField(
                        default=False,
                        verbose_name="let visitors who are not members see my profile",
                    ),
                ),
                (
                    "messages_from",
                    models.CharField(
                        choices=[
                            ("everyone", "Any member"),
                            ("met", "Only people I've met"),
                            ("nobody", "Nobody"),
                        ],
                        default="everyone",
                        max_length=10,
                        verbose_name="who may start a conversation with me",
                    ),
                ),
                (
                    "onboarded_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="onboarded at"),
                ),
                ("search_text", models.TextField(blank=True, editable=False)),
                (
                    "search_vector",
                    django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
                ),
                (
                    "interests",
                    models.ManyToManyField(
                        blank=True,
                        related_name="profiles",
                        to="members.interest",
                        verbose_name="skills and interests",
                    ),
                ),
                (
                    "languages",
                    models.ManyToManyField(
                        blank=True,
                        related_name="profiles",
                        to="members.language",
                        verbose_name="languages I speak",
                    ),
                ),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="profile",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "profile",
                "verbose_name_plural": "profiles",
                "indexes": [
                    models.Index(
                        fields=["visible_in_directory", "country"], name="profile_dir_country"
                    )
                ],
            },
        ),
        migrations.RunPython(vector_index_add, vector_index_drop),
        migrations.RunSQL(NEWEST_INDEX, "DROP INDEX IF EXISTS profile_directory_newest"),
        migrations.RunSQL(NAME_INDEX, "DROP INDEX IF EXISTS user_directory_name"),
    ]

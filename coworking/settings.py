"""Settings for the coworking platform, read from the environment.

With no environment at all the site runs the embedded setup (SQLite, in-memory channel
layer, eager Celery tasks with the beat schedule run by the web process, console email) so
that `make run` works on any laptop. Setting DATABASE_URL and REDIS_URL moves it onto
PostgreSQL and Redis; production additionally sets DEBUG=0, SECRET_KEY, ALLOWED_HOSTS and
SITE_URL. Every variable is listed in the README.
"""

import email.utils
import sys
import urllib.parse
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

# Lets classes such as ModelForm[Profile] be subscripted at run time, as the type hints want.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

INSECURE_DEV_KEY = "django-insecure-embedded-default-do-not-use-in-production"

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_DEV_KEY)
if not DEBUG and SECRET_KEY == INSECURE_DEV_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY when DEBUG is off.")

SITE_NAME = env.str("SITE_NAME", default="Cowork Online")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# daphne's runserver serves HTTP and WebSockets through the ASGI application (`make run`).
# Its app loads Twisted, 0.3 s and several MiB in every process that sets Django up, so it is
# installed for that command only: uvicorn, Celery and every other command do without it.
DEVELOPMENT_SERVER = sys.argv[1:2] == ["runserver"]

INSTALLED_APPS = [
    *(["daphne"] if DEVELOPMENT_SERVER else []),  # first: its runserver replaces Django's
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "django.forms",
    "channels",
    "csp",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.usersessions",
    "django_countries",
    "core",
    "members",
    "matching",
    "rooms",
    "events",
    "moderation",
    "dashboard",
    "demo",
    "newsletter",
    "notifications",
    "conversations",
    "stage",
    "focus",
]

MIDDLEWARE = [
    # Before the others: it compresses what they have finished writing (pages and text only).
    "core.middleware.TextGZipMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's, but a request with a replaced session's key does not delete the new cookie.
    "core.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.MemberTimeZoneMiddleware",
    "core.middleware.LastSeenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # allauth's UserSessionsMiddleware, but writing each session's row at most every few
    # minutes instead of on every request (it shows on "Where you are signed in").
    "coworking.middleware.UserSessionActivityMiddleware",
    "core.middleware.NotHereMiddleware",
]

ROOT_URLCONF = "coworking.urls"
WSGI_APPLICATION = "coworking.wsgi.application"
ASGI_APPLICATION = "coworking.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
                "notifications.context_processors.notifications",
                "conversations.context_processors.conversations",
                "moderation.context_processors.moderation",
                "members.context_processors.interests_review",
            ],
        },
    },
]

FORM_RENDERER = "core.forms.SiteFormRenderer"

# Database: SQLite by default, anything dj-database-url understands through DATABASE_URL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Persistent connections are unsafe under ASGI (each request may run on another thread).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Instead, each process keeps a pool of PostgreSQL connections (psycopg's): opening one per
# request or per socket frame costs more than the query, and a busy room socket makes many
# small queries. Size it so that processes x DB_POOL_MAX_SIZE stays under max_connections.
# A web process's sockets alone may hold 10 at once (Channels' database thread and the room
# arrivals', message sends' and stage calls' threads, 3 each), its HTTP requests one more.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DB_POOL", default=True
):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": env.int("DB_POOL_MAX_SIZE", default=12),
        "timeout": env.int("DB_POOL_TIMEOUT", default=10),
    }
# Behind PgBouncer in transaction mode (docs/scaling.md) a connection may change between two
# statements: no cursor may outlive its statement (Django's `.iterator()` declares them WITH
# HOLD otherwise), and no statement may be prepared on one server connection and run on
# another (psycopg prepares a query it sees five times once binding is on the server; Django
# binds on the client, which prepares none, and server binding made a member's home page no
# faster: docs/benchmarks.md, "HTTP pages").
if env.bool("DB_BEHIND_POOLER", default=False):
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
# SQLite takes one writer at a time, and several browsers (plus the embedded scheduler) write
# at once. WAL lets readers go on while someone writes. IMMEDIATE takes the write lock when a
# transaction begins: a deferred one that read first fails at once with "database is locked"
# when it wants to write after another writer got in, without waiting. The timeout (seconds)
# is how long a writer waits for the lock.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis carries the channel layer, the cache (allauth's rate limits need a shared one) and
# the Celery broker. Without it everything stays inside the one process.
REDIS_URL = env.str("REDIS_URL", default="")
REDIS_TIMEOUTS = {"socket_connect_timeout": 2, "socket_timeout": 2}

if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache, with one pool of connections per process, not per request.
            "BACKEND": "coworking.cache.SharedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cache",
            "OPTIONS": REDIS_TIMEOUTS,
        }
    }
    # The pub/sub layer: a group message is one PUBLISH that each server process receives
    # once and hands to its own sockets, so a 1,000-member room costs one Redis message per
    # process, not one per socket. Delivery is at most once; what matters (chat) is stored
    # first and caught up by clients on reconnection. docs/channel-layer.md has the reasons.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # Pub/sub channels ignore the Redis database number: sites (or test runs) sharing
            # one Redis server need their own prefix.
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env.str("CHANNEL_LAYER_PREFIX", "asgi")},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # A group membership never expires: a room's relay joins once per process
    # (rooms/fanout.py) and may stay for days; the default expiry is a day. All of the
    # process's sockets share its inbox's channel: room for a sweep's worth of messages at
    # once (the default is 100), and an hour (a loop stalled in a debugger) before a waiting
    # message is dropped, which also takes the inbox out of its groups.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"group_expiry": 10**9, "capacity": 10_000, "expiry": 3600},
        }
    }
# Every signed-in page reads the session: from Redis when there is one, written through to
# the database, which stays the truth (an evicted or flushed cache signs nobody out).
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)

# Celery (namespace CELERY_ in coworking/celery.py).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task not acknowledged within this window is handed to another worker, so it must be longer
# than any countdown/ETA we schedule. We never schedule further than an hour ahead: longer waits
# (reminders, follow-ups) are rows with a due time that a beat tick picks up.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3 * 3600, **REDIS_TIMEOUTS}
CELERY_TIMEZONE = "UTC"
# With no Redis there is no beat either: the web process runs the schedule below itself
# (core/scheduler.py). With Redis, run `celery beat` (exactly one).
EMBEDDED_SCHEDULER = not REDIS_URL
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {
        "task": "core.tasks.worker_heartbeat",
        "schedule": crontab(minute="*"),
    },
    # Starting a round is idempotent, so a tick every few minutes is both prompt and safe.
    "matching-tick": {"task": "matching.tasks.matching_tick", "schedule": crontab(minute="*/5")},
    "matching-follow-ups": {
        "task": "matching.tasks.follow_ups_tick",
        "schedule": crontab(minute=17),
    },
    # Favourite partners who both wished it meet again at their pace (matching/favourites.py).
    "matching-favourites": {
        "task": "matching.tasks.favourites_tick",
        "schedule": crontab(hour="7", minute="23"),
    },
    # "Pair me now" requests: paired with each other, or after a day with a willing member.
    "matching-pair-requests": {"task": "matching.tasks.pair_requests_tick", "schedule": 600.0},
    # Coffee meetings are reminded 10 minutes before (each time once: matching/meetings.py).
    "matching-meeting-reminders": {
        "task": "matching.tasks.meeting_reminders_tick",
        "schedule": 60.0,
    },
    # Pairs who sat at their coffee table together count as met (conversations/coffee_tables.py).
    "conversations-coffee-tables-met": {
        "task": "conversations.tasks.coffee_tables_met_tick",
        "schedule": 300.0,
    },
    # Connections of a server process that died leave the rooms' presence (rooms/presence.py).
    "rooms-presence-prune": {"task": "rooms.tasks.presence_prune", "schedule": 15.0},
    # Event reminders a day and 10 minutes before (each sent once: events/tasks.py).
    "events-reminders": {"task": "events.tasks.reminders_tick", "schedule": 60.0},
    # People in an event's room are invited to the cafeteria when it ends (events/tasks.py).
    "events-wrap-up": {"task": "events.tasks.events_wrap_up_tick", "schedule": 60.0},
    # Settled rounds' figures stored for the staff dashboard (dashboard/services.py).
    "dashboard-round-figures": {"task": "dashboard.tasks.round_figures_tick", "schedule": 3600.0},
    # The dashboard's figures per day (dashboard/services.py): today and yesterday every five
    # minutes, every day it shows every hour.
    "dashboard-daily-figures": {
        "task": "dashboard.tasks.daily_figures_tick",
        "schedule": crontab(minute="*/5"),
    },
    "dashboard-daily-figures-all": {
        "task": "dashboard.tasks.daily_figures_tick",
        "schedule": crontab(minute=29),
        "kwargs": {"days": 365},
    },
    # Focus blocks that ended count their no-shows, each block once (focus/standing.py).
    "focus-wrap-up": {"task": "focus.tasks.blocks_wrap_up_tick", "schedule": 60.0},
    # Lobbies list an event's room as soon as it opens (rooms/tasks.py).
    "rooms-opened": {"task": "rooms.tasks.rooms_opened_tick", "schedule": 60.0},
    # Recurring sessions: the next eight weeks are always on the calendar.
    "events-series-extend": {
        "task": "events.tasks.series_extend_tick",
        "schedule": crontab(hour="3", minute="41"),
    },
    # Focus sessions are reminded 5 minutes before, each seat once (focus/tasks.py).
    "focus-reminders": {"task": "focus.tasks.focus_reminders_tick", "schedule": 60.0},
    # Power hours: every series' next four weeks of blocks are always there (focus/series.py).
    "focus-series-extend": {
        "task": "focus.tasks.focus_series_extend_tick",
        "schedule": crontab(hour="3", minute="47"),
    },
    # Newsletter sends whose worker died or whose task was lost carry on (newsletter/tasks.py).
    "newsletter-resume": {
        "task": "newsletter.tasks.newsletter_resume_tick",
        "schedule": crontab(minute="*/5"),
    },
    # The weekly digest goes out on Monday morning in each member's zone (notifications/).
    "notifications-digest": {
        "task": "notifications.tasks.digest_tick",
        "schedule": crontab(minute=7),
    },
    # Notices held during a focus block go out in one batch at its end (notifications/holds.py).
    "notifications-held-release": {
        "task": "notifications.tasks.held_release_tick",
        "schedule": 30.0,
    },
    # Members hear of messages they have left unread for 10 minutes (conversations/tasks.py).
    "conversations-unread": {"task": "conversations.tasks.unread_tell_tick", "schedule": 60.0},
    # Closing is a conditional UPDATE, so a late or doubled tick closes nothing twice.
    "rooms-close-idle": {
        "task": "rooms.tasks.rooms_close_idle_tick",
        "schedule": crontab(minute="*/5"),
    },
    # What is kept how long (docs/privacy.md, "How long things are kept"), at night in UTC
    # (late evening in the Americas, before dawn in Spain). Each deletes in short batches.
    "members-retention": {
        "task": "members.tasks.retention_tick",
        "schedule": crontab(hour=3, minute=10),
    },
    "notifications-retention": {
        "task": "notifications.tasks.retention_tick",
        "schedule": crontab(hour=3, minute=20),
    },
    "rooms-retention": {
        "task": "rooms.tasks.retention_tick",
        "schedule": crontab(hour=3, minute=30),
    },
    "newsletter-retention": {
        "task": "newsletter.tasks.retention_tick",
        "schedule": crontab(hour=3, minute=40),
    },
}

# A tick still queued when its next one is due (the workers were down, or busy with a round's
# emails) is dropped: the next one does its work, and a backlog of ticks run one after the
# other after an outage would only hold up the ones that matter on the minute (reminders).
for _entry in CELERY_BEAT_SCHEDULE.values():
    _schedule = _entry["schedule"]
    _every = (
        _schedule
        if isinstance(_schedule, float)
        else 24 * 3600 / (len(_schedule.hour) * len(_schedule.minute))  # evenly spread
    )
    _entry["options"] = {"expires": _every}
# Ticks, and the reminders due on the minute that they queue, have a queue of their own, which
# every worker reads beside the default one (a worker started without -Q reads both): kombu
# takes from each in turn, so they wait behind one email at most, not behind the thousands a
# round or the Monday digest queues. A reminder queued with `expires` (the tick is its retry)
# would otherwise expire there, tick after tick.
ON_THE_MINUTE = (
    "events.tasks.reminder_send",
    "focus.tasks.focus_reminder_send",
    "matching.tasks.meeting_notice_send",
    "conversations.tasks.unread_tell",
)
CELERY_TASK_QUEUES = (Queue("celery"), Queue("ticks"))
CELERY_TASK_ROUTES = {
    task: {"queue": "ticks"}
    for task in (*(entry["task"] for entry in CELERY_BEAT_SCHEDULE.values()), *ON_THE_MINUTE)
}

# Member-made rooms close after this long without anyone inside (presence heartbeats count
# as activity) or any message; their history stays readable to those who were in.
_rooms_idle_minutes = env.int("ROOMS_IDLE_CLOSE_MINUTES", default=30)
if _rooms_idle_minutes < 1:
    raise ImproperlyConfigured("ROOMS_IDLE_CLOSE_MINUTES must be at least 1.")
ROOMS_IDLE_CLOSE_AFTER = timedelta(minutes=_rooms_idle_minutes)

# Calls (rooms/calls.py, docs/calls.md): peer-to-peer (mesh), so each participant uploads
# one stream per other participant; beyond six that outgrows ordinary uplinks.
CALL_MAX_PARTICIPANTS = env.int("CALL_MAX_PARTICIPANTS", default=6)
if CALL_MAX_PARTICIPANTS < 2:
    raise ImproperlyConfigured("CALL_MAX_PARTICIPANTS must be at least 2.")
# ICE servers handed to browsers joining a call. STUN finds a member's public address; TURN
# relays media when no direct path exists. TURN credentials are minted per member from
# TURN_SECRET (coturn's `use-auth-secret`) and expire after TURN_CREDENTIAL_TTL seconds;
# without a secret no TURN server is offered.
STUN_URLS = env.list("STUN_URLS", default=[])
TURN_URLS = env.list("TURN_URLS", default=[])
TURN_SECRET = env.str("TURN_SECRET", default="")
_turn_ttl_seconds = env.int("TURN_CREDENTIAL_TTL", default=3600)
if _turn_ttl_seconds < 60:
    raise ImproperlyConfigured("TURN_CREDENTIAL_TTL must be at least 60 seconds.")
TURN_CREDENTIAL_TTL = timedelta(seconds=_turn_ttl_seconds)

# The stage's media server, Janus (stage/janus.py, docs/stage.md): its HTTP API on 127.0.0.1,
# the secret every request to it carries, the key that makes VideoRoom rooms, and the UDP
# ports its media use. Its configuration is generated from these (`manage.py janus_config`).
JANUS_HTTP_PORT = env.int("JANUS_HTTP_PORT", default=8088)
# Where the site reaches that API, and the address Janus listens on for it: both 127.0.0.1 on
# one machine; in docker-compose, the `janus` service and all its container's addresses (the
# port is never published: only the site's containers reach it).
JANUS_API_HOST = env.str("JANUS_API_HOST", default="127.0.0.1")
JANUS_API_BIND = env.str("JANUS_API_BIND", default="127.0.0.1")
# The public address browsers send media to, when Janus sits behind NAT (a container).
JANUS_PUBLIC_IP = env.str("JANUS_PUBLIC_IP", default="")
JANUS_API_SECRET = env.str("JANUS_API_SECRET", default="")
JANUS_ROOM_ADMIN_KEY = env.str("JANUS_ROOM_ADMIN_KEY", default="")
_janus_ports = env.str("JANUS_RTP_PORTS", default="20000-20999").partition("-")
JANUS_RTP_PORTS = (int(_janus_ports[0]), int(_janus_ports[2] or _janus_ports[0]))
if not 1024 <= JANUS_RTP_PORTS[0] <= JANUS_RTP_PORTS[1] <= 65535:
    raise ImproperlyConfigured("JANUS_RTP_PORTS must be a range like 20000-20999.")
JANUS_STUN_SERVER = env.str("JANUS_STUN_SERVER", default="")  # host:port
# Browsers reach Janus's API themselves, with tokens the site signs with this secret (Janus's
# `token_auth_secret`), valid for JANUS_TOKEN_TTL seconds, at JANUS_PUBLIC_URL: on one
# machine Janus's own port; behind a proxy a path of the site's, e.g. "/janus".
# Without the three secrets the stage says it is unavailable.
JANUS_TOKEN_SECRET = env.str("JANUS_TOKEN_SECRET", default="")
JANUS_TOKEN_TTL = env.int("JANUS_TOKEN_TTL", default=6 * 3600)
JANUS_PUBLIC_URL = env.str("JANUS_PUBLIC_URL", default=f"http://127.0.0.1:{JANUS_HTTP_PORT}/janus")

# Newsletter (docs/newsletter.md): messages per SMTP connection, and the bearer token of the
# bounce/complaint webhook (POST /newsletter/bounces/), which is off while it is empty.
NEWSLETTER_BATCH_SIZE = env.int("NEWSLETTER_BATCH_SIZE", default=100)
if NEWSLETTER_BATCH_SIZE < 1:
    raise ImproperlyConfigured("NEWSLETTER_BATCH_SIZE must be at least 1.")
NEWSLETTER_WEBHOOK_TOKEN = env.str("NEWSLETTER_WEBHOOK_TOKEN", default="")

AUTH_USER_MODEL = "members.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

SITE_ID = 1
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# An address another account only asked to move to is not theirs (members/account_forms.py).
ACCOUNT_FORMS = {"reset_password": "members.account_forms.ResetPasswordForm"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
# Confirming in the browser that signed up goes straight on to onboarding, without the
# password again (allauth logs in only the account being signed up in this session).
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_USER_DISPLAY = "members.adapters.user_display"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
# The per-IP limits count REMOTE_ADDR. allauth ignores X-Forwarded-For (its TRUSTED_PROXY_COUNT
# stays 0): uvicorn already took the client's address from that header, and only on connections
# from FORWARDED_ALLOW_IPS (docs/deploy.md).
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    # Each request emails an address: a few tries, never a stream into someone's inbox.
    "reset_password": "20/m/ip,5/m/key,10/h/key",
    # The newsletter form sends a confirmation email: few per address, a handful per IP.
    "newsletter_subscribe": "5/m/ip,30/h/ip,3/h/key",
    # Private conversations: a lively chat, never a spray. The hourly cap counts messages
    # from the page's form and the member socket together; the socket has its own pace
    # (rooms/sockets/limits.py, 20 per 10 s), the form this one a minute.
    "conversation_message": "600/h/user",
    "conversation_message_form": "20/m/user",
    "conversation_start": "10/m/user,60/d/user",
    # A group's name and members (each change reaches every member's list, live): a few
    # changes, never a loop of adding someone back as soon as they leave.
    "group_change": "10/h/user,30/d/user",
    # Push notifications (notifications/views.py): a device now and then; a test, not a spam.
    "push_subscribe": "10/m/user,50/d/user",
    "push_test": "3/m/user,30/d/user",
    # Each of these emails other members: a few changes of mind, never a stream of emails.
    "meeting_propose": "10/h/user,30/d/user",
    "event_edit": "30/h/user",
    # A new time for an event emails everyone going: a few a day for each event.
    "event_move": "3/d/key",
    # Each invitation (up to 50 addresses a form) tells the invitees on the site and their
    # phones: a few rounds of invitations, never a spray.
    "room_invite": "10/h/user,30/d/user",
}
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"
ACCOUNT_CHANGE_EMAIL = True
# The account's address hears of a new address (the old one, before it goes) and of a new
# password: a member whose account someone took over learns of it.
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_REAUTHENTICATION_REQUIRED = True
# No "[Site]" prefix: the sender's name and the layout carry the site's name, as in our own emails.
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_ADAPTER = "members.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Written by coworking.middleware.UserSessionActivityMiddleware, not allauth's middleware.
USERSESSIONS_TRACK_ACTIVITY = True

# Social login: a provider appears on the login page only when its credentials are set.
SOCIALACCOUNT_ADAPTER = "members.adapters.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_PROVIDERS: dict[str, dict[str, object]] = {}
# Where each provider's sign-in form leads (allauth answers the form with a redirect there):
# browsers hold that redirect to the page's CSP `form-action`, below.
SIGN_IN_ORIGINS = {
    "github": "https://github.com",
    "google": "https://accounts.google.com",
    "openid_connect": "https://www.linkedin.com",
}
if env.str("GITHUB_CLIENT_ID", default=""):
    SOCIALACCOUNT_PROVIDERS["github"] = {
        "APPS": [
            {"client_id": env.str("GITHUB_CLIENT_ID"), "secret": env.str("GITHUB_CLIENT_SECRET")}
        ],
        "SCOPE": ["user:email"],
    }
if env.str("GOOGLE_CLIENT_ID", default=""):
    SOCIALACCOUNT_PROVIDERS["google"] = {
        "APPS": [
            {"client_id": env.str("GOOGLE_CLIENT_ID"), "secret": env.str("GOOGLE_CLIENT_SECRET")}
        ],
        "SCOPE": ["openid", "profile", "email"],
    }
if env.str("LINKEDIN_CLIENT_ID", default=""):
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "APPS": [
            {
                "provider_id": "linkedin",
                "name": "LinkedIn",
                "client_id": env.str("LINKEDIN_CLIENT_ID"),
                "secret": env.str("LINKEDIN_CLIENT_SECRET"),
                "settings": {"server_url": "https://www.linkedin.com/oauth"},
            }
        ],
    }

# Internationalisation: Spanish first, English too. Times are stored in UTC and shown in
# each member's own zone; TIME_ZONE is the community's zone for staff views and defaults.
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="es")
LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates as the site writes them (day first, 24-hour clock): coworking/formats/en.
FORMAT_MODULE_PATH = ["coworking.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Madrid")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Django serves uploaded files itself unless a proxy or bucket in front of it does.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
# Files shared in private conversations: never served from MEDIA_URL, only by the view that
# checks the reader is in the conversation (conversations.views.attachment).
PRIVATE_MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=BASE_DIR / "private-media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "core.storage.ManifestStaticFilesStorage"
        )
    },
}

# Request size limits (docs/deploy.md, "Request and upload limits"). A body over them is
# answered 400. uvicorn has none of its own, so the proxy's (nginx `client_max_body_size`)
# must stop larger bodies before they are spooled to disk. Form fields other than files may
# total DATA_UPLOAD_MAX_MEMORY_SIZE bytes (a newsletter issue in the admin is the longest);
# a body or file larger than FILE_UPLOAD_MAX_MEMORY_SIZE goes to a temporary file, not memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DATA_UPLOAD_MAX_NUMBER_FIELDS", default=1000)
DATA_UPLOAD_MAX_NUMBER_FILES = env.int("DATA_UPLOAD_MAX_NUMBER_FILES", default=10)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
# Profile photos over this many MB are refused by the form (members/images.py also refuses
# photos whose pixels would take too much memory to decode).
PHOTO_UPLOAD_MAX_MB = env.int("PHOTO_UPLOAD_MAX_MB", default=5)
# Files and pictures shared in a conversation (conversations/attachments.py).
ATTACHMENT_MAX_MB = env.int("ATTACHMENT_MAX_MB", default=10)
if (
    min(
        DATA_UPLOAD_MAX_MEMORY_SIZE,
        DATA_UPLOAD_MAX_NUMBER_FIELDS,
        DATA_UPLOAD_MAX_NUMBER_FILES,
        FILE_UPLOAD_MAX_MEMORY_SIZE,
        PHOTO_UPLOAD_MAX_MB,
        ATTACHMENT_MAX_MB,
    )
    < 1
):
    raise ImproperlyConfigured("Request and upload limits must be at least 1.")

# EMAIL_URL: smtp://user:password@host:587 (smtp+tls://, smtp+ssl://), consolemail://, ...
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"{SITE_NAME} <hola@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where members write when something goes wrong: every page's footer links to it.
CONTACT_EMAIL = env.str("CONTACT_EMAIL", default=email.utils.parseaddr(DEFAULT_FROM_EMAIL)[1])
EMAIL_TIMEOUT = 10

# Security. Production (DEBUG=0) gets HTTPS-only cookies, HSTS and a redirect to HTTPS;
# SECURE_PROXY_SSL_HEADER is for deployments behind a TLS-terminating proxy.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# The preload flag only allows submitting the domain to browsers' preload list; it submits nothing.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# No inline scripts or styles anywhere: every script and stylesheet is a static file.
# The stage's pages also talk to Janus (docs/stage.md), at its own origin unless a proxy
# serves it under the site's.
_janus_url = urllib.parse.urlsplit(JANUS_PUBLIC_URL)
_janus_origin = [f"{_janus_url.scheme}://{_janus_url.netloc}"] if _janus_url.netloc else []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "media-src": [SELF, "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF, *_janus_origin],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF, *(SIGN_IN_ORIGINS[name] for name in SOCIALACCOUNT_PROVIDERS)],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {
        "quiet_sockets": {"()": "core.logs.QuietSockets"},
        "no_secrets": {"()": "core.logs.NoSecretsInPaths"},
    },
    # Every line leaves without the secrets of links (a password reset's key), whichever
    # logger wrote it: uvicorn's line per request, Django's "Not Found" and CSRF refusals.
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["no_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # uvicorn's own logger (its handlers are uvicorn's): no line per socket.
        "uvicorn.error": {"filters": ["quiet_sockets"]},
        # A line per request, through the console handler above.
        "uvicorn.access": {"handlers": ["console"], "propagate": False},
    },
}

# Web Push (notifications/push.py, docs/webapp.md). The VAPID private key signs every push;
# `manage.py vapid_keys` makes one. Without it, the embedded setup (DEBUG) keeps a key of
# its own in VAPID_KEY_FILE, made on first use; production without a key has push off.
VAPID_PRIVATE_KEY = env.str("VAPID_PRIVATE_KEY", default="")
VAPID_KEY_FILE = env.str(
    "VAPID_KEY_FILE", default=str(BASE_DIR / "vapid-private-key.txt") if DEBUG else ""
)
# Whom push services may contact about our messages: a mailto: or https: address.
VAPID_SUBJECT = env.str(
    "VAPID_SUBJECT", default=f"mailto:{email.utils.parseaddr(DEFAULT_FROM_EMAIL)[1]}"
)
# Push services are on the public internet; a private or loopback endpoint is refused (no
# server-side request forgery). Only tests, with their local push service, allow them.
PUSH_ALLOW_PRIVATE_ENDPOINTS = env.bool("PUSH_ALLOW_PRIVATE_ENDPOINTS", default=False)

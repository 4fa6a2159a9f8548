"""Settings come from the environment: embedded by default, Postgres and Redis when told."""

import json
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core import checks
from django.db import connection
from django.template import Context, Template

from members.models import User
from tests.conftest import ROOT, clean_env, embedded_site
from tests.factories import UserFactory

DESCRIBE = """
import json, django
django.setup()
from django.conf import settings
from coworking.celery import app
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "cache": settings.CACHES["default"]["BACKEND"],
    "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "broker": app.conf.broker_url,
    "eager": app.conf.task_always_eager,
    "email": settings.EMAIL_BACKEND,
    "debug": settings.DEBUG,
}))
"""


def describe(env: dict[str, str]) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", DESCRIBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_no_configuration_it_runs_embedded() -> None:
    config = describe(clean_env())

    assert config == {
        "engine": "django.db.backends.sqlite3",
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "channel_layer": "channels.layers.InMemoryChannelLayer",
        "broker": "memory://",
        "eager": True,
        "email": "django.core.mail.backends.console.EmailBackend",
        "debug": True,
    }


def test_database_and_redis_urls_switch_to_postgres_and_redis() -> None:
    config = describe(
        clean_env(
            DATABASE_URL="postgres://postgres@127.0.0.1:5432/coworking",
            REDIS_URL="redis://127.0.0.1:6379/3",
            EMAIL_URL="smtp://127.0.0.1:1025",
        )
    )

    assert config["engine"] == "django.db.backends.postgresql"
    assert config["cache"] == "coworking.cache.SharedRedisCache"
    assert config["channel_layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert config["broker"] == "redis://127.0.0.1:6379/3"
    assert config["eager"] is False
    assert config["email"] == "django.core.mail.backends.smtp.EmailBackend"


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = subprocess.run(
        [sys.executable, "-c", DESCRIBE],
        cwd=ROOT,
        env=clean_env(DEBUG="0"),
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert "Set SECRET_KEY when DEBUG is off" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("CALL_MAX_PARTICIPANTS", "1", "CALL_MAX_PARTICIPANTS must be at least 2"),
        ("TURN_CREDENTIAL_TTL", "10", "TURN_CREDENTIAL_TTL must be at least 60 seconds"),
    ],
)
def test_call_settings_out_of_range_refuse_to_start(
    variable: str, value: str, complaint: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", DESCRIBE],
        cwd=ROOT,
        env=clean_env(**{variable: value}),
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert complaint in result.stderr


def test_production_settings_pass_the_deployment_checklist_without_warnings() -> None:
    env = clean_env(
        DEBUG="0",
        SECRET_KEY="a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
        ALLOWED_HOSTS="cowork.example.com",
        SITE_URL="https://cowork.example.com",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/coworking",
        REDIS_URL="redis://127.0.0.1:6379/3",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


@pytest.mark.parametrize("hour", [9, 17])
def test_the_checks_raise_nothing_at_the_default_working_day_s_start_or_end(hour: int) -> None:
    """Django's checks once took these fields' defaults for a mistake at those instants."""
    with time_machine.travel(datetime(2026, 12, 7, hour, tzinfo=UTC), tick=False):
        issues = checks.run_checks()
    assert [(issue.id, str(issue.obj)) for issue in issues] == []


def test_the_embedded_default_boots_and_serves(tmp_path: Path, embedded_database: Path) -> None:
    with embedded_site(tmp_path, embedded_database) as (port, _env):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            body = json.load(response)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            home = response.read().decode()

    assert body["status"] == "ok"
    assert "/accounts/signup/" in home


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("zone", "local_time"), [("Europe/Madrid", "10:40"), ("America/Mexico_City", "03:40")]
)
def test_time_is_stored_in_utc_whatever_the_display_zone(
    settings: Any, zone: str, local_time: str
) -> None:
    settings.TIME_ZONE = zone
    moment = datetime(2026, 3, 4, 9, 40, tzinfo=UTC)
    user = UserFactory.create(date_joined=moment)

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT date_joined::text FROM {User._meta.db_table} WHERE id = %s", [user.pk]
        )
        (stored,) = cursor.fetchone()

    assert stored == "2026-03-04 09:40:00+00"
    assert User.objects.get(pk=user.pk).date_joined == moment
    shown = Template("{{ moment|date:'H:i' }}").render(Context({"moment": moment}))
    assert shown == local_time


@pytest.mark.django_db
def test_every_model_change_has_its_migration() -> None:
    from django.core.management import call_command

    # Exits with an error when a model differs from what the migrations build.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)

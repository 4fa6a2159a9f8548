"""Shared fixtures. The suite runs against real PostgreSQL and Redis (see `make test`)."""

import contextlib
import fcntl
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import redis
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db.models.signals import post_migrate
from django.test import override_settings

if TYPE_CHECKING:
    from members.models import User
    from stage.janus import JanusSettings
    from tests.push_service import PushService

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine or not settings.REDIS_URL:
        raise pytest.UsageError(
            "The tests run against PostgreSQL and Redis. Use `make test`, or set DATABASE_URL "
            "(postgres://...) and REDIS_URL (redis://...) yourself."
        )
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).flushdb()
    except redis.RedisError as exc:
        raise pytest.UsageError(f"Redis at {settings.REDIS_URL} is unreachable: {exc}") from exc
    # Hashing passwords properly is slow on purpose; tests do not need that.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Production-shaped static files, without having to run collectstatic first.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Web Push: a key of this session's own, also for the servers it starts (their
    # environment is this one); the tests' push service is on loopback.
    from notifications.push import vapid_key_generate

    os.environ["VAPID_PRIVATE_KEY"] = settings.VAPID_PRIVATE_KEY = vapid_key_generate()
    os.environ["PUSH_ALLOW_PRIVATE_ENDPOINTS"] = "1"
    settings.PUSH_ALLOW_PRIVATE_ENDPOINTS = True
    from coworking.celery import app

    # Tasks run inline unless a test asks for the real worker (`celery_worker` below).
    app.conf.task_always_eager = True
    _flush_by_deleting_rows()


# Filled by post_migrate from the models alone; no test changes them.
CONSTANT = {"django_content_type", "auth_permission"}


def _flush_by_deleting_rows() -> None:
    """Empty the tables after each transactional test with DELETE rather than TRUNCATE.

    A test leaves a few rows in a few of some fifty tables. PostgreSQL's TRUNCATE replaces
    every table's files and syncs them at commit (about 0.45 s a test here); deleting the rows
    takes a few milliseconds. Foreign keys are deferrable, so the order does not matter. The
    sequences go on counting either way (Django's flush restarts them only when asked to).
    The content types and permissions stay: the flush's post_migrate would only put the same
    rows back, which costs more than the rest of the flush."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(
        self: DatabaseOperations,
        style: Any,
        tables: list[str],
        *,
        reset_sequences: bool = False,
        allow_cascade: bool = False,
    ) -> list[str]:
        if reset_sequences or not tables:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        deletes = [
            f"DELETE FROM {self.quote_name(table)}" for table in tables if table not in CONSTANT
        ]
        return ["SET CONSTRAINTS ALL DEFERRED", *deletes]

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign,assignment]

    # The flush's post_migrate without the receivers that refill CONSTANT (they query every
    # app's models to write nothing); the apps' own receivers still put the cafeteria, the
    # programme, the languages and the site back.
    from django.contrib.auth.management import create_permissions
    from django.contrib.contenttypes.management import create_contenttypes
    from django.core.management.commands import flush

    emit = flush.emit_post_migrate_signal  # type: ignore[attr-defined]
    # As django.contrib's app configs connect them.
    refills = [
        (create_contenttypes, None),
        (create_permissions, "django.contrib.auth.management.create_permissions"),
    ]

    def emit_without_refills(*args: Any, **kwargs: Any) -> None:
        for receiver, uid in refills:
            assert post_migrate.disconnect(receiver, dispatch_uid=uid)
        try:
            emit(*args, **kwargs)
        finally:
            for receiver, uid in refills:
                post_migrate.connect(receiver, dispatch_uid=uid)

    flush.emit_post_migrate_signal = emit_without_refills  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    settings.PRIVATE_MEDIA_ROOT = tmp_path_factory.mktemp("private-media")


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _site_language() -> Iterator[None]:
    """Each test starts in the site's language: a request (LocaleMiddleware) leaves its own
    active in the thread, and the next test in the same worker must not depend on it."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_channel_layers() -> Iterator[None]:
    # Each async test runs its own event loop, and a channel layer keeps receive state per
    # instance that must not leak from one loop into the next.
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


# Personas ---------------------------------------------------------------------------------
# Alice and Bob are onboarded members (verified email, a profile, Spanish speakers) who share
# an interest in Python; the outsider (Carol) is a member with no part in whatever a test is
# about, who must be refused; staff run the site (staff pages and the admin). Anyone else:
# `tests.factories.onboarded_member`, logged in with `tests.factories.client_for`.


@pytest.fixture
def alice(db: None) -> "User":
    from tests.factories import onboarded_member

    return onboarded_member("Alice Arias", email="alice@example.com", interests=("Python", "Café"))


@pytest.fixture
def bob(db: None) -> "User":
    from tests.factories import onboarded_member

    return onboarded_member(
        "Bob Bravo", email="bob@example.com", interests=("Python", "Ciclismo"), headline="Data nerd"
    )


@pytest.fixture
def outsider(db: None) -> "User":
    from tests.factories import onboarded_member

    return onboarded_member("Carol Cruz", email="carol@example.com")


@pytest.fixture
def staff(db: None) -> "User":
    from tests.factories import UserFactory

    return UserFactory.create(
        display_name="Sam Staff", email="sam@example.com", is_staff=True, is_superuser=True
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[Any], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with code {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listened on port {port} within {timeout}s")


def production_server_command(*, port: int) -> list[str]:
    """The image's default command (the Dockerfile's CMD: the ASGI server and its flags), bound to
    loopback on `port`, so tests run the server exactly as production starts it."""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD ["):
            command: list[str] = json.loads(line.removeprefix("CMD "))
            break
    else:
        raise RuntimeError("the Dockerfile has no CMD")
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    return [sys.executable, "-m", *command]


def start_server(*, port: int, env: dict[str, str], output: Any) -> subprocess.Popen[bytes]:
    """The ASGI server as production runs it, on loopback; wait with `wait_for_port`."""
    return subprocess.Popen(
        production_server_command(port=port),
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )


def child_env(**overrides: str) -> dict[str, str]:
    """The environment for a server or worker process that shares the test database."""
    from django.db import connection

    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "PYTHONUNBUFFERED": "1",
    }
    env.update(overrides)
    return env


@pytest.fixture
def celery_worker(
    transactional_db: None, tmp_path: Path, smtp_server: "SmtpSink"
) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process consuming from the test Redis, on the test database,
    sending its emails to the tests' SMTP server."""
    from coworking.celery import app

    log = (tmp_path / "celery.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "coworking",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=child_env(EMAIL_URL=f"smtp://127.0.0.1:{smtp_server.port}"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    app.conf.task_always_eager = False
    try:
        yield process
    finally:
        app.conf.task_always_eager = True
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory every pytest-xdist worker of this run sees: the parent of their own."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return tmp_path_factory.getbasetemp().parent
    return tmp_path_factory.getbasetemp()


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest,
    django_test_environment: None,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """Migrate once per run, then give each worker a copy (PostgreSQL's `CREATE DATABASE ...
    TEMPLATE`, as Django's own parallel runner does): workers migrating in turn cost
    half a minute of a 2-core machine. The first worker to take the lock builds the template
    (`test_<name>`), and each worker clones it into `test_<name>_<worker>`."""
    from django.db import connection
    from django.test.utils import setup_databases

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    verbosity = request.config.option.verbose
    if not worker:
        original_name = connection.settings_dict["NAME"]
        with django_db_blocker.unblock():
            setup_databases(verbosity=verbosity, interactive=False)
        yield
        drop_database(connection.settings_dict["NAME"])
        connection.settings_dict["NAME"] = original_name
        return

    shared = _shared_dir(tmp_path_factory)
    original_name = connection.settings_dict["NAME"]
    # pytest-django has already suffixed the test database's name with the worker's id.
    connection.settings_dict["TEST"]["NAME"] = template_name(connection.settings_dict)
    with django_db_blocker.unblock(), (shared / "database.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        built = shared / "database.built"
        if not built.exists():
            connection.creation.create_test_db(
                verbosity=verbosity, autoclobber=True, serialize=False
            )
            connection.close()  # a template cannot be copied while anyone is connected to it
            built.touch()
        connection.settings_dict["NAME"] = connection.settings_dict["TEST"]["NAME"]
        connection.creation.clone_test_db(suffix=worker, verbosity=verbosity)
        connection.settings_dict.update(connection.creation.get_test_db_clone_settings(worker))
        connection.close()
    yield
    with django_db_blocker.unblock():
        drop_database(connection.settings_dict["NAME"])
    connection.settings_dict["NAME"] = original_name


def template_name(settings_dict: dict[str, Any]) -> str:
    return f"test_{settings_dict['NAME']}"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The controller of a parallel run drops the template its workers copied."""
    if (
        os.environ.get("PYTEST_XDIST_WORKER")
        or not session.config.pluginmanager.hasplugin("xdist")
        or not getattr(session.config.option, "numprocesses", None)
    ):
        return
    drop_database(template_name(settings.DATABASES["default"]))


def drop_database(name: str) -> None:
    """Drop a test database even if a socket's worker thread still holds a connection to it.
    Plain psycopg: pytest-django blocks the ORM outside tests and fixtures."""
    import psycopg
    from psycopg import sql

    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname="postgres", autocommit=True
    ) as admin:
        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        admin.execute(statement.format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The static files as the image collects them, once per run: pytest-xdist workers share
    the parent of their temporary directories, and whichever worker comes first collects
    while the others wait on the lock, then reuse its result."""
    shared = _shared_dir(tmp_path_factory)
    static_root = shared / "static"
    collected = shared / "static.collected"
    with (shared / "static.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not collected.exists():
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "--clear", "-v0"],
                cwd=ROOT,
                check=True,
                env={
                    **os.environ,
                    "DEBUG": "0",
                    "SECRET_KEY": "collectstatic-" + "x" * 50,
                    "STATIC_ROOT": str(static_root),
                },
            )
            collected.touch()
    return static_root


# The settings the environment configures; `clean_env` leaves them out.
CONFIG_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "EMAIL_URL",
    "DJANGO_SETTINGS_MODULE",
)


def clean_env(**overrides: str) -> dict[str, str]:
    """This environment without any configuration (the embedded default), plus `overrides`."""
    env = {key: value for key, value in os.environ.items() if key not in CONFIG_VARIABLES}
    env["DJANGO_SETTINGS_MODULE"] = "coworking.settings"
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    """Run a management command in `env`; its output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="session")
def embedded_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated by `manage.py migrate` in the embedded default, as `make run`
    does, once per run (workers share it, as `collected_static`): copy it, never open it."""
    shared = _shared_dir(tmp_path_factory)
    database = shared / "embedded.sqlite3"
    with (shared / "embedded.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "embedded.migrated").exists():
            manage(clean_env(DATABASE_URL=f"sqlite:///{database}"), "migrate", "--noinput", "-v0")
            (shared / "embedded.migrated").touch()
    return database


@contextlib.contextmanager
def embedded_site(
    tmp_path: Path, database: Path, command: list[str] | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """The embedded default on a copy of the migrated `database` (`embedded_database`),
    served by the Dockerfile's server, or by `command` with `{port}` in it; yields the port
    and the environment, and leaves the server's output in `tmp_path / "server.log"`."""
    copy = tmp_path / "embedded.sqlite3"
    shutil.copyfile(database, copy)
    env = clean_env(DATABASE_URL=f"sqlite:///{copy}", PYTHONUNBUFFERED="1")
    port = free_port()
    with (tmp_path / "server.log").open("w") as log:
        if command is None:
            server = start_server(port=port, env=env, output=log)
        else:
            # A session of its own: runserver's autoreloader serves from a child process.
            server = subprocess.Popen(
                [part.format(port=port) for part in command],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
    try:
        wait_for_port(port, server, timeout=60)
        yield port, env
    finally:
        os.killpg(server.pid, signal.SIGTERM) if command else server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL) if command else server.kill()


@contextlib.contextmanager
def smtp_serving(handler: Any, **settings: Any) -> Iterator[Any]:
    """`handler` (aiosmtpd's) answering on loopback while the test's email goes to it, with
    any other email `settings` (a short EMAIL_TIMEOUT, say)."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=controller.port,
            **settings,
        ):
            yield handler
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator["SmtpSink"]:
    """A real SMTP server on loopback that keeps what it receives (aiosmtpd)."""
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    sink.port = controller.port
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def smtp(smtp_server: "SmtpSink") -> Iterator["SmtpSink"]:
    """Send this test's email to the local SMTP server, starting from an empty inbox."""
    smtp_server.messages.clear()
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=smtp_server.port,
    ):
        yield smtp_server


class SmtpSink:
    def __init__(self) -> None:
        self.port = 0
        self.messages: list[EmailMessage] = []
        # SMTP sessions opened (one EHLO or HELO each), to check that senders reuse them.
        self.connections = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server: Any, session: Any, envelope: Any, hostname: str) -> str:
        self.connections += 1
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=default_policy).parsebytes(envelope.content)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def wait_for(self, to: str, timeout: float = 15) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages:
                if to in str(message["To"]):
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no email to {to} within {timeout}s")


def server_log(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """Where `production_server(name=...)` writes its output."""
    return tmp_path_factory.getbasetemp() / f"{name}.log"


@contextlib.contextmanager
def production_server(
    *,
    name: str,
    collected_static: Path,
    tmp_path_factory: pytest.TempPathFactory,
    django_db_blocker: Any,
    **extra_env: str,
) -> Iterator[int]:
    """The site served the way production serves it (uvicorn, DEBUG off) on the test
    database and a free port, with `extra_env` on top; yields the port."""
    port = free_port()
    with django_db_blocker.unblock():
        env = child_env(
            DJANGO_SETTINGS_MODULE="tests.live_settings",
            DEBUG="0",
            SECRET_KEY=server_secret_key(name),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SITE_URL=f"http://127.0.0.1:{port}",
            SECURE_SSL_REDIRECT="0",
            SECURE_HSTS_SECONDS="0",
            SECURE_COOKIES="0",
            STATIC_ROOT=str(collected_static),
            MEDIA_ROOT=str(tmp_path_factory.mktemp(f"{name}-media")),
            # Else the server's conversation files land in the checkout's private-media/.
            PRIVATE_MEDIA_ROOT=str(tmp_path_factory.mktemp(f"{name}-private-media")),
            **extra_env,
        )
    # One per server and worker, at a known place: a test may read what the server logged.
    log_path = server_log(tmp_path_factory, name)
    with log_path.open("w") as log:
        process = start_server(port=port, env=env, output=log)
    try:
        wait_for_port(port, process)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


class JanusProcess:
    """A Janus process of this worker, on a free port and media ports of its own, from the
    site's `config_files` with secrets of this run; `restart()` stops it and starts it
    again on the same port (a crash, a deploy)."""

    def __init__(self, folder: Path) -> None:
        from stage.janus import JanusSettings, config_files

        worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
        low = 30000 + 200 * worker
        self.conf = JanusSettings(
            http_port=free_port(),
            api_secret=secrets.token_urlsafe(16),
            room_admin_key=secrets.token_urlsafe(16),
            token_secret=secrets.token_urlsafe(16),
            rtp_ports=(low, low + 199),
        )
        self.folder = folder
        for name, text in config_files(self.conf, folder=str(folder)).items():
            (folder / name).write_text(text)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        from stage.janus import Janus, JanusError

        binary = shutil.which("janus")
        assert binary, "Janus is not installed: `make system-deps` installs Debian's package."
        command = [binary, "-F", str(self.folder), "-C", str(self.folder / "janus.jcfg")]
        with (self.folder / "janus.log").open("a") as log:
            self.process = process = subprocess.Popen(command, stdout=log, stderr=log)
        deadline = time.monotonic() + 20
        while True:
            try:
                Janus(self.conf).info()
                return
            except JanusError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise RuntimeError((self.folder / "janus.log").read_text()[-2000:]) from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                # Janus takes about 5 s to wind down its sessions; a test's has nothing to keep.
                self.process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def janus_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JanusProcess]:
    process = JanusProcess(tmp_path_factory.mktemp("janus"))
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def janus(janus_process: JanusProcess) -> "JanusSettings":
    """The stage's media server this worker's tests and live server use (JanusProcess)."""
    return janus_process.conf


def janus_env(conf: "JanusSettings") -> dict[str, str]:
    """The settings that point a site process at `conf`'s Janus."""
    return {
        "JANUS_HTTP_PORT": str(conf.http_port),
        "JANUS_API_SECRET": conf.api_secret,
        "JANUS_ROOM_ADMIN_KEY": conf.room_admin_key,
        "JANUS_TOKEN_SECRET": conf.token_secret,
        "JANUS_RTP_PORTS": f"{conf.rtp_ports[0]}-{conf.rtp_ports[1]}",
    }


@pytest.fixture(scope="session")
def _asgi_server_process(
    django_db_setup: None,
    django_db_blocker: Any,
    collected_static: Path,
    smtp_server: SmtpSink,
    janus: "JanusSettings",
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    with production_server(
        name=LIVE_SERVER,
        collected_static=collected_static,
        tmp_path_factory=tmp_path_factory,
        django_db_blocker=django_db_blocker,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_server.port}",
        **janus_env(janus),
    ) as port:
        yield f"http://127.0.0.1:{port}"


LIVE_SERVER = "live-server"


def server_secret_key(name: str) -> str:
    """The SECRET_KEY of `production_server(name=...)`: what reads its sessions in the tests'
    own process (as a worker shares the web's key in production) takes it for a while."""
    return f"{name}-" + "x" * 50


def signed_in_cookies(base_url: str, email: str, password: str) -> dict[str, str]:
    """Sign in through the server's own allauth form over HTTP (its SECRET_KEY signs the
    session) and return the cookies it set; empty of `sessionid` when the login failed."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base_url}/accounts/login/", timeout=10) as response:
        form = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token, "the login page has no CSRF token"
    fields = {"csrfmiddlewaretoken": token[1], "login": email, "password": password}
    request = urllib.request.Request(
        f"{base_url}/accounts/login/", data=urllib.parse.urlencode(fields).encode()
    )
    opener.open(request, timeout=10).close()
    return {cookie.name: cookie.value for cookie in jar if cookie.value}


@pytest.fixture
def asgi_server(transactional_db: None, _asgi_server_process: str) -> Iterator[str]:
    """The site served the way production serves it (uvicorn, DEBUG off) on a free port.

    One server runs for the whole session, on the test database. Data a test writes must be
    committed to be visible to it, hence `transactional_db`.
    """
    yield _asgi_server_process
    _let_the_server_settle()


def _let_the_server_settle() -> None:
    """Wait until the server has handled the test's closed sockets (presence rows deleted, no
    query of its own still running), so that none of its writes lands after the flush of the
    test database that follows, or waits on the flush's row locks while the flush waits on its
    own. The batched presence updates still due only read, and find nothing: no wait for them."""
    from django.db import connection

    from rooms.models import Presence

    deadline = time.monotonic() + 10
    while Presence.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    quiet = 0
    with connection.cursor() as cursor:
        while quiet < 2 and time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state <> 'idle'"
            )
            (busy,) = cursor.fetchone()
            quiet = 0 if busy else quiet + 1
            time.sleep(0.05)


async def a_fresh_budget_window(room_needed: float = 6.0) -> None:
    """Socket budgets are fixed windows (rooms/sockets/limits.py, documented): a test that
    spends one to its end waits, if need be, for a window with `room_needed` seconds left,
    so that no window boundary refills the budget half-way through."""
    import asyncio

    from rooms.sockets.limits import WINDOW_SECONDS

    left = WINDOW_SECONDS - time.time() % WINDOW_SECONDS
    if left < room_needed:
        await asyncio.sleep(left + 0.05)


@pytest.fixture(scope="session")
def _push_service_process() -> Iterator["PushService"]:
    from tests.push_service import PushService

    service = PushService()
    yield service
    service.close()


@pytest.fixture
def push_service(_push_service_process: "PushService") -> Iterator["PushService"]:
    """The tests' push service (tests/push_service.py), emptied for each test."""
    _push_service_process.reset()
    yield _push_service_process
    assert not _push_service_process.rejected, _push_service_process.rejected

"""The deployment files agree with each other and with the settings they feed.

Nothing here builds or starts a container: the tests read Dockerfile, .dockerignore and
docker-compose.yml, so that a renamed setting, a forgotten variable or a service that stopped
waiting for the database shows up in the ordinary test run.
"""

import json
import re
import shlex
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from stage.janus import LIBRARY_DIR

ROOT = Path(__file__).resolve().parent.parent

# Every process of the site; they run the same image with the same environment.
APP_SERVICES = ("web", "worker", "beat", "migrate")
# The long-running ones, which must wait for the migrations.
SERVING_SERVICES = ("web", "worker", "beat")
SHARED_VARIABLES = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "EMAIL_URL")

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def _interpolate(value: str) -> str:
    """What Compose would pass with an empty shell: defaults filled in, required values faked."""

    def replace(match: re.Match[str]) -> str:
        op = match["op"] or ""
        if op.endswith("-"):
            return match["arg"]
        if op.endswith("?"):
            return f"required-{match['name'].lower()}"
        return ""

    return _VARIABLE.sub(replace, value).replace("$$", "$")


def _environment(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {name: "" if value is None else str(value) for name, value in raw.items()}


def _command(value: str | list[str]) -> list[str]:
    return shlex.split(value) if isinstance(value, str) else [str(part) for part in value]


def _healthcheck_test(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(test)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    # safe_load resolves the `<<: *app` merge keys, as Compose does.
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def app_environment(services: dict[str, dict[str, Any]]) -> dict[str, str]:
    return _environment(services["web"])


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments) pairs, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            instructions.append((keyword.upper(), " ".join(arguments.split())))
    return instructions


def _instructions(dockerfile: list[tuple[str, str]], keyword: str) -> list[str]:
    return [arguments for name, arguments in dockerfile if name == keyword]


def test_compose_defines_every_service_the_site_needs(services: dict[str, Any]) -> None:
    expected = {
        "migrate",
        "web",
        "worker",
        "beat",
        "postgres",
        "redis",
        "mailpit",
        "coturn",
        "janus-config",
        "janus",
    }
    assert expected <= set(services)


def test_web_serves_the_asgi_application_with_uvicorn(services: dict[str, Any]) -> None:
    command = _command(services["web"]["command"])

    assert command[:2] == ["uvicorn", "coworking.asgi:application"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert command[command.index("--port") + 1] == "8000"
    assert "--proxy-headers" in command
    # Measured in bench/bench_rooms.py: the sans-I/O websockets implementation on uvloop
    # holds a 1,000-member room where daphne did not; ours keeps less per socket.
    assert command[command.index("--ws") + 1] == "coworking.wsprotocol:WebSocketProtocol"
    assert command[command.index("--lifespan") + 1] == "off"  # Django has no lifespan


def test_no_server_believes_forwarding_headers_from_anyone(
    services: dict[str, Any], dockerfile: list[tuple[str, str]]
) -> None:
    """With "*", a client names its own address in X-Forwarded-For and escapes the per-address
    login limits: only the proxy's addresses are trusted (tests/test_proxies.py)."""
    (cmd,) = _instructions(dockerfile, "CMD")
    for command in (json.loads(cmd), _command(services["web"]["command"])):
        assert "--forwarded-allow-ips" not in command
    (image_default,) = [
        value.removeprefix("FORWARDED_ALLOW_IPS=")
        for value in _instructions(dockerfile, "ENV")
        if value.startswith("FORWARDED_ALLOW_IPS=")
    ]
    trusted = _interpolate(_environment(services["web"])["FORWARDED_ALLOW_IPS"])
    assert "*" not in image_default and "*" not in trusted


def test_the_proxies_compose_trusts_are_its_own_network(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    """The host's proxy reaches the published port through the network's gateway."""
    (subnet,) = [item["subnet"] for item in compose["networks"]["default"]["ipam"]["config"]]
    trusted = _interpolate(_environment(services["web"])["FORWARDED_ALLOW_IPS"]).split(",")
    assert all(IPv4Network(item.strip()).subnet_of(IPv4Network(subnet)) for item in trusted)


def test_web_bounds_socket_frames_and_drops_silent_sockets(services: dict[str, Any]) -> None:
    command = _command(services["web"]["command"])

    def flag(name: str) -> int:
        return int(command[command.index(name) + 1])

    # The consumer answers frames over 32 KiB with an error; beyond 64 KiB the server closes.
    assert flag("--ws-max-size") == 64 * 1024
    # A socket that stops answering pings is closed within 35 s, so its member leaves the
    # room's presence within a minute (docs/websocket-protocol.md, "Presence").
    assert flag("--ws-ping-interval") + flag("--ws-ping-timeout") <= 35


def test_web_runs_the_same_command_as_the_image_default(
    services: dict[str, Any], dockerfile: list[tuple[str, str]]
) -> None:
    (cmd,) = _instructions(dockerfile, "CMD")
    assert _command(services["web"]["command"]) == json.loads(cmd)


def test_worker_runs_celery_worker_for_the_coworking_app(services: dict[str, Any]) -> None:
    assert _command(services["worker"]["command"])[:4] == ["celery", "-A", "coworking", "worker"]


def test_beat_runs_celery_beat_as_a_single_replica(services: dict[str, Any]) -> None:
    beat = services["beat"]
    assert _command(beat["command"])[:4] == ["celery", "-A", "coworking", "beat"]
    assert beat["deploy"]["replicas"] == 1


def test_migrations_run_once_in_their_own_one_shot_service(services: dict[str, Any]) -> None:
    migrate = services["migrate"]
    assert _command(migrate["command"]) == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"
    for name in SERVING_SERVICES:
        assert "migrate" not in _command(services[name]["command"])


def test_web_worker_and_beat_share_one_environment(services: dict[str, Any]) -> None:
    environments = {name: _environment(services[name]) for name in APP_SERVICES}
    for variable in SHARED_VARIABLES:
        assert environments["web"][variable], variable
    assert all(environment == environments["web"] for environment in environments.values())


def test_every_setting_the_site_reads_can_be_given_to_its_processes(
    services: dict[str, Any],
) -> None:
    """A variable settings.py reads (VAPID_PRIVATE_KEY for push, a social login's secret)
    reaches web, worker and beat from .env as well as from the shared block, which wins."""
    settings_text = (ROOT / "coworking" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', settings_text))
    assert {"VAPID_PRIVATE_KEY", "DB_POOL_MAX_SIZE", "GITHUB_CLIENT_ID"} <= read
    for name in APP_SERVICES:
        passed = set(_environment(services[name]))
        from_dot_env = {"path": ".env", "required": False} in services[name].get("env_file", [])
        assert from_dot_env or sorted(read - passed) == [], name


def test_every_container_s_log_is_rotated(services: dict[str, Any]) -> None:
    for name, service in services.items():
        logging = service.get("logging", {})
        assert logging.get("driver") == "json-file", name
        assert {"max-size", "max-file"} <= set(logging.get("options", {})), name


def test_every_app_process_runs_the_same_image(services: dict[str, Any]) -> None:
    images = {(services[name]["image"], services[name]["build"]) for name in APP_SERVICES}
    assert len(images) == 1


def test_app_environment_turns_debug_off_and_requires_a_secret_key(
    app_environment: dict[str, str],
) -> None:
    assert app_environment["DEBUG"] == "0"
    # `:?` makes Compose refuse to start without one, rather than fall back to anything.
    assert app_environment["SECRET_KEY"].startswith("${SECRET_KEY:?")


def test_database_url_points_at_the_postgres_service(
    services: dict[str, Any], app_environment: dict[str, str]
) -> None:
    url = urlsplit(_interpolate(app_environment["DATABASE_URL"]))
    postgres = _environment(services["postgres"])
    assert url.scheme in {"postgres", "postgresql"}
    assert url.hostname == "postgres"
    assert url.port == 5432
    assert url.username == postgres["POSTGRES_USER"]
    assert url.path == f"/{postgres['POSTGRES_DB']}"
    # Both sides read the one POSTGRES_PASSWORD variable.
    assert url.password == _interpolate(postgres["POSTGRES_PASSWORD"])


def test_redis_url_points_at_the_redis_service(app_environment: dict[str, str]) -> None:
    url = urlsplit(_interpolate(app_environment["REDIS_URL"]))
    assert url.scheme == "redis"
    assert url.hostname == "redis"
    assert url.port == 6379


def test_mail_goes_to_mailpit_unless_configured_otherwise(
    services: dict[str, Any], app_environment: dict[str, str]
) -> None:
    url = urlsplit(_interpolate(app_environment["EMAIL_URL"]))
    assert (url.scheme, url.hostname, url.port) == ("smtp", "mailpit", 1025)
    assert services["mailpit"]["image"].startswith("axllent/mailpit")


def test_postgres_and_redis_have_healthchecks(services: dict[str, Any]) -> None:
    assert "pg_isready" in _healthcheck_test(services["postgres"])
    assert "redis-cli ping" in _healthcheck_test(services["redis"])


def test_app_services_wait_for_healthy_postgres_and_redis(services: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["postgres"]["condition"] == "service_healthy", name
        assert depends_on["redis"]["condition"] == "service_healthy", name


def test_web_worker_and_beat_start_after_migrations_succeed(services: dict[str, Any]) -> None:
    for name in SERVING_SERVICES:
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name


def test_only_web_inherits_the_image_healthcheck(services: dict[str, Any]) -> None:
    assert "healthcheck" not in services["web"]
    assert "healthz" not in _healthcheck_test(services["worker"])
    assert services["beat"]["healthcheck"] == {"disable": True}
    assert services["migrate"]["healthcheck"] == {"disable": True}


def test_web_and_worker_share_the_media_volume(
    compose: dict[str, Any], services: dict[str, Any], app_environment: dict[str, str]
) -> None:
    media_mount = f"media:{app_environment['MEDIA_ROOT']}"
    assert "media" in compose["volumes"]
    assert media_mount in services["web"]["volumes"]
    assert media_mount in services["worker"]["volumes"]


def test_postgres_and_redis_keep_their_data_in_named_volumes(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "redis-data:/data" in services["redis"]["volumes"]
    assert {"postgres-data", "redis-data"} <= set(compose["volumes"])


def test_every_variable_the_compose_file_sets_is_read_by_settings(
    app_environment: dict[str, str],
) -> None:
    settings_source = (ROOT / "coworking" / "settings.py").read_text()
    # uvicorn's number of worker processes, and the proxies whose forwarding headers it
    # believes; glibc's number of allocator arenas
    read_by_the_server = {"WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "MALLOC_ARENA_MAX"}
    unread = [
        name
        for name in app_environment
        if name not in read_by_the_server
        and not re.search(
            rf"""(?:env(?:\.\w+)?|os\.environ\.get|os\.getenv)\(\s*["']{name}["']""",
            settings_source,
        )
    ]
    assert unread == []


def test_image_is_built_on_python_3_12(dockerfile: list[tuple[str, str]]) -> None:
    bases = _instructions(dockerfile, "FROM")
    assert bases
    assert all(re.match(r"python:3\.12[-\w.]*(\s|$)", base) for base in bases), bases
    assert (ROOT / ".python-version").read_text().strip() == "3.12"


def test_image_installs_the_locked_dependencies_with_uv(
    dockerfile: list[tuple[str, str]],
) -> None:
    runs = _instructions(dockerfile, "RUN")
    assert any("uv sync --frozen" in run and "--no-dev" in run for run in runs)


def test_image_collects_static_files_at_build(dockerfile: list[tuple[str, str]]) -> None:
    runs = _instructions(dockerfile, "RUN")
    assert any("manage.py collectstatic --noinput" in run and "DEBUG=0" in run for run in runs)


def test_image_runs_as_a_non_root_user(dockerfile: list[tuple[str, str]]) -> None:
    users = _instructions(dockerfile, "USER")
    assert users
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_image_starts_uvicorn_by_default(dockerfile: list[tuple[str, str]]) -> None:
    (cmd,) = _instructions(dockerfile, "CMD")
    command = json.loads(cmd)
    assert command[0] == "uvicorn"
    assert "coworking.asgi:application" in command


def test_the_image_runs_with_debug_off_unless_told_otherwise(
    dockerfile: list[tuple[str, str]],
) -> None:
    runtime = dockerfile[dockerfile.index(("FROM", "python:3.12-slim AS runtime")) :]
    assert any(shlex.split(env).count("DEBUG=0") for env in _instructions(runtime, "ENV"))


def test_image_healthcheck_asks_healthz(dockerfile: list[tuple[str, str]]) -> None:
    (healthcheck,) = _instructions(dockerfile, "HEALTHCHECK")
    assert "http://127.0.0.1:8000/healthz" in healthcheck
    assert "curl" not in healthcheck


def test_build_context_leaves_out_secrets_and_local_state() -> None:
    """Whatever git leaves out of the repository (members' uploads and private files, keys,
    local databases, the development servers' state) stays out of the image too."""
    ignored = set((ROOT / ".dockerignore").read_text().split())

    def left_out(entry: str) -> bool:
        path = entry.lstrip("/")
        parts = path.rstrip("/").split("/")
        parents = {"/".join(parts[:depth]) + "/" for depth in range(1, len(parts))}
        return path in ignored or f"**/{path}" in ignored or bool(parents & ignored)

    kept_out_of_git = [
        line.strip()
        for line in (ROOT / ".gitignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert "/private-media/" in kept_out_of_git
    assert [entry for entry in kept_out_of_git if not left_out(entry)] == []


def _flags(command: list[str]) -> dict[str, str]:
    """`--name=value` and bare `--name` arguments (value "") of a command."""
    flags: dict[str, str] = {}
    for part in command:
        if part.startswith("--"):
            name, _, value = part[2:].partition("=")
            flags.setdefault(name, value)
    return flags


def test_coturn_checks_the_credentials_the_site_signs_with_the_same_secret(
    services: dict[str, Any], app_environment: dict[str, str]
) -> None:
    coturn = services["coturn"]
    command = _command(coturn["command"])
    flags = _flags(command)
    # Debian's coturn, from the media image (docker/media.Dockerfile), health-checked.
    assert command[0] == "turnserver"
    assert coturn["build"]["dockerfile"] == "docker/media.Dockerfile"
    assert _healthcheck_test(coturn) == "CMD turnutils_stunclient 127.0.0.1"
    # Time-limited credentials (the site's rooms/ice.py), not a user database.
    assert "use-auth-secret" in flags
    assert "lt-cred-mech" not in flags
    secret = flags["static-auth-secret"]
    # One variable for both sides, and neither starts without it.
    assert secret == app_environment["TURN_SECRET"]
    assert secret.startswith("${TURN_SECRET:?")
    assert _interpolate(flags["realm"])


def test_coturn_listens_for_stun_and_turn_and_relays_from_a_port_range(
    services: dict[str, Any],
) -> None:
    coturn = services["coturn"]
    flags = _flags(_command(coturn["command"]))
    assert flags["listening-port"] == "3478"
    assert flags["tls-listening-port"] == "5349"
    low, high = int(flags["min-port"]), int(flags["max-port"])
    # A mesh call of six relayed through TURN holds 30 allocations, one port each.
    assert 49152 <= low < high and high - low >= 500
    # The relay range is reachable without publishing hundreds of ports through Docker.
    assert coturn["network_mode"] == "host"
    assert "-n" in _command(coturn["command"])  # no config file: the flags are the config


def test_coturn_never_relays_into_the_host_or_private_networks(services: dict[str, Any]) -> None:
    command = _command(services["coturn"]["command"])
    denied = {part.partition("=")[2] for part in command if part.startswith("--denied-peer-ip=")}
    assert {
        "10.0.0.0-10.255.255.255",
        "127.0.0.0-127.255.255.255",
        "172.16.0.0-172.31.255.255",
        "192.168.0.0-192.168.255.255",
        "169.254.0.0-169.254.255.255",
        "::1",
    } <= denied
    assert "--allow-loopback-peers" not in command


def test_the_site_hands_out_ice_servers_from_the_environment(
    app_environment: dict[str, str],
) -> None:
    for name in ("STUN_URLS", "TURN_URLS", "TURN_SECRET", "TURN_CREDENTIAL_TTL"):
        assert name in app_environment, name
    assert int(_interpolate(app_environment["CALL_MAX_PARTICIPANTS"])) == 6


def test_janus_runs_debians_package_with_the_configuration_the_site_writes(
    services: dict[str, Any], app_environment: dict[str, str]
) -> None:
    """docs/stage.md: the janus-config service writes Janus's files from the settings into a
    volume and exits; janus (Debian's package, the media image) starts from them after it,
    health-checked on its API, with its media ports published and its API on loopback, for
    the host's proxy to send browsers' /janus to."""
    writer, janus = services["janus-config"], services["janus"]
    assert _command(writer["command"]) == ["python", "manage.py", "janus_config", "/janus-config"]
    assert _environment(writer)["JANUS_API_BIND"] == "0.0.0.0"
    assert writer["restart"] == "no" and writer["depends_on"] == []
    assert _command(janus["command"]) == [
        "janus",
        "-F",
        "/janus-config",
        "-C",
        "/janus-config/janus.jcfg",
    ]
    assert janus["depends_on"] == {"janus-config": {"condition": "service_completed_successfully"}}
    assert writer["volumes"] == ["janus-config:/janus-config"]
    assert janus["volumes"] == ["janus-config:/janus-config:ro"]
    assert janus["build"]["dockerfile"] == "docker/media.Dockerfile"
    assert _healthcheck_test(janus) == "CMD curl -fsS http://127.0.0.1:8088/janus/info"
    assert [_interpolate(port) for port in janus["ports"]] == [
        "20000-20999:20000-20999/udp",
        "127.0.0.1:8088:8088",
    ]
    # The site reaches it by name; the secrets are required, as TURN's is.
    assert app_environment["JANUS_API_HOST"] == "janus"
    for name in ("JANUS_API_SECRET", "JANUS_ROOM_ADMIN_KEY", "JANUS_TOKEN_SECRET"):
        assert app_environment[name].startswith(f"${{{name}:?")
    assert _interpolate(app_environment["JANUS_PUBLIC_URL"]) == "/janus"
    # The site does not wait for the stage's media server.
    assert "janus" not in services["web"]["depends_on"]


def test_the_media_image_installs_janus_and_coturn_from_debian() -> None:
    text = (ROOT / "docker" / "media.Dockerfile").read_text().replace("\\\n", " ")
    assert re.search(r"^FROM debian:bookworm", text, re.MULTILINE)
    assert re.search(r"apt-get install .*janus coturn", " ".join(text.split()))
    assert re.search(r"^USER media$", text, re.MULTILINE)
    # On any architecture, the plugins' folder the site's configuration names exists.
    assert re.search(rf'ln -s "\$dir" {re.escape(LIBRARY_DIR)}$', text, re.MULTILINE)

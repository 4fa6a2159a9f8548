"""HTTP pages under load: the landing page, a member's home and /healthz served by the
production command (uvicorn, DEBUG off) on PostgreSQL and Redis, one server process,
loopback clients, against a Django hello-world view in the same process and run (the
yardstick: bench/yardstick_urls.py). Also the server's memory."""

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from bench.bench_rooms import _free_port, _wait_ready
from bench.quick import sized
from bench.scratch import fresh_database
from bench.server import web_command

ROOT = Path(__file__).resolve().parent.parent
TITLE = "HTTP pages (one uvicorn process)"
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coworking_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
CLIENTS = 8
REQUESTS_PER_CLIENT = sized(150, 10)
TIME_LIMIT = 60.0
# The same member's `/` and the lobby again with this many members in the cafeteria: a page
# must not grow with the crowd it shows a glance of.
CROWD = sized(1_000, 50)
# Their presence rows stay live for the run (a real socket touches its row every 10 s).
CROWD_SCRIPT = """
from datetime import timedelta
from django.utils import timezone
from members.models import Profile, User
from rooms.models import Presence
from rooms.services import cafeteria_get
count = {count}
users = User.objects.bulk_create(
    User(email=f"crowd{{k}}@bench.example", display_name=f"Crowd {{k:04d}}") for k in range(count)
)
Profile.objects.bulk_create(Profile(user=user) for user in users)
live = timezone.now() + timedelta(hours=1)
cafeteria = cafeteria_get()
Presence.objects.bulk_create(
    Presence(room=cafeteria, user=user, channel_name=f"crowd-{{user.pk}}", heartbeat_at=live)
    for user in users
)
"""


def _env(static_root: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "STATIC_ROOT": static_root,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "bench.yardstick_settings",
    }


def _create_database() -> None:
    """A new scratch database each run, migrated, so every run measures the same thing."""
    fresh_database(DATABASE_URL)


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _member_cookie(base: str) -> str:
    """The demo member's session, logged in through the login form like a browser."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/accounts/login/", timeout=10).read()
    token = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token,
            "login": "member@demo.example",
            "password": "member-demo-2026",
        }
    ).encode()
    request = urllib.request.Request(
        f"{base}/accounts/login/", data=form, headers={"Referer": f"{base}/accounts/login/"}
    )
    opener.open(request, timeout=10).read()
    session = next(cookie.value for cookie in jar if cookie.name == "sessionid")
    return f"sessionid={session}"


def _crowd(env: dict[str, str]) -> None:
    """`CROWD` members in the cafeteria, through the site's own models."""
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", CROWD_SCRIPT.format(count=CROWD)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def _load(url: str, cookie: str = "") -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + TIME_LIMIT

    def client() -> None:
        nonlocal errors
        for _ in range(REQUESTS_PER_CLIENT):
            if time.monotonic() > deadline:
                return
            started = time.perf_counter()
            request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    response.read()
                    ok = response.status == 200 and response.url == url
            except OSError:
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors += 0 if ok else 1

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, time.perf_counter() - started


def run() -> str:
    _create_database()
    log_path = ROOT / "bench" / "results" / "http-server.log"
    log_path.parent.mkdir(exist_ok=True)
    # Chosen just before use: quick mode starts other benchmarks' servers meanwhile.
    port = _free_port()
    with tempfile.TemporaryDirectory() as static_root, log_path.open("w") as log:
        env = _env(static_root, port)
        for command in (
            ["collectstatic", "--noinput", "-v0"],
            ["seed_demo"],
        ):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
        server = subprocess.Popen(
            web_command(port),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(f"{base}/healthz", server.pid, log_path)
            member = _member_cookie(base)
            rows = []
            rates: dict[str, float] = {}
            quiet = [
                ("`/__hello__/` (yardstick)", "/__hello__/", ""),
                # The same view with the member's cookie: what any page of theirs costs
                # before its own work (the session and the member, read by the middleware).
                ("`/__hello__/`, a member", "/__hello__/", member),
                ("`/`, a visitor", "/", ""),
                ("`/`, a member", "/", member),
                ("`/healthz`", "/healthz", ""),
            ]
            crowded = [
                (f"`/`, a member, {CROWD:,} in the cafeteria", "/", member),
                (f"`/rooms/`, a member, {CROWD:,} in the cafeteria", "/rooms/", member),
            ]
            for crowd, pages in ((False, quiet), (True, crowded)):
                if crowd:
                    _crowd(env)
                for label, path, cookie in pages:
                    latencies, errors, wall = _load(f"{base}{path}", cookie)
                    latencies.sort()
                    p95 = latencies[int(len(latencies) * 0.95) - 1]
                    rates[label] = len(latencies) / wall
                    rows.append(
                        f"| {label} | {len(latencies)} | {rates[label]:.0f} | "
                        f"{statistics.median(latencies) * 1000:.1f} | {p95 * 1000:.1f} | "
                        f"{errors} |"
                    )
            hello = rates["`/__hello__/` (yardstick)"]
            ratio = rates["`/`, a member"] / hello
            member_ratio = rates["`/`, a member"] / rates["`/__hello__/`, a member"]
            rss = _rss_mib(server.pid)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
    return "\n".join(
        [
            f"{CLIENTS} concurrent loopback clients, {REQUESTS_PER_CLIENT} requests each. The "
            f"last two rows: the demo plus {CROWD:,} members in the cafeteria (live presence "
            "rows), which the home page and the lobby show at a glance.\n",
            "| page | requests | req/s | median ms | p95 ms | errors |",
            "|---|---|---|---|---|---|",
            *rows,
            f"\nA member's `/` at **{ratio:.0%} of the hello-world view** (goal: at least 40%); "
            f"{member_ratio:.0%} of the same view for the member. "
            f"Server memory after the run (RSS): {rss:.0f} MiB.",
        ]
    )

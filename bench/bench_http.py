"""HTTP pages under load: the landing page and /healthz served by the production command
(uvicorn, DEBUG off) on PostgreSQL and Redis, one server process, loopback clients. Also the
server's memory."""

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from bench.server import web_command

ROOT = Path(__file__).resolve().parent.parent
TITLE = "HTTP pages (one uvicorn process)"
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coworking_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
CLIENTS = 8
REQUESTS_PER_CLIENT = 150
TIME_LIMIT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PORT = _free_port()


def _env(static_root: str) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{PORT}",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "STATIC_ROOT": static_root,
        "LOG_LEVEL": "WARNING",
    }


def _create_database() -> None:
    """A new scratch database each run, so every run measures the same thing."""
    name = DATABASE_URL.rsplit("/", 1)[1]
    for sql in (f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _load(url: str) -> tuple[list[float], int, float]:
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
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    response.read()
                    ok = response.status == 200
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
    with tempfile.TemporaryDirectory() as static_root, log_path.open("w") as log:
        env = _env(static_root)
        for command in (
            ["migrate", "--noinput", "-v0"],
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
            web_command(PORT),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            for _ in range(100):
                if server.poll() is not None:
                    raise RuntimeError(f"the server exited; see {log_path}")
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            rows = []
            for path in ("/", "/healthz"):
                latencies, errors, wall = _load(f"http://127.0.0.1:{PORT}{path}")
                latencies.sort()
                p95 = latencies[int(len(latencies) * 0.95) - 1]
                rows.append(
                    f"| `{path}` | {len(latencies)} | {len(latencies) / wall:.0f} | "
                    f"{statistics.median(latencies) * 1000:.1f} | {p95 * 1000:.1f} | {errors} |"
                )
            rss = _rss_mib(server.pid)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
    return "\n".join(
        [
            f"{CLIENTS} concurrent loopback clients, {REQUESTS_PER_CLIENT} requests each.\n",
            "| page | requests | req/s | median ms | p95 ms | errors |",
            "|---|---|---|---|---|---|",
            *rows,
            f"\nServer memory after the run (RSS): {rss:.0f} MiB.",
        ]
    )

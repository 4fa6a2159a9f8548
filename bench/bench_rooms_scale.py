"""The cafeteria with 5,000 members: the load of bench_rooms (chat at a steady rate, every
message timed to every other member) over one web process, then over two (uvicorn's
workers, as `WEB_CONCURRENCY` starts them in docker-compose), on the Redis pub/sub layer.
The second run against the first is the scaling factor of docs/scaling.md.

Everything but the count, the rate and the processes is bench_rooms': the same members and
sessions, the same clients (forked, after this module sets bench_rooms' figures), the same
tally. On this 2-core machine the clients share the cores with the servers: what the
clients use is in the report, next to the servers' CPU.
"""

import os
import tempfile
from dataclasses import dataclass

from bench import bench_rooms
from bench.bench_rooms import (
    Figures,
    _create_database,
    _free_port,
    _ms,
    _raise_open_files_limit,
    _redis,
    _server,
    _wait_ready,
    prepare,
)
from bench.quick import sized
from bench.server import logged_errors, run_within, web_command

TITLE = "Room sockets: 5,000 members over one and two web processes"
DATABASE_URL = os.environ.get(
    "BENCH_ROOMS_SCALE_DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/coworking_bench_rooms_scale",
)
MEMBERS = int(os.environ.get("BENCH_ROOMS_SCALE_MEMBERS", sized("5000", "40")))
RATE = float(os.environ.get("BENCH_ROOMS_SCALE_RATE", "10"))
PROCESSES = (1, 2)
RAMP_LIMIT = 240.0
TIME_LIMIT = 1200
TARGET_P95_MS = 250.0


@dataclass
class Run:
    processes: int
    figures: Figures


def run() -> str:
    _raise_open_files_limit()
    return run_within(TIME_LIMIT, "rooms_scale", _run)


def _run() -> str:
    # bench_rooms' clients read these module figures; they are forked after this.
    bench_rooms.MEMBERS = MEMBERS
    bench_rooms.RATE = RATE
    bench_rooms.RAMP_LIMIT = RAMP_LIMIT
    bench_rooms.DATABASE_URL = DATABASE_URL
    logs = bench_rooms.ROOT / "bench" / "results"
    logs.mkdir(exist_ok=True)
    _create_database(DATABASE_URL)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as static_root, _redis() as redis_url:
        for processes in PROCESSES:
            port = _free_port()
            env = bench_rooms._env(port, static_root, redis_url)
            env["DATABASE_URL"] = DATABASE_URL
            env["WEB_CONCURRENCY"] = str(processes)
            if not runs:
                setup = prepare(env, setup_module="bench.bench_rooms", count=MEMBERS, static=True)
                cookies = [f"{setup['cookie']}={key}" for key in setup["sessions"]]
            log = logs / f"rooms-scale-{processes}.log"
            with _server(web_command(port), env, log) as pid:
                _wait_ready(f"http://127.0.0.1:{port}/healthz", pid, log)
                figures = bench_rooms._measure(
                    f"ws://127.0.0.1:{port}/ws/rooms/{setup['room']}/",
                    f"http://127.0.0.1:{port}",
                    cookies,
                    pid,
                    f"scale-{processes}",
                )
            figures.logged = logged_errors(log)
            runs.append(Run(processes, figures))
    return _report(runs)


def _report(runs: list[Run]) -> str:
    steady = bench_rooms.STEADY_SECONDS
    lines = [
        f"{MEMBERS:,} members, each on one socket to the cafeteria, {RATE:.0f} chat messages/s "
        f'for {steady:.0f} s from {bench_rooms.SENDERS} senders; otherwise as in "Room '
        'sockets (1,000 members in the cafeteria)" (the same clients, ramp, pings and '
        "tally). One uvicorn process, then two (`WEB_CONCURRENCY=2`, the kernel spreading "
        "the connections between them), on the Redis pub/sub layer.\n",
        "| web processes | connected | ramp s | p50 ms | p95 ms | p99 ms | max ms | ack p95 ms "
        "| delivered | missing | duplicates | servers' CPU (steady, cores) | clients' CPU "
        "(cores) | RSS MiB idle | KiB per idle socket |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        f = r.figures
        lines.append(
            f"| {r.processes} | {f.connected:,} | {f.ramp_seconds:.1f} | "
            f"{_ms(f.quantile(0.5))} | {_ms(f.quantile(0.95))} | {_ms(f.quantile(0.99))} | "
            f"{_ms(f.quantile(1.0))} | {_ms(f.ack_p95)} | {f.received:,} / {f.expected:,} | "
            f"{f.expected - f.received:,} | {f.duplicates} | {f.server_cpu / steady:.2f} | "
            f"{sum(f.client_cpu) / steady:.2f} | {f.rss_idle:.0f} | {f.kib_per_socket:.1f} |"
        )
    one, two = runs[0].figures, runs[-1].figures
    met = (
        two.connected == MEMBERS
        and two.quantile(0.95) * 1000 <= TARGET_P95_MS
        and two.received >= two.expected
        and two.duplicates == 0
    )
    lines += [
        "",
        f'Issue "Performance", row 2 (two processes: p95 at most {TARGET_P95_MS:.0f} ms, none '
        f"lost, none duplicated): **{'met' if met else 'not met'}**. Scaling factor, one "
        f"process's p95 over two's: ×{one.quantile(0.95) / two.quantile(0.95):.2f}; "
        "delivered per second of the servers' CPU: one process "
        f"{one.received / max(one.server_cpu, 1e-9):,.0f}, two "
        f"{two.received / max(two.server_cpu, 1e-9):,.0f}.",
    ]
    for r in runs:
        f = r.figures
        lines.append(
            f"- {r.processes} process(es): sent {f.sent}, acked {f.acked}; failed handshake "
            f"attempts: {bench_rooms._counts(f.failures)}; disconnects: "
            f"{bench_rooms._counts(f.disconnects)}; errors in the servers' log: "
            f"{bench_rooms._counts(f.logged)}; the machine was busy "
            f"{f.machine_cpu / steady:.2f} of its 2 cores while steady."
        )
    return "\n".join(lines)

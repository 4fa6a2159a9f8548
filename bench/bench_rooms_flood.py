"""One member flooding a 100-member room: does it slow the others down?

100 members on one socket each in the cafeteria of our server (uvicorn as docker-compose
starts it, as in bench_rooms). 99 of them chat at a steady pace, and every message is timed
from send to arrival at each other member of the 99. Two phases on the same server and
sockets: *quiet*, then *flood*, where member 0 opens as many sockets as it may and sends, on
each, every kind of frame as fast as the socket takes them: history pages, status changes,
chat, invalid JSON and unknown types. The difference of the others' p99 between the phases
is what the flood costs them.

The flooder runs in its own process, so that its own CPU does not slow the clients that
measure; it shares the machine's 2 cores with the server, as a second tab would not.
"""

import asyncio
import json
import multiprocessing
import os
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from bench.bench_rooms import (
    ROOT,
    _cpu_seconds,
    _create_database,
    _env,
    _free_port,
    _machine_cpu_seconds,
    _percentile,
    _raise_open_files_limit,
    _redis,
    _sampled,
    _server,
    _wait_ready,
    prepare,
)
from bench.quick import sized
from bench.server import run_within, web_command

TITLE = "Room sockets: one member flooding a 100-member room"
# A database of its own: quick mode runs it beside the other room benchmarks.
DATABASE_URL = os.environ.get(
    "BENCH_ROOMS_FLOOD_DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/coworking_bench_rooms_flood",
)
MEMBERS = 100
# 25 senders, one message every 5 s each: 5 messages/s into the room, each sender at a fifth
# of its member's chat budget (10 per 10 s).
SENDERS = 25
RATE = 5.0
PHASE_SECONDS = sized(30.0, 3.0)
GAP_SECONDS = sized(
    5.0, 1.0
)  # between the phases: the quiet phase's messages arrive, the flooder connects
DRAIN_SECONDS = sized(5.0, 1.0)
SETTLE_SECONDS = sized(5.0, 1.0)
FLOOD_SOCKETS = 20  # rooms.sockets.limits.MAX_SOCKETS: one more is tried, and must be refused
TARGET_MS = 50.0  # the flood may raise the others' p99 by at most this
SLOW_SECONDS = 0.06  # a delivery this late is counted by the second it was sent in
TIME_LIMIT = 240
PARSE_LIMIT = 16 * 1024


def _flood_frames() -> list[str]:
    """One round of everything a flooder sends, encoded (a new `client_id` per chat frame is
    added when sent)."""
    return [
        json.dumps({"type": "history.before", "before_id": 1_000_000_000}),
        json.dumps({"type": "history.since", "after_id": 0}),
        json.dumps({"type": "presence.status", "status": "dnd"}),
        "",  # chat.send, made when sent
        '{"type": "chat.send", "text": ',  # invalid JSON
        json.dumps({"type": "no.such.type"}),
        json.dumps({"type": "presence.status", "status": "working"}),
    ]


async def _open(url: str, origin: str, cookie: str) -> ClientConnection:
    ws = await connect(
        url,
        origin=Origin(origin),
        additional_headers={"Cookie": cookie},
        compression=None,
        proxy=None,
        ping_interval=None,
        max_size=None,
        open_timeout=30,
        close_timeout=2,
    )
    first = json.loads(await asyncio.wait_for(ws.recv(), 30))
    if first.get("type") != "hello":
        raise RuntimeError(f"first frame {first.get('type')!r}")
    return ws


# The measuring members ----------------------------------------------------------------------


@dataclass
class Tally:
    connected: int = 0
    # (phase, latency) per (message, receiving member)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"quiet": [], "flood": []})
    # Where the tail is: deliveries over SLOW_SECONDS, counted by (phase, second of the phase
    # the message was sent in).
    slow: Counter[tuple[str, int]] = field(default_factory=Counter)
    sent: Counter[str] = field(default_factory=Counter)
    acked: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    disconnects: Counter[str] = field(default_factory=Counter)


async def _members(
    url: str, origin: str, cookies: list[str], inbox: "Queue[Any]", out: "Queue[Any]"
) -> Tally:
    tally = Tally()
    sockets: list[ClientConnection] = []
    for cookie in cookies:
        sockets.append(await _open(url, origin, cookie))
    tally.connected = len(sockets)
    closing = False

    async def read(ws: ClientConnection) -> None:
        try:
            async for frame in ws:
                arrived = time.monotonic()
                if len(frame) > PARSE_LIMIT:
                    continue
                data = json.loads(frame)
                kind = data.get("type")
                if kind == "chat.message":
                    words = str(data["message"]["text"]).split()
                    if len(words) == 3 and words[0] in tally.latencies:
                        latency = arrived - float(words[2])
                        tally.latencies[words[0]].append(latency)
                        if latency > SLOW_SECONDS:
                            second = int(float(words[2]) - starts[words[0]])
                            tally.slow[(words[0], second)] += 1
                elif kind == "chat.ack":
                    tally.acked += 1
                elif kind == "error":
                    tally.errors[str(data.get("code"))] += 1
        except ConnectionClosed as exc:
            if not closing:
                tally.disconnects[str(exc.rcvd.code if exc.rcvd else "abnormal")] += 1

    starts: dict[str, float] = {}
    readers = [asyncio.create_task(read(ws)) for ws in sockets]
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, out.put, tally.connected)
    t0 = await loop.run_in_executor(None, inbox.get, True, 120)
    phases = (("quiet", t0), ("flood", t0 + PHASE_SECONDS + GAP_SECONDS))
    starts.update(phases)

    async def send_all(ws: ClientConnection, sender: int) -> None:
        for phase, start in phases:
            for seq in range(sender, int(PHASE_SECONDS * RATE), SENDERS):
                await asyncio.sleep(max(0.0, start + seq / RATE - time.monotonic()))
                sent = time.monotonic()
                frame = {
                    "type": "chat.send",
                    "text": f"{phase} {seq} {sent:.6f}",
                    "client_id": str(uuid.uuid4()),
                }
                with suppress(ConnectionClosed):
                    await ws.send(json.dumps(frame))
                    tally.sent[phase] += 1

    await asyncio.gather(*(send_all(sockets[n], n) for n in range(SENDERS)))
    await asyncio.sleep(DRAIN_SECONDS)
    closing = True
    for task in readers:
        task.cancel()
    await asyncio.wait([asyncio.create_task(ws.close()) for ws in sockets], timeout=5)
    return tally


def _members_process(
    url: str, origin: str, cookies: list[str], inbox: "Queue[Any]", out: "Queue[Any]"
) -> None:
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    out.put(asyncio.run(_members(url, origin, cookies, inbox, out)))


# The flooder --------------------------------------------------------------------------------


@dataclass
class Flood:
    sockets: int = 0
    refused_sockets: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    answers: Counter[str] = field(default_factory=Counter)  # frame types and error codes
    disconnects: Counter[str] = field(default_factory=Counter)


async def _flooder(url: str, origin: str, cookie: str, start: float, out: "Queue[Any]") -> Flood:
    flood = Flood()
    sockets: list[ClientConnection] = []
    for _ in range(FLOOD_SOCKETS + 1):
        try:
            sockets.append(await _open(url, origin, cookie))
        except InvalidStatus as exc:
            flood.refused_sockets[f"HTTP {exc.response.status_code}"] += 1
        except Exception as exc:
            flood.refused_sockets[type(exc).__name__] += 1
    flood.sockets = len(sockets)
    end = start + PHASE_SECONDS
    frames = _flood_frames()
    closing = False

    async def read(ws: ClientConnection) -> None:
        try:
            async for frame in ws:
                if len(frame) > PARSE_LIMIT:
                    flood.answers["(large frame)"] += 1
                    continue
                data = json.loads(frame)
                kind = str(data.get("type"))
                flood.answers[f"error {data.get('code')}" if kind == "error" else kind] += 1
        except ConnectionClosed as exc:
            if not closing:
                flood.disconnects[str(exc.rcvd.code if exc.rcvd else "abnormal")] += 1

    async def send(ws: ClientConnection) -> None:
        await asyncio.sleep(max(0.0, start - time.monotonic()))
        n = 0
        with suppress(ConnectionClosed):
            while time.monotonic() < end:
                frame = frames[n % len(frames)] or json.dumps(
                    {"type": "chat.send", "text": f"flood {n}", "client_id": str(uuid.uuid4())}
                )
                # Returns once the frame is in the socket's buffer; the server reads one
                # frame at a time, so a full buffer makes this wait for the server.
                await ws.send(frame)
                flood.sent += 1
                n += 1
                await asyncio.sleep(0)

    readers = [asyncio.create_task(read(ws)) for ws in sockets]
    await asyncio.gather(*(send(ws) for ws in sockets))
    await asyncio.sleep(DRAIN_SECONDS)
    closing = True
    for task in readers:
        task.cancel()
    await asyncio.wait([asyncio.create_task(ws.close()) for ws in sockets], timeout=5)
    return flood


def _flooder_process(url: str, origin: str, cookie: str, start: float, out: "Queue[Any]") -> None:
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    out.put(asyncio.run(_flooder(url, origin, cookie, start, out)))


# The runner -----------------------------------------------------------------------------------


def run() -> str:
    _raise_open_files_limit()
    return run_within(TIME_LIMIT, "flood", _run)


def _run() -> str:
    logs = ROOT / "bench" / "results"
    logs.mkdir(exist_ok=True)
    _create_database(DATABASE_URL)
    port = _free_port()
    with tempfile.TemporaryDirectory() as static_root, _redis() as redis_url:
        env = {**_env(port, static_root, redis_url), "DATABASE_URL": DATABASE_URL}
        setup = prepare(env, setup_module="bench.bench_rooms", count=MEMBERS)
        cookies = [f"{setup['cookie']}={key}" for key in setup["sessions"]]
        log = logs / "rooms-flood-server.log"
        with _server(web_command(port), env, log) as pid:
            _wait_ready(f"http://127.0.0.1:{port}/healthz", pid, log)
            url = f"ws://127.0.0.1:{port}/ws/rooms/{setup['room']}/"
            return _measure(url, f"http://127.0.0.1:{port}", cookies, pid)


def _measure(url: str, origin: str, cookies: list[str], pid: int) -> str:
    ctx = multiprocessing.get_context("fork")
    out: Queue[Any] = ctx.Queue()
    flood_out: Queue[Any] = ctx.Queue()
    inbox: Queue[Any] = ctx.Queue()
    members = ctx.Process(
        target=_members_process, args=(url, origin, cookies[1:], inbox, out), daemon=True
    )
    flooder: multiprocessing.process.BaseProcess | None = None
    try:
        members.start()
        connected = out.get(timeout=120)
        t0 = time.monotonic() + SETTLE_SECONDS
        inbox.put(t0)
        cpu: dict[str, float] = {}
        machine: dict[str, float] = {}
        flood_start = t0 + PHASE_SECONDS + GAP_SECONDS
        for phase, start in (("quiet", t0), ("flood", flood_start)):
            if phase == "flood":
                flooder = ctx.Process(
                    target=_flooder_process,
                    args=(url, origin, cookies[0], flood_start, flood_out),
                    daemon=True,
                )
                flooder.start()
            time.sleep(max(0.0, start - time.monotonic()))
            with _sampled(pid, f"flood-{phase}"):
                cpu_start, machine_start = _cpu_seconds(pid), _machine_cpu_seconds()
                time.sleep(max(0.0, start + PHASE_SECONDS - time.monotonic()))
                cpu[phase] = _cpu_seconds(pid) - cpu_start
                machine[phase] = _machine_cpu_seconds() - machine_start
        tally: Tally = out.get(timeout=PHASE_SECONDS + 60)
        flood: Flood = flood_out.get(timeout=60)
    finally:
        for process in (members, flooder):
            if process is not None and process.is_alive():
                process.kill()
    return _report(connected, tally, flood, cpu, machine)


def _ms(values: list[float], fraction: float) -> float:
    return _percentile(sorted(values), fraction) * 1000


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{key} ×{n:,}" for key, n in counter.most_common()) or "none"


def _report(
    connected: int,
    tally: Tally,
    flood: Flood,
    cpu: dict[str, float],
    machine: dict[str, float],
) -> str:
    others = connected
    rows = []
    for phase in ("quiet", "flood"):
        got = tally.latencies[phase]
        expected = tally.sent[phase] * (others - 1)
        rows.append(
            f"| {phase} | {_ms(got, 0.5):.1f} | {_ms(got, 0.95):.1f} | {_ms(got, 0.99):.1f} | "
            f"{_ms(got, 1.0):.1f} | {len(got):,} / {expected:,} | "
            f"{cpu[phase] / PHASE_SECONDS:.0%} | {machine[phase] / PHASE_SECONDS:.2f} |"
        )
    rise = _ms(tally.latencies["flood"], 0.99) - _ms(tally.latencies["quiet"], 0.99)
    answered = sum(flood.answers.values())
    refused = sum(n for key, n in flood.answers.items() if key.startswith("error"))
    met = rise <= TARGET_MS
    slow = Counter({f"{phase} {second} s": n for (phase, second), n in tally.slow.items()})
    return "\n".join(
        [
            f"{MEMBERS} members in the cafeteria, one socket each, on one uvicorn process "
            "(docker-compose's web command, DEBUG off, PostgreSQL, the Redis pub/sub channel "
            f"layer). {others} of them are measured: {SENDERS} of those send "
            f"{RATE:.0f} chat messages/s into the room between them (one every "
            f"{SENDERS / RATE:.0f} s each), timed from `chat.send` leaving the sender to "
            f"`chat.message` arriving at each of the other {others - 1}. Two phases of "
            f"{PHASE_SECONDS:.0f} s on the same server and sockets: *quiet*, then *flood*, "
            f"in which member 0 opens {FLOOD_SOCKETS + 1} sockets (one more than allowed) "
            "and sends on each, round and round, `history.before`, `history.since`, "
            "`presence.status`, `chat.send`, invalid JSON and an unknown type, as fast as "
            "the socket takes them. The flooder runs in a process of its own on the same 2 "
            "cores.\n",
            "| phase | p50 ms | p95 ms | p99 ms | max ms | delivered | server CPU | "
            "machine busy (of 2 cores) |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"The flood raised the others' p99 by **{rise:.0f} ms** (target: at most "
            f"{TARGET_MS:.0f} ms): **{'met' if met else 'missed'}**.",
            "",
            f"- Flooder: {flood.sockets} sockets open (refused: "
            f"{_counts(flood.refused_sockets)}); wrote {flood.sent:,} frames into its sockets "
            f"({flood.sent / PHASE_SECONDS:,.0f}/s; most wait in TCP buffers, as the server "
            f"reads a socket's next frame only once it took the last); was answered "
            f"{answered:,} frames, {refused:,} of them refusals: {_counts(flood.answers)}; "
            "disconnects: "
            f"{_counts(flood.disconnects)}.",
            f"- Deliveries over {SLOW_SECONDS * 1000:.0f} ms, by phase and second of the "
            f"phase the message was sent in: {_counts(slow)}.",
            f"- Others: sent {dict(tally.sent)}, acked {tally.acked}; error "
            f"frames: {_counts(tally.errors)}; disconnects: {_counts(tally.disconnects)}.",
        ]
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(run())

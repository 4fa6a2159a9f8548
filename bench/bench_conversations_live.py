"""Private messages delivered live: 1,000 members, each holding one member socket (`/ws/me/`,
conversations.consumers), paired into 500 direct conversations. For a steady phase they send
`message.send` frames at a fixed total rate, each from a member of a shuffled round-robin to
their partner; each is timed from leaving the sender to its `message.new` arriving at the
partner's socket, matched by `client_id`. Our server runs as in bench_rooms: uvicorn as
docker-compose starts it, DEBUG off, PostgreSQL, the Redis pub/sub channel layer.

`run()` recreates a scratch database of its own, migrates it, makes the members, their
sessions and their conversations (`python -m bench.bench_conversations_live --setup`, so
that Django is set up against the scratch database), then measures. The clients run in
forked processes, each an asyncio loop holding its share of the sockets; the partners of a
pair sit in different processes, so every delivery crosses from one to the other. Latencies
are differences of `time.monotonic()`, system-wide on Linux. Each process returns what it
sent and what arrived, by `client_id`, and the runner matches them: a message is lost when
its partner has not heard of it by the end of the grace period. Bounded by `TIME_LIMIT`.
"""

import asyncio
import json
import math
import multiprocessing
import os
import random
import signal
import subprocess
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
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from bench.bench_rooms import (
    ROOT,
    _cpu_seconds,
    _env,
    _free_port,
    _machine_cpu_seconds,
    _percentile,
    _raise_open_files_limit,
    _redis,
    _rss_mib,
    _sampled,
    _server,
    _tree_sum,
    _wait_ready,
    open_all,
    prepare,
    setup_members,
)
from bench.quick import sized
from bench.scratch import fresh_database
from bench.server import run_within, web_command

DATABASE_URL = os.environ.get(
    "BENCH_CONVERSATIONS_LIVE_DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/coworking_bench_conversations_live",
)
MEMBERS = int(
    os.environ.get("BENCH_CONVERSATIONS_LIVE_MEMBERS", sized("1000", "40"))
)  # an even number
CONVERSATIONS = MEMBERS // 2
CLIENT_PROCESSES = 2  # the two members of a pair are always in different processes
# uvicorn worker processes (WEB_CONCURRENCY, as docker-compose passes it): one process is
# not enough for the goal on this machine (docs/benchmarks.md); two, one per core, are.
WEB_PROCESSES = int(os.environ.get("BENCH_CONVERSATIONS_LIVE_WEB_PROCESSES", "2"))
HANDSHAKES_IN_FLIGHT = 50  # over all client processes
# 100 messages/s from a shuffled round-robin of all members: each member sends one every
# MEMBERS / RATE = 10 s, a twentieth of the "messages" budget (20 per 10 s per member,
# rooms.sockets.limits), so no refusal comes from the budgets.
RATE = sized(100.0, 10.0)
STEADY_SECONDS = sized(30.0, 3.0)
# After the last send: a message not at its partner by then counts as lost.
GRACE_SECONDS = sized(10.0, 2.0)
SETTLE_SECONDS = sized(5.0, 1.0)  # between the ramp and the steady phase
PING_INTERVAL = 20.0  # the page's `ping` frames
RAMP_LIMIT = 90.0
TIME_LIMIT = 360  # the whole benchmark, setup included
TARGET_P95_MS = 150.0
SEED = 2026
TITLE = (
    f"Private messages live ({MEMBERS:,} members, {CONVERSATIONS:,} conversations, "
    f"{RATE:.0f} msg/s)"
)


def _database_create() -> None:
    """A new scratch database each run, migrated, so every run measures the same thing."""
    fresh_database(DATABASE_URL)


def _psql(sql: str, *, database: str) -> str:
    done = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qAtc", sql],
        env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def setup_conversations(count: int) -> dict[str, Any]:
    """`count` members with a session each (bench_rooms.setup_members), the members paired in
    pk order into direct conversations, as `direct_conversation_start` would make them.
    Runs in its own process (`--setup`)."""
    made = setup_members(count)
    from conversations.models import Conversation, Participant
    from members.models import User

    user_ids = list(
        User.objects.filter(email__startswith="bench-").order_by("pk").values_list("pk", flat=True)
    )
    pairs = [(user_ids[n], user_ids[n + 1]) for n in range(0, len(user_ids) - 1, 2)]
    conversations = Conversation.objects.bulk_create(
        Conversation(kind=Conversation.Kind.DIRECT, direct_key=f"{low}:{high}", created_by_id=low)
        for low, high in pairs
    )
    Participant.objects.bulk_create(
        Participant(conversation=conversation, user_id=user_id)
        for conversation, pair in zip(conversations, pairs, strict=True)
        for user_id in pair
    )
    return {
        "cookie": made["cookie"],
        "sessions": made["sessions"],
        "users": user_ids,
        "conversations": [conversation.pk for conversation in conversations],
    }


# The client side: one asyncio loop per client process ------------------------------------


@dataclass
class Tally:
    """What one client process saw; sent back to the runner whole."""

    connected: int = 0
    connect_started: float = 0.0
    connect_finished: float = 0.0
    handshakes: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    # {client_id: (sender's user id, when it left)}
    sent: dict[str, tuple[int, float]] = field(default_factory=dict)
    not_sent: Counter[str] = field(default_factory=Counter)
    # (client_id, receiving member's user id, when it arrived): `message.new` from others
    arrivals: list[tuple[str, int, float]] = field(default_factory=list)
    # `message.new` of the member's own messages (their other tabs would show them)
    echoes: int = 0
    acks: dict[str, float] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    disconnects: Counter[str] = field(default_factory=Counter)
    cpu_seconds: float = 0.0


class Member:
    """One member socket: reads every frame, records what arrives, pings like the page."""

    def __init__(self, tally: Tally, conversation: int) -> None:
        self.tally = tally
        self.conversation = conversation
        self.user_id = 0
        self.ws: ClientConnection | None = None
        self.closing = False
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, url: str, origin: str, cookie: str) -> None:
        started = time.monotonic()
        self.ws = await connect(
            url,
            origin=Origin(origin),
            additional_headers={"Cookie": cookie},
            compression=None,
            proxy=None,
            ping_interval=None,  # browsers send no protocol pings; the page sends `ping` frames
            max_size=None,
            open_timeout=60,
            close_timeout=2,
        )
        try:
            hello = json.loads(await asyncio.wait_for(self.ws.recv(), 60))
            if hello.get("type") != "hello":
                raise RuntimeError(f"first frame {hello.get('type')!r}")
            self.user_id = int(hello["you"]["id"])
        except BaseException:
            await self.ws.close()
            self.ws = None
            raise
        self.tally.handshakes.append(time.monotonic() - started)
        self.tasks = [asyncio.create_task(self.read()), asyncio.create_task(self.ping())]

    async def read(self) -> None:
        assert self.ws is not None
        tally = self.tally
        try:
            async for frame in self.ws:
                arrived = time.monotonic()
                data = json.loads(frame)
                kind = data.get("type")
                if kind == "message.new":
                    message = data["message"]
                    author = message.get("author") or {}
                    if author.get("id") == self.user_id:
                        tally.echoes += 1
                    else:
                        tally.arrivals.append((str(message["client_id"]), self.user_id, arrived))
                elif kind == "message.ack":
                    tally.acks.setdefault(str(data["client_id"]), arrived)
                elif kind == "error":
                    tally.errors[str(data.get("code"))] += 1
        except ConnectionClosed as exc:
            if not self.closing:
                tally.disconnects[str(exc.rcvd.code if exc.rcvd else "abnormal")] += 1

    async def ping(self) -> None:
        assert self.ws is not None
        # Spread over the interval, as pages opened at different moments would be.
        await asyncio.sleep(random.uniform(0, PING_INTERVAL))
        with suppress(ConnectionClosed):
            while True:
                await self.ws.send('{"type": "ping"}')
                await asyncio.sleep(PING_INTERVAL)

    async def send_message(self, seq: int) -> None:
        if self.ws is None or not self.tasks:
            self.tally.not_sent["not connected"] += 1
            return
        client_id = str(uuid.uuid4())
        frame = json.dumps(
            {
                "type": "message.send",
                "conversation": self.conversation,
                "text": f"bench message {seq}",
                "client_id": client_id,
            }
        )
        self.tally.sent[client_id] = (self.user_id, time.monotonic())
        try:
            await self.ws.send(frame)
        except ConnectionClosed:
            del self.tally.sent[client_id]
            self.tally.not_sent["closed"] += 1

    async def close(self) -> None:
        self.closing = True
        for task in self.tasks:
            task.cancel()
        if self.ws is not None:
            with suppress(Exception):
                await self.ws.close()


async def _clients(
    url: str,
    origin: str,
    cookies: list[str],
    conversations: list[int],
    schedule: list[tuple[int, int]],
    inbox: "Queue[Any]",
    out: "Queue[Any]",
) -> Tally:
    """Connect this process's members, report, wait for the start time, send `schedule`
    ((seq, local member index) pairs) at RATE, listen through the grace period, report."""
    tally = Tally()
    members = [Member(tally, conversation) for conversation in conversations]
    ramp = await open_all(
        members,
        cookies,
        url=url,
        origin=origin,
        tally=tally,
        in_flight=HANDSHAKES_IN_FLIGHT // CLIENT_PROCESSES,
        limit=RAMP_LIMIT,
    )
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, out.put, ramp)
    # The runner answers with the start time once every process is connected.
    t0 = await loop.run_in_executor(None, inbox.get, True, RAMP_LIMIT + 60)

    cpu_start = 0.0
    sends: set[asyncio.Task[None]] = set()
    for seq, local in schedule:
        await asyncio.sleep(max(0.0, t0 + seq / RATE - time.monotonic()))
        if not cpu_start:
            cpu_start = sum(os.times()[:2])
        # A task per send, so that one slow write does not hold back the next send.
        task = asyncio.create_task(members[local].send_message(seq))
        sends.add(task)
        task.add_done_callback(sends.discard)
    await asyncio.sleep(max(0.0, t0 + STEADY_SECONDS - time.monotonic()))
    tally.cpu_seconds = sum(os.times()[:2]) - cpu_start if cpu_start else 0.0
    await asyncio.sleep(max(0.0, t0 + STEADY_SECONDS + GRACE_SECONDS - time.monotonic()))
    # What arrives while closing is not counted.
    result = Tally(**{**tally.__dict__, "arrivals": list(tally.arrivals), "acks": dict(tally.acks)})
    open_members = [m for m in members if m.tasks]
    await asyncio.wait([asyncio.create_task(m.close()) for m in open_members], timeout=5)
    return result


def _client_process(
    url: str,
    origin: str,
    cookies: list[str],
    conversations: list[int],
    schedule: list[tuple[int, int]],
    inbox: "Queue[Any]",
    out: "Queue[Any]",
) -> None:
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    out.put(asyncio.run(_clients(url, origin, cookies, conversations, schedule, inbox, out)))


# The runner --------------------------------------------------------------------------------


@dataclass
class Figures:
    connected: int
    failures: Counter[str]
    ramp_seconds: float
    handshake_p95: float
    sent: int
    not_sent: Counter[str]
    delivered: int
    lost: int
    duplicates: int
    misdelivered: int
    late: int  # arrived at the partner, but only after the grace period
    latencies: list[float]
    acked: int
    ack_p95: float
    echoes: int
    stored: int
    errors: Counter[str]
    disconnects: Counter[str]
    server_cpu: float
    machine_cpu: float
    server_rss: float
    client_cpu: list[float]

    def quantile(self, fraction: float) -> float:
        return _percentile(self.latencies, fraction)


def _schedule() -> list[list[tuple[int, int]]]:
    """Per client process, its (seq, local member index) sends: message `seq` leaves at
    t0 + seq / RATE from the next member of a shuffled round-robin over all members. Member
    `n` (in pk order) is in process `n % CLIENT_PROCESSES` at index `n // CLIENT_PROCESSES`."""
    order = random.Random(SEED).sample(range(MEMBERS), MEMBERS)
    per_process: list[list[tuple[int, int]]] = [[] for _ in range(CLIENT_PROCESSES)]
    for seq in range(int(STEADY_SECONDS * RATE)):
        member = order[seq % MEMBERS]
        per_process[member % CLIENT_PROCESSES].append((seq, member // CLIENT_PROCESSES))
    return per_process


def _measure(url: str, origin: str, setup: dict[str, Any], server_pid: int) -> Figures:
    users: list[int] = setup["users"]
    cookies = [f"{setup['cookie']}={key}" for key in setup["sessions"]]
    # Member n talks in conversation n // 2, with member n ^ 1.
    conversation_of = [setup["conversations"][n // 2] for n in range(MEMBERS)]
    partner = {users[n]: users[n ^ 1] for n in range(MEMBERS)}
    schedules = _schedule()
    ctx = multiprocessing.get_context("fork")
    out: Queue[Any] = ctx.Queue()
    inboxes: list[Queue[Any]] = [ctx.Queue() for _ in range(CLIENT_PROCESSES)]
    processes = [
        ctx.Process(
            target=_client_process,
            args=(
                url,
                origin,
                cookies[n::CLIENT_PROCESSES],
                conversation_of[n::CLIENT_PROCESSES],
                schedules[n],
                inboxes[n],
                out,
            ),
            daemon=True,
        )
        for n in range(CLIENT_PROCESSES)
    ]
    try:
        for process in processes:
            process.start()
        ramps = [out.get(timeout=RAMP_LIMIT + 30) for _ in processes]
        t0 = time.monotonic() + SETTLE_SECONDS
        for inbox in inboxes:
            inbox.put(t0)
        time.sleep(max(0.0, t0 - time.monotonic()))
        with _sampled(server_pid, "conversations-live-steady"):
            cpu_start, machine_start = _tree_sum(server_pid, _cpu_seconds), _machine_cpu_seconds()
            time.sleep(max(0.0, t0 + STEADY_SECONDS - time.monotonic()))
            server_cpu = _tree_sum(server_pid, _cpu_seconds) - cpu_start
            machine_cpu = _machine_cpu_seconds() - machine_start
        rss = _tree_sum(server_pid, _rss_mib)
        tallies: list[Tally] = [out.get(timeout=GRACE_SECONDS + 60) for _ in processes]
        for process in processes:
            process.join(timeout=10)
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()

    sent = {cid: what for t in tallies for cid, what in t.sent.items()}
    deadline = t0 + STEADY_SECONDS + GRACE_SECONDS
    first: dict[str, float] = {}
    duplicates = misdelivered = late = 0
    for t in tallies:
        for client_id, receiver, arrived in t.arrivals:
            what = sent.get(client_id)
            if what is None or partner[what[0]] != receiver:
                misdelivered += 1
            elif client_id in first:
                duplicates += 1
            elif arrived > deadline:
                late += 1
            else:
                first[client_id] = arrived
    acks = {cid: at for t in tallies for cid, at in t.acks.items() if cid in sent}
    handshakes = sorted(h for t in tallies for h in t.handshakes)
    return Figures(
        connected=sum(r["connected"] for r in ramps),
        failures=sum((t.failures for t in tallies), Counter()),
        ramp_seconds=max(r["finished"] for r in ramps) - min(r["started"] for r in ramps),
        handshake_p95=_percentile(handshakes, 0.95),
        sent=len(sent),
        not_sent=sum((t.not_sent for t in tallies), Counter()),
        delivered=len(first),
        lost=len(sent) - len(first),
        duplicates=duplicates,
        misdelivered=misdelivered,
        late=late,
        latencies=sorted(at - sent[cid][1] for cid, at in first.items()),
        acked=len(acks),
        ack_p95=_percentile(sorted(at - sent[cid][1] for cid, at in acks.items()), 0.95),
        echoes=sum(t.echoes for t in tallies),
        stored=0,
        errors=sum((t.errors for t in tallies), Counter()),
        disconnects=sum((t.disconnects for t in tallies), Counter()),
        server_cpu=server_cpu,
        machine_cpu=machine_cpu,
        server_rss=rss,
        client_cpu=[t.cpu_seconds for t in tallies],
    )


def run() -> str:
    _raise_open_files_limit()
    return run_within(TIME_LIMIT, "conversations live", _run)


def _run() -> str:
    logs = ROOT / "bench" / "results"
    logs.mkdir(exist_ok=True)
    _database_create()
    port = _free_port()
    with tempfile.TemporaryDirectory() as static_root, _redis() as redis_url:
        env = {
            **_env(port, static_root, redis_url),
            "DATABASE_URL": DATABASE_URL,
            "WEB_CONCURRENCY": str(WEB_PROCESSES),
        }
        setup = prepare(
            env, setup_module="bench.bench_conversations_live", count=MEMBERS, static=True
        )
        log = logs / "conversations-live-server.log"
        with _server(web_command(port), env, log) as pid:
            _wait_ready(f"http://127.0.0.1:{port}/healthz", pid, log)
            figures = _measure(
                f"ws://127.0.0.1:{port}/ws/me/", f"http://127.0.0.1:{port}", setup, pid
            )
    database = DATABASE_URL.rsplit("/", 1)[1]
    figures.stored = int(_psql("SELECT count(*) FROM conversations_message", database=database))
    return _report(figures)


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{key} ×{n}" for key, n in counter.most_common()) or "none"


def _ms(seconds: float) -> str:
    return "–" if math.isnan(seconds) else f"{seconds * 1000:.1f}"


def _report(f: Figures) -> str:
    met = f.quantile(0.95) * 1000 <= TARGET_P95_MS and f.lost == 0 and f.connected == MEMBERS
    clients = sum(f.client_cpu)
    ramp = f"{f.ramp_seconds:.1f}" if f.connected == MEMBERS else f"> {RAMP_LIMIT:.0f}"
    return "\n".join(
        [
            f"{MEMBERS:,} members, each on one member socket (`/ws/me/`), paired into "
            f"{CONVERSATIONS:,} direct conversations; connected with at most "
            f"{HANDSHAKES_IN_FLIGHT} handshakes in flight, each waiting for its `hello`; then "
            f"{SETTLE_SECONDS:.0f} s to settle; then {RATE:.0f} `message.send` frames/s for "
            f"{STEADY_SECONDS:.0f} s, from a shuffled round-robin of all members to their "
            f"partner (one message every {MEMBERS / RATE:.0f} s per member, a twentieth of the "
            f"`messages` budget); then {GRACE_SECONDS:.0f} s of grace. Every member pings every "
            f"{PING_INTERVAL:.0f} s like the page. Latency runs from `message.send` leaving the "
            "sender to the partner's `message.new` (matched by `client_id`) arriving; a message "
            "not at its partner by the end of the grace period is *lost*. The clients run in "
            f"{CLIENT_PROCESSES} forked asyncio processes (the partners of a pair in different "
            "ones) on the same 2 cores as the server, PostgreSQL and Redis. The server: "
            f"docker-compose's web command with WEB_CONCURRENCY={WEB_PROCESSES} (uvicorn "
            f"worker processes; `BENCH_CONVERSATIONS_LIVE_WEB_PROCESSES` sets it), DEBUG off, "
            "PostgreSQL, the Redis pub/sub channel layer on a Redis server of the bench's own; "
            "its CPU and RSS are those of all its processes.\n",
            "| connected | ramp s | handshake p95 ms | sent | delivered | lost | duplicated "
            "| p50 ms | p95 ms | p99 ms | max ms | ack p95 ms | server CPU (steady) | RSS MiB |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
            f"| {f.connected:,} | {ramp} | {_ms(f.handshake_p95)} | {f.sent:,} | "
            f"{f.delivered:,} | {f.lost:,} | {f.duplicates:,} | {_ms(f.quantile(0.5))} | "
            f"{_ms(f.quantile(0.95))} | {_ms(f.quantile(0.99))} | {_ms(f.quantile(1.0))} | "
            f"{_ms(f.ack_p95)} | {f.server_cpu / STEADY_SECONDS:.0%} | {f.server_rss:.0f} |",
            "",
            f"Goal: p95 ≤ {TARGET_P95_MS:.0f} ms and no message lost: "
            f"**{'met' if met else 'not met'}**.",
            "",
            f"- Acked {f.acked:,} of {f.sent:,}; the server stored {f.stored:,} messages by the "
            f"time it was stopped (about {f.stored / (STEADY_SECONDS + GRACE_SECONDS):.0f}/s over "
            "the steady phase and the grace period); the senders' "
            f"own sockets heard {f.echoes:,} of their messages back. Not sent: "
            f"{_counts(f.not_sent)}. Arrived after the grace period: {f.late}; at a member "
            f"who is not the partner: {f.misdelivered}.",
            f"- Error frames: {_counts(f.errors)}; failed handshake attempts: "
            f"{_counts(f.failures)}; disconnects: {_counts(f.disconnects)}.",
            f"- While steady the machine was busy {f.machine_cpu / STEADY_SECONDS:.2f} of its 2 "
            f"cores: server {f.server_cpu / STEADY_SECONDS:.2f}, clients "
            f"{clients / STEADY_SECONDS:.2f}, the rest (PostgreSQL, Redis, anything else "
            f"running) {max(0.0, f.machine_cpu - f.server_cpu - clients) / STEADY_SECONDS:.2f}.",
            "",
            "The server's log goes to `bench/results/conversations-live-server.log`; with "
            "`BENCH_ROOMS_PY_SPY` set to a py-spy binary the steady phase is sampled per thread "
            "into `bench/results/rooms-conversations-live-steady.txt`.",
        ]
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--setup"]:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(setup_conversations(int(sys.argv[2]))))
    else:
        sys.exit("usage: bench_conversations_live.py --setup COUNT (or: make bench BENCH=live)")

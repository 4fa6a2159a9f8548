"""The cafeteria at community scale: 1,000 members on one room socket each, chat messages
sent into the room at a steady rate, each one timed from send to arrival at every other
member. Our server (uvicorn as docker-compose starts it, DEBUG off, PostgreSQL, the Redis
pub/sub channel layer) runs next to a yardstick: a minimal raw `websockets` server that acks
and broadcasts the same frames and does nothing else. The same clients run the same load
against both, so our latency is also given as a multiple of the yardstick's.

`run()` recreates the scratch database, migrates it, makes the members and their sessions
(`python -m bench.bench_rooms --setup`, so that Django is set up against the scratch database
whatever else the runner has loaded), then measures each server in turn. The clients run in
forked processes (`CLIENT_PROCESSES`), each a uvloop holding its share of the sockets
(`LeanMember`, on bench.wsclient).
Latencies are differences of `time.monotonic()`, which is system-wide on Linux, so a send in
one process and an arrival in another compare. Everything is bounded by `TIME_LIMIT`.
"""

import asyncio
import json
import math
import multiprocessing
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from bench import wsclient
from bench.quick import sized
from bench.scratch import fresh_database
from bench.server import logged_errors, run_within, web_command, web_environment

ROOT = Path(__file__).resolve().parent.parent
TITLE = "Room sockets (1,000 members in the cafeteria)"
DATABASE_URL = os.environ.get(
    "BENCH_ROOMS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coworking_bench_rooms"
)
# Redis pub/sub channels are server-wide: the database number does not separate them, and
# the site's layer prefix is fixed. A bench sharing a Redis server with a test run or another
# site would hear their room and user groups and be heard by them (the cafeteria is room 1
# everywhere). So by default the bench starts its own Redis on a free loopback port; set
# BENCH_ROOMS_REDIS_URL to use another one.
REDIS_URL = os.environ.get("BENCH_ROOMS_REDIS_URL", "")
REDIS_DB = 10

MEMBERS = int(os.environ.get("BENCH_ROOMS_MEMBERS", sized("1000", "40")))
CLIENT_PROCESSES = int(os.environ.get("BENCH_ROOMS_CLIENT_PROCESSES", "2"))
HANDSHAKES_IN_FLIGHT = 50  # over all client processes
# 20 senders (20 members, one socket each) at one message every 2 s: 10 messages/s into the
# room, each sender at half its member's chat budget (10 chat frames per 10 s across all of a
# member's sockets, rooms.sockets.limits). At a full 1/s a sender sits exactly on the budget,
# and with fixed windows server-side jitter gets its frames refused.
SENDERS = 20
RATE = 10.0  # messages per second into the room
STEADY_SECONDS = sized(30.0, 3.0)
DRAIN_SECONDS = sized(5.0, 1.0)
PING_INTERVAL = 20.0  # as the browser client
RAMP_LIMIT = 90.0
# Between the ramp and the steady phase, so that work the ramp queued on the server is not
# counted as the steady phase's.
SETTLE_SECONDS = sized(10.0, 2.0)
TIME_LIMIT = 300  # the whole benchmark, setup included
TARGET_P95_MS = 250.0
# Before memory is measured, each server is warmed up by this many members connecting, one
# of them chatting, staying for a liveness sweep (which hands back what arrivals freed,
# rooms.liveness) and all leaving: what a server sets up once (database connections in its
# pool, the arrival threads and their allocator arenas, modules and catalogues loaded on
# first use) is then not counted as if each idle socket held a share of it.
WARM_UP_SOCKETS = sized(50, 10)
WARM_UP_STAY = 11.0  # seconds: longer than rooms.presence.TOUCH_INTERVAL
WARM_UP_REST = 3.0  # seconds for the server to see the warm-up's sockets go
# Path to a py-spy binary: when set, the server is sampled during the ramp and the steady
# phase into bench/results/rooms-<server>-<phase>.txt (collapsed stacks, one per thread).
PY_SPY = os.environ.get("BENCH_ROOMS_PY_SPY", "")
# Chat frames are small (text is at most 2,000 characters); bigger frames (hello, presence)
# are skipped without parsing so that the clients' CPU goes to what is measured.
PARSE_LIMIT = 16 * 1024
CHAT_MESSAGE = b'"chat.message"'
BENCH_TEXT = re.compile(rb'"text": ?"bench (\d+) ([0-9.]+)"')
# Both servers put the type first.
HELLO = re.compile(rb'\{"type": ?"hello"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _raise_open_files_limit() -> None:
    """1,000 sockets plus the server's: children inherit the raised limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = 1 << 16 if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


# The server side: Django setup and the two servers --------------------------------------


def _env(port: int, static_root: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "CONN_MAX_AGE": "0",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": redis_url,
        "STATIC_ROOT": static_root,
        "LOG_LEVEL": "INFO",
        **web_environment(),
    }


def _create_database(url: str = DATABASE_URL) -> None:
    """A new scratch database each run (this bench's, or that of `url`), migrated, so every
    run measures the same thing."""
    fresh_database(url)


@contextmanager
def _redis(db: int = REDIS_DB) -> Iterator[str]:
    """The Redis URL to use: BENCH_ROOMS_REDIS_URL, or a private server for the run's length
    (its database `db`). The database is flushed first."""
    import redis

    if REDIS_URL:
        redis.Redis.from_url(REDIS_URL).flushdb()
        yield REDIS_URL
        return
    port = _free_port()
    with tempfile.TemporaryDirectory() as data:
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", data]
        command += ["--save", "", "--appendonly", "no"]
        log = ROOT / "bench" / "results" / "rooms-redis.log"
        with _server(command, dict(os.environ), log) as pid:
            url = f"redis://127.0.0.1:{port}/{db}"
            for _ in range(100):
                if _proc_state(pid) == "Z":
                    raise RuntimeError(f"redis-server exited; see {log}")
                try:
                    redis.Redis.from_url(url).flushdb()
                    break
                except redis.ConnectionError:
                    time.sleep(0.1)
            else:
                raise RuntimeError(f"redis-server did not come up; see {log}")
            yield url


def setup_members(count: int) -> dict[str, Any]:
    """Active members and a logged-in session for each, in the database of DATABASE_URL.
    Runs in its own process (`--setup`); returns the cookie name and the session keys."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coworking.settings")
    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password

    from members.models import User
    from rooms.models import CAFETERIA_SLUG

    password = make_password(None)  # unusable, and hashed once rather than 1,000 times
    User.objects.bulk_create(
        User(
            email=f"bench-{n:04d}@example.com",
            display_name=f"Bench {n:04d}",
            password=password,
            is_active=True,
        )
        for n in range(count)
    )
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    keys = []
    for user in User.objects.filter(email__startswith="bench-").order_by("pk"):
        store = store_class()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        keys.append(store.session_key)
    return {"cookie": settings.SESSION_COOKIE_NAME, "room": CAFETERIA_SLUG, "sessions": keys}


async def _yardstick(port: int) -> None:
    """A minimal broadcast server speaking the same chat frames: ack the sender, send every
    other connection a `chat.message` of the same shape, answer pings. No auth, no storage."""
    connections: set[ServerConnection] = set()
    ids = iter(range(1, 1 << 62))

    async def handler(ws: ServerConnection) -> None:
        author = {"id": id(ws), "name": "Yardstick"}
        connections.add(ws)
        try:
            await ws.send(json.dumps({"type": "hello", "v": 1}))
            async for frame in ws:
                data = json.loads(frame)
                if data.get("type") == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                elif data.get("type") == "chat.send":
                    message_id = next(ids)
                    ack = {"type": "chat.ack", "client_id": data["client_id"], "id": message_id}
                    await ws.send(json.dumps(ack))
                    message = {
                        "id": message_id,
                        "author": author,
                        "text": data["text"],
                        "created_at": datetime.now(UTC).isoformat(),
                        "edited_at": None,
                        "deleted": False,
                    }
                    broadcast(
                        [other for other in connections if other is not ws],
                        json.dumps({"type": "chat.message", "message": message}),
                    )
        finally:
            connections.discard(ws)

    async with serve(
        handler, "127.0.0.1", port, compression=None, ping_interval=None, max_size=1 << 16
    ):
        await asyncio.Future()


@contextmanager
def _server(command: list[str], env: dict[str, str], log_path: Path) -> Iterator[int]:
    """Start a server process; yield its pid; always stop it."""
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(url: str, pid: int, log_path: Path) -> None:
    for _ in range(300):
        if not Path(f"/proc/{pid}").exists() or _proc_state(pid) == "Z":
            raise RuntimeError(f"the server exited; see {log_path}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError as exc:
            # The yardstick answers plain HTTP with 426 Upgrade Required: it is up.
            if getattr(exc, "code", None) == 426:
                return
            time.sleep(0.1)
    raise RuntimeError(f"the server did not come up; see {log_path}")


def _proc_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (/proc/<pid>/stat utime, stime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _process_tree(pid: int) -> list[int]:
    """`pid` and its descendants, as they are now (uvicorn's worker processes)."""
    found, waiting = [], [pid]
    while waiting:
        current = waiting.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with suppress(OSError):
                waiting += [int(child) for child in (task / "children").read_text().split()]
    return found


def _tree_sum(pid: int, figure: Callable[[int], float]) -> float:
    """`figure` (`_cpu_seconds`, `_rss_mib`) of `pid` and its descendants together; a
    process that ended meanwhile counts nothing."""
    total = 0.0
    for member in _process_tree(pid):
        with suppress(OSError):
            total += figure(member)
    return total


def _machine_cpu_seconds() -> float:
    """Busy CPU time of the whole machine so far, all cores (/proc/stat)."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@contextmanager
def _sampled(pid: int, name: str) -> Iterator[None]:
    """Sample `pid` with py-spy while the block runs, if BENCH_ROOMS_PY_SPY is set."""
    if not PY_SPY:
        yield
        return
    output = ROOT / "bench" / "results" / f"rooms-{name}.txt"
    command = [PY_SPY, "record", "--pid", str(pid), "--format", "raw", "--threads"]
    command += ["--subprocesses"]  # uvicorn's workers, when there are several
    command += ["--idle", "--nonblocking", "--rate", "100", "--output", str(output)]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        try:
            spy.wait(timeout=20)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# The client side: one asyncio loop per client process ------------------------------------


@dataclass
class Tally:
    """What one client process saw; sent back to the runner whole."""

    connect_started: float = 0.0
    connect_finished: float = 0.0
    connected: int = 0
    handshakes: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    ack_latencies: list[float] = field(default_factory=list)
    sent: int = 0
    acked: int = 0
    duplicates: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    disconnects: Counter[str] = field(default_factory=Counter)
    cpu_seconds: float = 0.0


class Member:
    """One socket: reads every frame, times chat messages and acks, pings like the page."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.ws: ClientConnection | None = None
        self.pending: dict[str, float] = {}
        self.seen: set[int] = set()
        self.closing = False
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, url: str, origin: str, cookie: str) -> None:
        started = time.monotonic()
        self.ws = await connect(
            url,
            origin=Origin(origin),
            additional_headers={"Cookie": cookie},
            # Offered as browsers offer it; the server decides (ours declines it: the
            # command's --ws-per-message-deflate in docker-compose.yml, docs/scaling.md).
            compression="deflate",
            proxy=None,
            ping_interval=None,  # browsers send no protocol pings; the page sends `ping` frames
            max_size=None,
            open_timeout=60,
            close_timeout=2,
        )
        try:
            first = json.loads(await asyncio.wait_for(self.ws.recv(), 60))
            if first.get("type") != "hello":
                raise RuntimeError(f"first frame {first.get('type')!r}")
        except BaseException:
            await self.ws.close()
            self.ws = None
            raise
        self.tally.handshakes.append(time.monotonic() - started)
        self.tasks = [asyncio.create_task(self.read()), asyncio.create_task(self.ping())]

    async def read(self) -> None:
        assert self.ws is not None
        try:
            async for frame in self.ws:
                arrived = time.monotonic()
                _count(self, frame.encode() if isinstance(frame, str) else frame, arrived)
        except ConnectionClosed as exc:
            if not self.closing:
                self.tally.disconnects[str(exc.rcvd.code if exc.rcvd else "abnormal")] += 1

    async def ping(self) -> None:
        assert self.ws is not None
        # Spread over the interval, as pages opened at different moments would be.
        await asyncio.sleep(random.uniform(0, PING_INTERVAL))
        with suppress(ConnectionClosed):
            while True:
                await self.ws.send('{"type": "ping"}')
                await asyncio.sleep(PING_INTERVAL)

    async def send_chat(self, seq: int) -> None:
        assert self.ws is not None
        sent = time.monotonic()
        client_id = str(uuid.uuid4())
        self.pending[client_id] = sent
        text = f"bench {seq} {sent:.6f}"
        with suppress(ConnectionClosed):
            await self.ws.send(
                json.dumps({"type": "chat.send", "text": text, "client_id": client_id})
            )
            self.tally.sent += 1

    async def close(self) -> None:
        self.closing = True
        for task in self.tasks:
            task.cancel()
        if self.ws is not None:
            with suppress(Exception):
                await self.ws.close()


def _count(member: "Member | LeanMember", frame: bytes, arrived: float) -> None:
    """Tally a frame `member` heard at `arrived`: a chat message's latency (or that it came
    twice), an ack's, an error."""
    tally = member.tally
    # Frames bigger than any chat message (hello, presence) are not parsed.
    if len(frame) > PARSE_LIMIT:
        return
    # Most frames are chat messages: read without parsing the JSON (both servers put the
    # type first), so the clients' CPU goes to the sockets.
    if CHAT_MESSAGE in frame[:40]:
        found = BENCH_TEXT.search(frame)
        if found is None:
            return
        seq = int(found[1])
        if seq in member.seen:
            tally.duplicates += 1
            return
        member.seen.add(seq)
        tally.latencies.append(arrived - float(found[2]))
        return
    data = json.loads(frame)
    kind = data.get("type")
    if kind == "chat.ack":
        sent = member.pending.pop(data["client_id"], None)
        if sent is not None:
            tally.acked += 1
            tally.ack_latencies.append(arrived - sent)
    elif kind == "error":
        tally.errors[str(data.get("code"))] += 1


class LeanMember:
    """Member's load on bench.wsclient's lean sockets: the same frames, pings, tally and
    timing, with each frame read in the socket's callback (no task or decode per frame), so
    that 5,000 sockets' clients leave the cores to the servers they measure. Sockets that
    must be read differently (bench_focus_live's) build on Member."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.socket: wsclient.LeanSocket | None = None
        self.pending: dict[str, float] = {}
        self.seen: set[int] = set()
        self.closing = False
        self.tasks: list[asyncio.Task[None]] = []
        self.greeted: asyncio.Future[bytes] | None = None

    async def open(self, url: str, origin: str, cookie: str) -> None:
        started = time.monotonic()
        self.greeted = asyncio.get_running_loop().create_future()
        try:
            self.socket = await wsclient.connect(
                url, origin=origin, cookie=cookie, on_frame=self.heard, on_close=self.ended
            )
        except BaseException:
            if self.greeted.done():
                self.greeted.exception()  # the failure is the handshake's, raised here
            raise
        try:
            # A big room's `hello` is hundreds of kilobytes: its type is all that is checked.
            first = await asyncio.wait_for(self.greeted, 60)
            if not HELLO.match(first):
                raise RuntimeError(f"first frame {first[:40]!r}")
        except BaseException:
            self.closing = True
            await self.socket.close()
            self.socket = None
            raise
        self.tally.handshakes.append(time.monotonic() - started)
        self.tasks = [asyncio.create_task(self.ping())]

    def heard(self, frame: bytes, arrived: float) -> None:
        if self.greeted is not None and not self.greeted.done():
            self.greeted.set_result(frame)
            return
        _count(self, frame, arrived)

    def ended(self, code: int | None) -> None:
        if self.greeted is not None and not self.greeted.done():
            self.greeted.set_exception(ConnectionError(f"closed before hello ({code})"))
        elif not self.closing:
            self.tally.disconnects[str(code or "abnormal")] += 1

    def send(self, text: str) -> bool:
        """Send one frame; False when the socket is gone."""
        return self.socket is not None and self.socket.send_text(text)

    async def ping(self) -> None:
        # Spread over the interval, as pages opened at different moments would be.
        await asyncio.sleep(random.uniform(0, PING_INTERVAL))
        while self.send('{"type": "ping"}'):
            await asyncio.sleep(PING_INTERVAL)

    async def send_chat(self, seq: int) -> None:
        sent = time.monotonic()
        client_id = str(uuid.uuid4())
        self.pending[client_id] = sent
        text = f"bench {seq} {sent:.6f}"
        if self.send(json.dumps({"type": "chat.send", "text": text, "client_id": client_id})):
            self.tally.sent += 1

    async def close(self) -> None:
        self.closing = True
        for task in self.tasks:
            task.cancel()
        if self.socket is not None:
            await self.socket.close()


async def open_all(
    members: list[Any],
    cookies: list[str],
    *,
    url: str,
    origin: str,
    tally: Any,
    in_flight: int,
    limit: float,
) -> dict[str, Any]:
    """Open each member's socket (`member.open(url, origin, cookie)`) as the page does, at
    most `in_flight` handshakes at once, counting successes and failures in `tally`; those
    not in after `limit` seconds are given up. Returns the ramp, as the runner reads it."""
    handshakes = asyncio.Semaphore(max(1, in_flight))

    async def open_one(member: Any, cookie: str) -> None:
        # Like the page: after a failed attempt, try again in 1 s, then 2, 4... up to 30 s.
        backoff = 1.0
        while True:
            async with handshakes:
                try:
                    await member.open(url, origin, cookie)
                    tally.connected += 1
                    tally.connect_finished = time.monotonic()
                    return
                except InvalidStatus as exc:
                    tally.failures[f"HTTP {exc.response.status_code}"] += 1
                except wsclient.HandshakeRefused as exc:
                    tally.failures[f"HTTP {exc.status}"] += 1
                except Exception as exc:
                    tally.failures[type(exc).__name__] += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)

    tally.connect_started = time.monotonic()
    opening = [asyncio.create_task(open_one(m, c)) for m, c in zip(members, cookies, strict=True)]
    _done, late = await asyncio.wait(opening, timeout=limit)
    for task in late:
        task.cancel()
    return {
        "connected": tally.connected,
        "started": tally.connect_started,
        "finished": tally.connect_finished,
    }


async def _clients(
    url: str,
    origin: str,
    cookies: list[str],
    senders: list[int],
    inbox: "Queue[Any]",
    out: "Queue[Any]",
) -> Tally:
    """Connect every member, report, wait for the start time, send and listen, report."""
    tally = Tally()
    members = [LeanMember(tally) for _ in cookies]
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

    async def send_all(member: LeanMember, sender: int) -> None:
        for seq in range(sender, int(STEADY_SECONDS * RATE), SENDERS):
            await asyncio.sleep(max(0.0, t0 + seq / RATE - time.monotonic()))
            await member.send_chat(seq)

    open_members = [m for m in members if m.tasks]
    sending = [
        asyncio.create_task(send_all(open_members[local], sender))
        for local, sender in enumerate(senders)
        if local < len(open_members)
    ]
    await asyncio.sleep(max(0.0, t0 - time.monotonic()))
    cpu_start = sum(os.times()[:2])
    await asyncio.sleep(max(0.0, t0 + STEADY_SECONDS - time.monotonic()))
    tally.cpu_seconds = sum(os.times()[:2]) - cpu_start
    await asyncio.gather(*sending)
    await asyncio.sleep(max(0.0, t0 + STEADY_SECONDS + DRAIN_SECONDS - time.monotonic()))
    # Frames that arrive while closing are not counted.
    result = replace(tally, latencies=list(tally.latencies))
    if open_members:
        await asyncio.wait([asyncio.create_task(m.close()) for m in open_members], timeout=5)
    return result


def _client_process(
    url: str,
    origin: str,
    cookies: list[str],
    senders: list[int],
    inbox: "Queue[Any]",
    out: "Queue[Any]",
) -> None:
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    # uvloop, as the server has: the default loop's costs per readable socket were most
    # of what the clients still spent with lean sockets.
    clients = _clients(url, origin, cookies, senders, inbox, out)
    out.put(asyncio.run(clients, loop_factory=uvloop.new_event_loop))


async def _warm_up(url: str, origin: str, cookies: list[str]) -> None:
    """Connect these members, have the first say one chat message (acked), and leave."""
    tally = Tally()
    members = [LeanMember(tally) for _ in cookies]
    try:
        for member, cookie in zip(members, cookies, strict=True):
            await member.open(url, origin, cookie)
        first, client_id = members[0], str(uuid.uuid4())
        first.pending[client_id] = time.monotonic()
        first.send(json.dumps({"type": "chat.send", "text": "warm-up", "client_id": client_id}))
        deadline = time.monotonic() + 30
        while not tally.acked and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if not tally.acked:
            raise RuntimeError(f"the warm-up's message was not acked: {tally.errors}")
        await asyncio.sleep(WARM_UP_STAY)
    finally:
        await asyncio.gather(*(member.close() for member in members))


# The runner --------------------------------------------------------------------------------


@dataclass
class Figures:
    connected: int
    failures: Counter[str]
    ramp_seconds: float
    handshake_p95: float
    latencies: list[float]
    ack_p95: float
    sent: int
    acked: int
    expected: int
    duplicates: int
    errors: Counter[str]
    disconnects: Counter[str]
    server_cpu: float
    machine_cpu: float
    server_rss: float
    client_cpu: list[float]
    rss_cold: float
    rss_before: float
    rss_idle: float
    # Error records in the server's log over the whole run (`logged_errors`).
    logged: Counter[str] = field(default_factory=Counter)

    @property
    def received(self) -> int:
        return len(self.latencies)

    @property
    def kib_per_socket(self) -> float:
        """Resident memory each idle socket adds to the warmed-up server, in KiB."""
        return (self.rss_idle - self.rss_before) * 1024 / max(1, self.connected)

    @property
    def kib_per_socket_cold(self) -> float:
        """The same from the server as it started (before 2026-12-05's evening, the figure)."""
        return (self.rss_idle - self.rss_cold) * 1024 / max(1, self.connected)

    def quantile(self, fraction: float) -> float:
        return _percentile(self.latencies, fraction)


def _measure(url: str, origin: str, cookies: list[str], server_pid: int, name: str) -> Figures:
    """The same clients and load against one server."""
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
                list(range(n, SENDERS, CLIENT_PROCESSES)),
                inboxes[n],
                out,
            ),
            daemon=True,
        )
        for n in range(CLIENT_PROCESSES)
    ]
    # Memory per idle socket: the server's resident memory (all its processes) once it is
    # up, has answered and is warmed up (`WARM_UP_SOCKETS`), then with every socket
    # connected and idle (after the settling time, before the chat starts).
    rss_cold = _tree_sum(server_pid, _rss_mib)
    asyncio.run(_warm_up(url, origin, cookies[:WARM_UP_SOCKETS]))
    time.sleep(WARM_UP_REST)
    rss_before = _tree_sum(server_pid, _rss_mib)
    try:
        with _sampled(server_pid, f"{name}-ramp"):
            for process in processes:
                process.start()
            ramps = [out.get(timeout=RAMP_LIMIT + 30) for _ in processes]
        t0 = time.monotonic() + SETTLE_SECONDS
        for inbox in inboxes:
            inbox.put(t0)
        time.sleep(max(0.0, t0 - 1.0 - time.monotonic()))
        rss_idle = _tree_sum(server_pid, _rss_mib)
        time.sleep(max(0.0, t0 - time.monotonic()))
        with _sampled(server_pid, f"{name}-steady"):
            cpu_start = _tree_sum(server_pid, _cpu_seconds)
            machine_start = _machine_cpu_seconds()
            time.sleep(max(0.0, t0 + STEADY_SECONDS - time.monotonic()))
            server_cpu = _tree_sum(server_pid, _cpu_seconds) - cpu_start
            machine_cpu = _machine_cpu_seconds() - machine_start
        rss = _tree_sum(server_pid, _rss_mib)
        tallies: list[Tally] = [out.get(timeout=DRAIN_SECONDS + 30) for _ in processes]
        for process in processes:
            process.join(timeout=10)
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
    connected = sum(r["connected"] for r in ramps)
    acked = sum(t.acked for t in tallies)
    handshakes = sorted(h for t in tallies for h in t.handshakes)
    acks = sorted(a for t in tallies for a in t.ack_latencies)
    return Figures(
        connected=connected,
        failures=sum((t.failures for t in tallies), Counter()),
        ramp_seconds=max(r["finished"] for r in ramps) - min(r["started"] for r in ramps),
        handshake_p95=_percentile(handshakes, 0.95),
        latencies=sorted(lat for t in tallies for lat in t.latencies),
        ack_p95=_percentile(acks, 0.95),
        sent=sum(t.sent for t in tallies),
        acked=acked,
        expected=acked * (connected - 1),
        duplicates=sum(t.duplicates for t in tallies),
        errors=sum((t.errors for t in tallies), Counter()),
        disconnects=sum((t.disconnects for t in tallies), Counter()),
        server_cpu=server_cpu,
        machine_cpu=machine_cpu,
        server_rss=rss,
        client_cpu=[t.cpu_seconds for t in tallies],
        rss_cold=rss_cold,
        rss_before=rss_before,
        rss_idle=rss_idle,
    )


def run() -> str:
    _raise_open_files_limit()
    return run_within(TIME_LIMIT, "rooms", _run)


def prepare(
    env: dict[str, str], *, setup_module: str, count: int, static: bool = False
) -> dict[str, Any]:
    """Collect the static files, for a server that serves them, in the bench's migrated
    database (`_create_database`), then make `count` members with
    `python -m <setup_module> --setup <count>`; what that printed, read as JSON."""
    commands = [["collectstatic", "--noinput", "-v0"]] if static else []
    for command in commands:
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    made = subprocess.run(
        [sys.executable, "-m", setup_module, "--setup", str(count)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if made.returncode:
        sys.stderr.write(made.stderr)
        made.check_returncode()
    return dict(json.loads(made.stdout.splitlines()[-1]))


def _run() -> str:
    logs = ROOT / "bench" / "results"
    logs.mkdir(exist_ok=True)
    _create_database()
    port, yard_port = _free_port(), _free_port()
    with tempfile.TemporaryDirectory() as static_root, _redis() as redis_url:
        env = _env(port, static_root, redis_url)
        setup = prepare(env, setup_module="bench.bench_rooms", count=MEMBERS, static=True)
        cookies = [f"{setup['cookie']}={key}" for key in setup["sessions"]]

        log = logs / "rooms-yardstick.log"
        command = [sys.executable, "-m", "bench.bench_rooms", "--yardstick", str(yard_port)]
        with _server(command, env, log) as pid:
            _wait_ready(f"http://127.0.0.1:{yard_port}/", pid, log)
            yardstick = _measure(
                f"ws://127.0.0.1:{yard_port}/",
                f"http://127.0.0.1:{yard_port}",
                cookies,
                pid,
                "yardstick",
            )
        yardstick.logged = logged_errors(log)

        log = logs / "rooms-server.log"
        command = web_command(port)
        with _server(command, env, log) as pid:
            _wait_ready(f"http://127.0.0.1:{port}/healthz", pid, log)
            ours = _measure(
                f"ws://127.0.0.1:{port}/ws/rooms/{setup['room']}/",
                f"http://127.0.0.1:{port}",
                cookies,
                pid,
                "server",
            )
        ours.logged = logged_errors(log)
    return _report(ours, yardstick)


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{key} ×{n}" for key, n in counter.most_common()) or "none"


def _ms(seconds: float) -> str:
    return "–" if math.isnan(seconds) else f"{seconds * 1000:.1f}"


def _times(ours: float, yardstick: float) -> str:
    ratio = ours / yardstick if yardstick else math.nan
    return "–" if math.isnan(ratio) else f"×{ratio:.1f}"


def _verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def _report(ours: Figures, yardstick: Figures) -> str:
    def row(name: str, f: Figures) -> str:
        ramp = f"{f.ramp_seconds:.1f}" if f.connected == MEMBERS else f"> {RAMP_LIMIT:.0f}"
        return (
            f"| {name} | {f.connected:,} | {ramp} | {_ms(f.handshake_p95)} | "
            f"{_ms(f.quantile(0.5))} | {_ms(f.quantile(0.95))} | {_ms(f.quantile(0.99))} | "
            f"{_ms(f.quantile(1.0))} | {_ms(f.ack_p95)} | {f.received:,} / {f.expected:,} | "
            f"{f.expected - f.received:,} | {f.server_cpu / STEADY_SECONDS:.0%} | "
            f"{f.rss_cold:.0f} / {f.rss_before:.0f} / {f.rss_idle:.0f} / {f.server_rss:.0f} | "
            f"{f.kib_per_socket:.1f} ({f.kib_per_socket_cold:.1f}) |"
        )

    met = (
        ours.quantile(0.95) * 1000 < TARGET_P95_MS
        and ours.received >= ours.expected
        and ours.connected == MEMBERS
    )
    lines = [
        f"{MEMBERS:,} members, each on one socket to the cafeteria, connected with at most "
        f"{HANDSHAKES_IN_FLIGHT} handshakes in flight, a failed one tried again like the page "
        f"does (after 1 s, 2 s, 4 s... up to 30 s) for up to {RAMP_LIMIT:.0f} s; then "
        f"{SETTLE_SECONDS:.0f} s to settle; then {RATE:.0f} chat messages/s for "
        f"{STEADY_SECONDS:.0f} s from {SENDERS} senders (one message every "
        f"{SENDERS / RATE:.0f} s each, half the per-member chat budget), and "
        f"{DRAIN_SECONDS:.0f} s to drain. Every member pings every {PING_INTERVAL:.0f} s like "
        "the page. Latency runs from `chat.send` leaving the sender to `chat.message` "
        "arriving at each other member; *delivered* counts (message, member) pairs against "
        "acked messages × (connected members − 1). The clients run in "
        f"{CLIENT_PROCESSES} forked uvloop processes on the same 2 cores as the servers, "
        "PostgreSQL and Redis, with lean sockets that read each frame in the socket's "
        "callback (`bench/wsclient.py`; until 2026-12-05, Python's `websockets`, which took "
        "about twice the CPU).\n",
        "Ours: one uvicorn process with docker-compose's web command (DEBUG off, PostgreSQL, "
        "the Redis pub/sub channel layer on a Redis server of the bench's own). Yardstick: a "
        "minimal `websockets` server that acks and broadcasts the same frames, with no auth, "
        "storage or presence.\n",
        "| server | connected | ramp s | handshake p95 ms | p50 ms | p95 ms | p99 ms | max ms "
        "| ack p95 ms | delivered | missing after drain | server CPU (steady) "
        "| RSS MiB started / warmed up / idle / after | KiB per idle socket (from started) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        row("ours", ours),
        row("yardstick", yardstick),
        "",
        "Ours as a multiple of the yardstick: p50 "
        f"{_times(ours.quantile(0.5), yardstick.quantile(0.5))}, p95 "
        f"{_times(ours.quantile(0.95), yardstick.quantile(0.95))}. Target: all "
        f"{MEMBERS:,} connected, p95 under {TARGET_P95_MS:.0f} ms, nothing dropped: "
        f'ours **{"meets" if met else "misses"} it**. Issue "Performance" (row 1): p95 '
        f"at most ×3 of the yardstick's and the server's CPU at most 50 % of a core: "
        f"{_verdict(ours.quantile(0.95) <= 3 * yardstick.quantile(0.95))} for the p95, "
        f"{_verdict(ours.server_cpu / STEADY_SECONDS <= 0.5)} for the CPU.",
        "",
        "Memory per idle socket (row 3): what the server's resident memory grew by from "
        f"warmed up ({min(WARM_UP_SOCKETS, MEMBERS)} members connected, one chatted, they "
        f"stayed {WARM_UP_STAY:.0f} s and left, {WARM_UP_REST:.0f} s of rest) to every socket "
        "connected and idle (just before the "
        f"chat starts), per socket: ours {ours.kib_per_socket:.1f} KiB, the yardstick "
        f"{yardstick.kib_per_socket:.1f} KiB, "
        f"{_times(ours.kib_per_socket, yardstick.kib_per_socket)} (goal: at most ×2: "
        f"{_verdict(ours.kib_per_socket <= 2 * yardstick.kib_per_socket)}). The whole "
        f"process: ours {ours.rss_idle:.0f} MiB, the yardstick {yardstick.rss_idle:.0f} MiB "
        "(ours holds Django and the site's code before any socket). Counted from the server "
        f"as it started, as until 2026-12-05: ours {ours.kib_per_socket_cold:.1f} KiB, the "
        f"yardstick {yardstick.kib_per_socket_cold:.1f} KiB, "
        f"{_times(ours.kib_per_socket_cold, yardstick.kib_per_socket_cold)}.",
        "",
    ]
    for name, f in (("ours", ours), ("yardstick", yardstick)):
        clients = sum(f.client_cpu)
        lines.append(
            f"- {name}: sent {f.sent}, acked {f.acked}; failed handshake attempts: "
            f"{_counts(f.failures)}; error frames: {_counts(f.errors)}; disconnects: "
            f"{_counts(f.disconnects)}; duplicates: {f.duplicates}; errors in the server's "
            f"log: {_counts(f.logged)}. While steady the machine "
            f"was busy {f.machine_cpu / STEADY_SECONDS:.2f} of its 2 cores: server "
            f"{f.server_cpu / STEADY_SECONDS:.2f}, clients {clients / STEADY_SECONDS:.2f}, "
            f"the rest (PostgreSQL, Redis, anything else running) "
            f"{max(0.0, f.machine_cpu - f.server_cpu - clients) / STEADY_SECONDS:.2f}."
        )
    lines.append(
        "\nServer logs go to `bench/results/rooms-*.log`. To see where our server spends its "
        "time, set `BENCH_ROOMS_PY_SPY` to a py-spy binary: the ramp and the steady phase are "
        "then sampled per thread into `bench/results/rooms-<server>-<phase>.txt`."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--setup"]:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(setup_members(int(sys.argv[2]))))
    elif sys.argv[1:2] == ["--yardstick"]:
        asyncio.run(_yardstick(int(sys.argv[2])))
    else:
        sys.exit("usage: bench_rooms.py --setup COUNT | --yardstick PORT (or bench/run.py rooms)")

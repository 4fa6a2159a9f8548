"""1,000 members arriving in the cafeteria within 10 s, then the server restarted under them.

Our server as in bench_rooms (uvicorn as docker-compose starts it, DEBUG off, PostgreSQL, the
Redis pub/sub channel layer). An observer socket is in the room first and keeps the
presence list the way the page does (`hello`, then `presence.update`: replace by `id`,
remove `left`).

1. **Ramp**: 1,000 members open their socket at moments spread evenly over 10 s (a failed
   attempt is tried again like the page does). Measured: when the last one got its `hello`,
   and when the observer's list first holds all 1,000.
2. **Restart**: 10 senders chat (one message every 2 s each) from 10 s before the server is
   stopped (SIGTERM, as a deploy does) and started again, until 30 s after. Every client
   behaves like static/js/room/socket.js and chat.js: after a drop it reconnects after 0.5
   to 1 s, then 1 to 2 s, ... up to 30 s (equal jitter), catches up with `history.since`
   from where its log is complete (by the messages' numbers in the room, `seq`; also 2 s
   after a message shows a gap), and a sender sends again, with the same `client_id`,
   every message not acked yet. Measured: who is back, how long reconnecting took, and
   whether every member ends with every message exactly once (by id, and no text stored
   under two ids).

Clients run in forked asyncio processes (the observer alone in one) on the same 2 cores as
the server, PostgreSQL and Redis.
"""

import asyncio
import json
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
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from bench.bench_rooms import (
    ROOT,
    _create_database,
    _env,
    _free_port,
    _percentile,
    _raise_open_files_limit,
    _redis,
    _sampled,
    _wait_ready,
    prepare,
)
from bench.quick import sized
from bench.server import run_within, web_command

TITLE = "Room sockets: 1,000 arrivals in 10 s, and a restart"
# A database of its own: quick mode runs it beside the other room benchmarks.
DATABASE_URL = os.environ.get(
    "BENCH_ROOMS_RAMP_DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/coworking_bench_rooms_ramp",
)
MEMBERS = int(os.environ.get("BENCH_ROOMS_RAMP_MEMBERS", sized("1000", "40")))
ARRIVAL_SECONDS = sized(10.0, 2.0)
CLIENT_PROCESSES = 2  # besides the observer's
OBSERVER_LIMIT = sized(60.0, 10.0)  # after the last arrival
SENDERS = 10
SEND_EVERY = 2.0
CHAT_BEFORE = sized(10.0, 2.0)  # seconds of chat before the restart
CHAT_AFTER = sized(30.0, 4.0)  # and after it
RECONNECT_LIMIT = sized(90.0, 20.0)  # after the restart
TARGET_SECONDS = 5.0  # from the last arrival to the observer seeing everyone
GAP_WAIT = 2.0  # chat.js GAP_WAIT_MS
FIRST_BACKOFF = 1.0  # socket.js: the first retry after half to all of this
MAX_BACKOFF = sized(30.0, 4.0)
TIME_LIMIT = 420
# Frames every client skips unread: big, and only the observer needs them.
SKIP_PREFIXES = ('{"type":"presence.update"', '{"type": "presence.update"')


def _hello(frame: str) -> bool:
    return '"hello"' in frame[:40]


# The observer -------------------------------------------------------------------------------


async def _observe(
    url: str, origin: str, cookie: str, wanted: int, out: "Queue[Any]", stop_at: float
) -> None:
    ws = await _open(url, origin, cookie)
    hello = json.loads(await ws.recv())
    present = {m["id"] for m in hello["presence"]}
    out.put(("observer", "ready", time.monotonic()))
    complete = None
    with suppress(ConnectionClosed, TimeoutError):
        async with asyncio.timeout(max(0.0, stop_at - time.monotonic())):
            async for frame in ws:
                if not isinstance(frame, str) or '"presence.update"' not in frame[:40]:
                    continue
                update = json.loads(frame)
                present |= {m["id"] for m in update["members"]}
                present -= set(update["left"])
                if len(present) - 1 >= wanted:  # itself aside
                    complete = time.monotonic()
                    break
    out.put(("observer", "complete", complete, len(present) - 1))
    await ws.close()


def _observer_process(
    url: str, origin: str, cookie: str, wanted: int, out: "Queue[Any]", stop_at: float
) -> None:
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    asyncio.run(_observe(url, origin, cookie, wanted, out, stop_at))


# The members ----------------------------------------------------------------------------------


async def _open(url: str, origin: str, cookie: str) -> ClientConnection:
    return await connect(
        url,
        origin=Origin(origin),
        additional_headers={"Cookie": cookie},
        compression=None,
        proxy=None,
        ping_interval=None,
        max_size=None,
        open_timeout=60,
        close_timeout=2,
    )


@dataclass
class Report:
    """What one client process saw; sent back to the runner whole."""

    arrivals: list[float] = field(default_factory=list)  # hello times of the first arrival
    first_failures: Counter[str] = field(default_factory=Counter)
    dropped: int = 0  # members whose socket dropped at the restart
    back: list[float] = field(default_factory=list)  # seconds from drop to the next hello
    failures: Counter[str] = field(default_factory=Counter)
    kicked: Counter[str] = field(default_factory=Counter)
    # Per member, the message ids it ended with; per sender, {client_id: ids acked}.
    seen: list[set[int]] = field(default_factory=list)
    texts: dict[int, str] = field(default_factory=dict)
    acked: dict[str, set[int]] = field(default_factory=dict)
    unacked: int = 0
    sent: int = 0
    resent: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    refused_catch_ups: int = 0
    gap_catch_ups: int = 0  # catch-ups asked because a live message showed a gap
    # Per member: (times dropped, still catching up at the end), to tell where a gap came from.
    states: list[tuple[int, bool]] = field(default_factory=list)


class Member:
    """One page: a socket that comes back after drops, catches up, and (for a sender)
    resends what was not acked."""

    def __init__(self, report: Report, cookie: str) -> None:
        self.report = report
        self.cookie = cookie
        self.ws: ClientConnection | None = None
        self.seen: set[int] = set()
        # chat.js: where the log is complete, as (id, seq), and the messages seen beyond it.
        self.complete = (0, 0)
        self.ahead: dict[int, int] = {}
        self.gap_check: asyncio.Task[None] | None = None
        self.catching_up = False  # no second catch-up while one pages through
        self.pending: dict[str, str] = {}  # client_id: text, until acked
        self.arrived = False
        self.drops = 0
        self.dropped_at: float | None = None
        self.stop = False

    async def live(self, url: str, origin: str, arrive_at: float) -> None:
        await asyncio.sleep(max(0.0, arrive_at - time.monotonic()))
        backoff = FIRST_BACKOFF
        while not self.stop:
            try:
                # As the page: after its first `hello`, it asks for one without history.
                again = f"{url}?catch_up=1" if self.arrived else url
                self.ws = await _open(again, origin, self.cookie)
                first = await asyncio.wait_for(self.ws.recv(), 60)
                if not isinstance(first, str) or not _hello(first):
                    raise RuntimeError("no hello")
                backoff = FIRST_BACKOFF
                now = time.monotonic()
                if not self.arrived:
                    # The page starts from the history in `hello` (none yet, here).
                    self.arrived = True
                    self.report.arrivals.append(now)
                else:
                    if self.dropped_at is not None:
                        self.report.back.append(now - self.dropped_at)
                        self.dropped_at = None
                    await self.catch_up()
                async for frame in self.ws:
                    self.receive(frame)
            except InvalidStatus as exc:
                failures = self.report.failures if self.arrived else self.report.first_failures
                failures[f"HTTP {exc.response.status_code}"] += 1
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else 1006
                if 4000 <= code < 4100:
                    self.report.kicked[str(code)] += 1
                    return
            except Exception as exc:
                failures = self.report.failures if self.arrived else self.report.first_failures
                failures[type(exc).__name__] += 1
            if self.stop:
                return
            if self.ws is not None and self.arrived:
                self.drops += 1
            if self.ws is not None and self.arrived and self.dropped_at is None:
                self.dropped_at = time.monotonic()
                self.report.dropped += 1
            self.ws = None
            # socket.js: between half and all of the current step, the step doubling.
            await asyncio.sleep(backoff / 2 + random.random() * backoff / 2)
            backoff = min(backoff * 2, MAX_BACKOFF)

    async def catch_up(self) -> None:
        assert self.ws is not None
        self.catching_up = True
        await self.ws.send(json.dumps({"type": "history.since", "after_id": self.complete[0]}))
        for client_id, text in list(self.pending.items()):
            self.report.resent += 1
            await self.ws.send(
                json.dumps({"type": "chat.send", "text": text, "client_id": client_id})
            )

    def note(self, message_id: int, seq: int, text: str) -> None:
        self.seen.add(message_id)
        self.report.texts[message_id] = text
        if seq > self.complete[1]:
            self.ahead[seq] = message_id
        self.reach(self.complete)

    def reach(self, upto: tuple[int, int]) -> None:
        """chat.js `reach`: move the complete point on; a gap left gets GAP_WAIT to fill."""
        if upto[1] > self.complete[1]:
            self.complete = upto
        self.ahead = {seq: i for seq, i in self.ahead.items() if seq > self.complete[1]}
        while self.complete[1] + 1 in self.ahead:
            seq = self.complete[1] + 1
            self.complete = (self.ahead.pop(seq), seq)
        if self.ahead and not self.catching_up and self.gap_check is None:
            self.gap_check = asyncio.get_running_loop().create_task(self.fill_gap())

    async def fill_gap(self) -> None:
        await asyncio.sleep(GAP_WAIT)
        self.gap_check = None
        if self.ahead and not self.catching_up and self.ws is not None:
            self.catching_up = True
            self.report.gap_catch_ups += 1
            with suppress(ConnectionClosed):
                frame = {"type": "history.since", "after_id": self.complete[0]}
                await self.ws.send(json.dumps(frame))

    def receive(self, frame: str | bytes) -> None:
        if not isinstance(frame, str) or frame.startswith(SKIP_PREFIXES):
            return
        data = json.loads(frame)
        kind = data.get("type")
        if kind == "chat.message":
            message = data["message"]
            self.note(message["id"], message["seq"], message["text"])
        elif kind == "history.page":
            for message in data["messages"]:
                self.note(message["id"], message["seq"], message["text"])
            upto = data["upto"]
            if data["has_more"] and self.ws is not None:
                # From the page's own last message: live ones may have come in meanwhile.
                request = {"type": "history.since", "after_id": upto["id"]}
                asyncio.get_running_loop().create_task(self.ws.send(json.dumps(request)))
            elif not data["has_more"]:
                self.catching_up = False
            self.reach((upto["id"], upto["seq"]))
        elif kind == "chat.ack":
            client_id = data["client_id"]
            text = self.pending.pop(client_id, None)
            self.report.acked.setdefault(client_id, set()).add(data["id"])
            if text is not None:
                self.note(data["id"], data["seq"], text)
        elif kind == "error":
            self.report.errors[str(data.get("code"))] += 1
            client_id = data.get("client_id")
            if data.get("code") == "rate_limited" and client_id in self.pending:
                # chat.js: a rate-limited message goes again, by its client_id, later.
                asyncio.get_running_loop().create_task(self.resend(client_id, 2.0))
            elif data.get("about") == "history.since" and self.ws is not None:
                # chat.js: a refused catch-up is asked again, from where it started, later.
                self.report.refused_catch_ups += 1
                asyncio.get_running_loop().create_task(self.ask_again(self.ws, 3.0))

    async def ask_again(self, ws: ClientConnection, delay: float) -> None:
        await asyncio.sleep(delay)
        if ws is self.ws:  # not on a later connection: that one catches up on its own
            with suppress(ConnectionClosed):
                frame = {"type": "history.since", "after_id": self.complete[0]}
                await ws.send(json.dumps(frame))

    async def resend(self, client_id: str, delay: float) -> None:
        await asyncio.sleep(delay)
        text = self.pending.get(client_id)
        if text is not None and self.ws is not None:
            self.report.resent += 1
            with suppress(ConnectionClosed):
                frame = {"type": "chat.send", "text": text, "client_id": client_id}
                await self.ws.send(json.dumps(frame))

    async def send_chat(self, sender: int, start: float) -> None:
        count = int((CHAT_BEFORE + CHAT_AFTER) / SEND_EVERY)
        offset = sender * SEND_EVERY / SENDERS
        for seq in range(count):
            await asyncio.sleep(max(0.0, start + offset + seq * SEND_EVERY - time.monotonic()))
            client_id = str(uuid.uuid4())
            text = f"ramp {sender} {seq}"
            self.pending[client_id] = text
            self.report.sent += 1
            if self.ws is not None:
                with suppress(ConnectionClosed):
                    frame = {"type": "chat.send", "text": text, "client_id": client_id}
                    await self.ws.send(json.dumps(frame))


async def _members(
    url: str,
    origin: str,
    cookies: list[str],
    arrive_at: list[float],
    senders: list[int],
    inbox: "Queue[Any]",
    out: "Queue[Any]",
) -> Report:
    report = Report()
    members = [Member(report, cookie) for cookie in cookies]
    living = [
        asyncio.create_task(m.live(url, origin, at))
        for m, at in zip(members, arrive_at, strict=True)
    ]
    loop = asyncio.get_running_loop()
    # The runner says when the chat starts and when to stop.
    chat_start, stop_at = await loop.run_in_executor(None, inbox.get, True, TIME_LIMIT)
    sending = [
        asyncio.create_task(members[local].send_chat(sender, chat_start))
        for local, sender in enumerate(senders)
    ]
    await asyncio.sleep(max(0.0, stop_at - time.monotonic()))
    for task in sending:
        task.cancel()
    for member in members:
        member.stop = True
    report.seen = [m.seen for m in members]
    report.states = [(m.drops, m.catching_up) for m in members]
    report.unacked = sum(len(m.pending) for m in members)
    for member in members:
        if member.ws is not None:
            with suppress(Exception):
                await asyncio.wait_for(member.ws.close(), 2)
    for task in living:
        task.cancel()
    return report


def _members_process(
    url: str,
    origin: str,
    cookies: list[str],
    arrive_at: list[float],
    senders: list[int],
    inbox: "Queue[Any]",
    out: "Queue[Any]",
) -> None:
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    out.put(
        ("members", asyncio.run(_members(url, origin, cookies, arrive_at, senders, inbox, out)))
    )


# The runner -----------------------------------------------------------------------------------


class Server:
    """Our server, which the bench stops and starts again on the same port."""

    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.port, self.env, self.log = port, env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                web_command(self.port), cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        _wait_ready(f"http://127.0.0.1:{self.port}/healthz", self.process.pid, self.log)

    def stop(self, timeout: float = 15) -> float:
        """SIGTERM, then SIGKILL after `timeout`; returns how long it took to go."""
        assert self.process is not None
        started = time.monotonic()
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return time.monotonic() - started


def run() -> str:
    _raise_open_files_limit()
    return run_within(TIME_LIMIT, "ramp", _run)


def _run() -> str:
    logs = ROOT / "bench" / "results"
    logs.mkdir(exist_ok=True)
    _create_database(DATABASE_URL)
    port = _free_port()
    with tempfile.TemporaryDirectory() as static_root, _redis() as redis_url:
        env = {**_env(port, static_root, redis_url), "DATABASE_URL": DATABASE_URL}
        setup = prepare(env, setup_module="bench.bench_rooms", count=MEMBERS + 1)
        cookies = [f"{setup['cookie']}={key}" for key in setup["sessions"]]
        log = logs / "rooms-ramp-server.log"
        log.write_text("")
        server = Server(port, env, log)
        server.start()
        try:
            url = f"ws://127.0.0.1:{port}/ws/rooms/{setup['room']}/"
            return _measure(server, url, f"http://127.0.0.1:{port}", cookies)
        finally:
            server.stop()


def _measure(server: Server, url: str, origin: str, cookies: list[str]) -> str:
    ctx = multiprocessing.get_context("fork")
    out: Queue[Any] = ctx.Queue()
    inboxes: list[Queue[Any]] = [ctx.Queue() for _ in range(CLIENT_PROCESSES)]
    observer = ctx.Process(
        target=_observer_process,
        args=(url, origin, cookies[0], MEMBERS, out, time.monotonic() + 120),
        daemon=True,
    )
    observer.start()
    kind, event, _ready_at = out.get(timeout=60)
    assert (kind, event) == ("observer", "ready")
    ramp_start = time.monotonic() + 2.0
    order = list(range(MEMBERS))
    random.Random(20261203).shuffle(order)
    arrive_at = [ramp_start + ARRIVAL_SECONDS * slot / MEMBERS for slot in order]
    members = cookies[1:]
    processes = [
        ctx.Process(
            target=_members_process,
            args=(
                url,
                origin,
                members[n::CLIENT_PROCESSES],
                arrive_at[n::CLIENT_PROCESSES],
                list(range(n, SENDERS, CLIENT_PROCESSES)),
                inboxes[n],
                out,
            ),
            daemon=True,
        )
        for n in range(CLIENT_PROCESSES)
    ]
    try:
        assert server.process is not None
        with _sampled(server.process.pid, "ramp-arrivals"):
            for process in processes:
                process.start()
            _kind, _event, complete, seen_by_observer = out.get(timeout=ARRIVAL_SECONDS + 150)
        chat_start = time.monotonic() + 3.0
        restart_at = chat_start + CHAT_BEFORE
        stop_at = restart_at + max(CHAT_AFTER, RECONNECT_LIMIT) + 5.0
        for inbox in inboxes:
            inbox.put((chat_start, stop_at))
        time.sleep(max(0.0, restart_at - time.monotonic()))
        stopping = server.stop()
        server.start()
        started_again = time.monotonic()
        assert server.process is not None
        with _sampled(server.process.pid, "ramp-restart"):
            time.sleep(30)
        reports: list[Report] = [
            out.get(timeout=stop_at - time.monotonic() + 60)[1] for _ in processes
        ]
    finally:
        for process in (observer, *processes):
            if process.is_alive():
                process.kill()
    return _report(
        reports,
        ramp_start=ramp_start,
        complete=complete,
        seen_by_observer=seen_by_observer,
        restart_at=restart_at,
        stopping=stopping,
        started_again=started_again,
    )


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{key} ×{n:,}" for key, n in counter.most_common()) or "none"


def _report(
    reports: list[Report],
    *,
    ramp_start: float,
    complete: float | None,
    seen_by_observer: int,
    restart_at: float,
    stopping: float,
    started_again: float,
) -> str:
    arrivals = sorted(t for r in reports for t in r.arrivals)
    last_scheduled = ramp_start + ARRIVAL_SECONDS * (MEMBERS - 1) / MEMBERS
    last_arrival = arrivals[-1] if arrivals else float("nan")
    if complete is None:
        after_last, after_scheduled = float("nan"), float("nan")
    else:
        after_last, after_scheduled = complete - last_arrival, complete - last_scheduled
    # The goal is about arrivals within ARRIVAL_SECONDS: when the server takes longer to let
    # them in, it counts from when the last one was due.
    met = complete is not None and len(arrivals) == MEMBERS and after_scheduled <= TARGET_SECONDS

    back = sorted(t for r in reports for t in r.back)
    dropped = sum(r.dropped for r in reports)
    # Every message anyone got acked, and what each member ended with.
    acked_ids: dict[str, set[int]] = {}
    for r in reports:
        for client_id, ids in r.acked.items():
            acked_ids.setdefault(client_id, set()).update(ids)
    stored = {i for ids in acked_ids.values() for i in ids}
    texts: dict[int, str] = {}
    for r in reports:
        texts.update(r.texts)
    by_text = Counter(texts[i] for i in stored if i in texts)
    twice = sum(1 for n in by_text.values() if n > 1)
    seen = [s for r in reports for s in r.seen]
    missing = sum(len(stored - s) for s in seen)
    # Missing below the last id a member has: a catch-up from that id cannot bring them.
    skipped = sum(1 for s in seen for i in stored - s if s and i < max(s))
    missing_ids = len(set().union(*(stored - s for s in seen))) if seen else 0
    members_missing = sum(1 for s in seen if stored - s)
    states = [state for r in reports for state in r.states]
    gaps = Counter(
        f"dropped {drops}×{', still catching up' if catching_up else ''}"
        for s, (drops, catching_up) in zip(seen, states, strict=True)
        if stored - s
    )
    sent = sum(r.sent for r in reports)
    unacked = sum(r.unacked for r in reports)
    acked_twice = sum(1 for ids in acked_ids.values() if len(ids) > 1)
    return "\n".join(
        [
            f"An observer socket in the cafeteria first, then {MEMBERS:,} members opening "
            f"their socket at moments spread evenly over {ARRIVAL_SECONDS:.0f} s (a failed "
            "attempt tried again like the page does); uvicorn as docker-compose starts it ("
            f"web command, WEB_CONCURRENCY={os.environ.get('WEB_CONCURRENCY', '1')} "
            "processes, DEBUG off, PostgreSQL, the Redis pub/sub channel layer). Arrivals "
            "share one reading of the room's presence for their `hello` "
            "(`rooms.presence.SHARED_SNAPSHOT_SECONDS`); changes go out in one batched "
            "`presence.update` per second.\n",
            "| | figure |",
            "|---|---|",
            f"| members with a `hello` | {len(arrivals):,} / {MEMBERS:,} |",
            f"| last `hello`, after the first arrival was due | "
            f"{last_arrival - ramp_start:.1f} s |",
            f"| observer's list holds all {MEMBERS:,}, after the last `hello` | "
            f"**{after_last:.1f} s** |",
            f"| the same, after the last arrival was due | {after_scheduled:.1f} s |",
            "",
            f"Target: all {MEMBERS:,} in the observer's list within {TARGET_SECONDS:.0f} s "
            "of the last arrival, the arrivals being due within "
            f"{ARRIVAL_SECONDS:.0f} s: **{'met' if met else 'missed'}** (the observer saw "
            f"{seen_by_observer:,}). Failed first attempts: "
            f"{_counts(sum((r.first_failures for r in reports), Counter()))}.\n",
            f"**Restart.** {SENDERS} senders chat, one message every {SEND_EVERY:.0f} s each, "
            f"from {CHAT_BEFORE:.0f} s before the server is stopped (SIGTERM) until "
            f"{CHAT_AFTER:.0f} s after; clients reconnect like `static/js/room/socket.js` "
            "(0.5–1 s, then doubling up to 30 s, equal jitter), catch up with "
            "`history.since` from where their log is complete by the messages' numbers in "
            "the room (`seq`; also 2 s after a message shows a gap, chat.js), and senders "
            "send again, with the same `client_id`, what was not acked.\n",
            "| | figure |",
            "|---|---|",
            f"| server stopped in / up again after | {stopping:.1f} s / "
            f"{started_again - restart_at:.1f} s |",
            f"| members dropped / back | {dropped:,} / {len(back):,} |",
            f"| reconnect, drop to `hello`: p50 / p95 / max | {_percentile(back, 0.5):.1f} / "
            f"**{_percentile(back, 0.95):.1f}** / {_percentile(back, 1.0):.1f} s |",
            f"| messages sent / stored (acked) / never acked | {sent:,} / {len(stored):,} / "
            f"{unacked:,} |",
            f"| (member, message) pairs missing at the end | {missing:,} "
            f"({members_missing:,} members, {missing_ids:,} messages; {skipped:,} pairs "
            "below the member's last id) |",
            f"| messages stored twice (a text under two ids) | {twice:,} |",
            "",
            f"- Members with a gap: {_counts(gaps)}.",
            "",
            f"- Resent after reconnecting: {sum(r.resent for r in reports):,} (acked under "
            f"two ids: {acked_twice}); error frames: "
            f"{_counts(sum((r.errors for r in reports), Counter()))} (of them catch-ups "
            f"refused and asked again: {sum(r.refused_catch_ups for r in reports):,}); "
            f"catch-ups after a gap: {sum(r.gap_catch_ups for r in reports):,}; "
            "failed reconnect "
            f"attempts: {_counts(sum((r.failures for r in reports), Counter()))}; sent away: "
            f"{_counts(sum((r.kicked for r in reports), Counter()))}.",
        ]
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(run())

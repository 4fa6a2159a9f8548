"""A focus power hour, live: 400 members (BENCH_FOCUS_LIVE_MEMBERS) on their block's page
socket (`/ws/focus/focus-<block>/`, focus.consumers), each told by the server's own clock of
the phase change at its moment (issue "Focus sessions", Scale: table assignment ≤ 1 s and
every client hearing the phase changes within 1 s of the scheduled time, p95).

Two changes are measured, each with its own block and its own ramp of sockets:

- *the start* (`check_in`): the block's start is set `LEAD_SECONDS` ahead, the sockets
  connect before it, and at the start every socket hears `focus.phase`, then, once the tables
  are drawn (focus.sessions.tables_draw, once for everyone), `focus.table`;
- *the work* (`work`): a second block whose tables were drawn in the setup is moved so that
  its check-in is on and its work begins `LEAD_SECONDS` ahead; its sockets connect during the
  check-in and hear `focus.phase` when the work begins.

A socket computes its schedule when it connects, from the block's stored start: the start is
written to the row (directly, the half-hour rule being a form's) before the sockets connect.
Each socket takes the scheduled instant from its `focus.hello` (`ends_at`: when the phase it
arrived in ends) and times the frames against it with `time.time()`, which every process of
the machine shares. The server is bench_rooms': docker-compose's web command (uvicorn, DEBUG
off, WEB_CONCURRENCY processes), PostgreSQL and the Redis pub/sub channel layer, on loopback;
the clients are forked asyncio processes. Bounded by `TIME_LIMIT`.
"""

import asyncio
import copy
import json
import math
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from multiprocessing.queues import Queue
from typing import Any

from websockets.exceptions import ConnectionClosed

from bench.bench_conversations_live import _psql
from bench.bench_rooms import (
    ROOT,
    Member,
    Tally,
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
    _tree_sum,
    _wait_ready,
    open_all,
    prepare,
    setup_members,
)
from bench.quick import sized
from bench.server import run_within, web_command

TITLE = "Focus sessions: a live power hour"
DATABASE_URL = os.environ.get(
    "BENCH_FOCUS_LIVE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_focus_live"
)
REDIS_DB = 11
CHANNEL_LAYER_PREFIX = "benchfocus"
MEMBERS = int(os.environ.get("BENCH_FOCUS_LIVE_MEMBERS", sized("400", "16")))
MINUTES = 50
CLIENT_PROCESSES = 2
# uvicorn worker processes, as docker-compose runs the web container (WEB_CONCURRENCY=2).
WEB_PROCESSES = int(os.environ.get("BENCH_FOCUS_LIVE_WEB_PROCESSES", "2"))
HANDSHAKES_IN_FLIGHT = 50  # over all client processes
# From the block's start being set to the change: the sockets connect meanwhile.
LEAD_SECONDS = float(os.environ.get("BENCH_FOCUS_LIVE_LEAD", str(sized(10, 4) + MEMBERS / 25)))
# A socket not in this long before the change is given up (it would arrive after it).
QUIET_SECONDS = 2.0
# After the change: a frame not in by then is lost.
COLLECT_SECONDS = sized(10.0, 3.0)
# The server's CPU is counted over this long from the change.
BURST_SECONDS = 2.0
PING_INTERVAL = 20.0  # the page's `ping` frames
TIME_LIMIT = 480  # the whole benchmark, setup included
TARGET_SECONDS = 1.0
# Frames the clients skip unread: presence batches (rooms.broadcast encodes them compactly).
SKIP_PREFIX = '{"type":"presence.update"'


@dataclass(frozen=True)
class Change:
    phase: str  # the phase the change begins
    arrived_in: str  # the phase the sockets connect in
    # From the block's start to the change.
    after_start: float
    label: str


START = Change("check_in", "before", 0.0, "the start (`check_in`)")
WORK = Change("work", "check_in", 180.0, "the work (`work`, sockets connected in the check-in)")


def setup_power_hour(count: int) -> dict[str, Any]:
    """`count` members with a session each (bench_rooms.setup_members), speaking languages and
    blocking one another as bench_focus's power hour does, each seated in two 50-minute
    blocks with their rooms open to them (focus.sessions.session_enter, as the page's GET):
    one to start later, one whose tables are drawn now. Runs in its own process (`--setup`)."""
    made = setup_members(count)
    from django.utils import timezone

    from bench.bench_focus import power_hour
    from focus.models import FocusBlock, Seat
    from focus.sessions import session_enter, tables_draw
    from members.models import Block, Language, Profile, User

    users = list(User.objects.filter(email__startswith="bench-").order_by("pk"))
    sitters, blocked, _known = power_hour(count)
    Language.objects.bulk_create(
        [Language(code=code) for code in {c for s in sitters for c in s.languages}],
        ignore_conflicts=True,
    )
    Profile.objects.bulk_create([Profile(user=user) for user in users], ignore_conflicts=True)
    profiles = dict(Profile.objects.filter(user__in=users).values_list("user_id", "pk"))
    spoken = Profile.languages.through
    spoken.objects.bulk_create(
        spoken(profile_id=profiles[users[sitter.id - 1].pk], language_id=code)
        for sitter in sitters
        for code in sitter.languages
    )
    Block.objects.bulk_create(
        [Block(blocker=users[a - 1], blocked=users[b - 1]) for a, b in blocked],
        ignore_conflicts=True,
    )
    now = timezone.now()
    blocks = {}
    for change, starts_at in ((START, now + timedelta(days=1)), (WORK, now)):
        block = FocusBlock.objects.create(
            title=f"Bench power hour ({change.phase})",
            starts_at=starts_at,
            minutes=MINUTES,
            capacity=count,
        )
        Seat.objects.bulk_create(Seat(block=block, user=user) for user in users)
        for user in users:
            session_enter(block=block, user=user)
        blocks[change.phase] = block.pk
    work = FocusBlock.objects.get(pk=blocks[WORK.phase])
    Seat.objects.filter(block=work).update(arrived_at=now)
    tables_draw(block=work, now=now)
    return {
        "cookie": made["cookie"],
        "sessions": made["sessions"],
        "users": [user.pk for user in users],
        "blocks": blocks,
        "blocked": len(blocked),
    }


# The client side: one asyncio loop per client process ------------------------------------


@dataclass
class Heard(Tally):
    """What one client process's sockets heard, besides bench_rooms' connection figures."""

    greeted: Counter[str] = field(default_factory=Counter)  # `focus.hello` phases
    schedules: Counter[str] = field(default_factory=Counter)  # their `ends_at`
    phase_delays: list[float] = field(default_factory=list)  # arrival − scheduled
    server_delays: list[float] = field(default_factory=list)  # the frame's `now` − scheduled
    other_phases: Counter[str] = field(default_factory=Counter)
    # The same change told a socket again (`duplicates` counts them): how long after the first.
    repeats: list[float] = field(default_factory=list)
    table_delays: list[float] = field(default_factory=list)
    table_duplicates: int = 0
    # (member, table, the table's people as the frame lists them)
    seats: list[tuple[int, int, tuple[int, ...]]] = field(default_factory=list)


class Sitter(Member):
    """One member's block page socket: bench_rooms' member (the room's `hello`, pings like
    the page), reading the ritual's frames instead of the chat's."""

    def __init__(self, heard: Heard, user_id: int, change: Change) -> None:
        super().__init__(heard)
        self.heard = heard
        self.user_id = user_id
        self.change = change
        self.scheduled = math.nan
        self.changed_at = math.nan
        self.seated = False
        self.greeted = asyncio.Event()

    async def open(self, url: str, origin: str, cookie: str) -> None:
        """Connected once `focus.hello` is in (it follows the room's `hello`)."""
        await super().open(url, origin, cookie)
        try:
            await asyncio.wait_for(self.greeted.wait(), 60)
        except BaseException:
            for task in self.tasks:
                task.cancel()
            self.tasks = []
            if self.ws is not None:
                await self.ws.close()
            raise

    async def read(self) -> None:
        assert self.ws is not None
        heard = self.heard
        try:
            async for frame in self.ws:
                arrived = time.time()
                if not isinstance(frame, str) or frame.startswith(SKIP_PREFIX):
                    continue
                data = json.loads(frame)
                kind = data.get("type")
                if kind == "focus.hello":
                    heard.greeted[str(data["phase"])] += 1
                    heard.schedules[str(data["ends_at"])] += 1
                    self.scheduled = datetime.fromisoformat(data["ends_at"]).timestamp()
                    self.greeted.set()
                elif kind == "focus.phase":
                    if data["phase"] != self.change.phase:
                        heard.other_phases[str(data["phase"])] += 1
                    elif not math.isnan(self.changed_at):
                        heard.duplicates += 1
                        heard.repeats.append(arrived - self.changed_at)
                    else:
                        self.changed_at = arrived
                        heard.phase_delays.append(arrived - self.scheduled)
                        sent = datetime.fromisoformat(data["now"]).timestamp()
                        heard.server_delays.append(sent - self.scheduled)
                elif kind == "focus.table":
                    if self.seated:
                        heard.table_duplicates += 1
                        continue
                    self.seated = True
                    heard.table_delays.append(arrived - self.scheduled)
                    mates = tuple(sorted(int(m["user"]["id"]) for m in data["mates"]))
                    heard.seats.append((self.user_id, int(data["table"]), mates))
                elif kind == "error":
                    heard.errors[str(data.get("code"))] += 1
        except ConnectionClosed as exc:
            if not self.closing:
                heard.disconnects[str(exc.rcvd.code if exc.rcvd else "abnormal")] += 1


async def _clients(
    url: str,
    origin: str,
    cookies: list[str],
    users: list[int],
    change: Change,
    scheduled: float,
    out: "Queue[Any]",
) -> Heard:
    """Connect this process's members before the change, report, listen until
    COLLECT_SECONDS after it, report what was heard."""
    heard = Heard()
    sitters = [Sitter(heard, user, change) for user in users]
    ramp = await open_all(
        sitters,
        cookies,
        url=url,
        origin=origin,
        tally=heard,
        in_flight=HANDSHAKES_IN_FLIGHT // CLIENT_PROCESSES,
        limit=max(1.0, scheduled - QUIET_SECONDS - time.time()),
    )
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, out.put, ramp)
    await asyncio.sleep(max(0.0, scheduled - time.time()))
    cpu_start = sum(os.times()[:2])
    await asyncio.sleep(max(0.0, scheduled + BURST_SECONDS - time.time()))
    heard.cpu_seconds = sum(os.times()[:2]) - cpu_start
    await asyncio.sleep(max(0.0, scheduled + COLLECT_SECONDS - time.time()))
    # What arrives while closing is not counted.
    result = copy.deepcopy(heard)
    open_sitters = [s for s in sitters if s.tasks]
    await asyncio.wait([asyncio.create_task(s.close()) for s in open_sitters], timeout=5)
    return result


def _client_process(
    url: str,
    origin: str,
    cookies: list[str],
    users: list[int],
    change: Change,
    scheduled: float,
    out: "Queue[Any]",
) -> None:
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    out.put(asyncio.run(_clients(url, origin, cookies, users, change, scheduled, out)))


# The runner --------------------------------------------------------------------------------


@dataclass
class Figures:
    change: Change
    connected: int
    failures: Counter[str]
    ramp_seconds: float
    quiet_seconds: float  # from the last socket in to the change
    greeted: Counter[str]
    schedules: int  # distinct scheduled instants the sockets were told
    delays: list[float]
    server_delays: list[float]
    other_phases: Counter[str]
    duplicates: int
    repeats: list[float]
    table_delays: list[float]
    table_duplicates: int
    tables: dict[int, set[int]]  # as the frames told them
    mates_wrong: int  # frames whose people differ from who was told that table
    stored_tables: Counter[int]  # table → seats, from the database
    unseated: int
    errors: Counter[str]
    disconnects: Counter[str]
    server_cpu_before: float  # the second before the change
    server_cpu: float  # BURST_SECONDS from the change
    machine_cpu: float
    client_cpu: float

    @property
    def lost(self) -> int:
        return self.connected - len(self.delays)


def _scenario(
    change: Change, setup: dict[str, Any], port: int, server_pid: int, database: str
) -> Figures:
    """Set the block's start, connect every member, hear the change, count."""
    block = setup["blocks"][change.phase]
    scheduled = time.time() + LEAD_SECONDS
    starts_at = scheduled - change.after_start
    _psql(
        f"UPDATE focus_focusblock SET starts_at = to_timestamp({starts_at:.6f}) WHERE id = {block}",
        database=database,
    )
    cookies = [f"{setup['cookie']}={key}" for key in setup["sessions"]]
    users: list[int] = setup["users"]
    ctx = multiprocessing.get_context("fork")
    out: Queue[Any] = ctx.Queue()
    processes = [
        ctx.Process(
            target=_client_process,
            args=(
                f"ws://127.0.0.1:{port}/ws/focus/focus-{block}/",
                f"http://127.0.0.1:{port}",
                cookies[n::CLIENT_PROCESSES],
                users[n::CLIENT_PROCESSES],
                change,
                scheduled,
                out,
            ),
            daemon=True,
        )
        for n in range(CLIENT_PROCESSES)
    ]
    try:
        for process in processes:
            process.start()
        ramps = [out.get(timeout=LEAD_SECONDS + 30) for _ in processes]

        def cpu() -> tuple[float, float]:
            return _tree_sum(server_pid, _cpu_seconds), _machine_cpu_seconds()

        time.sleep(max(0.0, scheduled - 1 - time.time()))
        with _sampled(server_pid, f"focus-{change.phase}"):
            early = cpu()
            time.sleep(max(0.0, scheduled - time.time()))
            start = cpu()
            time.sleep(max(0.0, scheduled + BURST_SECONDS - time.time()))
            end = cpu()
        tallies: list[Heard] = [out.get(timeout=COLLECT_SECONDS + 60) for _ in processes]
        for process in processes:
            process.join(timeout=10)
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()

    finished = max(r["finished"] for r in ramps)
    seats = [seat for t in tallies for seat in t.seats]
    tables: dict[int, set[int]] = {}
    for user, table, _mates in seats:
        tables.setdefault(table, set()).add(user)
    stored = _psql(
        'SELECT coalesce("table", 0), count(*) FROM focus_seat '
        f"WHERE block_id = {block} AND cancelled_at IS NULL GROUP BY 1",
        database=database,
    )
    stored_tables = Counter(
        {int(t): int(n) for t, n in (line.split("|") for line in stored.splitlines())}
    )
    return Figures(
        change=change,
        connected=sum(r["connected"] for r in ramps),
        failures=sum((t.failures for t in tallies), Counter()),
        ramp_seconds=finished - min(r["started"] for r in ramps),
        quiet_seconds=scheduled - (time.time() - (time.monotonic() - finished)),
        greeted=sum((t.greeted for t in tallies), Counter()),
        schedules=len(set().union(*(t.schedules for t in tallies))),
        delays=sorted(d for t in tallies for d in t.phase_delays),
        server_delays=sorted(d for t in tallies for d in t.server_delays),
        other_phases=sum((t.other_phases for t in tallies), Counter()),
        duplicates=sum(t.duplicates for t in tallies),
        repeats=sorted(r for t in tallies for r in t.repeats),
        table_delays=sorted(d for t in tallies for d in t.table_delays),
        table_duplicates=sum(t.table_duplicates for t in tallies),
        tables=tables,
        mates_wrong=sum(1 for _user, table, mates in seats if set(mates) != tables[table]),
        stored_tables=Counter({t: n for t, n in stored_tables.items() if t}),
        unseated=stored_tables.get(0, 0),
        errors=sum((t.errors for t in tallies), Counter()),
        disconnects=sum((t.disconnects for t in tallies), Counter()),
        server_cpu_before=start[0] - early[0],
        server_cpu=end[0] - start[0],
        machine_cpu=end[1] - start[1],
        client_cpu=sum(t.cpu_seconds for t in tallies),
    )


def run() -> str:
    _raise_open_files_limit()
    return run_within(TIME_LIMIT, "focus live", _run)


def _run() -> str:
    logs = ROOT / "bench" / "results"
    logs.mkdir(exist_ok=True)
    _create_database(DATABASE_URL)
    database = DATABASE_URL.rsplit("/", 1)[1]
    port = _free_port()
    with tempfile.TemporaryDirectory() as static_root, _redis(REDIS_DB) as redis_url:
        env = {
            **_env(port, static_root, redis_url),
            "DATABASE_URL": DATABASE_URL,
            "CHANNEL_LAYER_PREFIX": CHANNEL_LAYER_PREFIX,
            "WEB_CONCURRENCY": str(WEB_PROCESSES),
        }
        setup = prepare(env, setup_module="bench.bench_focus_live", count=MEMBERS)
        log = logs / "focus-live-server.log"
        with _server(web_command(port), env, log) as pid:
            _wait_ready(f"http://127.0.0.1:{port}/healthz", pid, log)
            figures = [_scenario(change, setup, port, pid, database) for change in (START, WORK)]
    return _report(figures, blocked=setup["blocked"])


def _counts(counter: Counter[Any]) -> str:
    return ", ".join(f"{key} ×{n}" for key, n in counter.most_common()) or "none"


def _ms(ordered: list[float], fraction: float) -> str:
    value = _percentile(ordered, fraction)
    return "–" if math.isnan(value) else f"{value * 1000:.0f}"


def _sizes(tables: Counter[int] | dict[int, set[int]]) -> str:
    sizes = Counter(len(v) if isinstance(v, set) else v for v in tables.values())
    return ", ".join(f"{size} ×{n}" for size, n in sorted(sizes.items(), reverse=True)) or "–"


def _report(figures: list[Figures], *, blocked: int) -> str:
    start = figures[0]
    phases_met = all(
        f.connected == f.greeted[f.change.arrived_in] == MEMBERS
        and f.lost == 0
        and _percentile(f.delays, 0.95) <= TARGET_SECONDS
        for f in figures
    )
    tables_met = (
        len(start.table_delays) == start.connected == MEMBERS
        and _percentile(start.table_delays, 0.95) <= TARGET_SECONDS
        and max((len(users) for users in start.tables.values()), default=0) <= 4
    )
    rows = []
    for f in figures:
        ramp = f"{f.ramp_seconds:.1f}"
        rows.append(
            f"| {f.change.label} | {f.connected:,} / {MEMBERS:,} | {ramp} | "
            f"{f.quiet_seconds:.1f} | {len(f.delays):,} | {f.lost:,} | {_ms(f.delays, 0.5)} | "
            f"{_ms(f.delays, 0.95)} | {_ms(f.delays, 1.0)} | {_ms(f.server_delays, 0.95)} | "
            f"{_ms(f.server_delays, 1.0)} | {f.server_cpu_before:.2f} | "
            f"{f.server_cpu / BURST_SECONDS:.2f} |"
        )
    lines = [
        f"{MEMBERS:,} members (languages and {blocked} blocks among them as in "
        f"`bench_focus`'s power hour), each seated in a {MINUTES}-minute block and on its page "
        f"socket (`/ws/focus/focus-<block>/`), connected with at most {HANDSHAKES_IN_FLIGHT} "
        "handshakes in flight, each waiting for its `focus.hello`. The block's start is "
        f"written to its row {LEAD_SECONDS:.0f} s before the measured change, and the sockets "
        "connect after that (a socket's schedule is computed on connecting). Two changes, a "
        "block and a ramp each: *the start* (`focus.phase` check-in, then `focus.table` once "
        "the tables are drawn) and *the work* (a block whose tables were drawn, its sockets "
        "connected during the check-in). Delays run from the scheduled instant (the "
        "`ends_at` of the socket's `focus.hello`) to the frame's arrival, by `time.time()`, "
        "which all processes share; *sent by server* is the frame's own `now` minus the "
        f"scheduled instant. A socket that has not heard the change {COLLECT_SECONDS:.0f} s "
        "after it counts as lost. The server: docker-compose's web command with "
        f"WEB_CONCURRENCY={WEB_PROCESSES} (`BENCH_FOCUS_LIVE_WEB_PROCESSES`), DEBUG off, "
        "PostgreSQL, the Redis pub/sub channel layer on a Redis of the bench's own; its CPU "
        f"is that of all its processes, in cores. The clients run in {CLIENT_PROCESSES} forked "
        "asyncio processes on the same 2 cores. Pages ping every "
        f"{PING_INTERVAL:.0f} s. `BENCH_FOCUS_LIVE_MEMBERS` sets the number of members.\n",
        "| change | connected | ramp s | quiet before s | heard | lost | p50 ms | p95 ms | "
        "max ms | sent by server p95 ms | max ms | server CPU the second before | server CPU "
        f"the {BURST_SECONDS:.0f} s after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "| `focus.table` after the start | heard | first ms | p50 ms | p95 ms | max ms | tables "
        "(frames) | sizes | frames whose people differ | tables (database) | sizes | unseated |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        f"| | {len(start.table_delays):,} / {start.connected:,} | "
        f"{' | '.join(_ms(start.table_delays, q) for q in (0.0, 0.5, 0.95, 1.0))} | "
        f"{len(start.tables)} | {_sizes(start.tables)} | "
        f"{start.mates_wrong} | {len(start.stored_tables)} | {_sizes(start.stored_tables)} | "
        f"{start.unseated} |",
        "",
        f"Goals: every member hears each phase change within {TARGET_SECONDS:.0f} s (p95), "
        f"none lost: **{'met' if phases_met else 'not met'}**; every member told their table "
        f"(at most 4) within {TARGET_SECONDS:.0f} s of the start (p95): "
        f"**{'met' if tables_met else 'not met'}**.",
        "",
    ]
    for f in figures:
        lines.append(
            f"- {f.change.label}: `focus.hello` phases {_counts(f.greeted)}, "
            f"{f.schedules} scheduled instant(s); the change told twice to "
            f"{f.duplicates} socket(s) (the second at most {_ms(f.repeats, 1.0)} ms after the "
            f"first), `focus.table` twice to {f.table_duplicates}; sent before the instant by "
            f"the server's clock: {sum(1 for d in f.server_delays if d < 0)} (earliest "
            f"{_ms(f.server_delays, 0.0)} ms); other `focus.phase` frames: "
            f"{_counts(f.other_phases)}; error frames: {_counts(f.errors)}; failed handshake "
            f"attempts: {_counts(f.failures)}; disconnects: {_counts(f.disconnects)}. In the "
            f"{BURST_SECONDS:.0f} s after the change the machine was busy "
            f"{f.machine_cpu / BURST_SECONDS:.2f} of its 2 cores: server "
            f"{f.server_cpu / BURST_SECONDS:.2f}, clients {f.client_cpu / BURST_SECONDS:.2f}, "
            "the rest (PostgreSQL, Redis, anything else running) "
            f"{max(0.0, f.machine_cpu - f.server_cpu - f.client_cpu) / BURST_SECONDS:.2f}."
        )
    lines.append(
        "\nThe server's log goes to `bench/results/focus-live-server.log`; with "
        "`BENCH_ROOMS_PY_SPY` set to a py-spy binary, the second before each change and the "
        f"{BURST_SECONDS:.0f} s after it are sampled into "
        "`bench/results/rooms-focus-<phase>.txt`."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--setup"]:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(setup_power_hour(int(sys.argv[2]))))
    else:
        sys.exit("usage: bench_focus_live.py --setup COUNT (or: bench/run.py focus_live)")

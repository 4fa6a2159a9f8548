"""The stage's media server: one speaker publishing 720p video and audio to N receive-only
subscribers through Janus on this machine (docs/stage.md).

Janus is Debian's, started with the configuration the site writes (`stage.janus.config_files`);
the room is made, and every participant joined, by the site's own client (`stage.janus.Janus`)
on the handle of a browser session opened with a token the site signed, as in
tests/test_stage_media.py.

- **The speaker**: an aiortc peer in a process of its own, publishing Opus audio (aiortc's
  generated silence, 50 packets/s) and 1280x720 VP8 at 30 fps: FFmpeg's `testsrc2` picture
  (moving) with temporal grain, encoded by aiortc (libvpx, realtime) at the bitrate the room
  caps it to (Janus's REMB): 1.5 Mbps, aiortc's ceiling and the low end of what a browser
  sends for a 720p camera.
- **The audience**: aiortc peers in `SUBSCRIBER_PROCESSES` processes (many per asyncio loop),
  each with its own Janus session, joined as a subscriber to the speaker's feed. They do not
  decode: each receiver's RTP handler is replaced by a counter (after aiortc's SRTP and RTP
  parsing, before its jitter buffer and decoder), which keeps per stream the packets received
  and the highest (extended) sequence number, so loss is what the sequence numbers say went
  missing. They send no NACKs, so Janus retransmits nothing: the loss is the raw loss a
  browser would then have to repair.
- **Steps**: the audience grows to each N in `STEPS`; after `SETTLE_SECONDS` the bench measures
  for `MEASURE_SECONDS`: CPU of Janus, the speaker and the audience's processes (utime + stime
  from /proc), the machine's idle time (/proc/stat), packets expected and received by every
  subscriber, and where datagrams were dropped (the kernel's per-socket UDP drop counters,
  /proc/net/udp, mapped to processes by their sockets). It stops after the first step whose
  loss passes 1 %, or when the time left cannot hold another step.

Everything runs on this machine: Janus gathers its candidates on the host's own address, which
the kernel delivers locally; the peers use no STUN server.
"""

import asyncio
import contextlib
import multiprocessing
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from aiortc.rtp import RtpPacket
from av.video.frame import PictureType, VideoFrame

from bench.bench_rooms import _free_port, _raise_open_files_limit
from bench.quick import sized
from bench.server import run_within
from stage.janus import Janus, JanusError, JanusSettings, browser_token, config_files, room_pin
from tests.janus_peer import BrowserSession

ROOT = Path(__file__).resolve().parent.parent
TITLE = "Stage: one 720p speaker to N subscribers through Janus"
STEPS = tuple(
    int(n)
    for n in os.environ.get(
        "BENCH_STAGE_STEPS", sized("10,25,50,75,100,125,150,200,250,300", "2")
    ).split(",")
)
SUBSCRIBER_PROCESSES = int(os.environ.get("BENCH_STAGE_PROCESSES", "2"))
MEASURE_SECONDS = float(os.environ.get("BENCH_STAGE_SECONDS", sized("20", "3")))
SETTLE_SECONDS = sized(5.0, 1.0)
BASELINE_SECONDS = sized(10.0, 2.0)  # the speaker alone, before any subscriber
JOINS_IN_FLIGHT = 5  # per process
JOIN_LIMIT = 30.0  # seconds for one subscriber to connect
GROW_LIMIT = 180.0  # seconds for one step's new subscribers
LOSS_LIMIT = 0.01
STALLED = 0.9  # a subscriber with fewer packets than this share of the median is stalled
TIME_LIMIT = 600
WIDTH, HEIGHT, FPS = 1280, 720, 30
BITRATE = 1_500_000
PICTURES = 60  # frames rendered once and sent over and over
PICTURE = f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS},noise=alls=4:allf=t"
FEED = 1001
RTP_PORTS = (41000, 42999)
TICKS = os.sysconf("SC_CLK_TCK")
NO_STUN = RTCConfiguration(iceServers=[])


@dataclass(frozen=True)
class Room:
    """What the site keeps of the stage's room: members join it with its PIN and token."""

    number: int
    pin: str
    secret: str
    token: str


def _join(conf: JanusSettings, room: Room, session: int, handle: int, **fields: Any) -> None:
    """The site joins a browser's handle to the room (`Janus.on_behalf`)."""
    body = {"request": "join", "room": room.number, "pin": room.pin, "token": room.token}
    with Janus(conf) as site:
        site.on_behalf(session=session, handle=handle, body={**body, **fields})


async def _joined(
    conf: JanusSettings, room: Room, session: int, handle: int, **fields: Any
) -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, lambda: _join(conf, room, session, handle, **fields))


async def _jsep_from_janus(session: BrowserSession, handle: int) -> RTCSessionDescription:
    """Janus's next SDP on the handle: its answer to a publisher, its offer to a subscriber."""
    while True:
        event = await session.event(handle, timeout=JOIN_LIMIT)
        if "jsep" in event:
            return RTCSessionDescription(event["jsep"]["sdp"], event["jsep"]["type"])


async def _connected(connection: RTCPeerConnection, limit: float) -> None:
    deadline = time.monotonic() + limit
    while connection.connectionState != "connected":
        if connection.connectionState == "failed" or time.monotonic() > deadline:
            raise TimeoutError(f"connection {connection.connectionState}")
        await asyncio.sleep(0.1)


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


# The speaker ----------------------------------------------------------------------------------


class Camera(VideoStreamTrack):
    """1280x720 at 30 fps: `PICTURES` frames of FFmpeg's moving test picture with grain,
    rendered once; the encoder still encodes every frame it is given."""

    def __init__(self) -> None:
        super().__init__()
        source = av.open(PICTURE, format="lavfi")
        self.pictures: list[VideoFrame] = []
        for frame in source.decode(video=0):
            self.pictures.append(frame.reformat(format="yuv420p"))
            if len(self.pictures) == PICTURES:
                break
        source.close()
        self.frames = 0

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = self.pictures[self.frames % PICTURES]
        frame.pts, frame.time_base = pts, time_base
        # aiortc marks a frame as a keyframe when one was asked for; not the next time round.
        frame.pict_type = PictureType.NONE
        self.frames += 1
        return frame


async def _speaker(
    url: str, token: str, conf: JanusSettings, room: Room, inbox: "Queue[Any]", out: "Queue[Any]"
) -> None:
    loop = asyncio.get_running_loop()
    session = await BrowserSession(url, token).open()
    handle = await session.handle()
    await _joined(conf, room, session.session, handle, ptype="publisher", id=FEED)
    await session.event(handle)  # joined
    camera = Camera()
    connection = RTCPeerConnection(NO_STUN)
    connection.addTrack(AudioStreamTrack())
    connection.addTrack(camera)
    await connection.setLocalDescription(await connection.createOffer())
    offer = connection.localDescription
    await session.message(
        handle,
        {"request": "publish", "audio": True, "video": True},
        {"type": offer.type, "sdp": offer.sdp, "trickle": False},
    )
    await connection.setRemoteDescription(await _jsep_from_janus(session, handle))
    await _connected(connection, JOIN_LIMIT)
    out.put(("speaker", "ready", None))
    while True:
        command, _count = await loop.run_in_executor(None, inbox.get)
        if command == "stop":
            break
        sent: dict[str, tuple[int, int, int]] = {}
        for sender in connection.getSenders():
            report = await sender.getStats()
            outbound = next(s for s in report.values() if s.type == "outbound-rtp")
            remote = [s for s in report.values() if s.type == "remote-inbound-rtp"]
            lost = remote[0].packetsLost if remote else 0
            sent[outbound.kind] = (outbound.packetsSent, outbound.bytesSent, lost)
        out.put(("speaker", "snapshot", (camera.frames, sent)))
    await connection.close()
    await session.close()
    out.put(("speaker", "stopped", None))


def _speaker_process(*args: Any) -> None:
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    asyncio.run(_speaker(*args))


# The audience ---------------------------------------------------------------------------------


class Stream:
    """One received stream, counted instead of depacketized and decoded: packets received,
    the highest sequence number (extended past 65,535), frames (RTP marker bits, video)."""

    def __init__(self) -> None:
        self.ssrc: int | None = None
        self.received = 0
        self.highest = -1
        self.frames = 0
        self.other = 0  # packets of another SSRC (retransmissions, which we never ask for)

    async def packet(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        if self.ssrc is None:
            self.ssrc = packet.ssrc
            self.highest = packet.sequence_number
        elif packet.ssrc != self.ssrc:
            self.other += 1
            return
        else:
            ahead = (packet.sequence_number - self.highest) & 0xFFFF
            if ahead < 0x8000:  # not a late one
                self.highest += ahead
        self.received += 1
        self.frames += packet.marker

    def snapshot(self) -> tuple[int, int, int, int]:
        return self.received, self.highest, self.frames, self.other


class Subscriber:
    """A page that only watches: its own Janus session, one peer connection, no decoding."""

    def __init__(self) -> None:
        self.connection = RTCPeerConnection(NO_STUN)
        self.streams: dict[str, Stream] = {}
        self.session: BrowserSession | None = None

    async def join(self, url: str, token: str, conf: JanusSettings, room: Room) -> None:
        self.session = session = await BrowserSession(url, token).open()
        handle = await session.handle()
        streams = [{"feed": FEED}]
        await _joined(conf, room, session.session, handle, ptype="subscriber", streams=streams)
        await self.connection.setRemoteDescription(await _jsep_from_janus(session, handle))
        for transceiver in self.connection.getTransceivers():
            stream = self.streams[transceiver.kind] = Stream()
            # Count the packets where aiortc would depacketize and decode them.
            transceiver.receiver._handle_rtp_packet = stream.packet  # type: ignore[method-assign]
        await self.connection.setLocalDescription(await self.connection.createAnswer())
        answer = self.connection.localDescription
        await session.message(
            handle,
            {"request": "start"},
            {"type": answer.type, "sdp": answer.sdp, "trickle": False},
        )
        await _connected(self.connection, JOIN_LIMIT)

    def snapshot(self) -> dict[str, tuple[int, int, int, int]]:
        return {kind: stream.snapshot() for kind, stream in self.streams.items()}

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.connection.close(), 5)
        if self.session is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.session.close(), 5)


async def _audience(
    name: str,
    url: str,
    token: str,
    conf: JanusSettings,
    room: Room,
    inbox: "Queue[Any]",
    out: "Queue[Any]",
) -> None:
    loop = asyncio.get_running_loop()
    subscribers: list[Subscriber] = []
    gate = asyncio.Semaphore(JOINS_IN_FLIGHT)

    async def one() -> Subscriber | str:
        async with gate:
            subscriber = Subscriber()
            try:
                await asyncio.wait_for(subscriber.join(url, token, conf, room), JOIN_LIMIT)
            except Exception as exc:
                await subscriber.close()
                return type(exc).__name__
            return subscriber

    while True:
        command, count = await loop.run_in_executor(None, inbox.get)
        if command == "grow":
            failures: Counter[str] = Counter()
            for result in await asyncio.gather(*(one() for _ in range(count))):
                if isinstance(result, Subscriber):
                    subscribers.append(result)
                else:
                    failures[result] += 1
            out.put((name, "grown", (len(subscribers), failures)))
        elif command == "snapshot":
            out.put((name, "snapshot", [s.snapshot() for s in subscribers]))
        else:
            await asyncio.gather(*(s.close() for s in subscribers))
            out.put((name, "stopped", None))
            return


def _audience_process(*args: Any) -> None:
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    asyncio.run(_audience(*args))


# Measuring ------------------------------------------------------------------------------------


def _machine_busy() -> tuple[float, float, float]:
    """(busy, all, interrupts) CPU seconds of the whole machine since boot, all cores;
    interrupts (irq, softirq) are where the kernel delivers packets when it accounts for
    them apart from the processes."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    everything = sum(values[:8])
    return (everything - idle) / TICKS, everything / TICKS, (values[5] + values[6]) / TICKS


def _socket_drops(pids: dict[str, list[int]]) -> Counter[str]:
    """Datagrams the kernel dropped because a socket's receive buffer was full, by owner."""
    owner: dict[str, str] = {}
    for name, numbers in pids.items():
        for pid in numbers:
            with contextlib.suppress(OSError):
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    with contextlib.suppress(OSError):
                        link = os.readlink(f"/proc/{pid}/fd/{fd}")
                        if link.startswith("socket:["):
                            owner[link[8:-1]] = name
    drops: Counter[str] = Counter()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                columns = line.split()
                drops[owner.get(columns[9], "other")] += int(columns[-1])
    return drops


def _udp_errors() -> dict[str, int]:
    lines = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines()]
    names, values = [line for line in lines if line[0] == "Udp:"][:2]
    return dict(zip(names[1:], (int(v) for v in values[1:]), strict=True))


@dataclass
class Reading:
    at: float
    cpu: dict[str, float]
    machine: tuple[float, float, float]
    drops: Counter[str]
    errors: dict[str, int]
    speaker: tuple[int, dict[str, tuple[int, int, int]]]
    audience: list[dict[str, tuple[int, int, int, int]]]


@dataclass
class Step:
    subscribers: int
    wanted: int
    seconds: float
    cpu: dict[str, float]  # share of one core over the window
    machine: float  # the whole machine's busy share, in cores
    interrupts: float  # of which the kernel's interrupt handling, in cores
    drops: Counter[str]
    errors: dict[str, int]
    fps_sent: float
    bitrate: float  # video, bits/s, as the speaker sent it
    lost_to_janus: int  # packets Janus reported missing from the speaker (its RTCP RR)
    sent: dict[str, int]  # packets the speaker sent, by kind
    expected: int = 0
    received: int = 0
    stalled: int = 0
    worst: float = 0.0  # the worst subscriber's loss
    over_limit: int = 0  # subscribers whose loss passed LOSS_LIMIT
    fps_received: float = 0.0  # video frames per second, mean over subscribers
    retransmitted: int = 0
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def loss(self) -> float:
        return (self.expected - self.received) / self.expected if self.expected else 0.0


class Bench:
    def __init__(self, janus: subprocess.Popen[bytes]) -> None:
        self.ctx = multiprocessing.get_context("fork")
        self.out: Queue[Any] = self.ctx.Queue()
        self.janus = janus
        self.inboxes: dict[str, Queue[Any]] = {}
        self.processes: dict[str, Any] = {}
        self.counts: dict[str, int] = {}
        self.failures: Counter[str] = Counter()

    def start(self, name: str, target: Any, *args: Any) -> None:
        inbox: Queue[Any] = self.ctx.Queue()
        process = self.ctx.Process(target=target, args=(*args, inbox, self.out), daemon=True)
        process.start()
        self.inboxes[name], self.processes[name] = inbox, process

    def answers(self, names: list[str], kind: str, limit: float) -> dict[str, Any]:
        got: dict[str, Any] = {}
        deadline = time.monotonic() + limit
        while len(got) < len(names):
            name, answer, data = self.out.get(timeout=max(0.1, deadline - time.monotonic()))
            if answer != kind:
                raise RuntimeError(f"{name} answered {answer}, not {kind}")
            got[name] = data
        return got

    @property
    def audience(self) -> list[str]:
        return [name for name in self.processes if name != "speaker"]

    def grow(self, total: int) -> None:
        have = sum(self.counts.values())
        shares = Counter(
            self.audience[(have + k) % len(self.audience)] for k in range(total - have)
        )
        for name, count in shares.items():
            self.inboxes[name].put(("grow", count))
        for name, (count, failures) in self.answers(list(shares), "grown", GROW_LIMIT).items():
            self.counts[name] = count
            self.failures += failures

    def pids(self) -> dict[str, list[int]]:
        audience = [self.processes[name].pid for name in self.audience]
        return {
            "janus": [self.janus.pid],
            "speaker": [self.processes["speaker"].pid],
            "audience": audience,
        }

    def read(self) -> Reading:
        pids = self.pids()
        cpu = {name: sum(_cpu_seconds(pid) for pid in numbers) for name, numbers in pids.items()}
        at, machine = time.monotonic(), _machine_busy()
        for name in self.processes:
            self.inboxes[name].put(("snapshot", 0))
        snapshots = self.answers(list(self.processes), "snapshot", 30)
        return Reading(
            at=at,
            cpu=cpu,
            machine=machine,
            drops=_socket_drops(pids),
            errors=_udp_errors(),
            speaker=snapshots["speaker"],
            audience=[s for name in self.audience for s in snapshots[name]],
        )

    def measure(self, wanted: int, seconds: float) -> Step:
        before = self.read()
        time.sleep(seconds)
        after = self.read()
        return _step(before, after, wanted, self.failures)

    def stop(self) -> None:
        for inbox in self.inboxes.values():
            inbox.put(("stop", 0))
        with contextlib.suppress(Exception):
            self.answers(list(self.processes), "stopped", 20)
        for process in self.processes.values():
            process.join(timeout=2)
            if process.is_alive():
                process.kill()


def _step(before: Reading, after: Reading, wanted: int, failures: Counter[str]) -> Step:
    seconds = after.at - before.at
    frames_before, sent_before = before.speaker
    frames_after, sent_after = after.speaker
    elapsed, cores = after.machine[1] - before.machine[1], os.cpu_count() or 1
    sent = {kind: sent_after[kind][0] - sent_before[kind][0] for kind in sent_after}
    step = Step(
        subscribers=len(after.audience),
        wanted=wanted,
        seconds=seconds,
        cpu={name: (after.cpu[name] - before.cpu[name]) / seconds for name in after.cpu},
        machine=(after.machine[0] - before.machine[0]) / elapsed * cores,
        interrupts=(after.machine[2] - before.machine[2]) / elapsed * cores,
        drops=after.drops - before.drops,
        errors={name: after.errors[name] - before.errors[name] for name in after.errors},
        fps_sent=(frames_after - frames_before) / seconds,
        bitrate=(sent_after["video"][1] - sent_before["video"][1]) * 8 / seconds,
        lost_to_janus=sum(sent_after[k][2] - sent_before[k][2] for k in sent_after),
        sent=sent,
        failures=Counter(failures),
    )
    # Per subscriber and stream: expected from the sequence numbers, unless it stalled (then
    # the median subscriber's count stands for what it should have had).
    pairs = list(zip(before.audience, after.audience, strict=False))
    fps = []
    for kind in ("audio", "video"):
        spans = [
            (a[kind][1] - b[kind][1] if b[kind][1] >= 0 else 0, a[kind][0] - b[kind][0])
            for b, a in pairs
        ]
        median = statistics.median(span for span, _got in spans) if spans else 0
        for (span, got), (b, a) in zip(spans, pairs, strict=True):
            expected = span
            if span < STALLED * median:
                step.stalled += 1
                expected = round(median)
            step.expected += expected
            step.received += min(got, expected)
            step.retransmitted += a[kind][3] - b[kind][3]
            if expected:
                lost = (expected - min(got, expected)) / expected
                step.worst = max(step.worst, lost)
                step.over_limit += lost > LOSS_LIMIT
            if kind == "video":
                fps.append((a[kind][2] - b[kind][2]) / seconds)
    step.fps_received = statistics.mean(fps) if fps else 0.0
    return step


# The run --------------------------------------------------------------------------------------


@contextlib.contextmanager
def _janus(folder: Path, log: Path) -> Iterator[tuple[JanusSettings, subprocess.Popen[bytes]]]:
    binary = shutil.which("janus")
    if not binary:
        raise RuntimeError("Janus is not installed: `make system-deps` installs Debian's package.")
    conf = JanusSettings(
        http_port=_free_port(),
        api_secret=secrets.token_urlsafe(16),
        room_admin_key=secrets.token_urlsafe(16),
        token_secret=secrets.token_urlsafe(16),
        rtp_ports=RTP_PORTS,
    )
    for name, text in config_files(conf, folder=str(folder)).items():
        (folder / name).write_text(text)
    with log.open("w") as output:
        janus = subprocess.Popen(
            [binary, "-F", str(folder), "-C", str(folder / "janus.jcfg")],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                Janus(conf).info()
                break
            except JanusError:
                if janus.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log.read_text()[-2000:]) from None
                time.sleep(0.1)
        yield conf, janus
    finally:
        janus.terminate()
        try:
            janus.wait(timeout=10)
        except subprocess.TimeoutExpired:
            janus.kill()
            janus.wait()


def _room(conf: JanusSettings) -> Room:
    room = Room(secrets.randbelow(2**40) + 1, room_pin(), room_pin(), secrets.token_urlsafe(12))
    with Janus(conf) as site:
        site.room_create(
            room=room.number,
            description="Bench",
            pin=room.pin,
            secret=room.secret,
            publishers=7,
            allowed=[room.token],
        )
        # The speaker's bitrate cap, which Janus sends the speaker as REMB.
        site.request(
            {"request": "edit", "room": room.number, "secret": room.secret, "new_bitrate": BITRATE}
        )
    return room


def _load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def run() -> str:
    _raise_open_files_limit()
    return run_within(TIME_LIMIT, "stage", _run)


def _run() -> str:
    started = time.monotonic()
    logs = ROOT / "bench" / "results"
    logs.mkdir(exist_ok=True)
    load_before = _load()
    with (
        tempfile.TemporaryDirectory() as folder,
        _janus(Path(folder), logs / "stage-janus.log") as (conf, janus),
    ):
        room = _room(conf)
        url = f"http://127.0.0.1:{conf.http_port}/janus"
        token = browser_token(conf, ttl_seconds=TIME_LIMIT + 300)
        bench = Bench(janus)
        steps: list[Step] = []
        ended = ""
        try:
            bench.start("speaker", _speaker_process, url, token, conf, room)
            bench.answers(["speaker"], "ready", 60)
            for n in range(SUBSCRIBER_PROCESSES):
                name = f"audience-{n}"
                bench.start(name, _audience_process, name, url, token, conf, room)
                bench.counts[name] = 0
            time.sleep(SETTLE_SECONDS)
            baseline = bench.measure(0, BASELINE_SECONDS)
            last_step = BASELINE_SECONDS
            for wanted in STEPS:
                # A step takes about as long as the last one, growing with the audience.
                needed = last_step * 1.5 + SETTLE_SECONDS + MEASURE_SECONDS + 30
                if time.monotonic() - started + needed > TIME_LIMIT - 30:
                    ended = f"stopped before {wanted}: no time left within {TIME_LIMIT} s"
                    break
                step_started = time.monotonic()
                bench.grow(wanted)
                time.sleep(SETTLE_SECONDS)
                step = bench.measure(wanted, MEASURE_SECONDS)
                steps.append(step)
                last_step = time.monotonic() - step_started
                print(f"{_row(step, baseline)} {last_step:.0f} s", flush=True)
                if step.loss > LOSS_LIMIT:
                    break
        finally:
            bench.stop()
    return _report(baseline, steps, ended, load_before, _load())


def _row(step: Step, baseline: Step) -> str:
    n = max(1, step.subscribers)
    janus = step.cpu["janus"] * 100
    per = (step.cpu["janus"] - baseline.cpu["janus"]) / n * 100
    audience = step.cpu["audience"] * 100
    # Readings of /proc a moment apart can leave a few % either way.
    rest = max(0.0, (step.machine - sum(step.cpu.values())) * 100)
    return (
        f"| {step.subscribers}"
        + (f" of {step.wanted}" if step.subscribers != step.wanted else "")
        + f" | {janus:.0f} % | {per:.2f} % | {step.cpu['speaker'] * 100:.0f} % "
        f"| {audience:.0f} % ({audience / n:.2f} % each) | {rest:.0f} % "
        f"| {step.machine * 100:.0f} % | {step.fps_sent:.1f} / {step.fps_received:.1f} "
        f"| {step.expected:,} / {step.received:,} | **{step.loss * 100:.2f} %** "
        f"| {step.over_limit} ({step.worst * 100:.1f} %) "
        f"| {step.drops['audience']:,} / {step.drops['janus']:,} |"
    )


def _where_lost(step: Step) -> str:
    lost = step.expected - step.received
    if not lost:
        return "nothing was lost"
    clients, janus = step.drops["audience"], step.drops["janus"]
    elsewhere = max(0, lost - clients)
    return (
        f"{lost:,} packets; the kernel dropped {clients:,} datagrams at the subscribers' "
        "own sockets (receive buffers full: the client processes did not read them in "
        f"time) and {janus:,} at Janus's (Janus reported {step.lost_to_janus:,} of the "
        "speaker's packets missing, which every subscriber then misses); "
        + (
            f"the other {elsewhere:,} are not among the drops the sockets counted in the "
            "window: dropped before it (the clients ran behind) or never sent by Janus"
            if elsewhere > 0.05 * lost
            else "so the loss was at the test's clients"
        )
        + f" (Janus's failed sends, SndbufErrors: {step.errors.get('SndbufErrors', 0):,})"
    )


def _limits(passed: Step | None, janus_mean: float, client_mean: float, packets: float) -> str:
    """The paragraph on what limits the figures on this machine, from what was measured."""
    text = (
        "**What limits it here.** The 2 cores carry Janus, the speaker's encoder and every "
        "subscriber's client at once (and whatever else runs on the machine), and a client "
        f"in Python costs {client_mean * 100:.2f} % of a core per subscriber against "
        f"Janus's {janus_mean * 100:.2f} %. "
    )
    if passed is None:
        text += "Up to the last step nothing ran out yet. "
    else:
        lost = passed.expected - passed.received
        rest = (passed.machine - sum(passed.cpu.values())) * 100
        text += (
            f"At N = {passed.subscribers} the machine was {passed.machine * 100:.0f} % busy "
            f"(of 200 %; {rest:.0f} % of it neither Janus nor the test), that is out of "
            "CPU: "
        )
        if passed.drops["audience"] >= 0.5 * lost:
            text += (
                "the client processes fell behind first and the kernel dropped what their "
                "sockets could not hold"
            )
        else:
            text += "most packets were lost before they reached the clients' sockets"
        if passed.drops["janus"] or passed.lost_to_janus:
            text += (
                f", and Janus itself, short of CPU, dropped {passed.drops['janus']:,} "
                "datagrams at its own sockets"
            )
        text += ". On a machine of its own (clients elsewhere) Janus would go further. "
    if not janus_mean > 0:
        return text
    return text + (
        f"Janus's own work grows in step with N, at {packets:.0f} packets/s per "
        "subscriber: on a host of its own, one core of Janus would carry roughly "
        f"{1 / janus_mean:.0f} such subscribers, and 100 subscribers cost it about "
        f"{janus_mean * 100 * 100:.0f} % of one core (a straight line through the steps "
        "below 1 % loss; extrapolated beyond the largest of them). Its threads (one per "
        "handle) spread over the cores."
    )


def _other_work(steps: list[Step]) -> str:
    rests = [(s.machine - s.interrupts - sum(s.cpu.values())) * 100 for s in steps]
    if not rests:
        return ""
    interrupts = max(s.interrupts for s in steps) * 100
    return (
        "'Rest of the machine' is what the machine was busy with besides Janus, the speaker "
        f"and the subscribers: the kernel's interrupt handling (at most {interrupts:.0f} % "
        "here; packet delivery it charges to the processes is in their figures) and other "
        "processes. "
        + (
            f"Other work ran during this run: {max(0, min(rests)):.0f} to "
            f"{max(rests):.0f} % of one core over the steps, besides interrupts."
            if max(rests) > 10
            else "Little else ran during this run."
        )
    )


def _report(
    baseline: Step, steps: list[Step], ended: str, load_before: str, load_after: str
) -> str:
    passed = next((s for s in steps if s.loss > LOSS_LIMIT), None)
    below = [s for s in steps if s.loss <= LOSS_LIMIT]
    if passed is not None:
        other = (passed.machine - passed.interrupts - sum(passed.cpu.values())) * 100
        verdict = (
            f"loss passes 1 % at **N = {passed.subscribers}**"
            + (f" (below it at {below[-1].subscribers})" if below else "")
            + (f", while other work took {other:.0f} % of a core" if other > 10 else "")
        )
    elif steps:
        verdict = f"loss **not past 1 % up to N = {steps[-1].subscribers}**"
    else:
        verdict = "no step measured"
    goal = next((s for s in steps if s.wanted == 100), None)
    if goal is None:
        goal_text = "not measured"
    else:
        goal_text = "met" if goal.loss < LOSS_LIMIT and goal.subscribers == 100 else "missed"
    # Saturated steps cost Janus more per subscriber (threads contending for the cores).
    measured = [s for s in steps if s.subscribers and s.loss <= LOSS_LIMIT]
    # Per subscriber overall: the slope of a straight line through the steps and the speaker
    # alone (small steps alone are noisy).
    janus_mean, client_mean = float("nan"), float("nan")
    if measured:
        ns = [0, *(s.subscribers for s in measured)]
        for name in ("janus", "audience"):
            cpu = [baseline.cpu[name], *(s.cpu[name] for s in measured)]
            slope = statistics.linear_regression(ns, cpu).slope
            if name == "janus":
                janus_mean = slope
            else:
                client_mean = slope
    packets = sum(baseline.sent.values()) / baseline.seconds
    egress = (baseline.bitrate + 40_000) / 1e6  # and Opus with its headers, about 40 kbps
    largest = steps[-1] if steps else baseline
    failures = sum((s.failures for s in steps[-1:]), Counter())
    sustained = (
        f"aiortc sustained 720p at {baseline.fps_sent:.1f} fps"
        if baseline.fps_sent >= FPS - 0.5
        else f"aiortc did not sustain 720p30 here: it encoded {baseline.fps_sent:.1f} fps"
    )
    # Subscribers that handled clearly less than the speaker sent in the window were falling
    # behind: their backlog grows, and their loss would have grown with a longer window.
    behind = [
        f"{s.subscribers} ({s.expected / (sum(s.sent.values()) * s.subscribers) * 100:.0f} %)"
        for s in steps
        if s.subscribers and s.expected < 0.95 * sum(s.sent.values()) * s.subscribers
    ]
    lines = [
        "One speaker (aiortc, its own process) publishes Opus audio and 1280x720 VP8 at "
        f"{FPS} fps (FFmpeg's moving `testsrc2` with grain, capped by the room at "
        f"{BITRATE / 1e6:.1f} Mbps) into a Janus VideoRoom room the site made; N subscribers "
        f"(aiortc, {SUBSCRIBER_PROCESSES} processes, each subscriber with its own Janus "
        "session, joined by the site on its behalf) receive it without decoding: each "
        "receiver's RTP handler is replaced by a counter of packets and sequence numbers, "
        "after SRTP and RTP parsing; no NACKs are sent, so the loss is raw, before any "
        "retransmission. Each step: the audience grows to N, settles "
        f"{SETTLE_SECONDS:.0f} s, then {MEASURE_SECONDS:.0f} s are measured. CPU is "
        "utime + stime from /proc in % of one core (the machine has 2 cores: 200 %). Janus per "
        f"subscriber is over the speaker alone (Janus at {baseline.cpu['janus'] * 100:.1f} % "
        f"with no subscriber). The speaker alone: its process at "
        f"{baseline.cpu['speaker'] * 100:.0f} % ({sustained}, "
        f"{baseline.bitrate / 1e6:.2f} Mbps of video, "
        f"{baseline.sent.get('video', 0) / baseline.seconds:.0f} video + "
        f"{baseline.sent.get('audio', 0) / baseline.seconds:.0f} audio packets/s).\n",
        "| N | Janus CPU | Janus per subscriber | speaker CPU | subscribers' CPU | rest of "
        "the machine | machine busy | video fps sent / received | packets expected / "
        "received | loss | subscribers over 1 % (worst) | UDP drops at subscribers / Janus |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        *[_row(step, baseline) for step in steps],
        "",
        f"**Result**: {verdict}; the goal (100 subscribers with < 1 % loss on this "
        f"machine): **{goal_text}**."
        + (f" ({ended}.)" if ended else "")
        + (
            " The subscribers fell behind (handled less than the speaker sent in the window, "
            f"so their loss would have grown with a longer window) at N = {', '.join(behind)}."
            if behind
            else ""
        ),
        "",
        "- Per subscriber, the slope of a straight line through the steps (and the speaker "
        f"alone): Janus {janus_mean * 100:.2f} % of a core, one subscriber's client "
        f"(aiortc, counting only) {client_mean * 100:.2f} %.",
        f"- Where the largest step lost packets: {_where_lost(largest)}. Stalled subscriber "
        f"streams {largest.stalled}; packets of other SSRCs (retransmissions) "
        f"{largest.retransmitted}; failed joins "
        f"{', '.join(f'{k} ×{v}' for k, v in failures.items()) or 'none'}.",
        f"- {_other_work(steps)} Load average before the run {load_before}, after it "
        f"{load_after} (it counts Janus's and the clients' runnable threads too).",
        "",
        _limits(passed, janus_mean, client_mean, packets),
        "",
        "**How a larger event scales.** Janus forwards without transcoding: its work, and "
        f"its outgoing traffic, grow with every subscriber. Each gets the speaker's "
        f"{egress:.1f} Mbps, so 300 attendees take about {egress * 300:.0f} Mbps out of "
        f"the host and, by the figure above, about {janus_mean * 300:.1f} cores of Janus; "
        "two or three speakers on stage multiply both. The way to carry that is several "
        "Janus instances, each an independent process with its own configuration, one per "
        'event, chosen by Django, as docs/stage.md ("Capacity and scaling out") plans and '
        "has not built yet: the site picks the least loaded instance when the stage starts, "
        "records it on the stage, and hands its URL to the pages; every token, join and "
        "kick for that event goes there. Since the cost is subscribers × bitrate, the "
        "audience the instance's running and booked stages expect is a fair measure of "
        "its load, known before anyone joins. "
        "Instances share nothing, so losing one ends only its events. One event "
        "larger than an instance can be split: VideoRoom's remote publishers "
        "(`publish_remotely` on the speaker's instance, `add_remote_publisher` on the "
        "others; both in Debian's 1.1.2 plugin) forward the speakers' feeds to further "
        "instances, and Django sends each attendee to one of them. That, and simulcast "
        "(lower layers for weak connections), are not measured here.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(run())

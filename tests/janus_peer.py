"""A browser's side of the stage, in Python: a Janus session opened with the token the site
gives a member's page, and aiortc peer connections that publish generated audio and video
or receive a room's feeds and count what arrives. The site's side (joining the handle to
the room) is the caller's: `stage.janus.Janus.on_behalf`, or a stage frame over the socket.
Used by tests/test_stage_media.py and bench/bench_stage.py."""

import asyncio
import contextlib
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from av import VideoFrame


class SmallVideoTrack(VideoStreamTrack):
    """A camera of 160×120 grey frames: real video for Janus to forward, at a fraction of
    the encoding and decoding work of aiortc's default 640×480 (tests share 2 cores)."""

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=160, height=120)
        for plane in frame.planes:
            plane.update(bytes([128]) * plane.buffer_size)
        frame.pts, frame.time_base = pts, time_base
        return frame


class JanusRefused(Exception):
    def __init__(self, answer: dict[str, Any]) -> None:
        error = answer.get("error") or answer.get("plugindata", {}).get("data", {})
        super().__init__(json.dumps(error))
        self.code = error.get("code") or error.get("error_code")


def peer_connection() -> RTCPeerConnection:
    """Loopback only: no STUN server (aiortc's default is a public one, out of reach here)."""
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


def _fetch(url: str, body: dict[str, Any] | None = None, timeout: float = 35) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer: dict[str, Any] = json.load(response)
    return answer


class BrowserSession:
    """One Janus session of a page, on its token: `handle()` attaches to the VideoRoom
    plugin; the session's events (the long poll) go to each handle's queue."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.session = 0
        self.events: dict[int, asyncio.Queue[dict[str, Any]]] = {}
        self._poller: asyncio.Task[None] | None = None
        # Its own threads: the long poll's may outlive the session by up to 30 s, which
        # the event loop's default executor would wait for when it closes.
        self._threads = ThreadPoolExecutor(max_workers=2)

    async def _in_thread(self, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return await asyncio.get_running_loop().run_in_executor(self._threads, _fetch, url, body)

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": secrets.token_hex(6), "token": self.token}
        answer = await self._in_thread(self.url + path, body)
        if answer.get("janus") == "error":
            raise JanusRefused(answer)
        return answer

    async def open(self) -> "BrowserSession":
        self.session = int((await self._post("", {"janus": "create"}))["data"]["id"])
        self._poller = asyncio.create_task(self._poll())
        return self

    async def handle(self) -> int:
        answer = await self._post(
            f"/{self.session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"}
        )
        handle = int(answer["data"]["id"])
        self.events[handle] = asyncio.Queue()
        return handle

    async def message(
        self, handle: int, body: dict[str, Any], jsep: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        request: dict[str, Any] = {"janus": "message", "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        return await self._post(f"/{self.session}/{handle}", request)

    async def event(self, handle: int, timeout: float = 15) -> dict[str, Any]:
        """The handle's next plugin event; JanusRefused if it is an error."""
        while True:
            event = await asyncio.wait_for(self.events[handle].get(), timeout)
            if event.get("janus") != "event":
                continue  # webrtcup, media, slowlink...: not what the caller waits for
            if "error_code" in event.get("plugindata", {}).get("data", {}):
                raise JanusRefused(event)
            return event

    async def _poll(self) -> None:
        query = urllib.parse.urlencode({"token": self.token, "maxev": 10})
        while True:
            try:
                answer = await self._in_thread(f"{self.url}/{self.session}?{query}")
            except (urllib.error.URLError, OSError):
                await asyncio.sleep(0.5)
                continue
            for event in answer if isinstance(answer, list) else [answer]:
                queue = self.events.get(int(event.get("sender", 0)))
                if queue is not None:
                    queue.put_nowait(event)

    async def close(self) -> None:
        with contextlib.suppress(JanusRefused, urllib.error.URLError, OSError):  # gone already
            await self._post(f"/{self.session}", {"janus": "destroy"})
        if self._poller is not None:
            self._poller.cancel()
        self._threads.shutdown(wait=False)


async def publish(session: BrowserSession, handle: int) -> RTCPeerConnection:
    """Publish generated audio and video on a handle the site joined as a publisher (its
    `joined` event must have arrived); returns once the media flow (Janus has the feed:
    subscribers may join it)."""
    connection = peer_connection()
    connection.addTrack(AudioStreamTrack())
    connection.addTrack(SmallVideoTrack())
    await connection.setLocalDescription(await connection.createOffer())
    offer = connection.localDescription
    await session.message(
        handle,
        {"request": "publish", "audio": True, "video": True},
        {"type": offer.type, "sdp": offer.sdp, "trickle": False},
    )
    while True:
        event = await session.event(handle)
        if "jsep" in event:
            jsep = event["jsep"]
            await connection.setRemoteDescription(RTCSessionDescription(jsep["sdp"], jsep["type"]))
            break
    for _ in range(150):
        if connection.connectionState == "connected":
            return connection
        await asyncio.sleep(0.1)
    raise TimeoutError(f"publishing did not connect: {connection.connectionState}")


class Receiver:
    """A subscriber's peer connection: counts the frames (or, without decoding, the RTP
    packets) of every track it gets."""

    def __init__(self) -> None:
        self.connection = peer_connection()
        self.frames: Counter[str] = Counter()
        self._counting: set[asyncio.Task[None]] = set()
        self.connection.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        task = asyncio.ensure_future(self._count(track))
        self._counting.add(task)
        task.add_done_callback(self._counting.discard)

    async def _count(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                await track.recv()
            except Exception:  # the track ended (MediaStreamError) or the peer went away
                return
            self.frames[track.kind] += 1

    async def answer(self, session: BrowserSession, handle: int) -> None:
        """Take the offer Janus sent the handle the site joined as a subscriber."""
        while True:
            event = await session.event(handle)
            if "jsep" in event:
                break
        jsep = event["jsep"]
        await self.connection.setRemoteDescription(RTCSessionDescription(jsep["sdp"], jsep["type"]))
        await self.connection.setLocalDescription(await self.connection.createAnswer())
        answer = self.connection.localDescription
        await session.message(
            handle,
            {"request": "start"},
            {"type": answer.type, "sdp": answer.sdp, "trickle": False},
        )

    async def close(self) -> None:
        await self.connection.close()

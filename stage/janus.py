"""Janus, the media server behind the stage (docs/stage.md): its configuration, made from our
settings rather than edited by hand, and the calls Django makes to it over its HTTP API.

Janus runs as a process of its own (Debian's `janus`; GPL-3.0, so we talk to it, we do not
link it). Django holds its API secret and the VideoRoom plugin's admin key; browsers never
see either. Every VideoRoom room is made by Django, private, with a PIN and one allowed
token that only Django knows: Django joins each page's handle itself, so a guessed room
number, or a browser's own token, gets nobody in.
"""

import base64
import glob
import hashlib
import hmac
import json
import os
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

# Debian's package puts its plugins under /usr/lib/<the machine's multiarch triplet>/janus;
# the media image links this fixed folder to it (docker/media.Dockerfile), for the
# configuration the site's own container writes, which has no Janus to look at.
LIBRARY_DIR = "/usr/lib/janus"
# Only these are loaded.
PLUGINS = ("libjanus_videoroom.so",)
TRANSPORTS = ("libjanus_http.so",)
TIMEOUT_SECONDS = 5.0
# How long `request_async` waits for the event that answers it.
LONG_POLL_SECONDS = 30.0
# Janus's own error codes (janus/apierror.h)
SESSION_NOT_FOUND = 458
ROOM_EXISTS = 427  # the VideoRoom plugin's


class JanusError(Exception):
    """Janus answered with an error, or did not answer."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


def library_dir() -> str:
    """Janus's library folder: Debian's on this machine when it has Janus (make run writes
    and runs the configuration on one machine, x86-64 or ARM alike), else LIBRARY_DIR."""
    found = sorted(glob.glob("/usr/lib/*/janus/plugins"))
    return os.path.dirname(found[0]) if found else LIBRARY_DIR


@dataclass(frozen=True)
class JanusSettings:
    """What the generated configuration and the client need (coworking/settings.py)."""

    http_port: int
    api_secret: str
    room_admin_key: str
    rtp_ports: tuple[int, int]
    stun_server: str = ""  # "host:port"
    api_host: str = "127.0.0.1"  # where the site reaches the API
    api_bind: str = "127.0.0.1"  # where Janus listens for it
    public_ip: str = ""  # the address browsers send media to, behind NAT
    # Signs the short-lived tokens browsers reach the API with (`browser_token`).
    token_secret: str = ""
    library_dir: str = field(default_factory=library_dir)

    @classmethod
    def from_settings(cls) -> "JanusSettings":
        low, high = settings.JANUS_RTP_PORTS
        return cls(
            http_port=settings.JANUS_HTTP_PORT,
            api_secret=settings.JANUS_API_SECRET,
            room_admin_key=settings.JANUS_ROOM_ADMIN_KEY,
            rtp_ports=(low, high),
            stun_server=settings.JANUS_STUN_SERVER,
            api_host=settings.JANUS_API_HOST,
            api_bind=settings.JANUS_API_BIND,
            public_ip=settings.JANUS_PUBLIC_IP,
            token_secret=settings.JANUS_TOKEN_SECRET,
        )

    @property
    def configured(self) -> bool:
        return bool(self.api_secret and self.room_admin_key and self.token_secret)


def _jcfg(sections: dict[str, dict[str, Any]]) -> str:
    """Janus's libconfig syntax: `section: { key = value }`, strings quoted."""
    lines = []
    for name, values in sections.items():
        lines.append(f"{name}: {{")
        for key, value in values.items():
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, int):
                text = str(value)
            else:
                text = json.dumps(str(value))
            lines.append(f"    {key} = {text}")
        lines.append("}")
    return "\n".join(lines) + "\n"


def _all_but(folder: str, kept: tuple[str, ...]) -> str:
    """The comma-separated list of Debian's plugins of a kind we do not load."""
    known = {
        "plugins": (
            "audiobridge duktape echotest lua nosip recordplay sip streaming textroom "
            "videocall voicemail videoroom"
        ),
        "transports": "http mqtt nanomsg pfunix rabbitmq websockets",
    }[folder]
    names = [f"libjanus_{name}.so" for name in known.split()]
    return ",".join(name for name in names if name not in kept)


def config_files(conf: JanusSettings, *, folder: str) -> dict[str, str]:
    """The configuration files of a Janus process, by file name, for `janus -F folder`:
    the VideoRoom plugin and the HTTP API on `api_bind` only (127.0.0.1 unless in a
    container of its own), the API secret required on every request, rooms made only with
    the admin key."""
    low, high = conf.rtp_ports
    general: dict[str, Any] = {
        "configs_folder": folder,
        "plugins_folder": f"{conf.library_dir}/plugins",
        "transports_folder": f"{conf.library_dir}/transports",
        "events_folder": f"{conf.library_dir}/events",
        "loggers_folder": f"{conf.library_dir}/loggers",
        "debug_level": 3,
        "api_secret": conf.api_secret,
        "server_name": "coworking-stage",
    }
    if conf.token_secret:
        # Browsers come with a token the site signed (`browser_token`); the site itself
        # with the API secret. Janus accepts a request carrying either.
        general.update(token_auth=True, token_auth_secret=conf.token_secret)
    nat: dict[str, Any] = {"nice_debug": False, "ice_ignore_list": "vmnet"}
    if conf.stun_server:
        host, _colon, port = conf.stun_server.rpartition(":")
        nat.update(stun_server=host, stun_port=int(port))
    if conf.public_ip:
        nat.update(nat_1_1_mapping=conf.public_ip, keep_private_host=False)
    return {
        "janus.jcfg": _jcfg(
            {
                "general": general,
                "plugins": {"disable": _all_but("plugins", PLUGINS)},
                "transports": {"disable": _all_but("transports", TRANSPORTS)},
                "events": {"broadcast": False},
                "media": {"rtp_port_range": f"{low}-{high}"},
                "nat": nat,
            }
        ),
        "janus.transport.http.jcfg": _jcfg(
            {
                "general": {
                    "json": "compact",
                    "base_path": "/janus",
                    "http": True,
                    "port": conf.http_port,
                    "ip": conf.api_bind,
                    "https": False,
                },
                "admin": {"admin_http": False},
            }
        ),
        "janus.plugin.videoroom.jcfg": _jcfg(
            {"general": {"admin_key": conf.room_admin_key, "lock_rtp_forward": True}}
        ),
    }


def room_pin() -> str:
    return secrets.token_urlsafe(12)


def browser_token(conf: JanusSettings, *, ttl_seconds: int, now: float | None = None) -> str:
    """A token a member's browser reaches Janus's API with: signed by the site with
    `token_secret` (Janus's core `token_auth_secret`), valid until its expiry, for the
    VideoRoom plugin only. It lets a browser keep a session and talk on handles the site
    joined to a room for it; it gets nobody into a room (that takes the room's PIN and
    token, which only the site holds), so it names no member and nothing is stored."""
    expiry = int(now if now is not None else time.time()) + ttl_seconds
    data = f"{expiry},janus,janus.plugin.videoroom"
    digest = hmac.new(conf.token_secret.encode(), data.encode(), hashlib.sha1).digest()
    return f"{data}:{base64.b64encode(digest).decode('ascii')}"


class Janus:
    """A session with the VideoRoom plugin over Janus's HTTP API, for Django's own calls
    (making rooms, letting members in, sending them out). One per use: sessions are cheap,
    and Janus drops an idle one after a minute."""

    def __init__(self, conf: JanusSettings, *, url: str | None = None) -> None:
        self.conf = conf
        self.url = url or f"http://{conf.api_host}:{conf.http_port}/janus"
        self.session: int | None = None
        self.handle: int | None = None

    @staticmethod
    def _fetch(request: urllib.request.Request | str) -> dict[str, Any]:
        """Janus's JSON answer to `request`; JanusError if it does not answer."""
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                answer: dict[str, Any] = json.load(response)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise JanusError(f"Janus did not answer: {exc}") from exc
        return answer

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": secrets.token_hex(8), "apisecret": self.conf.api_secret}
        answer = self._fetch(
            urllib.request.Request(
                self.url + path,
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
        )
        if answer.get("janus") == "error":
            error = answer.get("error", {})
            raise JanusError(str(error.get("reason", "error")), error.get("code"))
        return answer

    def info(self) -> dict[str, Any]:
        return self._fetch(self.url + "/info")

    def open(self) -> "Janus":
        self.session = int(self._post("", {"janus": "create"})["data"]["id"])
        attached = self._post(
            f"/{self.session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"}
        )
        self.handle = int(attached["data"]["id"])
        return self

    def close(self) -> None:
        if self.session is not None:
            self._post(f"/{self.session}", {"janus": "destroy"})
            self.session = self.handle = None

    def __enter__(self) -> "Janus":
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def on_behalf(self, *, session: int, handle: int, body: dict[str, Any]) -> None:
        """Send a VideoRoom request on a browser's handle: how the site joins a member to a
        room (the browser holds neither the PIN nor the room's token). Janus answers the
        browser, on its session's long poll; here only whether it took the request."""
        self._post(f"/{session}/{handle}", {"janus": "message", "body": body})

    def session_destroy(self, *, session: int) -> None:
        """End a browser's session: every handle on it leaves its room, its media stop."""
        try:
            self._post(f"/{session}", {"janus": "destroy"})
        except JanusError as exc:
            if exc.code != SESSION_NOT_FOUND:
                raise

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        """A VideoRoom request answered at once; JanusError if the plugin refuses it."""
        if self.handle is None:
            raise JanusError("No session open.")
        answer = self._post(f"/{self.session}/{self.handle}", {"janus": "message", "body": body})
        return self._data(answer)

    def request_async(self, body: dict[str, Any]) -> dict[str, Any]:
        """A VideoRoom request Janus answers with an event (joining, for one): sent, then
        the handle's next event read off the session's long poll."""
        if self.handle is None:
            raise JanusError("No session open.")
        answer = self._post(f"/{self.session}/{self.handle}", {"janus": "message", "body": body})
        if answer.get("janus") != "ack":
            return self._data(answer)
        query = urllib.parse.urlencode({"apisecret": self.conf.api_secret, "maxev": 1})
        deadline = time.monotonic() + LONG_POLL_SECONDS
        while time.monotonic() < deadline:
            event = self._fetch(f"{self.url}/{self.session}?{query}")
            if event.get("janus") == "event" and event.get("sender") == self.handle:
                return self._data(event)
        raise JanusError("Janus did not answer the request in time.")

    @staticmethod
    def _data(answer: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = answer.get("plugindata", {}).get("data", {})
        if "error" in data:
            raise JanusError(str(data["error"]), data.get("error_code"))
        return data

    def room_create(
        self,
        *,
        room: int,
        description: str,
        pin: str,
        secret: str,
        publishers: int,
        allowed: list[str],
    ) -> None:
        """A room only Django may change (`secret`) and only members it lets in may join:
        a PIN and the allowed tokens (more or fewer later: `room_allow`). The tokens come
        with the room: no one joining as it is made finds it closed to them."""
        self.request(
            {
                "request": "create",
                "room": room,
                "description": description[:100],
                "admin_key": self.conf.room_admin_key,
                "secret": secret,
                "pin": pin,
                "publishers": publishers,
                "allowed": allowed,
                "is_private": True,
                # Publishers may not start recordings (files written where Janus can).
                "lock_record": True,
            }
        )

    def room_allow(self, *, room: int, secret: str, tokens: list[str], allow: bool) -> None:
        """Let the holders of `tokens` in (or no longer: they cannot join again)."""
        self.request(
            {
                "request": "allowed",
                "room": room,
                "secret": secret,
                "action": "add" if allow else "remove",
                "allowed": tokens,
            }
        )

    def room_kick(self, *, room: int, secret: str, participant: int) -> None:
        self.request({"request": "kick", "room": room, "secret": secret, "id": participant})

    def room_mute(self, *, room: int, secret: str, participant: int, mid: str, mute: bool) -> None:
        """Mute (or unmute) one of a publisher's streams for everyone (`moderate`)."""
        self.request(
            {
                "request": "moderate",
                "room": room,
                "secret": secret,
                "id": participant,
                "mid": mid,
                "mute": mute,
            }
        )

    def room_publishers(self, *, room: int) -> list[dict[str, Any]]:
        """The room's participants that joined as publishers (`listparticipants`)."""
        participants: list[dict[str, Any]] = self.request(
            {"request": "listparticipants", "room": room}
        ).get("participants", [])
        return participants

    def room_destroy(self, *, room: int, secret: str) -> None:
        self.request({"request": "destroy", "room": room, "secret": secret})

    def room_exists(self, *, room: int) -> bool:
        return bool(self.request({"request": "exists", "room": room}).get("exists"))

"""A push service for the tests, on loopback: it plays the browser maker's service (RFC 8030)
that our server posts to. It checks each request as a real one would (the VAPID token's
ES256 signature, audience, expiry and subject, RFC 8292) and, holding the device's private
key as a browser would, decrypts the aes128gcm body (RFC 8291) so that tests can read what
the device would show.

`Device` is the browser's side: its P-256 key pair and auth secret, as `pushManager.subscribe`
makes them."""

import base64
import json
import os
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Device:
    """A browser's push subscription keys."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    @property
    def auth_b64(self) -> str:
        return b64(self.auth)

    def decrypt(self, body: bytes) -> bytes:
        return bytes(
            http_ece.decrypt(
                body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
            )
        )


@dataclass
class Received:
    """One push as the service received it."""

    path: str
    headers: dict[str, str]
    body: bytes
    claims: dict[str, Any]
    signer: str


class PushService:
    """Runs in a thread; `endpoint(name)` gives a device's address on it. Each request is
    checked; one that fails a check is answered 401 and listed in `rejected`, which tests
    assert stays empty. `answers[path]` queues status codes to answer (default 201),
    `delays[path]` seconds to wait before answering."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.rejected: list[str] = []
        self.answers: dict[str, deque[int]] = defaultdict(deque)
        # Seconds to wait before answering, per path and request (a slow push service).
        self.delays: dict[str, deque[float]] = defaultdict(deque)
        # Where to send a path's requests instead, answering 307 (a push service that moved,
        # or one that tries to lead the sender somewhere else).
        self.redirects: dict[str, str] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def endpoint(self, name: str) -> str:
        return f"{self.origin}/push/{name}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        self.received.clear()
        self.rejected.clear()
        self.answers.clear()
        self.delays.clear()
        self.redirects.clear()

    def to(self, name: str) -> list[Received]:
        return [push for push in self.received if push.path == f"/push/{name}"]

    def wait_for(self, name: str, count: int = 1, timeout: float = 10) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.to(name)) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.to(name)

    def check(self, headers: dict[str, str]) -> tuple[dict[str, Any], str]:
        """The VAPID token's claims and signing key, or ValueError saying what is wrong."""
        scheme, _, params = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "vapid":
            raise ValueError(f"no vapid authorization: {scheme!r}")
        parts = dict(part.strip().split("=", 1) for part in params.split(","))
        token, key = parts["t"], parts["k"]
        signed, _, signature = token.rpartition(".")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(key))
        raw = unb64(signature)
        if len(raw) != 64:
            raise ValueError("the signature is not a raw ES256 one")
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        try:
            public.verify(der, signed.encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as exc:
            raise ValueError("bad signature") from exc
        header = json.loads(unb64(signed.split(".")[0]))
        claims = json.loads(unb64(signed.split(".")[1]))
        if header.get("alg") != "ES256":
            raise ValueError(f"alg {header.get('alg')}")
        if claims.get("aud") != self.origin:
            raise ValueError(f"aud {claims.get('aud')} is not {self.origin}")
        if not time.time() < claims.get("exp", 0) <= time.time() + 24 * 3600:
            raise ValueError(f"exp {claims.get('exp')} out of range")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            raise ValueError(f"sub {claims.get('sub')}")
        if headers.get("content-encoding") != "aes128gcm":
            raise ValueError(f"content-encoding {headers.get('content-encoding')}")
        if not headers.get("ttl", "").isdigit():
            raise ValueError("no TTL")
        return claims, key

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                if location := service.redirects.get(self.path):
                    self.send_response(307)
                    self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if delays := service.delays[self.path]:
                    time.sleep(delays.popleft())
                try:
                    claims, key = service.check(headers)
                except (ValueError, KeyError) as exc:
                    service.rejected.append(f"{self.path}: {exc}")
                    status = 401
                else:
                    queued = service.answers[self.path]
                    status = queued.popleft() if queued else 201
                    service.received.append(Received(self.path, headers, body, claims, key))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

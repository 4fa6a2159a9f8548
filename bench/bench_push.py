"""Web Push fan-out: one member's 50 devices, as `notifications.push_send` sends to them
(signed, encrypted per device, 8 at a time over one connection pool), against a plain loop
that sends one device after another with pywebpush's own `webpush()` (a connection each).

The push service is a local sink on loopback that answers 201, at once or after a delay
that stands for a real push service's round trip. `run()` recreates the scratch database
`coworking_bench_push` and runs this module as a separate process against it.
"""

import json
import os
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.quick import sized
from bench.scratch import scratch_run

ROOT = Path(__file__).resolve().parent.parent
TITLE = "Push notifications: one member's 50 devices"
DATABASE_URL = os.environ.get(
    "BENCH_PUSH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coworking_bench_push"
)
DEVICES = 50
RUNS = sized(5, 2)
# The push service's answer time: none, then a round trip to a distant data centre.
LATENCIES = (0.0, 0.05)


def run() -> str:
    return scratch_run(
        module="bench.bench_push",
        database_url=DATABASE_URL,
        env={"PUSH_ALLOW_PRIVATE_ENDPOINTS": "1", "DEBUG": "0", "SECRET_KEY": "bench"},
    )


class _Sink:
    def __init__(self) -> None:
        self.delay = 0.0
        self.count = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if sink.delay:
                    time.sleep(sink.delay)
                sink.count += 1
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"


def _worker() -> str:
    import django
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coworking.settings")
    django.setup()
    from django.conf import settings
    from pywebpush import webpush

    from members.models import User
    from notifications import push
    from notifications.models import Kind, Notification, PushSubscription

    settings.VAPID_PRIVATE_KEY = push.vapid_key_generate()
    sink = _Sink()
    user = User.objects.create_user(email="bench@example.com", password="x", display_name="Ana")
    for n in range(DEVICES):
        key = ec.generate_private_key(ec.SECP256R1())
        point = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        PushSubscription.objects.create(
            user=user,
            endpoint=f"{sink.origin}/push/{n}",
            p256dh=push._b64(point),
            auth=push._b64(os.urandom(16)),
        )
    notice = Notification.objects.create(
        user=user, kind=Kind.MESSAGE, key="c:1", text="Beto wrote to you", url="/messages/1/"
    )
    devices = list(PushSubscription.objects.filter(user=user))
    payload = push.payload_for([notice], user=user)
    data = json.dumps(payload)

    def ours() -> None:
        outcome = push.push_notices(user=user, notifications=[notice])
        assert len(outcome.sent) == DEVICES, outcome

    def plain_loop() -> None:
        for device in devices:
            webpush(
                {
                    "endpoint": device.endpoint,
                    "keys": {"p256dh": device.p256dh, "auth": device.auth},
                },
                data,
                vapid_private_key=settings.VAPID_PRIVATE_KEY,
                vapid_claims={"sub": settings.VAPID_SUBJECT},
                ttl=60,
            )

    rows = []
    for latency in LATENCIES:
        sink.delay = latency
        figures = {}
        for name, send in (("ours", ours), ("loop", plain_loop)):
            times = []
            for _ in range(RUNS):
                started = time.perf_counter()
                send()
                times.append(time.perf_counter() - started)
            figures[name] = statistics.median(times)
        rows.append(
            f"| {latency * 1000:.0f} ms | {figures['ours'] * 1000:.0f} ms "
            f"| {figures['loop'] * 1000:.0f} ms | ×{figures['loop'] / figures['ours']:.1f} |"
        )
    return "\n".join(
        [
            f"{DEVICES} devices of one member, one notice; median of {RUNS} runs. "
            "*Ours*: `notifications.push.push_notices` (what the task calls). *Plain loop*: "
            "pywebpush's `webpush()` for each device in turn, the yardstick.",
            "",
            "| push service answers in | ours | plain loop | ours is faster by |",
            "|---|---|---|---|",
            *rows,
            "",
            f"Requests the sink answered: {sink.count}.",
        ]
    )


if __name__ == "__main__":
    print(_worker())

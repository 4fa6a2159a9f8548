"""The embedded default (SQLite, no Redis) takes several people writing at once."""

import contextlib
import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from websockets.sync.client import connect

from rooms.models import CAFETERIA_SLUG
from tests.conftest import ROOT, free_port, signed_in_cookies, start_server, wait_for_port
from tests.test_members_profile import VALID as PROFILE_FIELDS
from tests.test_settings import clean_env

PEOPLE = 3
# Each person's chat stays under the socket's budget (10 per 10 s) whatever the window.
MESSAGES_EACH = 6
FORM_POSTS_EACH = 4

SEED = """
import json
from tests.factories import PASSWORD, EventFactory, onboarded_member
people = [
    onboarded_member(f"Persona {{n}}", email=f"persona{{n}}@example.com") for n in range({people})
]
event = EventFactory.create()
print(json.dumps({{"emails": [p.email for p in people], "event": event.pk, "password": PASSWORD}}))
"""


def manage(env: dict[str, str], *args: str) -> str:
    """Run a management command against the embedded site in `env`; its output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@contextlib.contextmanager
def embedded_site(tmp_path: Path, command: list[str] | None = None) -> Iterator[tuple[int, dict]]:
    """The embedded default on a fresh SQLite file, migrated and served (by the Dockerfile's
    server, or by `command` with `{port}` in it); yields the port and the environment, and
    leaves the server's output in `tmp_path / "server.log"`."""
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.sqlite3'}", PYTHONUNBUFFERED="1")
    manage(env, "migrate", "--noinput", "-v0")
    port = free_port()
    with (tmp_path / "server.log").open("w") as log:
        if command is None:
            server = start_server(port=port, env=env, output=log)
        else:
            # A session of its own: runserver's autoreloader serves from a child process.
            server = subprocess.Popen(
                [part.format(port=port) for part in command],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
    try:
        wait_for_port(port, server, timeout=60)
        yield port, env
    finally:
        os.killpg(server.pid, signal.SIGTERM) if command else server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL) if command else server.kill()


def _post(port: int, path: str, fields: dict[str, object], cookies: dict[str, str]) -> int:
    """POST a form as a signed-in browser would; the response's status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(
            "POST",
            path,
            body=urllib.parse.urlencode(fields, doseq=True),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()),
                "X-CSRFToken": cookies["csrftoken"],
            },
        )
        return connection.getresponse().status
    finally:
        connection.close()


def test_several_people_writing_at_once_get_no_error(tmp_path: Path) -> None:
    with embedded_site(tmp_path) as (port, env):
        seeded = json.loads(manage(env, "shell", "-c", SEED.format(people=PEOPLE)).splitlines()[-1])
        base = f"http://127.0.0.1:{port}"
        cookies = [signed_in_cookies(base, email, seeded["password"]) for email in seeded["emails"]]
        start = threading.Barrier(2 * PEOPLE)

        def chat(person: int) -> list[str]:
            """Says hello a few times in the cafeteria; the error frames it got."""
            with connect(
                f"ws://127.0.0.1:{port}/ws/rooms/{CAFETERIA_SLUG}/",
                additional_headers={
                    "Origin": base,
                    "Cookie": f"sessionid={cookies[person]['sessionid']}",
                },
                open_timeout=60,
            ) as socket:
                start.wait(timeout=60)
                waiting = {str(uuid.uuid4()) for _ in range(MESSAGES_EACH)}
                for client_id in waiting:
                    socket.send(
                        json.dumps({"type": "chat.send", "text": "hola", "client_id": client_id})
                    )
                while waiting:
                    frame = json.loads(socket.recv(timeout=60))
                    if frame["type"] == "error":
                        return [f"chat: {frame}"]
                    if frame["type"] == "chat.ack":
                        waiting.discard(frame["client_id"])
            return []

        def forms(person: int) -> list[str]:
            """Answers the event's RSVP and saves the profile, in turns; what went wrong."""
            start.wait(timeout=60)
            problems = []
            for turn in range(FORM_POSTS_EACH):
                rsvp = _post(
                    port,
                    f"/events/{seeded['event']}/rsvp/",
                    {"status": "maybe" if turn < FORM_POSTS_EACH - 1 else "going"},
                    cookies[person],
                )
                profile = _post(
                    port,
                    "/members/me/edit/",
                    {**PROFILE_FIELDS, "headline": f"Persona {person}, turno {turn}"},
                    cookies[person],
                )
                if (rsvp, profile) != (302, 302):
                    problems.append(f"RSVP answered {rsvp}, profile save {profile}")
            return problems

        with ThreadPoolExecutor(max_workers=2 * PEOPLE) as pool:
            running = [
                pool.submit(work, person) for person in range(PEOPLE) for work in (chat, forms)
            ]
            problems = [problem for future in running for problem in future.result(timeout=300)]

        database = sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///"))
        messages = database.execute("SELECT count(*) FROM rooms_message").fetchone()[0]
        answers = database.execute("SELECT status FROM events_rsvp").fetchall()
        headlines = database.execute("SELECT headline FROM members_profile").fetchall()
        database.close()

    log = (tmp_path / "server.log").read_text()
    assert problems == [], log
    assert "database is locked" not in log
    assert messages == PEOPLE * MESSAGES_EACH
    assert answers == [("going",)] * PEOPLE
    last_turn = FORM_POSTS_EACH - 1
    assert sorted(headlines) == [(f"Persona {n}, turno {last_turn}",) for n in range(PEOPLE)]

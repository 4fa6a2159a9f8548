"""The embedded default (SQLite, no Redis) takes several people writing at once."""

import http.client
import json
import sqlite3
import threading
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from websockets.sync.client import connect

from rooms.models import CAFETERIA_SLUG
from tests.conftest import embedded_site, manage, signed_in_cookies
from tests.test_members_profile import VALID as PROFILE_FIELDS

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


def test_several_people_writing_at_once_get_no_error(
    tmp_path: Path, embedded_database: Path
) -> None:
    with embedded_site(tmp_path, embedded_database) as (port, env):
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

        # An id SQLite cannot bind (over 64 bits) is a missing page, not a server error.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request(
            "GET",
            "/members/" + "9" * 20 + "/",
            headers={"Cookie": f"sessionid={cookies[0]['sessionid']}"},
        )
        too_long_id = connection.getresponse().status
        connection.close()

        database = sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///"))
        messages = database.execute("SELECT count(*) FROM rooms_message").fetchone()[0]
        answers = database.execute("SELECT status FROM events_rsvp").fetchall()
        headlines = database.execute("SELECT headline FROM members_profile").fetchall()
        database.close()

    log = (tmp_path / "server.log").read_text()
    assert problems == [], log
    assert "database is locked" not in log
    assert too_long_id == 404
    assert messages == PEOPLE * MESSAGES_EACH
    assert answers == [("going",)] * PEOPLE
    last_turn = FORM_POSTS_EACH - 1
    assert sorted(headlines) == [(f"Persona {n}, turno {last_turn}",) for n in range(PEOPLE)]

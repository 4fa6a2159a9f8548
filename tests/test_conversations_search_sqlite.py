"""Searching one's own messages in the embedded default (SQLite), where there is no full text
search: every word of the query must appear in the message, case aside, and the rules of
PostgreSQL's search hold (one's own conversations only, deleted and blocked messages hidden)."""

import json
import shutil
from pathlib import Path

from tests.conftest import clean_env, manage

SCRIPT = """
import json, uuid
from conversations import selectors, services
from members.services import block_create
from tests.factories import onboarded_member

ana = onboarded_member("Ana Arias", email="ana@example.com")
beto = onboarded_member("Beto Blanco", email="beto@example.com")
carla = onboarded_member("Carla Cano", email="carla@example.com")
dani = onboarded_member("Dani Díaz", email="dani@example.com")

def say(starter, other, *texts):
    conversation = services.direct_conversation_start(starter=starter, other=other)
    return [
        services.message_post(
            conversation=conversation, author=starter, text=text, client_id=uuid.uuid4()
        )[0]
        for text in texts
    ]

say(ana, beto, "Nos vemos en la Cafetería el jueves", "El taller de Python fue genial")
gone, = say(beto, ana, "Borrado: cafetería secreta")
services.message_delete(message=gone, by=beto)
say(carla, ana, "La cafetería abre a las nueve")
say(carla, dani, "Cafetería sin Ana")  # not Ana's conversation
block_create(blocker=ana, blocked=carla)

def found(query):
    return [hit.message.text for hit in selectors.messages_search(user=ana, query=query)]

print(json.dumps({
    "one word, any case": found("CAFETERía"),
    "every word": found("cafetería jueves"),
    "a word missing": found("cafetería viernes"),
    "nothing to look for": found("  ¿? "),
    "part of a word": found("tall pyth"),
}))
"""


def test_search_without_postgresql_matches_every_word_in_ones_own_conversations(
    tmp_path: Path, embedded_database: Path
) -> None:
    copy = tmp_path / "embedded.sqlite3"
    shutil.copyfile(embedded_database, copy)
    env = clean_env(DATABASE_URL=f"sqlite:///{copy}")
    found = json.loads(manage(env, "shell", "-c", SCRIPT).splitlines()[-1])
    assert found == {
        "one word, any case": ["Nos vemos en la Cafetería el jueves"],
        "every word": ["Nos vemos en la Cafetería el jueves"],
        "a word missing": [],
        "nothing to look for": [],
        "part of a word": ["El taller de Python fue genial"],
    }

"""A host's action that waits on Janus holds no lock the other members' actions need
(docs/stage.md): every arrival, watch and hand takes the stage's row lock, and a Janus that
hangs rather than refusing made everyone wait up to its timeout for each of the host's
requests. Here Janus takes connections and answers none until the test lets it go."""

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection

from members.models import User
from rooms.models import Room
from stage import janus as janus_client
from stage.models import Hand, Speaker, Stage
from stage.services import (
    MediaUnavailable,
    stage_end,
    stage_hand,
    stage_mute,
    stage_publish,
    stage_start,
)
from tests.factories import RoomFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


class HungJanus:
    """Accepts connections and holds them, unanswered, until `let_go`."""

    def __init__(self) -> None:
        self.listening = socket.create_server(("127.0.0.1", 0))
        self.port = self.listening.getsockname()[1]
        self.reached = threading.Event()
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _address = self.listening.accept()
            except OSError:
                return  # let go
            self.held.append(conn)
            self.reached.set()

    def let_go(self) -> None:
        # Shut down first: closing alone leaves the accept above blocked on the listening
        # socket, still taking (and holding) whoever connects after this.
        with contextlib.suppress(OSError):
            self.listening.shutdown(socket.SHUT_RDWR)
        self.listening.close()
        self.thread.join(timeout=5)
        for conn in self.held:
            conn.close()


@pytest.fixture
def hung_janus(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[HungJanus]:
    janus = HungJanus()
    settings.JANUS_HTTP_PORT = janus.port
    # Longer than any wait below: the host's request ends when the test lets Janus go.
    monkeypatch.setattr(janus_client, "TIMEOUT_SECONDS", 120.0)
    try:
        yield janus
    finally:
        janus.let_go()


HOST_ACTIONS: dict[str, Callable[[Stage, User, User], Any]] = {
    "start": lambda stage, host, speaker: stage_start(stage=stage, by=host),
    "mute": lambda stage, host, speaker: stage_mute(
        stage=stage, by=host, user_id=speaker.pk, muted=True
    ),
    "end": lambda stage, host, speaker: stage_end(stage=stage, by=host),
}


def _in_thread(work: Callable[[], Any]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except MediaUnavailable:
            pass  # start and mute need Janus: refused once it lets go
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("action", sorted(HOST_ACTIONS))
def test_while_janus_keeps_the_host_waiting_a_member_lowers_their_hand(
    hung_janus: HungJanus, action: str
) -> None:
    host = UserFactory.create(is_staff=True, is_superuser=True)
    speaker, member = UserFactory.create(), UserFactory.create()
    room = RoomFactory.create(kind=Room.Kind.PERMANENT, name="Formación", slug="formacion")
    live = Stage.State.OFF if action == "start" else Stage.State.LIVE
    stage = Stage.objects.create(room=room, host=host, state=live)
    Speaker.objects.create(stage=stage, user=speaker, invited_by=host, feed=4242)
    Hand.objects.create(stage=stage, user=member)

    host_acting = _in_thread(lambda: HOST_ACTIONS[action](stage, host, speaker))
    assert hung_janus.reached.wait(30), "the host's action never reached Janus"
    member_acting = _in_thread(lambda: stage_hand(stage=stage, user=member, raised=False))
    # Done in milliseconds; waiting on a lock the host holds, it would wait until Janus
    # lets go (never, here).
    member_acting.join(timeout=15)
    member_waited = member_acting.is_alive()
    hung_janus.let_go()
    host_acting.join(timeout=30)
    member_acting.join(timeout=30)

    assert not member_waited, "the member waited on the host's lock while Janus hung"
    assert not host_acting.is_alive(), "the host's action still waits once Janus let go"
    assert not Hand.objects.filter(user=member).exists()


def test_while_janus_keeps_a_speaker_s_publish_waiting_the_host_ends_and_a_member_leaves(
    hung_janus: HungJanus,
) -> None:
    """A speaker's publish asks Janus whether their last feed is still in; with Janus
    hanging it once held the speaker's row, which ending the stage deletes under the
    stage's lock, so everyone waited on Janus again."""
    host = UserFactory.create(is_staff=True, is_superuser=True)
    speaker, member = UserFactory.create(), UserFactory.create()
    room = RoomFactory.create(kind=Room.Kind.PERMANENT, name="Formación", slug="formacion")
    stage = Stage.objects.create(room=room, host=host, state=Stage.State.LIVE)
    Speaker.objects.create(stage=stage, user=speaker, invited_by=host, feed=4242)
    Hand.objects.create(stage=stage, user=member)

    publishing = _in_thread(
        lambda: stage_publish(stage=stage, user=speaker, channel_name="tab", session=1, handle=2)
    )
    assert hung_janus.reached.wait(30), "the publish never reached Janus"
    ending = _in_thread(lambda: stage_end(stage=stage, by=host))
    member_acting = _in_thread(lambda: stage_hand(stage=stage, user=member, raised=False))
    member_acting.join(timeout=15)
    member_waited = member_acting.is_alive()
    hung_janus.let_go()
    for thread in (publishing, ending, member_acting):
        thread.join(timeout=30)

    assert not member_waited, "the member waited on a lock while Janus hung"
    assert not any(thread.is_alive() for thread in (publishing, ending))
    assert Stage.objects.get(pk=stage.pk).state == Stage.State.ENDED


def test_announced_states_are_numbered_in_order_and_a_whole_row_save_keeps_the_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stage import broadcast

    host, alice, bob = (
        UserFactory.create(is_staff=True, is_superuser=True),
        UserFactory.create(),
        UserFactory.create(),
    )
    room = RoomFactory.create(kind=Room.Kind.PERMANENT, name="Formación", slug="formacion")
    stage = Stage.objects.create(room=room, host=host, state=Stage.State.LIVE)
    read_before = Stage.objects.get(pk=stage.pk)  # as the admin's change page read it
    versions: list[int] = []

    async def sent(*, stage_id: int, state: dict[str, Any]) -> None:
        versions.append(state["version"])

    monkeypatch.setattr(broadcast, "stage_state", sent)
    stage_hand(stage=stage, user=alice, raised=True)
    stage_hand(stage=stage, user=bob, raised=True)
    read_before.save()  # the admin saves the row it read before both changes

    assert versions == [1, 2]
    assert Stage.objects.get(pk=stage.pk).version == 2


def test_a_hand_said_twice_is_announced_once() -> None:
    host, alice = UserFactory.create(is_staff=True, is_superuser=True), UserFactory.create()
    room = RoomFactory.create(kind=Room.Kind.PERMANENT, name="Formación", slug="formacion")
    stage = Stage.objects.create(room=room, host=host, state=Stage.State.LIVE)

    for raised in (True, True, True, False, False):
        stage_hand(stage=stage, user=alice, raised=raised)

    assert Stage.objects.get(pk=stage.pk).version == 2  # up, then down
    assert not Hand.objects.filter(user=alice).exists()

"""The stage's media server, Janus, run for real from the configuration Django generates:
it answers only requests that carry the API secret, rooms are made only with the admin key,
and a member gets into a room only with the PIN and a token Django allowed (docs/stage.md)."""

import secrets
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from rooms.models import Room
from stage.janus import Janus, JanusError, JanusSettings, room_pin
from stage.models import Stage
from stage.services import _janus_room_ensure
from tests.factories import RoomFactory

UNAUTHORIZED = 433  # the VideoRoom plugin's error code


def join(conf: JanusSettings, room: int, **fields: Any) -> dict[str, Any]:
    """A browser joining the room as a publisher, with what it was given."""
    with Janus(conf) as browser:
        return browser.request_async(
            {"request": "join", "ptype": "publisher", "room": room, **fields}
        )


def test_only_the_videoroom_plugin_and_requests_with_the_secret(janus: JanusSettings) -> None:
    info = Janus(janus).info()

    assert info["version_string"].startswith("1.1")
    assert sorted(info["plugins"]) == ["janus.plugin.videoroom"]
    assert sorted(info["transports"]) == ["janus.transport.http"]
    with pytest.raises(JanusError) as refused:
        Janus(JanusSettings(**{**janus.__dict__, "api_secret": "guessed"})).open()
    assert refused.value.code == 403


def test_a_member_gets_in_with_the_pin_and_an_allowed_token_only(janus: JanusSettings) -> None:
    room, pin, secret = 4242, room_pin(), secrets.token_urlsafe(16)
    token, other = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    with Janus(janus) as django:
        django.room_create(
            room=room, description="Charla", pin=pin, secret=secret, publishers=7, allowed=[]
        )
        assert django.room_exists(room=room)

        with pytest.raises(JanusError) as guessed:  # a guessed room number and PIN
            join(janus, room, pin="1234", display="Intrusa")
        with pytest.raises(JanusError) as unlisted:  # the PIN, but no token Django allowed
            join(janus, room, pin=pin, token=token, display="Ana")
        assert (guessed.value.code, unlisted.value.code) == (UNAUTHORIZED, UNAUTHORIZED)
        django.room_allow(room=room, secret=secret, tokens=[token], allow=True)
        joined = join(janus, room, pin=pin, token=token, display="Ana")
        assert joined["videoroom"] == "joined" and joined["room"] == room
        with pytest.raises(JanusError):  # someone else's token is not theirs
            join(janus, room, pin=pin, token=other, display="Beto")
        django.room_allow(room=room, secret=secret, tokens=[token], allow=False)
        with pytest.raises(JanusError):  # taken back: no way in again
            join(janus, room, pin=pin, token=token, display="Ana")

        django.room_destroy(room=room, secret=secret)
        assert not django.room_exists(room=room)


def test_rooms_are_made_with_the_admin_key_only(janus: JanusSettings) -> None:
    with Janus(janus) as browser, pytest.raises(JanusError):
        browser.request({"request": "create", "room": 77, "publishers": 300})


def test_the_command_writes_the_configuration_from_the_settings(tmp_path: Path) -> None:
    with override_settings(
        JANUS_API_SECRET="s3cret",
        JANUS_ROOM_ADMIN_KEY="k3y",
        JANUS_HTTP_PORT=18188,
        JANUS_PUBLIC_IP="203.0.113.5",
    ):
        call_command("janus_config", str(tmp_path / "janus"))

    main = (tmp_path / "janus" / "janus.jcfg").read_text()
    assert 'api_secret = "s3cret"' in main and 'rtp_port_range = "20000-20999"' in main
    # Behind NAT (a container), candidates name the public address.
    assert 'nat_1_1_mapping = "203.0.113.5"' in main
    http = (tmp_path / "janus" / "janus.transport.http.jcfg").read_text()
    assert "port = 18188" in http and 'ip = "127.0.0.1"' in http
    assert 'admin_key = "k3y"' in (tmp_path / "janus" / "janus.plugin.videoroom.jcfg").read_text()


class AskedBeforeEitherMadeIt(Janus):
    """Two web processes making the stage's room after a Janus restart: each asked whether
    it existed before the other made it."""

    def room_exists(self, *, room: int) -> bool:
        return False


@pytest.mark.django_db
def test_a_stage_room_two_processes_make_at_once_is_made_and_open_to_the_stage(
    janus: JanusSettings,
) -> None:
    stage = Stage.objects.create(room=RoomFactory.create(kind=Room.Kind.PERMANENT))

    with AskedBeforeEitherMadeIt(janus) as first, AskedBeforeEitherMadeIt(janus) as second:
        _janus_room_ensure(first, stage)
        joined = join(
            janus, stage.janus_room, pin=stage.janus_pin, token=stage.janus_token, display="Ana"
        )
        _janus_room_ensure(second, stage)

    assert joined["videoroom"] == "joined"
    with Janus(janus) as django:
        django.room_destroy(room=stage.janus_room, secret=stage.janus_secret)

"""Media through Janus, as the stage sets it up (docs/stage.md): browsers hold a token the
site signed, which opens a session and nothing more; the site joins their handles to the
room, as a publisher for a speaker and as a subscriber for the audience. A speaker
publishing generated audio and video reaches two subscribers; an outsider, with a token of
their own, gets into no room; a member the site sends away stops receiving at once."""

import asyncio
import secrets

import pytest

from stage.janus import Janus, JanusSettings, browser_token, room_pin
from tests.janus_peer import BrowserSession, JanusRefused, Receiver, publish

UNAUTHORIZED = 433
FORBIDDEN = 403


def url(conf: JanusSettings) -> str:
    return f"http://127.0.0.1:{conf.http_port}/janus"


class Stage:
    """What the site does for a stage, through its own client."""

    def __init__(self, conf: JanusSettings) -> None:
        self.conf = conf
        self.room = secrets.randbelow(2**40) + 1
        self.pin, self.secret, self.token = (
            room_pin(),
            secrets.token_urlsafe(12),
            secrets.token_urlsafe(12),
        )
        with Janus(conf) as site:
            site.room_create(
                room=self.room,
                description="Charla",
                pin=self.pin,
                secret=self.secret,
                publishers=7,
                allowed=[self.token],
            )

    def join(self, session: BrowserSession, handle: int, **fields: object) -> None:
        body = {
            "request": "join",
            "room": self.room,
            "pin": self.pin,
            "token": self.token,
            **fields,
        }
        with Janus(self.conf) as site:
            site.on_behalf(session=session.session, handle=handle, body=body)

    def close(self) -> None:
        with Janus(self.conf) as site:
            site.room_destroy(room=self.room, secret=self.secret)


async def _frames_reach_subscribers(conf: JanusSettings) -> None:
    stage = Stage(conf)
    token = browser_token(conf, ttl_seconds=60)
    speaker = await BrowserSession(url(conf), token).open()
    published = await speaker.handle()
    stage.join(speaker, published, ptype="publisher", id=1001, display="Lucía")
    joined = await speaker.event(published)
    assert joined["plugindata"]["data"]["videoroom"] == "joined"
    sender = await publish(speaker, published)

    receivers = []
    for _ in range(2):
        session = await BrowserSession(url(conf), token).open()
        handle = await session.handle()
        stage.join(session, handle, ptype="subscriber", streams=[{"feed": 1001}])
        receiver = Receiver()
        await receiver.answer(session, handle)
        receivers.append((session, receiver))

    for _ in range(200):
        if all(r.frames["video"] >= 20 and r.frames["audio"] >= 20 for _s, r in receivers):
            break
        await asyncio.sleep(0.1)
    assert [(r.frames["video"] >= 20, r.frames["audio"] >= 20) for _s, r in receivers] == [
        (True, True),
        (True, True),
    ]

    # Sent away: the site ends the member's session; nothing more arrives.
    gone_session, gone = receivers[0]
    with Janus(conf) as site:
        site.session_destroy(session=gone_session.session)
    await asyncio.sleep(1.0)
    before = sum(gone.frames.values())
    kept_before = sum(receivers[1][1].frames.values())
    await asyncio.sleep(1.5)
    assert sum(gone.frames.values()) == before
    assert sum(receivers[1][1].frames.values()) > kept_before

    for session, receiver in receivers:
        await receiver.close()
        await session.close()
    await sender.close()
    await speaker.close()
    stage.close()


def test_a_speaker_reaches_two_subscribers_and_a_member_sent_away_stops_receiving(
    janus: JanusSettings,
) -> None:
    asyncio.run(_frames_reach_subscribers(janus))


async def _outsider(conf: JanusSettings) -> None:
    stage = Stage(conf)
    outsider = await BrowserSession(url(conf), browser_token(conf, ttl_seconds=60)).open()
    handle = await outsider.handle()
    # A token opens a session, but the room takes the PIN and its token, which only the
    # site holds: joining by itself, as publisher or subscriber, is refused.
    for fields in ({"ptype": "publisher"}, {"ptype": "subscriber", "streams": [{"feed": 1}]}):
        body = {"request": "join", "room": stage.room, "pin": "1234", **fields}
        await outsider.message(handle, body)
        with pytest.raises(JanusRefused) as refused:
            await outsider.event(handle)
        assert refused.value.code == UNAUTHORIZED
    await outsider.close()

    expired = BrowserSession(url(conf), browser_token(conf, ttl_seconds=-5))
    forged = BrowserSession(
        url(conf),
        browser_token(JanusSettings(**{**conf.__dict__, "token_secret": "guess"}), ttl_seconds=60),
    )
    for session in (expired, forged):
        with pytest.raises(JanusRefused) as refused:
            await session.open()
        assert refused.value.code == FORBIDDEN
    stage.close()


def test_a_token_of_its_own_gets_an_outsider_into_no_room(janus: JanusSettings) -> None:
    asyncio.run(_outsider(janus))

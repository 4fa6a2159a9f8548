"""What happens on a stage (docs/stage.md): the host starts and ends it, invites speakers
and sends them back, mutes or removes someone; members watch, raise a hand, publish when
invited. Janus is told through the site's own client (`stage.janus.Janus`); every change
is announced to the stage's sockets after commit (`stage.broadcast`)."""

import contextlib
import secrets
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.access import staff_may
from members.models import User
from members.services import blocked_user_ids
from rooms.broadcast import member_removed, on_commit
from rooms.models import CAFETERIA_SLUG, Room
from rooms.services import room_can_enter, room_member_exclude
from stage import broadcast
from stage.janus import ROOM_EXISTS, Janus, JanusError, JanusSettings
from stage.models import (
    JANUS_ROOM_MAX,
    PUBLISHERS_MAX,
    SPEAKERS_MAX,
    Attendance,
    Hand,
    MediaSession,
    Speaker,
    Stage,
    StageError,
)

# After the host ends the stage, everyone's page counts down this long, then takes them
# to the cafeteria (one click does it at once).
CAFETERIA_COUNTDOWN_SECONDS = 20
# The stream a speaker's page publishes first, its microphone: what "mute" silences.
AUDIO_MID = "0"

# Who besides staff may host a room's stage, and which rooms besides staff rooms may have
# one: filled by higher apps in their AppConfig.ready() (events: the host of a training
# session or talk held in the room).
HOST_RULES: list[Callable[[Room, User], bool]] = []
ROOM_RULES: list[Callable[[Room], bool]] = []


class NotLive(StageError):
    code = "not_live"
    default_message = _("The stage is not live.")


class NotHost(StageError):
    code = "not_host"
    default_message = _("Only the host can do that.")


class NotSpeaker(StageError):
    code = "not_speaker"
    default_message = _("You are not invited to the stage.")


class AlreadyPublishing(StageError):
    code = "already_publishing"
    default_message = _("You are already on stage (perhaps in another tab).")


class StageFull(StageError):
    code = "stage_full"
    default_message = _("The stage is full: send a speaker back to the audience first.")


class NoSuchFeed(StageError):
    code = "no_feed"
    default_message = _("That speaker is not on stage any more.")


class MediaUnavailable(StageError):
    code = "media_unavailable"
    default_message = _("The stage's media server is unavailable. Trying again…")


def stage_allowed(*, room: Room) -> bool:
    """Staff rooms, and rooms a higher app says may have a stage (an event's)."""
    if room.is_cafeteria or not room.is_open:
        return False
    return room.kind == Room.Kind.PERMANENT or any(rule(room) for rule in ROOM_RULES)


def stage_may_host(*, stage: Stage, user: User) -> bool:
    """Staff with the right to change stages (the stage admin's), and whom a higher app
    names (the host of the event on now). Having started the stage (`Stage.host`) gives no
    rights of its own: they end with the event or with staff rights."""
    return staff_may(user, "stage.change_stage") or any(
        rule(stage.room, user) for rule in HOST_RULES
    )


def stage_for_room(*, room: Room, user: User) -> Stage | None:
    """The room's stage, made at the first visit when the room may have one. None when
    there is no stage the member may see."""
    if not room_can_enter(room=room, user=user):
        return None
    stage = Stage.objects.filter(room=room).select_related("room", "host").first()
    if stage is not None:
        return stage
    if not stage_allowed(room=room):
        return None
    # An empty row until a host starts it: an attendee who comes first (from the event's
    # page) waits on the stage page rather than finding nothing there.
    stage, _created = Stage.objects.get_or_create(room=room)
    return stage


def _janus() -> Janus:
    return Janus(JanusSettings.from_settings())


def _janus_room_ensure(janus: Janus, stage: Stage) -> None:
    """The stage's Janus room, made again if Janus lost it (restarted). Two processes may
    make it at once (everyone rejoins after a restart): the one that comes second finds
    it made, which is all it wanted."""
    if janus.room_exists(room=stage.janus_room):
        return
    try:
        janus.room_create(
            room=stage.janus_room,
            description=str(stage.room),
            pin=stage.janus_pin,
            secret=stage.janus_secret,
            publishers=PUBLISHERS_MAX,
            allowed=[stage.janus_token],
        )
    except JanusError as exc:
        if exc.code != ROOM_EXISTS:
            raise


def stage_state(*, stage: Stage) -> dict[str, Any]:
    """What every page of the stage shows: its state, host, speakers and raised hands.
    The same for everyone (a page knows who it is)."""
    speakers = [
        {
            "user": {"id": speaker.user_id, "name": speaker.user.name},
            "feed": speaker.feed if speaker.live_since else None,
            "screen": speaker.screen,
            "muted": speaker.muted,
        }
        for speaker in stage.speakers.select_related("user").order_by("invited_at", "pk")
    ]
    hands = [
        {"id": hand.user_id, "name": hand.user.name} for hand in stage.hands.select_related("user")
    ]
    host = stage.host
    return {
        "state": stage.state,
        "version": stage.version,
        "host": {"id": host.pk, "name": host.name} if host else None,
        "speakers": speakers,
        "hands": hands,
    }


def hands_visible(state: dict[str, Any], blocked: frozenset[int] | set[int]) -> dict[str, Any]:
    """`state` (stage_state's, or a frame of it) for a member with these blocks: a raised
    hand of someone on either side of a block is not shown, as the room's presence hides
    them."""
    return {**state, "hands": [hand for hand in state["hands"] if hand["id"] not in blocked]}


def _announce(stage: Stage) -> None:
    """Tell the stage's pages its state once this commits, numbered: `stage` is the locked
    row (`_locked`), so the numbers follow the changes' order whatever order their
    broadcasts arrive in."""
    stage.version += 1
    Stage.objects.filter(pk=stage.pk).update(version=stage.version)
    on_commit(broadcast.stage_state, stage_id=stage.pk, state=stage_state(stage=stage))


def _locked(stage: Stage) -> Stage:
    """The stage's row, locked: its changes happen one at a time."""
    return (
        Stage.objects.select_for_update(no_key=True, of=("self",))
        .select_related("room", "host")
        .get(pk=stage.pk)
    )


def _host_only(stage: Stage, by: User) -> None:
    if not stage_may_host(stage=stage, user=by):
        raise NotHost


def stage_start(*, stage: Stage, by: User) -> Stage:
    """Janus makes the room before the stage's lock is taken (asking it costs up to its
    timeout per request if it hangs): every member's arrival takes that lock."""
    _host_only(stage, by)  # who may not host never reaches Janus
    try:
        with _janus() as janus:
            _janus_room_ensure(janus, stage)
    except JanusError as exc:
        raise MediaUnavailable from exc
    with transaction.atomic():
        stage = _locked(stage)
        _host_only(stage, by)
        # Whoever starts it leads it (the talk's host, or staff standing in), whoever
        # opened the page first.
        stage.host = by
        if stage.state != Stage.State.LIVE:  # a new session (pressing it again is not)
            stage.started_at = timezone.now()
        stage.state = Stage.State.LIVE
        stage.ended_at = None
        stage.save(update_fields=["host", "state", "started_at", "ended_at"])
        Speaker.objects.get_or_create(stage=stage, user=by, defaults={"invited_by": by})
        _announce(stage)
    return stage


@transaction.atomic
def stage_end(*, stage: Stage, by: User) -> Stage:
    """The end of the session: media stop, everyone is invited to the cafeteria."""
    stage = _locked(stage)
    _host_only(stage, by)
    return _ended(stage)


def stage_close(*, stage_id: int) -> bool:
    """The end of a session its host did not end, when a higher app says its time is over
    (events: the talk's end, and the overrun it allows): as if the host had ended it.
    False when it was not live (ended by then, or never started)."""
    with transaction.atomic():
        stage = (
            Stage.objects.select_for_update(no_key=True, of=("self",))
            .select_related("room", "host")
            .filter(pk=stage_id, state=Stage.State.LIVE)
            .first()
        )
        if stage is None:
            return False
        _ended(stage)
    return True


def _ended(stage: Stage) -> Stage:
    """`stage` (locked) ended: media stop, everyone is invited to the cafeteria."""
    stage.state = Stage.State.ENDED
    stage.ended_at = timezone.now()
    stage.save(update_fields=["state", "ended_at"])
    stage.speakers.all().delete()
    stage.hands.all().delete()
    stage.media_sessions.all().delete()
    transaction.on_commit(partial(_janus_room_destroy, stage))
    _announce(stage)
    on_commit(
        broadcast.stage_ended,
        stage_id=stage.pk,
        url=reverse("rooms:room", args=[CAFETERIA_SLUG]),
        countdown=CAFETERIA_COUNTDOWN_SECONDS,
    )
    return stage


def _janus_room_destroy(stage: Stage) -> None:
    """After the commit: no lock waits on Janus."""
    try:
        with _janus() as janus:
            if janus.room_exists(room=stage.janus_room):
                janus.room_destroy(room=stage.janus_room, secret=stage.janus_secret)
    except JanusError:
        pass  # gone with Janus; made again if the stage starts again


def _live_feeds(stage: Stage) -> set[int]:
    live = stage.speakers.filter(live_since__isnull=False, feed__isnull=False)
    return {feed for feed in live.values_list("feed", flat=True) if feed is not None}


def _join(stage: Stage, *, session: int, handle: int, body: dict[str, Any]) -> None:
    request = {
        "request": "join",
        "room": stage.janus_room,
        "pin": stage.janus_pin,
        "token": stage.janus_token,
        **body,
    }
    try:
        with _janus() as janus:
            _janus_room_ensure(janus, stage)
            janus.on_behalf(session=session, handle=handle, body=request)
    except JanusError as exc:
        raise MediaUnavailable from exc


def _media_session(
    stage: Stage, user: User, channel_name: str, session: int, feed: int | None = None
) -> None:
    """Record a page's Janus session (with the feed it publishes, if it does), so that the
    site can end it: before Janus hears of the join, so that no joined session goes
    unrecorded. A page's one session watches and publishes: watching keeps its feed."""
    row, created = MediaSession.objects.get_or_create(
        stage=stage,
        janus_session=session,
        defaults={"user": user, "channel_name": channel_name, "feed": feed},
    )
    if row.user_id != user.pk:
        raise StageError(str(_("This media session is not yours.")))
    if not created:
        row.channel_name = channel_name
        row.feed = feed if feed is not None else row.feed
        row.save(update_fields=["channel_name", "feed"])


def stage_watch(
    *, stage: Stage, user: User, channel_name: str, session: int, handle: int, feeds: list[int]
) -> None:
    """Join a member's handle to the room as a subscriber to `feeds` (speakers live now).
    Decided and recorded under the stage's lock; Janus is asked after the commit, so a
    slow Janus holds no lock."""
    with transaction.atomic():
        stage = _locked(stage)
        if not stage.is_live:
            raise NotLive
        if not feeds or not set(feeds) <= _live_feeds(stage):
            raise NoSuchFeed
        _media_session(stage, user, channel_name, session)
        Attendance.objects.get_or_create(stage=stage, user=user)
    _join(
        stage,
        session=session,
        handle=handle,
        body={"ptype": "subscriber", "streams": [{"feed": feed} for feed in feeds]},
    )


def _publishing_in_janus(stage: Stage, feed: int) -> bool:
    try:
        with _janus() as janus:
            if not janus.room_exists(room=stage.janus_room):
                return False
            return feed in {p.get("id") for p in janus.room_publishers(room=stage.janus_room)}
    except JanusError as exc:
        raise MediaUnavailable from exc


def stage_publish(*, stage: Stage, user: User, channel_name: str, session: int, handle: int) -> int:
    """Join an invited speaker's handle to the room as a publisher. Returns their feed.
    One publisher per member: a second tab is refused while the first one's feed is in
    Janus. Janus is asked before any lock (a lock held while it hangs held up whoever waited
    on it); then the new feed is taken only if the feed Janus was asked about is still the
    speaker's, so of two tabs asking at once the second is refused."""
    known = stage.speakers.filter(user=user).first()
    if known is None:
        raise NotSpeaker
    if known.feed is not None and _publishing_in_janus(stage, known.feed):
        raise AlreadyPublishing
    with transaction.atomic():
        speaker = Speaker.objects.select_for_update().filter(pk=known.pk, feed=known.feed).first()
        if speaker is None:
            if Speaker.objects.filter(pk=known.pk).exists():
                raise AlreadyPublishing  # another tab of theirs took a feed meanwhile
            raise NotSpeaker  # sent back to the audience meanwhile
        stage = Stage.objects.select_related("room", "host").get(pk=stage.pk)
        if not stage.is_live:
            raise NotLive
        # A feed Janus no longer has (it restarted, the page's network dropped) is replaced.
        speaker.feed = secrets.randbelow(JANUS_ROOM_MAX - 1) + 1
        speaker.live_since = None
        speaker.screen = False  # a host's mute stays: stage_live applies it to the new feed
        speaker.save(update_fields=["feed", "live_since", "screen"])
        _media_session(stage, user, channel_name, session, feed=speaker.feed)
        feed = speaker.feed
    _join(
        stage,
        session=session,
        handle=handle,
        body={"ptype": "publisher", "id": feed, "display": user.name[:60]},
    )
    return feed


# How often a speaker's feed or mute may change under a Janus request before giving up.
CHANGED_MEANWHILE_ATTEMPTS = 3


def stage_live(*, stage: Stage, user: User, screen: bool) -> None:
    """A speaker's media flow (or their screen is shared, or no longer): everyone's page
    subscribes to their feed. A new feed of a speaker the host muted is muted in Janus
    first, before the stage's lock is taken; it goes live only if neither the feed nor the
    mute changed meanwhile, else it is read again and Janus told the mute as it now is."""
    for attempt in range(CHANGED_MEANWHILE_ATTEMPTS):
        speaker = stage.speakers.filter(user=user, feed__isnull=False).first()
        if speaker is None or speaker.feed is None:
            raise NotSpeaker
        if speaker.live_since is None and (speaker.muted or attempt > 0):
            _janus_mute(stage, speaker.feed, muted=speaker.muted)
        with transaction.atomic():
            locked = _locked(stage)
            if locked.speakers.filter(pk=speaker.pk, feed=speaker.feed, muted=speaker.muted).update(
                live_since=timezone.now(), screen=screen
            ):
                _announce(locked)
                return
    raise NotSpeaker  # sent back to the audience, or publishing anew, meanwhile


def _unpublish(stage: Stage, speaker: Speaker) -> None:
    """Take a speaker's feed out of the room: their publisher leaves at once."""
    if speaker.feed is None:
        return
    feed, speaker.feed, speaker.live_since = speaker.feed, None, None
    speaker.save(update_fields=["feed", "live_since"])
    transaction.on_commit(partial(_janus_kick, stage, feed))


def _janus_kick(stage: Stage, feed: int) -> None:
    """After the commit: no lock waits on Janus."""
    try:
        with _janus() as janus:
            janus.room_kick(room=stage.janus_room, secret=stage.janus_secret, participant=feed)
    except JanusError:
        pass  # Janus lost the room (restarted): nothing to take out


@transaction.atomic
def stage_unpublish(*, stage: Stage, user: User) -> None:
    """A speaker stops publishing (back to the green room; still invited)."""
    stage = _locked(stage)
    speaker = stage.speakers.filter(user=user).first()
    if speaker is None:
        raise NotSpeaker
    _unpublish(stage, speaker)
    _announce(stage)


@transaction.atomic
def stage_hand(*, stage: Stage, user: User, raised: bool) -> None:
    """A hand up or down; the whole audience hears of it only when it moved (a page saying
    it twice, or a hand flapped to annoy, costs the lock and nothing more)."""
    stage = _locked(stage)
    if raised:
        if not stage.is_live:
            raise NotLive
        moved = False
        if not stage.speakers.filter(user=user).exists():
            moved = Hand.objects.get_or_create(stage=stage, user=user)[1]
    else:
        moved = bool(stage.hands.filter(user=user).delete()[0])
    if moved:
        _announce(stage)


def _member(user_id: int) -> User:
    member = User.objects.filter(pk=user_id, is_active=True).first()
    if member is None:
        raise StageError(str(_("No such member.")))
    return member


@transaction.atomic
def stage_invite(*, stage: Stage, by: User, user_id: int) -> None:
    """The host brings a member of the audience on stage (their page opens the green room)."""
    stage = _locked(stage)
    _host_only(stage, by)
    if not stage.is_live:
        raise NotLive
    member = _member(user_id)
    if not room_can_enter(room=stage.room, user=member):
        raise StageError(str(_("This member cannot come into this room.")))
    # Speakers meet face to face in the green room, as at a call's table: never two on
    # either side of a block. The error says that this member cannot come now, not why.
    on_stage = set(stage.speakers.exclude(user=member).values_list("user_id", flat=True))
    if on_stage & blocked_user_ids(user=member):
        raise StageError(str(_("This member cannot come on stage now.")))
    guests = stage.speakers.exclude(user=stage.host)
    if not guests.filter(user=member).exists() and guests.count() >= SPEAKERS_MAX:
        raise StageFull
    Speaker.objects.get_or_create(stage=stage, user=member, defaults={"invited_by": by})
    stage.hands.filter(user=member).delete()
    _announce(stage)


@transaction.atomic
def stage_return(*, stage: Stage, by: User, user_id: int) -> None:
    """Back to the audience: the host sends a speaker, or a speaker goes themselves."""
    stage = _locked(stage)
    if by.pk != user_id:
        _host_only(stage, by)
    if user_id == stage.host_id:
        raise StageError(str(_("The host stays on stage.")))
    speaker = stage.speakers.filter(user_id=user_id).first()
    if speaker is None:
        raise NotSpeaker
    _unpublish(stage, speaker)
    speaker.delete()
    _announce(stage)


def stage_mute(*, stage: Stage, by: User, user_id: int, muted: bool) -> None:
    """The host silences (or lets speak again) a speaker's microphone for everyone: in
    Janus first, before the stage's lock is taken, then on the stage. A feed the speaker
    publishes later is muted as it goes live (`stage_live`)."""
    _host_only(stage, by)
    for _attempt in range(CHANGED_MEANWHILE_ATTEMPTS):
        speaker = stage.speakers.filter(user_id=user_id, feed__isnull=False).first()
        if speaker is None or speaker.feed is None:
            raise NoSuchFeed
        _janus_mute(stage, speaker.feed, muted=muted)
        with transaction.atomic():
            locked = _locked(stage)
            _host_only(locked, by)
            # On the feed Janus was told about: one published meanwhile is told again.
            if locked.speakers.filter(pk=speaker.pk, feed=speaker.feed).update(muted=muted):
                _announce(locked)
                return
    raise NoSuchFeed  # sent back to the audience, or publishing anew again and again


def _janus_mute(stage: Stage, feed: int, *, muted: bool) -> None:
    try:
        with _janus() as janus:
            janus.room_mute(
                room=stage.janus_room,
                secret=stage.janus_secret,
                participant=feed,
                mid=AUDIO_MID,
                mute=muted,
            )
    except JanusError as exc:
        raise MediaUnavailable from exc


def _end_media(stage: Stage, sessions: list[int]) -> None:
    if not sessions:
        return
    try:
        janus = _janus().open()
    except JanusError:
        return  # Janus is down: its sessions went with it
    try:
        for session in sessions:
            try:
                janus.session_destroy(session=session)
            except JanusError:
                continue  # one that failed does not keep the others alive
    finally:
        with contextlib.suppress(JanusError):
            janus.close()


@transaction.atomic
def stage_remove(*, stage: Stage, by: User, user_id: int) -> None:
    """Send a member out of the event: out of the room (they cannot come back), off the
    stage, and their media ended at once (their Janus sessions destroyed)."""
    stage = _locked(stage)
    _host_only(stage, by)
    member = _member(user_id)
    if member.pk == by.pk or stage_may_host(stage=stage, user=member):
        # Nobody who may host (staff, the event's host) is sent out by another host.
        raise StageError(str(_("You cannot remove yourself or the host.")))
    # Staff, or the host of the event held here: out of its room as a moderator would.
    room_member_exclude(room=stage.room, member=member, by=by)
    _off_stage(stage, member.pk)
    on_commit(member_removed, room_id=stage.room_id, user_id=member.pk)
    _announce(stage)


def _off_stage(stage: Stage, user_id: int) -> None:
    """The member off `stage` (locked): not a speaker any more, no hand up, their media
    ended at once (their Janus sessions destroyed after the commit)."""
    speaker = stage.speakers.filter(user_id=user_id).first()
    if speaker is not None:
        _unpublish(stage, speaker)
        speaker.delete()
    stage.hands.filter(user_id=user_id).delete()
    sessions = list(
        stage.media_sessions.filter(user_id=user_id).values_list("janus_session", flat=True)
    )
    stage.media_sessions.filter(user_id=user_id).delete()
    transaction.on_commit(partial(_end_media, stage, sessions))


def stages_leave(*, user: User) -> None:
    """A member whose account goes (members/privacy.py): off every stage they are on, or
    host, or raised a hand at, their media ended, and the stages' pages told once the
    deletion commits. A stage they host stays, with no host: staff, or the event's host
    if it is someone else, lead it on."""
    stage_ids = (
        set(Speaker.objects.filter(user=user).values_list("stage_id", flat=True))
        | set(Hand.objects.filter(user=user).values_list("stage_id", flat=True))
        | set(MediaSession.objects.filter(user=user).values_list("stage_id", flat=True))
        | set(Stage.objects.filter(host=user).values_list("pk", flat=True))
    )
    for stage_id in sorted(stage_ids):  # one order: two deletions at once wait, not lock
        stage = _locked(Stage(pk=stage_id))
        _off_stage(stage, user.pk)
        if stage.host_id == user.pk:
            stage.host = None
            stage.save(update_fields=["host"])
        _announce(stage)


@transaction.atomic
def stage_left(*, channel_name: str) -> None:
    """A stage page's socket closed (tab closed, network gone): its Janus sessions end,
    and a speaker it published for leaves the stage's screen until they publish again."""
    rows = list(MediaSession.objects.filter(channel_name=channel_name).select_related("stage"))
    if not rows:
        return
    feeds = {row.feed for row in rows if row.feed is not None}
    for stage_id in {row.stage_id for row in rows if row.feed is not None}:
        stage = _locked(Stage(pk=stage_id))
        for speaker in stage.speakers.filter(feed__in=feeds):
            _unpublish(stage, speaker)
        _announce(stage)
    MediaSession.objects.filter(channel_name=channel_name).delete()
    transaction.on_commit(partial(_end_media, rows[0].stage, [row.janus_session for row in rows]))

"""The demo's life besides events and coffee pairs: rooms, today's talk in the cafeteria,
the newsletter and the staff dashboard's figures."""

import contextlib
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from demo.data import (
    CAFETERIA_CHAT,
    DEMO_DOMAIN,
    FOCUS_ROOM,
    MEMBER_EMAIL,
    NEWSLETTER_BODY,
    NEWSLETTER_READERS,
    NEWSLETTER_SUBJECT,
    TRAINING_ROOM,
)
from demo.people import People
from members.models import User
from moderation.models import Report
from newsletter.models import Issue, Subscriber
from rooms.models import HourlyUsage, Message, Room, RoomError, RoomParticipation, Visit
from rooms.services import cafeteria_get, message_post, room_create, room_enter

# Room use drawn for the staff dashboard's charts, this far back.
USAGE_WEEKS = 8


@dataclass(frozen=True)
class DemoRooms:
    training: Room
    focus: Room


def _staff_room(*, staff: User, name: str, description: str) -> Room:
    room = Room.objects.filter(created_by=staff, name=name).first()
    if room is None:
        return room_create(creator=staff, name=name, description=description, permanent=True)
    if room.closed_at is not None:
        Room.objects.filter(pk=room.pk).update(closed_at=None)
        room.closed_at = None
    return room


def rooms_ensure(*, staff: User) -> DemoRooms:
    """Two permanent rooms, open: one for staff sessions, one for quiet work."""
    return DemoRooms(
        training=_staff_room(staff=staff, name=TRAINING_ROOM[0], description=TRAINING_ROOM[1]),
        focus=_staff_room(staff=staff, name=FOCUS_ROOM[0], description=FOCUS_ROOM[1]),
    )


def cafeteria_chat(*, people: People, now: datetime) -> list[Message]:
    """Today's conversation in the cafeteria (`demo.data.CAFETERIA_CHAT`), in the last hour
    and a half before `now`, and the stays of those who talked. Once a day (in the
    community's zone): a run later the same day finds it there; a run on another day adds
    that day's, so the history reads like days in a cafeteria."""
    cafeteria = cafeteria_get()
    today = timezone.localdate(now)
    if not RoomParticipation.objects.filter(room=cafeteria, user=people.member).exists():
        # Mentions reach those who have been in the room.
        with contextlib.suppress(RoomError):
            room_enter(room=cafeteria, user=people.member, now=now - timedelta(days=2))
    messages = []
    for position, (who, minutes, text) in enumerate(CAFETERIA_CHAT):
        author = people.who(who)
        at = now - timedelta(minutes=minutes)
        client_id = uuid.uuid5(uuid.NAMESPACE_URL, f"https://{DEMO_DOMAIN}/{today}/{position}")
        said = Message.objects.filter(room=cafeteria, author=author, client_id=client_id).first()
        if said is not None:
            messages.append(said)
            continue
        try:
            room_enter(room=cafeteria, user=author, now=at)
            # Mentions are the real thing: the member login hears of theirs after the commit.
            message, _created = message_post(
                room=cafeteria, author=author, text=text, client_id=client_id
            )
        except RoomError:
            # Someone trying the demo suspended, muted or removed the author: a line they
            # could not say now is left out.
            continue
        Message.objects.filter(pk=message.pk).update(created_at=at)
        message.created_at = at
        messages.append(message)
    _stays_record(room=cafeteria, messages=messages, now=now)
    return messages


def _stays_record(*, room: Room, messages: list[Message], now: datetime) -> None:
    """A visit for each person who talked, from a while before their first line to a
    while after their last (the staff dashboard's people, event attendance)."""
    said: dict[int, list[datetime]] = {}
    for message in messages:
        if message.author_id is not None:
            said.setdefault(message.author_id, []).append(message.created_at)
    Visit.objects.bulk_create(
        [
            Visit(
                room=room,
                user_id=user_id,
                started_at=min(times) - timedelta(minutes=20),
                ended_at=min(max(times) + timedelta(minutes=10), now),
            )
            for user_id, times in said.items()
        ],
        ignore_conflicts=True,
    )


def room_usage_fill(*, rooms: list[Room], now: datetime) -> None:
    """People-hours in `rooms` for the staff dashboard: busy on weekday working hours,
    quiet otherwise, up to the last full hour. Hours that have a figure keep it."""
    rng = random.Random(now.toordinal())
    hour_now = now.replace(minute=0, second=0, microsecond=0)
    usage = []
    for room in rooms:
        busy = 6 if room.is_cafeteria else 3
        for hours_ago in range(1, USAGE_WEEKS * 7 * 24):
            hour = hour_now - timedelta(hours=hours_ago)
            weekday_daytime = hour.weekday() < 5 and 7 <= hour.hour <= 17
            if weekday_daytime or rng.random() < 0.1:
                people = rng.randrange(1, busy + 1) if weekday_daytime else 1
                seconds = people * rng.randrange(600, 3600)
                usage.append(HourlyUsage(room=room, hour=hour, seconds=seconds))
    HourlyUsage.objects.bulk_create(usage, ignore_conflicts=True)


def reports_make(*, people: People) -> None:
    """Two open reports in the moderation queue, made once."""
    link_poster, reporter = people.who("Santiago"), people.who("Sevilla")
    message = Message.objects.filter(room__kind=Room.Kind.CAFETERIA, author=link_poster).first()
    Report.objects.get_or_create(
        reporter=reporter,
        reported=link_poster,
        reason=Report.Reason.SPAM,
        defaults={
            "details": "Pone el enlace a su blog en cada conversación de la cafetería.",
            "subject": f"room message {message.pk}" if message else "",
            "message": message,
        },
    )
    Report.objects.get_or_create(
        reporter=people.who("Quito"),
        reported=people.who("Lima"),
        reason=Report.Reason.FAKE,
        defaults={"details": "La foto de perfil es de un actor bastante conocido."},
    )


def newsletter_make(*, staff: User, now: datetime) -> None:
    """A few confirmed readers and one issue in the archive, made once."""
    for index, email in enumerate([MEMBER_EMAIL, *NEWSLETTER_READERS]):
        Subscriber.objects.get_or_create(
            email=email,
            defaults={
                "language": "en" if index == 2 else "es",
                "status": Subscriber.Status.CONFIRMED,
                "consent_source": (
                    Subscriber.Source.MEMBER if index == 0 else Subscriber.Source.SITE_FORM
                ),
                "user": User.objects.filter(email=email).first(),
                "requested_at": now,
                "confirmed_at": now,
                "confirmation_nonce": "",
            },
        )
    Issue.objects.get_or_create(
        subject=NEWSLETTER_SUBJECT,
        created_by=staff,
        defaults={
            "body_markdown": NEWSLETTER_BODY,
            "status": Issue.Status.SENT,
            "send_started_at": now,
            "sent_at": now,
        },
    )

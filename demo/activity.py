"""The demo's life: rooms with chat, coffee rounds, notices, the newsletter, staff figures."""

import random
import uuid
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from demo.data import CAFETERIA_CHAT, MEMBER_EMAIL, NEWSLETTER_READERS
from members.models import User
from newsletter.models import Issue, Subscriber
from rooms.models import Message, Room
from rooms.services import message_post, room_create, room_enter


def notifications_make(members: list[User]) -> None:
    """A few notices behind the demo member's bell, one of them already read."""
    from notifications.models import Kind
    from notifications.services import notifications_mark_read, notify

    me, partner, other = members[0], members[1], members[2]
    notify(
        user=me,
        kind=Kind.PAIR_CREATED,
        key="demo:pair",
        text=_("Your coffee pair this round: %(names)s. Agree on a time together."),
        params={"names": partner.name},
        url=reverse("matching:mine"),
    )
    notify(
        user=me,
        kind=Kind.MENTION,
        key="demo:mention",
        text=_("%(author)s mentioned you in “%(room)s”: %(excerpt)s"),
        params={"author": other.name, "room": "Cafetería", "excerpt": "¿Te apuntas al taller?"},
        url=reverse("rooms:room", args=["cafeteria"]),
    )
    earlier = notify(
        user=me,
        kind=Kind.PAIR_FOLLOW_UP,
        key="demo:follow-up",
        text=_("Did you meet your coffee pair? Tell us in one click."),
        url=reverse("matching:mine"),
        now=timezone.now() - timedelta(days=15),
    )
    notifications_mark_read(user=me, ids=[earlier.notification.pk])


def rooms_make(staff: User, members: list[User]) -> None:
    """A lived-in cafeteria and a few meeting rooms, so the rooms pages have something to
    show on a first `make run`."""
    if not members:
        return
    cafeteria = Room.objects.get(kind=Room.Kind.CAFETERIA)
    now = timezone.now()
    for index, text in enumerate(CAFETERIA_CHAT):
        author = members[(index * 5) % len(members)]
        room_enter(room=cafeteria, user=author)
        message, _created = message_post(
            room=cafeteria, author=author, text=text, client_id=uuid.uuid4()
        )
        # Spread over the last hour, oldest first, as if people had been chatting.
        Message.objects.filter(pk=message.pk).update(
            created_at=now - timedelta(minutes=5 * (len(CAFETERIA_CHAT) - index))
        )
    room_create(
        creator=staff,
        name="Focus hour",
        description="Cameras off, heads down: 50 minutes of work, 10 of chat.",
        permanent=True,
    )
    room_create(
        creator=members[1],
        name="Feedback de portfolios",
        description="Trae tu portfolio y te damos ideas.",
    )


def coffee_pairs_make(rng: random.Random, members: list[User]) -> None:
    """Most members take part; three past rounds show history, answers and statistics."""
    from matching import services as matching
    from matching.apps import COMMUNITY_SLUG
    from matching.models import Answer, GroupMember, Programme

    programme = Programme.objects.get(slug=COMMUNITY_SLUG)
    for index, user in enumerate(members):
        matching.participation_get_or_create(programme=programme, user=user)
        if index % 10 == 9:
            matching.community_opt_in_set(user=user, opted_in=False)
    now = timezone.now()
    latest = programme.latest_slot(now) or now
    answers = [Answer.MET, Answer.MET, Answer.SCHEDULED, Answer.NOT_YET, ""]
    for rounds_ago in (3, 2, 1):
        scheduled_for = latest - timedelta(days=programme.cadence_days * rounds_ago)
        round_, _ = matching.round_create(
            programme=programme, scheduled_for=scheduled_for, notify=False
        )
        seats = GroupMember.objects.filter(round=round_)
        seats.update(
            intro_sent_at=scheduled_for,
            follow_up_sent_at=scheduled_for + timedelta(days=programme.follow_up_after_days),
        )
        for seat in seats:
            answer = rng.choice(answers)
            if answer:
                matching.answer_record(seat=seat, answer=answer)


def newsletter_make(staff: User) -> None:
    """A few confirmed readers and one issue in the archive (get_or_create: runs again
    without adding anything)."""
    now = timezone.now()
    for index, email in enumerate([MEMBER_EMAIL, *NEWSLETTER_READERS]):
        Subscriber.objects.get_or_create(
            email=email,
            defaults={
                "language": "en" if index % 2 else "es",
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
        subject="Bienvenida a la newsletter de la comunidad",
        defaults={
            "body_markdown": (
                "¡Hola!\n\nCada mes te contamos lo que pasa en la comunidad:\n\n"
                "- **Sesiones de formación** los miércoles a las 18:00 (Madrid).\n"
                "- Nuevas salas temáticas para trabajar en compañía.\n"
                "- Los cafés por parejas de cada semana.\n\n"
                "Nos vemos en la cafetería ☕"
            ),
            "status": Issue.Status.SENT,
            "created_by": staff,
            "send_started_at": now,
            "sent_at": now,
        },
    )


def staff_dashboard_make(rng: random.Random, members: list[User]) -> None:
    """Some history for /staff/: sign-ups over four months, recent visits, eight weeks of
    room use, two past events and two open reports."""
    from events.models import Event, Rsvp
    from moderation.models import Report
    from rooms.models import HourlyUsage

    if len(members) < 10:
        return
    now = timezone.now()
    for index, user in enumerate(members):
        joined = now - timedelta(days=rng.randrange(1, 120), hours=rng.randrange(24))
        seen = now - timedelta(hours=rng.randrange(1, 24 * 40)) if index % 4 else None
        User.objects.filter(pk=user.pk).update(date_joined=joined, last_seen_at=seen)
    hour_now = now.replace(minute=0, second=0, microsecond=0)
    usage = []
    for room in Room.objects.filter(kind__in=[Room.Kind.CAFETERIA, Room.Kind.PERMANENT]):
        busy = 6 if room.kind == Room.Kind.CAFETERIA else 3
        for hours_ago in range(1, 8 * 7 * 24):
            hour = hour_now - timedelta(hours=hours_ago)
            weekday_daytime = hour.weekday() < 5 and 7 <= hour.hour <= 17
            if weekday_daytime or rng.random() < 0.1:
                people = rng.randrange(1, busy + 1) if weekday_daytime else 1
                seconds = people * rng.randrange(600, 3600)
                usage.append(HourlyUsage(room=room, hour=hour, seconds=seconds))
    HourlyUsage.objects.bulk_create(usage, ignore_conflicts=True)
    focus = Room.objects.filter(kind=Room.Kind.PERMANENT).first()
    for days_ago, title in ((12, "Taller: facturar desde el extranjero"), (5, "Demo day")):
        day = now - timedelta(days=days_ago)
        starts = day.replace(hour=17, minute=0, second=0, microsecond=0)
        event = Event.objects.create(
            kind="meetup",
            title=title,
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            room=focus,
            wrapped_up_at=starts + timedelta(hours=1),
            attendance_count=rng.randrange(6, 12),
        )
        Rsvp.objects.bulk_create(
            [Rsvp(event=event, user=user, status=Rsvp.Status.GOING) for user in members[2:17]]
        )
    message = Message.objects.filter(room__kind=Room.Kind.CAFETERIA, author=members[5]).first()
    Report.objects.create(
        reporter=members[3],
        reported=members[5],
        reason=Report.Reason.SPAM,
        details="Keeps posting the same link to a paid course.",
        subject=f"room message {message.pk}" if message else "",
        message=message,
    )
    Report.objects.create(
        reporter=members[7],
        reported=members[9],
        reason=Report.Reason.FAKE,
        details="The photo is of a well-known actor.",
    )

"""Notices held while a member is in focus (docs/focus.md, "In focus: presence and held
notifications"): nothing reaches them during the block, by email or on the site, and when it
ends one email, "While you were focusing", carries what was to be emailed; never twice, and
again after a failed send. A member not in focus is told as before."""

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import connections
from django.test import override_settings

from conversations.models import Conversation
from conversations.services import direct_conversation_start, message_post
from conversations.tasks import unread_tell_tick
from events import tasks as event_tasks
from events.models import Rsvp
from focus.models import FocusBlock, Seat
from members.models import User
from members.services import member_suspend
from notifications.digest import digest_content
from notifications.models import Channel, Kind, Notification, Preference
from notifications.selectors import notifications_listed, unread_count
from notifications.services import (
    channels_for,
    notifications_mark_read,
    notify,
    preferences_set,
)
from notifications.signals import notices_changed
from notifications.tasks import held_batch_send, held_release_tick
from rooms.models import Room
from rooms.services import room_create
from rooms.tasks import invitation_notify
from tests.conftest import SmtpSink, free_port
from tests.factories import EventFactory, RsvpFactory, client_for, onboarded_member
from tests.test_notifications import CAUSES

pytestmark = pytest.mark.django_db

# Monday 7 December 2026, 10:00 UTC (11:00 in Madrid, where everyone here lives): a block of
# 50 minutes, so it ends at 10:50 UTC.
TEN = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
DURING = TEN + timedelta(minutes=16)
END = TEN + timedelta(minutes=50)
SUBJECT = "While you were focusing: 1 notice"


def member(name: str, **fields: Any) -> User:
    email = name.lower().replace(" ", ".") + "@example.com"
    return onboarded_member(name, email=email, language="en", **fields)


def in_focus(user: User, *, arrived: bool = True) -> Seat:
    block = FocusBlock.objects.create(starts_at=TEN, minutes=50)
    return Seat.objects.create(
        block=block, user=user, arrived_at=TEN + timedelta(minutes=1) if arrived else None
    )


@contextmanager
def bell() -> Iterator[list[int]]:
    """The members whose bell was told to update (`notices_changed`), in order."""
    heard: list[int] = []

    def listen(sender: Any, user: User, **kwargs: Any) -> None:
        heard.append(user.pk)

    notices_changed.connect(listen)
    try:
        yield heard
    finally:
        notices_changed.disconnect(listen)


def to(user: User, smtp: SmtpSink) -> list[Any]:
    return [message for message in smtp.messages if user.email in str(message["To"])]


def text_of(email: Any) -> str:
    return str(email.get_body(("plain",)).get_content())


def test_a_message_to_a_member_in_focus_waits_and_comes_in_one_batch_after_the_block(
    smtp: SmtpSink,
) -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    in_focus(beto)
    conversation = direct_conversation_start(starter=ana, other=beto)
    with time_machine.travel(TEN + timedelta(minutes=5), tick=False):
        message_post(conversation=conversation, author=ana, text="¿Café?", client_id=uuid.uuid4())

    with time_machine.travel(DURING, tick=False), bell() as rung:
        unread_tell_tick()  # ten minutes unread: the moment Beto would be told
        assert held_release_tick() == 0
        page = client_for(beto).get("/notifications/").content.decode()

    assert smtp.messages == [] and rung == []
    notice = Notification.objects.get(user=beto)
    assert notice.text == "Ana Arias wrote to you"
    assert (notice.held_until, notice.held_email, notice.released_at) == (END, True, None)
    assert "Ana Arias wrote to you" not in page
    assert unread_count(user=beto) == 0 and not notifications_listed(user=beto).exists()

    with time_machine.travel(END + timedelta(seconds=20), tick=False), bell() as rung:
        assert held_release_tick() == 1

    [email] = smtp.messages
    assert email["To"] == beto.email and email["Subject"] == SUBJECT
    body = text_of(email)
    link = f"{settings.SITE_URL}/messages/{conversation.pk}/"
    assert "Ana Arias wrote to you" in body and link in body
    assert "11:16" in body  # when it came, in Beto's zone
    assert f'href="{link}"' in email.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert rung == [beto.pk]  # the bell updates live
    assert unread_count(user=beto) == 1
    assert "Ana Arias wrote to you" in client_for(beto).get("/notifications/").content.decode()

    # A second tick, and the conversation's own tick later, send nothing more.
    with time_machine.travel(END + timedelta(seconds=50), tick=False), bell() as rung:
        assert held_release_tick() == 0
        held_batch_send(beto.pk)  # a redelivered task
    with time_machine.travel(END + timedelta(minutes=15), tick=False):
        unread_tell_tick()
    assert len(smtp.messages) == 1 and rung == []


def ana_and_carla_write_to_beto_in_focus() -> tuple[User, list[Conversation]]:
    """Beto in a focus block; Ana and Carla each write to him during it, and the tick tells
    him (held): his direct conversations with them, in that order."""
    ana, beto, carla = member("Ana Arias"), member("Beto Blanco"), member("Carla Cruz")
    in_focus(beto)
    conversations = [direct_conversation_start(starter=other, other=beto) for other in (ana, carla)]
    with time_machine.travel(TEN + timedelta(minutes=5), tick=False):
        for conversation, author in zip(conversations, (ana, carla), strict=True):
            message_post(
                conversation=conversation, author=author, text="Hola", client_id=uuid.uuid4()
            )
    with time_machine.travel(DURING, tick=False):
        unread_tell_tick()
    return beto, conversations


def test_a_conversation_muted_during_the_block_is_left_out_of_the_batch(smtp: SmtpSink) -> None:
    beto, conversations = ana_and_carla_write_to_beto_in_focus()
    assert Notification.objects.filter(user=beto, released_at=None).count() == 2

    betos = client_for(beto)
    assert betos.post(f"/messages/{conversations[0].pk}/mute/", {"muted": "1"}).status_code == 302
    with time_machine.travel(END, tick=False):
        held_release_tick()

    [email] = smtp.messages
    assert email["Subject"] == SUBJECT  # one notice: Carla's
    assert "Carla Cruz wrote to you" in text_of(email) and "Ana Arias" not in text_of(email)
    assert [notice.text for notice in Notification.objects.filter(user=beto)] == [
        "Carla Cruz wrote to you"
    ]
    # Muting it again later takes nothing back that Beto has seen.
    betos.post(f"/messages/{conversations[1].pk}/mute/", {"muted": "1"})
    assert Notification.objects.filter(user=beto).count() == 1


@pytest.mark.parametrize("blocker", ["beto", "ana"])
def test_news_of_someone_blocked_during_the_block_is_never_released(
    smtp: SmtpSink, blocker: str
) -> None:
    """Either way: not on the site, not in the batch's email, so not on a device either."""
    beto, _conversations = ana_and_carla_write_to_beto_in_focus()
    ana = User.objects.get(email="ana.arias@example.com")
    if blocker == "beto":
        assert client_for(beto).post(f"/members/{ana.pk}/block/").status_code == 302
    else:
        assert client_for(ana).post(f"/members/{beto.pk}/block/").status_code == 302

    with time_machine.travel(END, tick=False):
        held_release_tick()

    [email] = smtp.messages
    assert email["Subject"] == SUBJECT  # one notice: Carla's
    assert "Ana Arias" not in text_of(email)
    assert [notice.text for notice in Notification.objects.filter(user=beto)] == [
        "Carla Cruz wrote to you"
    ]


def test_news_of_someone_suspended_during_the_block_is_never_released(
    smtp: SmtpSink, staff: User
) -> None:
    beto, _conversations = ana_and_carla_write_to_beto_in_focus()
    ana = User.objects.get(email="ana.arias@example.com")
    with time_machine.travel(END - timedelta(minutes=10), tick=False):
        member_suspend(user=ana, by=staff)
    smtp.messages.clear()  # the suspension's own email to Ana

    with time_machine.travel(END, tick=False):
        held_release_tick()

    [email] = smtp.messages
    assert "Ana Arias" not in text_of(email)
    assert [notice.text for notice in Notification.objects.filter(user=beto)] == [
        "Carla Cruz wrote to you"
    ]


def test_a_conversation_read_during_the_block_is_left_out_and_one_read_after_is_read(
    smtp: SmtpSink,
) -> None:
    beto, conversations = ana_and_carla_write_to_beto_in_focus()

    betos = client_for(beto)
    with time_machine.travel(DURING, tick=False):  # in another tab, during the block
        betos.get(f"/messages/{conversations[0].pk}/")
    with time_machine.travel(END, tick=False):
        held_release_tick()
        betos.get(f"/messages/{conversations[1].pk}/")  # after it, from the bell

    [email] = smtp.messages
    assert "Carla Cruz wrote to you" in text_of(email) and "Ana Arias" not in text_of(email)
    [notice] = Notification.objects.filter(user=beto)
    assert notice.text == "Carla Cruz wrote to you" and notice.read_at is not None
    assert unread_count(user=beto) == 0


def test_an_invitation_to_a_room_during_the_block_is_never_emailed(smtp: SmtpSink) -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    in_focus(beto)
    with time_machine.travel(DURING, tick=False):
        room_create(creator=ana, name="Logo feedback", private=True, invitees=[beto])
        invitation_notify(Room.objects.get(name="Logo feedback").pk, beto.pk, ana.pk)
    with time_machine.travel(END, tick=False):
        held_release_tick()

    [notice] = Notification.objects.filter(user=beto, kind=Kind.ROOM_INVITED)
    assert notice.released_at is not None and not notice.held_email
    assert smtp.messages == []


# Its email carries the calendar's invitation, which goes at once (below).
CALENDAR_NOW = {Kind.WAITLIST_PROMOTED}
# What CAUSES tells of these is about to start (an event's starting-soon reminder).
ABOUT_TO_START = {Kind.EVENT_REMINDER, Kind.FOCUS_REMINDER}


@pytest.mark.parametrize("kind", sorted(set(CAUSES) - ABOUT_TO_START - CALENDAR_NOW))
def test_each_kind_told_during_focus_waits_for_the_batch(kind: str, smtp: SmtpSink) -> None:
    ana = onboarded_member("Ana", email="ana@example.com", language="en")
    in_focus(ana)

    with time_machine.travel(DURING, tick=False):
        CAUSES[kind](ana)  # the task that tells it, as it runs in production

    assert to(ana, smtp) == []
    notice = Notification.objects.get(user=ana)
    assert notice.held_until == END and notice.held_email
    with time_machine.travel(END, tick=False):
        held_release_tick()
    [email] = to(ana, smtp)
    assert email["Subject"] == SUBJECT and notice.text in text_of(email)


def test_a_seat_from_the_waiting_list_reaches_the_calendar_at_once_even_in_focus(
    smtp: SmtpSink,
) -> None:
    """The notice waits for the block's end, but the email with the invitation goes now: a
    member in focus would otherwise never get the event into their calendar."""
    ana = onboarded_member("Ana", email="ana@example.com", language="en")
    in_focus(ana)

    with time_machine.travel(DURING, tick=False):
        CAUSES[Kind.WAITLIST_PROMOTED](ana)

    [email] = to(ana, smtp)
    assert [part.get_content_type() for part in email.iter_attachments()] == ["text/calendar"]
    notice = Notification.objects.get(user=ana)
    assert notice.held_until == END and not notice.held_email
    with time_machine.travel(END, tick=False):
        held_release_tick()
    assert len(to(ana, smtp)) == 1  # the batch does not repeat it
    assert notifications_listed(user=ana).filter(pk=notice.pk).exists()


@pytest.mark.parametrize("kind", sorted(ABOUT_TO_START))
def test_a_reminder_of_something_about_to_start_is_told_at_once_even_in_focus(
    kind: str, smtp: SmtpSink
) -> None:
    ana = onboarded_member("Ana", email="ana@example.com", language="en")
    Preference.objects.create(user=ana, kind=kind, channel=Channel.BOTH)
    in_focus(ana)

    with time_machine.travel(DURING, tick=False):
        CAUSES[kind](ana)

    notice = Notification.objects.get(user=ana)
    assert notice.held_until is None
    assert len(to(ana, smtp)) == 1
    assert notifications_listed(user=ana).filter(pk=notice.pk).exists()


def test_an_event_reminder_a_day_ahead_waits_for_the_end_of_the_block(smtp: SmtpSink) -> None:
    ana = onboarded_member("Ana", email="ana@example.com", language="en")
    in_focus(ana)
    tomorrow = DURING + timedelta(hours=23, minutes=50)
    event = EventFactory.create(starts_at=tomorrow, ends_at=tomorrow + timedelta(hours=1))
    rsvp = RsvpFactory.create(
        event=event, user=ana, status=Rsvp.Status.GOING, going_since=TEN - timedelta(days=3)
    )

    with time_machine.travel(DURING, tick=False):
        event_tasks.reminder_send(rsvp.pk, "day")

    assert to(ana, smtp) == []
    notice = Notification.objects.get(user=ana, kind=Kind.EVENT_REMINDER)
    assert notice.held_until == END and notice.held_email and not notice.urgent
    with time_machine.travel(END, tick=False):
        held_release_tick()
    [email] = to(ana, smtp)
    assert email["Subject"] == SUBJECT and notice.text in text_of(email)


@pytest.mark.parametrize("state", ["no seat", "not arrived", "block over"])
def test_a_notice_to_someone_not_in_focus_is_told_at_once(state: str) -> None:
    ana = member("Ana Arias")
    if state != "no seat":
        in_focus(ana, arrived=state != "not arrived")
    now = END if state == "block over" else DURING

    with time_machine.travel(now, tick=False), bell() as rung:
        delivery = notify(user=ana, kind=Kind.MENTION, key="m1", text="Look", url="/rooms/")

    assert delivery.email and rung == [ana.pk]
    notice = delivery.notification
    assert (notice.held_until, notice.held_email, notice.released_at) == (None, False, None)
    assert unread_count(user=ana) == 1


def test_the_member_s_choices_decide_what_the_batch_carries(smtp: SmtpSink) -> None:
    ana = member("Ana Arias")
    in_focus(ana)
    chosen = {
        Kind.MENTION: Channel.IN_APP,
        Kind.MESSAGE: Channel.EMAIL,
        Kind.PAIR_CREATED: Channel.DIGEST,
    }
    for kind, channel in chosen.items():
        Preference.objects.create(user=ana, kind=kind, channel=channel)
    texts = {
        Kind.MENTION: "Site only",
        Kind.MESSAGE: "Email only",
        Kind.PAIR_CREATED: "For the digest",
        Kind.PAIR_FOLLOW_UP: "Both ways",
    }

    with time_machine.travel(DURING, tick=False):
        for kind, text in texts.items():
            delivery = notify(user=ana, kind=kind, key=kind, text=text, url=f"/{kind}/")
            assert not delivery.email
        assert digest_content(user=ana).notifications == []
        notifications_mark_read(user=ana)  # "Mark all as read" leaves what it cannot see
    with time_machine.travel(END + timedelta(minutes=1), tick=False):
        held_release_tick()

    [email] = smtp.messages
    body = text_of(email)
    assert email["Subject"] == "While you were focusing: 2 notices"
    assert "Email only" in body and "Both ways" in body
    assert "Site only" not in body and "For the digest" not in body
    listed = {notice.text for notice in notifications_listed(user=ana)}
    assert listed == {"Site only", "For the digest", "Both ways"}
    assert unread_count(user=ana) == 3
    with time_machine.travel(END + timedelta(minutes=2), tick=False):
        digested = digest_content(user=ana).notifications
    assert [notice.text for notice in digested] == ["For the digest"]


def test_a_member_who_leaves_early_hears_of_it_at_the_block_s_end(smtp: SmtpSink) -> None:
    ana = member("Ana Arias")
    seat = in_focus(ana)
    with time_machine.travel(DURING, tick=False):
        notify(user=ana, kind=Kind.MENTION, key="held", text="While in focus", url="/a/")
    Seat.objects.filter(pk=seat.pk).update(cancelled_at=DURING + timedelta(minutes=1))

    with time_machine.travel(DURING + timedelta(minutes=2), tick=False):
        told = notify(user=ana, kind=Kind.MENTION, key="after", text="After leaving", url="/b/")
        held_release_tick()

    assert told.email and told.notification.held_until is None
    assert smtp.messages == [] and unread_count(user=ana) == 1
    with time_machine.travel(END, tick=False):
        held_release_tick()
    [email] = smtp.messages
    assert "While in focus" in text_of(email) and "After leaving" not in text_of(email)


def test_a_refused_batch_is_tried_again_and_then_sent_once(smtp: SmtpSink) -> None:
    ana = member("Ana Arias")
    in_focus(ana)
    with time_machine.travel(DURING, tick=False):
        notify(user=ana, kind=Kind.MENTION, key="m1", text="Look", url="/rooms/")

    with time_machine.travel(END, tick=False):
        with override_settings(EMAIL_PORT=free_port()):  # nobody listens there
            result = held_batch_send.apply(
                args=[ana.pk], retries=held_batch_send.max_retries, throw=False
            )
        assert result.failed()
        notice = Notification.objects.get(user=ana)
        # Shown meanwhile; still to be emailed.
        assert notice.released_at == END and notice.held_email
        assert unread_count(user=ana) == 1

        held_batch_send(ana.pk)  # the retry
        held_batch_send(ana.pk)  # a redelivered task
        held_release_tick()

    assert len(smtp.messages) == 1 and "Look" in text_of(smtp.messages[0])


@pytest.mark.django_db(transaction=True)
def test_two_releases_at_once_send_one_batch(smtp: SmtpSink) -> None:
    ana = member("Ana Arias")
    in_focus(ana)
    with time_machine.travel(DURING, tick=False):
        for n in range(3):
            notify(user=ana, kind=Kind.MENTION, key=f"m{n}", text=f"News {n}", url="/rooms/")
    start = threading.Barrier(4)

    def release() -> None:
        try:
            start.wait()
            held_batch_send(ana.pk)
        finally:
            connections.close_all()

    with time_machine.travel(END, tick=False):
        threads = [threading.Thread(target=release) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    [email] = smtp.messages
    assert email["Subject"] == "While you were focusing: 3 notices"
    assert all(f"News {n}" in text_of(email) for n in range(3))
    assert not Notification.objects.filter(held_email=True).exists()


def test_a_notice_whose_email_went_out_apart_waits_on_the_site_but_is_not_emailed_again(
    smtp: SmtpSink,
) -> None:
    ana = member("Ana Arias")
    in_focus(ana)

    with time_machine.travel(DURING, tick=False):
        # An event's change: its email (with the calendar's update) goes out at once.
        delivery = notify(
            user=ana,
            kind=Kind.EVENT_CHANGED,
            key="changed:1:2",
            text="The talk moved",
            emailed_apart=True,
        )
    assert delivery.email  # now, as if she were not busy
    notice = Notification.objects.get(user=ana)
    assert notice.held_until == END and not notice.held_email
    with time_machine.travel(END + timedelta(minutes=1), tick=False):
        held_release_tick()
    assert to(ana, smtp) == []
    assert [n.text for n in notifications_listed(user=ana)] == ["The talk moved"]


def test_email_turned_off_during_the_block_leaves_the_notice_out_of_the_batch(
    smtp: SmtpSink,
) -> None:
    """The batch was decided when each notice was held: a member who set messages to "on
    the site only" meanwhile still got "While you were focusing"."""
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    in_focus(beto)
    conversation = direct_conversation_start(starter=ana, other=beto)
    with time_machine.travel(TEN + timedelta(minutes=5), tick=False):
        message_post(conversation=conversation, author=ana, text="Hola", client_id=uuid.uuid4())
    with time_machine.travel(DURING, tick=False):
        unread_tell_tick()
    assert Notification.objects.get(user=beto).held_email
    with time_machine.travel(DURING + timedelta(minutes=5), tick=False):
        channels = channels_for(user=beto)
        preferences_set(
            user=beto, channels={**channels, Kind.MESSAGE: Channel.IN_APP}, email_digest=True
        )

    with time_machine.travel(END + timedelta(seconds=20), tick=False):
        assert held_release_tick() == 1

    assert to(beto, smtp) == []
    assert [n.text for n in notifications_listed(user=beto)] == ["Ana Arias wrote to you"]


def test_a_kind_taken_out_of_the_digest_is_not_listed_in_it() -> None:
    beto = member("Beto Blanco")
    channels = channels_for(user=beto)
    preferences_set(
        user=beto, channels={**channels, Kind.MENTION: Channel.DIGEST}, email_digest=True
    )
    moment = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        notify(user=beto, kind=Kind.MENTION, key="mention:1", text="Ana mentioned you")
    preferences_set(
        user=beto, channels={**channels, Kind.MENTION: Channel.IN_APP}, email_digest=True
    )

    assert digest_content(user=beto, now=moment + timedelta(days=6)).notifications == []

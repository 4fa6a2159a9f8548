"""Every email the platform sends says it was written by the machine (RFC 3834), so that
out-of-office notes and other automatic replies are not sent back to the team's inbox."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from conversations.services import direct_conversation_start, message_post
from conversations.tasks import unread_tell_tick
from events import tasks as event_tasks
from rooms import tasks as room_tasks
from rooms.models import Mention, RoomParticipation
from tests.conftest import SmtpSink
from tests.factories import EventFactory, MessageFactory, RoomFactory, RsvpFactory, onboarded_member

pytestmark = pytest.mark.django_db


def test_notification_emails_and_account_emails_say_they_are_automatic(smtp: SmtpSink) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com", language="en")
    ben = onboarded_member("Ben Bravo", email="ben@example.com", language="en")
    # A mention...
    room = RoomFactory.create()
    now = timezone.now()
    RoomParticipation.objects.create(room=room, user=ben, first_seen_at=now, last_seen_at=now)
    message = MessageFactory.create(room=room, author=ana, text="@Ben Bravo hola")
    Mention.objects.create(message=message, user=ben)
    room_tasks.mention_notify(message.pk, ben.pk)
    # ...a conversation left unread...
    conversation = direct_conversation_start(starter=ana, other=ben)
    with time_machine.travel(now, tick=False):
        message_post(conversation=conversation, author=ana, text="¿Café?", client_id=uuid.uuid4())
    with time_machine.travel(now + timedelta(minutes=11), tick=False):
        unread_tell_tick()
    # ...an event about to start...
    soon = now + timedelta(minutes=9)
    event = EventFactory.create(starts_at=soon, ends_at=soon + timedelta(hours=1))
    event_tasks.reminder_send(RsvpFactory.create(event=event, user=ben).pk, "soon")
    # ...and allauth's, a new password asked for.
    Client().post("/accounts/password/reset/", {"email": ana.email})

    assert [str(email["To"]) for email in smtp.messages] == [ben.email] * 3 + [ana.email]
    for email in smtp.messages:
        assert email["Auto-Submitted"] == "auto-generated", email["Subject"]
        assert email["X-Auto-Response-Suppress"] == "OOF, AutoReply", email["Subject"]

"""An email whose "250 OK" came after the sender stopped waiting, though the mail server had
queued it (RFC 1047's duplicate), is sent again by the retry: as the same message, with the
same Message-ID, which the member's provider drops as a copy or shows as one."""

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from core.emails import email_payload
from core.tasks import email_send
from events import tasks as event_tasks
from matching import tasks as matching_tasks
from matching.models import GroupMember
from newsletter.emails import confirmation_email
from tests.conftest import smtp_serving
from tests.factories import (
    EventFactory,
    GroupFactory,
    GroupMemberFactory,
    RsvpFactory,
    onboarded_member,
)

# send_once claims and gives back in transactions of its own.
pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 0.5  # seconds the sender waits for each answer (EMAIL_TIMEOUT)


class LateToAnswer:
    """A mail server that queues each message as soon as it has it but, while `late`, says
    "250" only after the sender gave up waiting."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.late = True

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=default_policy).parsebytes(envelope.content)
        self.messages.append(message)  # type: ignore[arg-type]
        if self.late:
            await asyncio.sleep(TIMEOUT * 3)
        return "250 OK"


@pytest.fixture
def late() -> Iterator[LateToAnswer]:
    with smtp_serving(LateToAnswer(), EMAIL_TIMEOUT=TIMEOUT) as handler:
        yield handler


def test_an_intro_sent_again_after_a_late_250_is_the_same_message(late: LateToAnswer) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com", language="en")
    ben = onboarded_member("Ben Bravo", email="ben@example.com", language="en")
    group = GroupFactory.create()
    seat = GroupMemberFactory.create(group=group, user=ana)
    other_seat = GroupMemberFactory.create(group=group, user=ben)

    # Its last try, so that Celery raises the error rather than queue a retry.
    first = matching_tasks.intro_send.apply(
        args=(seat.pk,), retries=matching_tasks.intro_send.max_retries, throw=False
    )
    assert first.failed(), "the sender stopped waiting for the 250"
    assert len(late.messages) == 1, "the server had the intro all the same"
    assert GroupMember.objects.get(pk=seat.pk).intro_sent_at is None, "given back, for the retry"

    late.late = False
    matching_tasks.intro_send(seat.pk)  # the retry
    matching_tasks.intro_send(other_seat.pk)

    first_copy, second_copy, bens = late.messages
    assert first_copy["To"] == second_copy["To"] == "ana@example.com"
    assert first_copy["Message-ID"] == second_copy["Message-ID"]
    assert str(first_copy["Message-ID"]).endswith(f"@{urlsplit(settings.SITE_URL).hostname}>")
    assert bens["Message-ID"] != first_copy["Message-ID"]
    assert GroupMember.objects.get(pk=seat.pk).intro_sent_at is not None


def test_a_reminder_the_next_tick_sends_again_is_the_same_message(late: LateToAnswer) -> None:
    ben = onboarded_member("Ben Bravo", email="ben@example.com", language="en")
    soon = timezone.now() + timedelta(minutes=9)
    event = EventFactory.create(starts_at=soon, ends_at=soon + timedelta(hours=1))
    rsvp = RsvpFactory.create(event=event, user=ben)

    event_tasks.reminder_send(rsvp.pk, "soon")  # logged, and left for the next tick
    late.late = False
    event_tasks.reminder_send(rsvp.pk, "soon")  # the next tick's

    first_copy, second_copy = late.messages
    assert first_copy["Message-ID"] == second_copy["Message-ID"]


def test_an_account_email_the_worker_sends_again_is_the_same_message(
    late: LateToAnswer,
) -> None:
    """allauth's emails go through the broker (`send_later`): each try of the worker makes
    the message again from what was queued, Message-ID included."""
    queued = email_payload(
        EmailMultiAlternatives(subject="Confirma tu dirección", body="…", to=["ana@example.com"])
    )
    first = email_send.apply(args=(queued,), retries=email_send.max_retries, throw=False)
    assert first.failed() and len(late.messages) == 1
    late.late = False
    email_send.apply(args=(queued,))

    first_copy, second_copy = late.messages
    assert first_copy["Message-ID"] == second_copy["Message-ID"]
    assert first_copy["Auto-Submitted"] == "auto-generated"


def test_a_newsletter_confirmation_sent_again_is_the_same_message(late: LateToAnswer) -> None:
    late.late = False
    for _try in range(2):
        confirmation_email(
            email="ana@example.com", language="es", subscriber_id=7, nonce="abc"
        ).send()
    again = confirmation_email(email="ana@example.com", language="es", subscriber_id=7, nonce="x")
    again.send()

    first_copy, second_copy, new_request = late.messages
    assert first_copy["Message-ID"] == second_copy["Message-ID"] != new_request["Message-ID"]
    assert first_copy["Auto-Submitted"] == "auto-generated"

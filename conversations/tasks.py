"""Telling members about messages they have not read: after EMAIL_AFTER without reading,
one notice on the site and, as their preferences say, one email per conversation, and no
more until they have read it. Run by the beat schedule every minute; a second run, or two at
once, tell nobody twice (the seat's `told_upto_id` is claimed by a conditional update)."""

from datetime import timedelta

from celery import shared_task
from django.db.models import F
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import npgettext_lazy

from conversations import coffee_tables, emails, selectors, services
from conversations.models import Participant
from core.emails import send_once
from matching.selectors import names_of
from notifications.models import Kind
from notifications.services import notify

EMAIL_AFTER = timedelta(minutes=10)
# How often beat runs the tick (coworking/settings.py), in seconds.
TICK_SECONDS = 60


@shared_task(ignore_result=True)
def unread_tell_tick() -> None:
    # The tick is each seat's retry (core.emails.send_once, `retried_by_tick`): a task still
    # queued when the next tick comes is dropped for the one that tick queues.
    for seat_id in selectors.seats_to_tell(now=timezone.now(), after=EMAIL_AFTER):
        unread_tell.apply_async((seat_id,), expires=TICK_SECONDS)


@shared_task(ignore_result=True)
def unread_tell(seat_id: int) -> None:
    seat = Participant.objects.select_related("user").filter(pk=seat_id).first()
    if seat is None or seat.told_upto_id > seat.last_read_id or seat.muted_at is not None:
        return  # gone, told already, or muted since the tick listed it
    unread = selectors.unread_for(seat=seat)
    if not unread:
        return  # read meanwhile
    latest, told_before = unread[-1].pk, seat.told_upto_id

    def claim() -> int:
        return Participant.objects.filter(
            pk=seat.pk, told_upto_id=told_before, told_upto_id__lte=F("last_read_id")
        ).update(told_upto_id=latest)

    # What a suspended or deleted account wrote is told to nobody, as room mentions
    # (rooms.emails): a spammer staff closed before the tick reaches no inbox and no bell.
    # Counted as told, so the tick does not list the seat again.
    unread = [message for message in unread if message.author and message.author.account_is_open]
    if not unread:
        claim()
        return
    found = selectors.readable(user=seat.user, conversation_id=seat.conversation_id)
    if found is None:
        return  # hidden by a block
    conversation, others = found
    writers = selectors.writers_of(unread) or others
    delivery = notify(
        user=seat.user,
        kind=Kind.MESSAGE,
        key=services.unread_notice_key(seat.pk, unread[0].pk),
        text=npgettext_lazy(
            "unread messages", "%(names)s wrote to you", "%(names)s wrote to you", len(writers)
        ),
        # Joined in the member's language, as notify renders it ("Ana y Beto").
        params={"names": lazy(names_of, str)(writers)},
        url=conversation.get_absolute_url(),
        about=writers,
    )

    if not delivery.email:
        claim()
        return
    send_once(
        claim=claim,
        send=lambda: emails.unread_email(
            user=seat.user, conversation=conversation, writers=writers, unread=unread
        ).send(),
        give_back=lambda: Participant.objects.filter(pk=seat.pk, told_upto_id=latest).update(
            told_upto_id=told_before
        ),
        retried_by_tick=True,
    )


@shared_task(ignore_result=True, autoretry_for=(Exception,), max_retries=3, retry_backoff=True)
def orphans_delete(conversation_ids: list[int]) -> int:
    """The conversations of `conversation_ids` nobody is left in go (an account's deletion
    queues it, once it commits). Safe to run twice: a conversation goes once."""
    return services.conversations_without_readers_delete(conversation_ids=conversation_ids)


@shared_task(ignore_result=True, autoretry_for=(Exception,), max_retries=3, retry_backoff=True)
def round_conversations_open(round_id: int) -> None:
    """Each pair of a coffee round gets its conversation (the one they may already share),
    each trio a group; a second run opens nothing twice."""
    services.round_conversations_open(round_id=round_id)


@shared_task(ignore_result=True)
def coffee_tables_met_tick() -> None:
    """Beat runs this every few minutes: pairs who sat at their table together count as met
    (conversations.coffee_tables). Safe to run twice: each table is found once."""
    coffee_tables.tables_met_detect()

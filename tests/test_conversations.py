"""Private conversations over HTTP: starting one from a profile, writing, unread counts,
who may write to whom, blocks, and export and deletion."""

import logging
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from conversations import selectors
from conversations.digest import unread_conversations
from conversations.models import Conversation, Message, Participant
from conversations.selectors import unread_total
from conversations.services import (
    ConversationHidden,
    conversation_read,
    direct_conversation_start,
    group_create,
    group_leave,
    group_members_add,
    message_delete,
    message_post,
    reaction_toggle,
    round_conversations_open,
)
from conversations.tasks import unread_tell, unread_tell_tick
from matching.services import round_create
from members.models import MessagesFrom, Profile, User
from members.privacy import account_delete, account_export
from members.services import member_suspend
from moderation.models import Report
from notifications.models import Channel, Kind, Notification
from notifications.services import preferences_set
from notifications.tasks import digest_tick
from tests.conftest import SmtpSink, free_port
from tests.factories import (
    AcquaintanceFactory,
    BlockFactory,
    GroupMemberFactory,
    RsvpFactory,
    UserFactory,
    client_for,
    moderator,
    onboarded_member,
)
from tests.test_matching_rounds import SLOT, community, participant
from tests.test_members_profile import image_bytes

pytestmark = pytest.mark.django_db

# Monday 30 November 2026, 08:30 in Madrid: the weekly digest's time.
DIGEST_MONDAY = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)


def member(name: str, **fields: Any) -> User:
    email = name.lower().replace(" ", ".") + "@example.com"
    return onboarded_member(name, email=email, language="en", **fields)


def signed_in(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def say(client: Client, conversation: Conversation, text: str, **fields: str) -> Any:
    return client.post(
        conversation.get_absolute_url(),
        {"text": text, "client_id": fields.get("client_id", str(uuid.uuid4()))},
    )


def test_a_member_starts_a_conversation_from_a_profile_and_the_other_reads_it() -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    anas = signed_in(ana)
    profile = anas.get(f"/members/{beto.pk}/").content.decode()
    assert f'action="/messages/with/{beto.pk}/"' in profile

    started = anas.post(f"/messages/with/{beto.pk}/")
    conversation = Conversation.objects.get()
    assert started.status_code == 302 and started["Location"] == f"/messages/{conversation.pk}/"
    sent = say(anas, conversation, "¡Hola, Beto! <b>¿Un café?</b>")
    assert sent.status_code == 302 and sent["Location"].endswith("#latest")

    betos = signed_in(beto)
    listed = betos.get("/messages/").content.decode()
    assert "Ana Arias" in listed and "1 unread message" in listed
    header = betos.get("/").content.decode()
    assert re.search(r'href="/messages/">Messages <span class="nav-count"[^>]*>1</span>', header)
    assert unread_total(user=beto) == 1
    page = betos.get(f"/messages/{conversation.pk}/").content.decode()
    assert "¡Hola, Beto! &lt;b&gt;¿Un café?&lt;/b&gt;" in page
    assert unread_total(user=beto) == 0
    assert "unread message" not in betos.get("/messages/").content.decode()
    assert re.search(
        r'<span class="nav-count"[^>]*hidden>0</span>', betos.get("/").content.decode()
    )
    # Starting again leads to the same conversation, from either side.
    again = betos.post(f"/messages/with/{ana.pk}/")
    assert again["Location"] == f"/messages/{conversation.pk}/"
    assert Conversation.objects.count() == 1


def test_a_resent_form_stores_the_message_once_and_a_bad_one_keeps_the_text() -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)
    anas = signed_in(ana)
    client_id = str(uuid.uuid4())

    say(anas, conversation, "Una vez", client_id=client_id)
    say(anas, conversation, "Una vez", client_id=client_id)
    assert list(Message.objects.values_list("text", flat=True)) == ["Una vez"]

    empty = say(anas, conversation, "   ")
    assert empty.status_code == 400
    assert "Write something first." in empty.content.decode()
    too_long = say(anas, conversation, "x" * 4001)
    assert too_long.status_code == 400
    assert "x" * 4001 in too_long.content.decode()  # nothing typed is lost
    assert Message.objects.count() == 1


def test_outsiders_see_nothing_and_cannot_write() -> None:
    ana, beto, eve = member("Ana Arias"), member("Beto Blanco"), member("Eve Extraña")
    conversation = direct_conversation_start(starter=ana, other=beto)
    message_post(conversation=conversation, author=ana, text="Secreto", client_id=uuid.uuid4())
    eves = signed_in(eve)

    assert eves.get(f"/messages/{conversation.pk}/").status_code == 404
    assert say(eves, conversation, "Hola").status_code == 404
    assert "Secreto" not in eves.get("/messages/").content.decode()
    assert Client().get(f"/messages/{conversation.pk}/").status_code == 302  # to log in
    assert Message.objects.count() == 1


def test_members_choose_who_may_start_a_conversation_with_them() -> None:
    ana, beto, carla = member("Ana Arias"), member("Beto Blanco"), member("Carla Cruz")
    Profile.objects.filter(user=beto).update(messages_from=MessagesFrom.NOBODY)
    Profile.objects.filter(user=carla).update(messages_from=MessagesFrom.MET)
    anas = signed_in(ana)

    refused = anas.post(f"/messages/with/{beto.pk}/", follow=True)
    assert "This member does not take new conversations." in refused.content.decode()
    refused = anas.post(f"/messages/with/{carla.pk}/", follow=True)
    assert "only takes conversations from people they have met" in refused.content.decode()
    assert not Conversation.objects.exists()

    AcquaintanceFactory.create(owner=carla, other=ana)
    assert anas.post(f"/messages/with/{carla.pk}/").status_code == 302
    assert Conversation.objects.count() == 1


def test_the_choice_is_made_in_the_profile_form() -> None:
    ana = member("Ana Arias")
    form = signed_in(ana).get("/members/me/edit/").content.decode()

    assert re.search(r'<input type="radio" name="messages_from" value="met"', form)


def test_a_block_hides_the_conversation_and_stops_messages_both_ways() -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)
    message_post(conversation=conversation, author=beto, text="Hola", client_id=uuid.uuid4())
    BlockFactory.create(blocker=beto, blocked=ana)
    anas, betos = signed_in(ana), signed_in(beto)

    for client in (anas, betos):
        assert client.get(f"/messages/{conversation.pk}/").status_code == 404
        assert "Hola" not in client.get("/messages/").content.decode()
    assert say(anas, conversation, "¿Sigues ahí?").status_code == 404
    # As his profile is not there for her, neither is he to write to (no word of a block).
    assert anas.post(f"/messages/with/{beto.pk}/").status_code == 404
    assert "Send a message" not in betos.get(f"/members/{ana.pk}/").content.decode()
    assert Message.objects.count() == 1


def test_someone_who_never_finished_their_profile_cannot_start_a_conversation() -> None:
    # They could not be looked up, blocked or reported: all three go through the profile.
    stranger, ana = UserFactory.create(language="en"), member("Ana Arias")

    strangers = signed_in(stranger)
    assert "Send a message" not in strangers.get(f"/members/{ana.pk}/").content.decode()
    response = strangers.post(f"/messages/with/{ana.pk}/", follow=True)

    assert "Finish your profile before you write to someone." in response.content.decode()
    assert not Conversation.objects.exists()


def test_in_a_group_a_block_hides_a_message_s_file_and_reactions_too() -> None:
    ana, beto, carla = member("Ana Arias"), member("Beto Blanco"), member("Carla Cruz")
    group = group_create(creator=ana, members=[beto, carla], title="Tres")
    BlockFactory.create(blocker=ana, blocked=beto)
    anas, betos = signed_in(ana), signed_in(beto)
    upload = SimpleUploadedFile("mesa.png", image_bytes("PNG", (40, 40)))
    anas.post(
        group.get_absolute_url(), {"text": "", "client_id": str(uuid.uuid4()), "attachment": upload}
    )
    hidden = Message.objects.get(author=ana)
    assert hidden.attachment is not None

    assert betos.get(f"/messages/{group.pk}/{hidden.pk}/file/").status_code == 404
    assert (
        betos.post(f"/messages/{group.pk}/{hidden.pk}/react/", {"emoji": "👍"}).status_code == 404
    )
    assert signed_in(carla).get(f"/messages/{group.pk}/{hidden.pk}/file/").status_code == 200
    with pytest.raises(ConversationHidden):  # the page's socket reacts through this
        reaction_toggle(message=hidden, user=beto, emoji="👍")

    # Nor does the blocked member's message bring back the group Ana archived.
    anas.post(f"/messages/{group.pk}/archive/", {"archived": "1"})
    say(betos, group, "Hola a todos")
    assert Participant.objects.get(conversation=group, user=ana).archived_at is not None


def test_a_message_deleted_before_it_was_read_is_not_told(smtp: Any) -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        oops, _created = message_post(
            conversation=conversation, author=ana, text="Oops, wrong person", client_id=uuid.uuid4()
        )
        message_delete(message=oops, by=ana)

    _ten_minutes_later(start)

    assert smtp.messages == [] and not Notification.objects.filter(user=beto).exists()


def test_what_a_suspended_member_wrote_is_told_to_nobody(
    smtp: Any, staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    """A spammer staff suspended within minutes reached every inbox at the next tick, their
    link quoted; room mentions already told nothing of them."""
    spammer, ana = member("Spam Bot"), member("Ana Arias")
    conversation = direct_conversation_start(starter=spammer, other=ana)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        message_post(
            conversation=conversation,
            author=spammer,
            text="Relojes baratos en http://spam.example",
            client_id=uuid.uuid4(),
        )
    with django_capture_on_commit_callbacks(execute=True):
        member_suspend(user=spammer, by=staff)
    smtp.messages.clear()

    _ten_minutes_later(start)

    assert smtp.messages == [] and not Notification.objects.filter(user=ana).exists()
    assert unread_conversations(ana, timezone.now()) == []  # nor the weekly digest
    seat = Participant.objects.get(conversation=conversation, user=ana)
    assert seat.told_upto_id > seat.last_read_id  # the tick lists the seat no more
    assert (
        selectors.seats_to_tell(now=start + timedelta(minutes=12), after=timedelta(minutes=10))
        == []
    )


def test_a_message_deleted_before_it_was_read_is_no_longer_counted_unread() -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)
    for text in ("Hola", "Oops, wrong person"):
        message_post(conversation=conversation, author=ana, text=text, client_id=uuid.uuid4())
    message_delete(message=Message.objects.get(text="Oops, wrong person"), by=ana)

    listed = selectors.conversations_of(user=beto).entries

    assert unread_total(user=beto) == 1
    assert [entry.unread for entry in listed] == [1]


def test_someone_added_to_a_group_finds_its_history_read_and_is_emailed_only_what_follows(
    smtp: Any,
) -> None:
    ana, beto, carla, dani = (
        member(n) for n in ("Ana Arias", "Beto Blanco", "Carla Cruz", "Dani Díaz")
    )
    group = group_create(creator=ana, members=[beto, carla], title="Los del café")
    start = timezone.now()
    with time_machine.travel(start - timedelta(days=2), tick=False):
        for text in ("¿Café el jueves?", "¡Vale!"):
            message_post(conversation=group, author=beto, text=text, client_id=uuid.uuid4())

    with time_machine.travel(start, tick=False):
        group_members_add(conversation=group, by=ana, members=[dani])
    read_on_arrival = unread_total(user=dani)
    _ten_minutes_later(start)
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        message_post(
            conversation=group, author=ana, text="Bienvenida, Dani", client_id=uuid.uuid4()
        )
    _ten_minutes_later(start + timedelta(minutes=20))

    assert read_on_arrival == 0
    assert unread_total(user=dani) == 1
    (told,) = [message for message in smtp.messages if message["To"] == dani.email]
    body = told.get_body(("plain",)).get_content()
    assert "Bienvenida, Dani" in body and "¿Café el jueves?" not in body


def test_an_older_page_marks_read_only_up_to_its_own_last_message() -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)
    first, _created = message_post(
        conversation=conversation, author=ana, text="Lo de marzo", client_id=uuid.uuid4()
    )
    for number in range(selectors.PAGE_SIZE):
        message_post(
            conversation=conversation, author=ana, text=f"Nuevo {number}", client_id=uuid.uuid4()
        )
    betos = signed_in(beto)

    older = betos.get(f"{conversation.get_absolute_url()}?before={first.pk + 1}")

    assert "Lo de marzo" in older.content.decode()
    assert unread_total(user=beto) == selectors.PAGE_SIZE
    betos.get(conversation.get_absolute_url())
    assert unread_total(user=beto) == 0


def test_the_list_says_when_each_conversation_last_spoke_in_the_reader_s_zone() -> None:
    """The time today, the day this year, the day and year before; each of the message the
    entry shows (a blocked member's later one is neither shown nor timed)."""
    ana = member("Ana Arias", time_zone="America/Mexico_City")
    beto, carla, dani = member("Beto Blanco"), member("Carla Cruz"), member("Dani Díaz")
    eva = member("Eva Estévez")
    now = datetime(2027, 6, 10, 18, 30, tzinfo=UTC)  # 12:30 in Mexico City
    spoken = [
        (beto, now - timedelta(hours=2), "Hola"),  # 10:30 there
        (carla, datetime(2027, 3, 3, 12, 0, tzinfo=UTC), "¿Café?"),
        (dani, datetime(2026, 11, 20, 12, 0, tzinfo=UTC), "Gracias"),
    ]
    for other, at, text in spoken:
        with time_machine.travel(at, tick=False):
            conversation = direct_conversation_start(starter=other, other=ana)
            message_post(conversation=conversation, author=other, text=text, client_id=uuid.uuid4())
    group = group_create(creator=eva, members=[ana, carla], title="Trío")
    with time_machine.travel(datetime(2027, 6, 9, 12, 0, tzinfo=UTC), tick=False):
        message_post(conversation=group, author=carla, text="Mañana", client_id=uuid.uuid4())
    BlockFactory.create(blocker=ana, blocked=eva)
    with time_machine.travel(now - timedelta(minutes=5), tick=False):
        message_post(conversation=group, author=eva, text="Oculto", client_id=uuid.uuid4())

    with time_machine.travel(now, tick=False):
        page = signed_in(ana).get("/messages/").content.decode()

    times = re.findall(r"<time datetime=\"[^\"]+\">([^<]+)</time> · ([^<]+)</p>", page)
    # In the order of what Ana sees: Eva's later message moves the group up nowhere.
    assert times == [
        ("10:30", "Hola"),
        ("9 Jun", "Mañana"),
        ("3 Mar", "¿Café?"),
        ("20 Nov 2026", "Gracias"),
    ]
    assert "Oculto" not in page


def test_the_list_alone_for_the_live_page_shows_what_the_page_does_and_nothing_else() -> None:
    ana, beto, carla = member("Ana Arias"), member("Beto Blanco"), member("Carla Cruz")
    for other, text in ((beto, "Hola"), (carla, "¿Café?")):
        conversation = direct_conversation_start(starter=other, other=ana)
        message_post(conversation=conversation, author=other, text=text, client_id=uuid.uuid4())
    BlockFactory.create(blocker=beto, blocked=ana)
    anas = signed_in(ana)

    page = anas.get("/messages/").content.decode()
    assert 'data-refresh-url="/messages/?partial=1"' in page
    alone = anas.get("/messages/", {"partial": "1"}).content.decode()
    assert "<html" not in alone and "Search your messages" not in alone
    assert "Carla Cruz" in alone and "¿Café?" in alone and "1 unread message" in alone
    assert "Hola" not in alone and "Beto Blanco" not in alone
    assert Client().get("/messages/", {"partial": "1"}).status_code == 302  # to log in


def test_the_list_takes_the_same_queries_for_one_conversation_or_many(
    django_assert_max_num_queries: Any,
) -> None:
    ana = member("Ana Arias")
    anas = signed_in(ana)
    for n in range(2):
        other = member(f"Otra Persona{n}")
        conversation = direct_conversation_start(starter=other, other=ana)
        message_post(conversation=conversation, author=other, text="Hola", client_id=uuid.uuid4())
    anas.get("/messages/")
    # Who is in focus among the people listed is one of them (members.status).
    with django_assert_max_num_queries(13) as few:
        anas.get("/messages/")
    for n in range(8):
        other = member(f"Más Gente{n}")
        conversation = direct_conversation_start(starter=other, other=ana)
        message_post(conversation=conversation, author=other, text="Hola", client_id=uuid.uuid4())
    with django_assert_max_num_queries(len(few.captured_queries)):
        listed = anas.get("/messages/").content.decode()
    assert listed.count("1 unread message") == 10


def test_the_list_comes_a_page_at_a_time_latest_activity_first(monkeypatch: Any) -> None:
    monkeypatch.setattr(selectors, "LIST_PAGE", 2)
    ana = member("Ana Arias")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    names = ["Uno", "Dos", "Tres", "Cuatro"]
    for minutes, name in enumerate(names):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            other = member(f"{name} Persona")
            conversation = direct_conversation_start(starter=other, other=ana)
            message_post(conversation=conversation, author=other, text=name, client_id=uuid.uuid4())
    # A conversation without messages yet counts from its start: the latest here.
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        direct_conversation_start(starter=member("Cinco Persona"), other=ana)
    anas = signed_in(ana)

    shown, before = [], ""
    for _ in range(3):
        page = anas.get("/messages/", {"before": before}, HTTP_ACCEPT_LANGUAGE="en")
        html = page.content.decode()
        shown.append(re.findall(r"<h2><a [^>]*>(\w+) Persona</a></h2>", html))
        older = re.search(r'href="/messages/\?before=([^"]+)" rel="next"', html)
        before = older.group(1) if older else ""
        assert ('href="/messages/">Newer</a>' in html) == (len(shown) > 1)

    assert shown == [["Cinco", "Cuatro"], ["Tres", "Dos"], ["Uno"]]
    assert before == ""
    # A cursor that is not one of ours shows the first page.
    bogus = anas.get("/messages/", {"before": "yesterday-1"}).content.decode()
    assert re.findall(r"<h2><a [^>]*>(\w+) Persona</a></h2>", bogus) == ["Cinco", "Cuatro"]


def test_export_carries_what_they_wrote_and_deletion_keeps_it_for_the_others() -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)
    message_post(conversation=conversation, author=ana, text="Nos vemos", client_id=uuid.uuid4())

    group = group_create(creator=ana, members=[beto, member("Carla Cruz")], title="Cerámica")
    group_leave(conversation=group, user=beto)

    exported = account_export(user=ana)["conversations"]
    account_delete(user=ana)

    assert exported[0]["messages_written"][0]["text"] == "Nos vemos"
    # Whom each was with, which the member's own lines alone did not say.
    assert [entry["with"] for entry in exported] == [["Beto Blanco"], ["Carla Cruz"]]
    assert not Participant.objects.filter(user=ana).exists()
    page = signed_in(beto).get(f"/messages/{conversation.pk}/").content.decode()
    assert "Nos vemos" in page and "Ana Arias" not in page


def _ten_minutes_later(now: datetime) -> None:
    with time_machine.travel(now + timedelta(minutes=11), tick=False):
        unread_tell_tick()


def test_unread_messages_are_emailed_once_after_ten_minutes_and_again_after_reading(
    smtp: Any,
) -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for text in ("¿Un café?", "¿El jueves a las 10?"):
            message_post(conversation=conversation, author=ana, text=text, client_id=uuid.uuid4())
        unread_tell_tick()
    assert smtp.messages == []  # not yet: people answer within minutes

    _ten_minutes_later(start)
    _ten_minutes_later(start)  # the next tick tells nobody twice
    with time_machine.travel(start + timedelta(minutes=12), tick=False):
        message_post(conversation=conversation, author=ana, text="¿Hola?", client_id=uuid.uuid4())
    _ten_minutes_later(start + timedelta(minutes=12))

    assert len(smtp.messages) == 1
    email = smtp.messages[0]
    assert email["To"] == beto.email and email["Subject"] == "Ana Arias wrote to you"
    body = email.get_body(("plain",)).get_content()
    assert "have not read 2 messages yet" in body and "¿El jueves a las 10?" in body
    assert f"/messages/{conversation.pk}/" in body
    notice = Notification.objects.get(user=beto)
    assert notice.url == f"/messages/{conversation.pk}/" and not ana.notifications.exists()

    signed_in(beto).get(f"/messages/{conversation.pk}/")  # read: the next stretch is told
    later = start + timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        message_post(
            conversation=conversation, author=ana, text="¿Y mañana?", client_id=uuid.uuid4()
        )
    _ten_minutes_later(later)
    assert (
        len(smtp.messages) == 2
        and "¿Y mañana?" in smtp.messages[1].get_body(("plain",)).get_content()
    )


def test_while_the_mail_server_is_down_each_tick_tries_once_and_one_email_goes_when_it_is_back(
    smtp: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The tick is the retry: a failed email gives the seat back for the next tick, rather
    than starting retries of its own, one more chain for every minute of the outage."""
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        message_post(conversation=conversation, author=ana, text="¿Café?", client_id=uuid.uuid4())

    with override_settings(EMAIL_PORT=free_port()), caplog.at_level(logging.WARNING):
        _ten_minutes_later(start)  # nothing listens there: refused at once
        _ten_minutes_later(start)
    tries = [r for r in caplog.records if "the next tick tries again" in r.getMessage()]
    assert len(tries) == 2  # one try a tick
    assert Participant.objects.get(conversation=conversation, user=beto).told_upto_id == 0
    assert Notification.objects.filter(user=beto).count() == 1  # the notice, once

    _ten_minutes_later(start)
    _ten_minutes_later(start)
    assert len(smtp.messages) == 1


def test_the_tick_reads_only_conversations_written_in_this_week(smtp: Any) -> None:
    """A stretch the tick missed (its worker down for over a week) is not emailed late: the
    tick reads only recent conversations, not every seat there is, every minute."""
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        message_post(
            conversation=conversation, author=ana, text="¿Un café?", client_id=uuid.uuid4()
        )

    with time_machine.travel(start + timedelta(days=8), tick=False):
        unread_tell_tick()
    assert smtp.messages == []
    with time_machine.travel(start + timedelta(days=6), tick=False):
        unread_tell_tick()
    assert len(smtp.messages) == 1


def test_the_unread_email_speaks_the_readers_language(smtp: Any) -> None:
    ana = member("Ana Arias")
    beto = onboarded_member("Beto Blanco", email="beto@example.com", language="es")
    conversation = direct_conversation_start(starter=ana, other=beto)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for text in ("¿Un café?", "¿Mañana?"):
            message_post(conversation=conversation, author=ana, text=text, client_id=uuid.uuid4())

    _ten_minutes_later(start)

    [email] = smtp.messages
    assert email["Subject"] == "Ana Arias te ha escrito"
    body = email.get_body(("plain",)).get_content()
    assert "Ana Arias te ha escrito. Aún no has leído 2 mensajes:" in body and "¿Mañana?" in body


def test_in_a_group_the_unread_email_names_those_who_wrote(smtp: Any) -> None:
    ana, carla, dani = member("Ana Arias"), member("Carla Cruz"), member("Dani Díaz")
    beto = onboarded_member("Beto Blanco", email="beto@example.com", language="es")
    group = group_create(creator=dani, members=[ana, beto, carla], title="Café")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for author in (carla, ana, carla):
            message_post(conversation=group, author=author, text="Hola", client_id=uuid.uuid4())

    _ten_minutes_later(start)

    # Dani, who made the group, wrote nothing; the verb agrees with two writers.
    [email] = [email for email in smtp.messages if email["To"] == "beto@example.com"]
    assert email["Subject"] == "Carla Cruz y Ana Arias te han escrito"
    body = email.get_body(("plain",)).get_content()
    assert "Carla Cruz y Ana Arias te han escrito. Aún no has leído 3 mensajes:" in body
    notice = Notification.objects.get(user=beto, kind=Kind.MESSAGE)
    assert notice.text == "Carla Cruz y Ana Arias te han escrito"
    assert set(notice.about.all()) == {ana, carla}


def test_a_member_who_chose_the_site_only_is_told_there_and_a_blocked_one_not_at_all(
    smtp: Any,
) -> None:
    ana, beto, carla = member("Ana Arias"), member("Beto Blanco"), member("Carla Cruz")
    preferences_set(user=beto, channels={Kind.MESSAGE: Channel.IN_APP}, email_digest=True)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for other in (beto, carla):
            conversation = direct_conversation_start(starter=ana, other=other)
            message_post(conversation=conversation, author=ana, text="Hola", client_id=uuid.uuid4())
    BlockFactory.create(blocker=carla, blocked=ana)

    _ten_minutes_later(start)
    _ten_minutes_later(start)

    assert smtp.messages == []
    assert Notification.objects.filter(user=beto, kind=Kind.MESSAGE).count() == 1
    assert not Notification.objects.filter(user=carla).exists()


def test_a_muted_conversation_is_never_told_and_says_so_until_unmuted(smtp: Any) -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)
    betos = client_for(beto)
    page = betos.get(conversation.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Mute this conversation" in page
    assert betos.post(f"/messages/{conversation.pk}/mute/", {"muted": "1"}).status_code == 302
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        message_post(conversation=conversation, author=ana, text="Hola", client_id=uuid.uuid4())

    _ten_minutes_later(start)

    assert smtp.messages == [] and not Notification.objects.filter(user=beto).exists()
    listed = betos.get("/messages/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "(muted)" in listed and "1 unread message" in listed  # still unread, quietly
    page = betos.get(conversation.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Muted: no notices or emails about it." in page
    assert "Unmute this conversation" in page
    # Nobody else can mute it for him, nor learn it exists.
    assert (
        client_for(member("Carla Cruz"))
        .post(f"/messages/{conversation.pk}/mute/", {"muted": "1"})
        .status_code
        == 404
    )

    # Nor does the weekly digest list it.
    assert unread_conversations(beto, timezone.now()) == []
    # A tell the tick queued just before the mute says nothing either.
    unread_tell(Participant.objects.get(conversation=conversation, user=beto).pk)
    assert smtp.messages == []

    betos.post(f"/messages/{conversation.pk}/mute/", {"muted": "0"})
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        message_post(conversation=conversation, author=ana, text="¿Sigues?", client_id=uuid.uuid4())
    _ten_minutes_later(start + timedelta(minutes=1))

    assert [email["To"] for email in smtp.messages] == [beto.email]


def test_an_archived_conversation_leaves_the_list_until_someone_writes_unless_muted() -> None:
    ana, beto, carla = member("Ana Arias"), member("Beto Blanco"), member("Carla Cruz")
    with_ana = direct_conversation_start(starter=ana, other=beto)
    with_carla = direct_conversation_start(starter=carla, other=beto)
    betos = signed_in(beto)

    def listed(query: str = "") -> str:
        return betos.get(f"/messages/{query}").content.decode()

    assert "Archived conversations" not in listed()  # no way to an empty archive
    page = betos.get(with_ana.get_absolute_url()).content.decode()
    assert "Archive this conversation" in page
    assert betos.get(f"/messages/{with_ana.pk}/archive/").status_code == 405
    response = betos.post(f"/messages/{with_ana.pk}/archive/", {"archived": "1"}, follow=True)
    assert response.redirect_chain == [("/messages/", 302)]
    page = response.content.decode()
    assert "Archived: it comes back to your messages when someone writes in it." in page
    assert "Ana Arias" not in page and "Carla Cruz" in page
    assert 'href="/messages/?archived=1"' in page
    archive = listed("?archived=1")
    assert "Ana Arias" in archive and "Carla Cruz" not in archive
    assert "?partial=1&amp;archived=1" in archive  # the live list stays the archive's
    assert "Ana Arias" in listed("?archived=1&partial=1")
    # Only for him: Ana still has it, and nobody outside can archive it.
    assert "Beto Blanco" in signed_in(ana).get("/messages/").content.decode()
    assert (
        signed_in(carla).post(f"/messages/{with_ana.pk}/archive/", {"archived": "1"}).status_code
        == 404
    )

    message_post(conversation=with_ana, author=ana, text="¿Café?", client_id=uuid.uuid4())
    assert "Ana Arias" in listed() and "Archived conversations" not in listed()

    # Muted as well, it stays away: he asked for quiet.
    betos.post(f"/messages/{with_carla.pk}/mute/", {"muted": "1"})
    response = betos.post(f"/messages/{with_carla.pk}/archive/", {"archived": "1"}, follow=True)
    assert "Archived: it stays muted and out of your messages." in response.content.decode()
    message_post(conversation=with_carla, author=carla, text="Hola", client_id=uuid.uuid4())
    assert "Carla Cruz" not in listed() and "Carla Cruz" in listed("?archived=1")
    page = betos.get(with_carla.get_absolute_url()).content.decode()
    assert "Archived: it is not in your messages." in page
    response = betos.post(f"/messages/{with_carla.pk}/archive/", {"archived": "0"}, follow=True)
    assert response.redirect_chain == [(with_carla.get_absolute_url(), 302)]
    assert "Back in your messages." in response.content.decode()
    assert "Carla Cruz" in listed()
    assert "No archived conversations." in listed("?archived=1")

    # Writing in it himself brings it back, muted or not.
    betos.post(f"/messages/{with_carla.pk}/archive/", {"archived": "1"})
    say(betos, with_carla, "Ya estoy")
    assert "Carla Cruz" in listed()
    seat = Participant.objects.get(conversation=with_carla, user=beto)
    assert seat.archived_at is None and seat.muted_at is not None


def test_writing_or_starting_too_fast_is_refused_and_keeps_the_text(settings: Any) -> None:
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "conversation_message_form": "3/m/user",
        "conversation_start": "2/m/user",
    }
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)
    anas = signed_in(ana)

    answers = [say(anas, conversation, f"Mensaje {n}").status_code for n in range(4)]

    assert answers == [302, 302, 302, 429]
    refused = say(anas, conversation, "Lo que escribí con calma")
    assert "You are writing very fast." in refused.content.decode()
    assert "Lo que escribí con calma" in refused.content.decode()
    assert Message.objects.count() == 3
    others = [member(f"Persona Nueva{n}") for n in range(3)]
    starts = [anas.post(f"/messages/with/{other.pk}/", follow=True) for other in others]
    assert "You are starting conversations very fast." in starts[-1].content.decode()
    assert Conversation.objects.count() == 3


# Groups ----------------------------------------------------------------------------------


def test_a_member_makes_a_group_of_people_met_renames_it_adds_one_and_another_leaves() -> None:
    ana, beto, carla, dani = (
        member(n) for n in ("Ana Arias", "Beto Blanco", "Carla Cruz", "Dani Díaz")
    )
    stranger = member("Sergio Sinrelación")
    for other in (beto, carla, dani):
        AcquaintanceFactory.create(owner=ana, other=other)
    anas = signed_in(ana)

    form = anas.get("/messages/new/").content.decode()
    assert "Beto Blanco" in form and "Dani Díaz" in form and "Sergio" not in form
    # The help speaks each reader's language, whichever came first.
    spanish = anas.get("/messages/new/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "People you have met or talked to. Up to 20" in form
    assert "Personas que has conocido" in spanish
    alone = anas.post("/messages/new/", {"title": "Trío", "members": [beto.pk]})
    assert alone.status_code == 400 and "Choose at least two members" in alone.content.decode()
    outsider = anas.post("/messages/new/", {"title": "Trío", "members": [beto.pk, stranger.pk]})
    assert outsider.status_code == 400 and Conversation.objects.count() == 0
    made = anas.post(
        "/messages/new/", {"title": "  Trío   del café ", "members": [beto.pk, carla.pk]}
    )
    group = Conversation.objects.get()
    assert made["Location"] == f"/messages/{group.pk}/"
    assert (group.kind, group.title) == ("group", "Trío del café")
    say(anas, group, "¡Bienvenidos!")

    betos = signed_in(beto)
    assert "Trío del café" in betos.get("/messages/").content.decode()
    page = betos.get(f"/messages/{group.pk}/").content.decode()
    assert "¡Bienvenidos!" in page and "Carla Cruz" in page
    renamed = betos.post(
        f"/messages/{group.pk}/group/", {"action": "rename", "title": "Los del café"}
    )
    assert renamed.status_code == 302
    added = anas.post(f"/messages/{group.pk}/group/", {"action": "add", "members": [dani.pk]})
    assert added.status_code == 302
    assert "Los del café" in signed_in(dani).get("/messages/").content.decode()

    # Leaving cannot be undone: the button is behind a confirm step.
    settings_page = betos.get(f"/messages/{group.pk}/group/").content.decode()
    confirm_step = settings_page[settings_page.index('<details class="confirm-step">') :]
    assert 'value="leave"' in confirm_step[: confirm_step.index("</details>")]
    left = betos.post(f"/messages/{group.pk}/group/", {"action": "leave"})
    assert left["Location"] == "/messages/"
    assert betos.get(f"/messages/{group.pk}/").status_code == 404
    assert "Los del café" not in betos.get("/messages/").content.decode()
    assert sorted(
        Participant.objects.filter(conversation=group).values_list("user__display_name", flat=True)
    ) == ["Ana Arias", "Carla Cruz", "Dani Díaz"]
    # What Beto said stays for the others; outsiders get nothing.
    assert signed_in(stranger).get(f"/messages/{group.pk}/group/").status_code == 404


def test_a_group_holds_twenty_members_and_refuses_those_who_take_no_conversations() -> None:
    ana = member("Ana Arias")
    people = [member(f"Persona Número{n}") for n in range(20)]
    for person in people:
        AcquaintanceFactory.create(owner=ana, other=person)
    Profile.objects.filter(user=people[0]).update(messages_from=MessagesFrom.NOBODY)
    anas = signed_in(ana)

    refused = anas.post("/messages/new/", {"title": "Todos", "members": [p.pk for p in people[:3]]})
    assert refused.status_code == 400
    assert "does not take new conversations" in refused.content.decode()
    too_many = anas.post(
        "/messages/new/", {"title": "Todos", "members": [p.pk for p in people[1:]]}
    )
    assert too_many.status_code == 302  # 19 and Ana: 20
    group = Conversation.objects.get()
    Profile.objects.filter(user=people[0]).update(messages_from=MessagesFrom.EVERYONE)
    full = anas.post(f"/messages/{group.pk}/group/", {"action": "add", "members": [people[0].pk]})
    assert full.status_code == 400 and "up to 20 members" in full.content.decode()


def test_a_group_s_name_and_members_change_a_few_times_an_hour_keeping_what_was_typed(
    settings: Any,
) -> None:
    """Adding someone back as soon as they left, or renaming a group in a loop, reached every
    member's list live with no end."""
    ana, beto, carla = (member(n) for n in ("Ana Arias", "Beto Blanco", "Carla Cruz"))
    for other in (beto, carla):
        AcquaintanceFactory.create(owner=ana, other=other)
    anas = signed_in(ana)
    anas.post("/messages/new/", {"title": "Café", "members": [beto.pk, carla.pk]})
    group = Conversation.objects.get()
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "group_change": "2/h/user"}

    for title in ("Café 1", "\u200b", "Café 2"):  # the refused name costs nothing
        renamed = anas.post(f"/messages/{group.pk}/group/", {"action": "rename", "title": title})
        assert renamed.status_code == (400 if title == "\u200b" else 302)
    slow = anas.post(f"/messages/{group.pk}/group/", {"action": "rename", "title": "Café 3"})

    assert slow.status_code == 429
    assert "changed groups many times lately" in slow.content.decode()
    assert 'value="Café 3"' in slow.content.decode()
    group.refresh_from_db()
    assert group.title == "Café 2"


@pytest.mark.django_db(transaction=True)
def test_two_members_adding_people_at_once_keep_the_group_within_twenty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from conversations import services

    ana, beto = member("Ana Arias"), member("Beto Blanco")
    others = [member(f"Persona Número{n}") for n in range(17)]
    group = group_create(creator=ana, members=[beto, *others], title="Casi llenos")
    carla, dani = member("Carla Cruz"), member("Dani Díaz")
    check = services._check_joining
    refused: list[str] = []

    def add(by: User, newcomer: User) -> None:
        try:
            conversation = Conversation.objects.get(pk=group.pk)
            services.group_members_add(conversation=conversation, by=by, members=[newcomer])
        except services.ConversationRefused as refusal:
            refused.append(str(refusal))
        finally:
            connection.close()

    beto_adding: list[threading.Thread] = []

    def checked_then_beto_adds(**kwargs: Any) -> None:
        # Ana's add has counted 19 and passed; Beto's comes now. Without one at a time it
        # counts 19 too and finishes here; with it, it waits for Ana's to commit.
        check(**kwargs)
        if not beto_adding:
            beto_adding.append(threading.Thread(target=add, args=(beto, dani)))
            beto_adding[0].start()
            beto_adding[0].join(timeout=1)

    monkeypatch.setattr(services, "_check_joining", checked_then_beto_adds)
    add(ana, carla)
    beto_adding[0].join(timeout=30)

    assert Participant.objects.filter(conversation=group).count() == 20
    assert len(refused) == 1  # Beto is told the group is full


def test_in_a_group_the_messages_of_a_blocked_member_are_hidden_and_not_counted() -> None:
    ana, beto, carla = member("Ana Arias"), member("Beto Blanco"), member("Carla Cruz")
    for other in (beto, carla):
        AcquaintanceFactory.create(owner=ana, other=other)
    group = group_create(creator=ana, members=[beto, carla], title="Tres")
    message_post(conversation=group, author=beto, text="Soy Beto", client_id=uuid.uuid4())
    message_post(conversation=group, author=ana, text="Soy Ana", client_id=uuid.uuid4())
    BlockFactory.create(blocker=carla, blocked=beto)

    assert unread_total(user=carla) == 1
    page = signed_in(carla).get(f"/messages/{group.pk}/").content.decode()
    assert "Soy Ana" in page and "Soy Beto" not in page


def test_the_unread_total_counts_others_messages_after_each_read_mark_in_every_conversation() -> (
    None
):
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    carla, dani = member("Carla Cruz"), member("Dani Díaz")
    for other in (beto, carla, dani):
        AcquaintanceFactory.create(owner=ana, other=other)
    first = group_create(creator=ana, members=[beto, carla], title="Uno")
    second = group_create(creator=ana, members=[beto, dani], title="Dos")

    def post(conversation: Conversation, author: User) -> None:
        message_post(conversation=conversation, author=author, text="Hola", client_id=uuid.uuid4())

    post(first, beto)
    post(first, carla)
    conversation_read(conversation=first, user=ana)
    post(first, beto)
    post(first, ana)  # her own
    post(first, carla)
    post(second, dani)
    post(second, beto)
    BlockFactory.create(blocker=dani, blocked=ana)  # hidden from her, either way round

    # Writing reads what came before: after her own message, Carla's; Beto's in the second.
    assert unread_total(user=ana) == 2
    assert unread_total(user=beto) == 2  # Ana's and Carla's after his own
    assert unread_total(user=dani) == 1  # Beto's
    BlockFactory.create(blocker=beto, blocked=carla)
    assert unread_total(user=beto) == 1  # Ana's
    shown = {
        entry.conversation.pk: entry.unread
        for entry in selectors.conversations_of(user=ana).entries
    }
    assert sum(shown.values()) == unread_total(user=ana)


# Reports ---------------------------------------------------------------------------------


def test_a_group_message_by_someone_on_the_other_side_of_a_block_is_not_reported() -> None:
    """The group hides their messages from each other; its report page and its read
    receipts do too."""
    ana, beto, carla = member("Ana Arias"), member("Beto Blanco"), member("Carla Cano")
    group = group_create(creator=ana, members=[beto, carla], title="Diseño")
    said, _ = message_post(conversation=group, author=beto, text="Hola", client_id=uuid.uuid4())
    url = f"/messages/{group.pk}/{said.pk}/report/"
    assert signed_in(carla).get(url).status_code == 200
    BlockFactory.create(blocker=beto, blocked=carla)
    assert signed_in(carla).get(url).status_code == 404
    # Nor does Beto count among those who may have seen Carla's messages ("seen by 1 of 1").
    assert selectors.read_marks(conversation=group, viewer=carla).keys() == {ana.pk}
    page = signed_in(carla).get(group.get_absolute_url()).content.decode()
    marks = re.search(r'data-read-marks="([^"]*)"', page)
    assert 'data-others="1"' in page and marks and marks.group(1).startswith(f"{ana.pk}:")
    assert "," not in marks.group(1)


def test_staff_writing_in_a_conversation_cannot_delete_the_other_s_message() -> None:
    """In a conversation of their own, staff are members like the others: only a report
    (the moderation queue) lets them remove someone's message."""
    ana, marta = member("Ana Arias"), member("Marta Moderadora", is_staff=True)
    conversation = direct_conversation_start(starter=marta, other=ana)
    said, _ = message_post(
        conversation=conversation, author=ana, text="Mi mensaje", client_id=uuid.uuid4()
    )

    response = signed_in(marta).post(f"/messages/{conversation.pk}/{said.pk}/delete/", follow=True)

    assert "You can only change your own messages." in response.content.decode()
    said.refresh_from_db()
    assert said.text == "Mi mensaje" and said.deleted_at is None


def test_a_reported_message_is_the_only_one_staff_read_and_they_can_remove_it() -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    eve = member("Eve Extraña")
    marta = moderator(member("Marta Moderadora"))
    conversation = direct_conversation_start(starter=ana, other=beto)
    message_post(conversation=conversation, author=ana, text="Algo privado", client_id=uuid.uuid4())
    rude, _ = message_post(
        conversation=conversation, author=beto, text="Un insulto", client_id=uuid.uuid4()
    )
    anas = signed_in(ana)
    report_url = f"/messages/{conversation.pk}/{rude.pk}/report/"
    page = anas.get(conversation.get_absolute_url()).content.decode()
    assert f'href="{report_url}"' in page

    # Nobody reports their own message, nor one of a conversation they are not in.
    own = Message.objects.get(text="Algo privado")
    assert anas.get(f"/messages/{conversation.pk}/{own.pk}/report/").status_code == 404
    assert signed_in(eve).get(report_url).status_code == 404
    empty = anas.post(report_url, {"reason": "harassment", "details": ""})
    assert empty.status_code == 400 and "Tell us briefly what happened." in empty.content.decode()
    sent = anas.post(report_url, {"reason": "harassment", "details": "Me insultó."})
    assert sent["Location"] == conversation.get_absolute_url()

    staffs = signed_in(marta)
    queue = staffs.get("/staff/moderation/").content.decode()
    assert "Un insulto" in queue and "Algo privado" not in queue
    assert staffs.get(conversation.get_absolute_url()).status_code == 404
    report = Report.objects.get()
    assert report.conversation_message == rude and report.reported == beto
    acted = staffs.post(f"/staff/moderation/{report.pk}/", {"action": "remove_message"})
    assert acted.status_code == 302
    rude.refresh_from_db()
    assert rude.is_deleted and rude.text == ""
    page = anas.get(conversation.get_absolute_url()).content.decode()
    assert "This message was deleted." in page and "Algo privado" in page


def test_staff_handling_a_report_see_its_picture_and_no_other() -> None:
    """A picture sent without words was an empty quote in the queue, and its address a 404
    for staff: they could only act on a report blind."""
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    marta = moderator(member("Marta Moderadora"))
    conversation = direct_conversation_start(starter=ana, other=beto)
    betos, anas, staffs = signed_in(beto), signed_in(ana), signed_in(marta)
    for name in ("otra.png", "ofensiva.png"):
        upload = SimpleUploadedFile(name, image_bytes("PNG", (400, 300)))
        betos.post(
            conversation.get_absolute_url(),
            {"text": "", "client_id": str(uuid.uuid4()), "attachment": upload},
        )
    other, rude = Message.objects.filter(author=beto).order_by("pk")
    report_url = f"/messages/{conversation.pk}/{rude.pk}/report/"
    form = anas.get(report_url).content.decode()
    assert f'src="/messages/{conversation.pk}/{rude.pk}/file/?thumbnail=1"' in form
    anas.post(report_url, {"reason": "harassment", "details": "Una foto ofensiva."})
    report = Report.objects.get()

    queue = staffs.get("/staff/moderation/").content.decode()
    file_url = f"/staff/moderation/{report.pk}/file/"
    assert f'src="{file_url}?thumbnail=1"' in queue and "Picture: ofensiva.webp" in queue
    assert "otra.webp" not in queue
    served = staffs.get(file_url)
    assert served.status_code == 200 and served["Content-Type"] == "image/webp"
    assert staffs.get(f"/messages/{conversation.pk}/{other.pk}/file/").status_code == 404
    assert (
        f'href="{file_url}"'
        in staffs.get(f"/admin/moderation/report/{report.pk}/change/").content.decode()
    )
    # Nobody else reads it there, nor staff once the message is gone.
    assert anas.get(file_url).status_code in (302, 403)
    staffs.post(f"/staff/moderation/{report.pk}/", {"action": "remove_message"})
    assert staffs.get(file_url).status_code == 404


def test_the_admin_lists_conversations_and_never_deletes_one(staff: User) -> None:
    """A conversation goes when its last member leaves, files included: deleted from the
    admin, its files stayed on disk for good and the page listed their names to staff."""
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)
    upload = SimpleUploadedFile("despido.pdf", b"%PDF-1.4 privado")
    signed_in(ana).post(
        conversation.get_absolute_url(),
        {"text": "", "client_id": str(uuid.uuid4()), "attachment": upload},
    )
    admin = signed_in(staff)
    assert admin.get("/admin/conversations/conversation/").status_code == 200
    page = admin.get(f"/admin/conversations/conversation/{conversation.pk}/delete/")
    assert page.status_code == 403 and "despido" not in page.content.decode()
    admin.post(
        "/admin/conversations/conversation/",
        {"action": "delete_selected", "_selected_action": [conversation.pk], "post": "yes"},
    )
    assert Conversation.objects.filter(pk=conversation.pk).exists()


# Coffee rounds ---------------------------------------------------------------------------


def test_each_coffee_pair_and_trio_gets_its_conversation_with_the_round(
    django_capture_on_commit_callbacks: Any,
) -> None:
    people = [participant(display_name=f"Persona {n}", language="en") for n in range(5)]
    Profile.objects.filter(user=people[0]).update(messages_from=MessagesFrom.NOBODY)
    with django_capture_on_commit_callbacks(execute=True):
        round_, _ = round_create(programme=community(), scheduled_for=SLOT)

    groups = [sorted(seat.user_id for seat in group.members.all()) for group in round_.groups.all()]
    assert sorted(len(group) for group in groups) == [2, 3]
    pair = next(group for group in groups if len(group) == 2)
    trio = next(group for group in groups if len(group) == 3)
    direct = Conversation.objects.get(direct_key=f"{pair[0]}:{pair[1]}")
    together = Conversation.objects.get(kind=Conversation.Kind.GROUP)
    # Named in the community's language, one title for the trio whatever theirs.
    assert together.title == "☕ Cafés en pareja"
    assert sorted(together.participants.values_list("user_id", flat=True)) == trio
    # Even a member who takes no new conversations may write to the partner they asked for.
    partner = User.objects.get(pk=pair[0])
    message_post(conversation=direct, author=partner, text="¡Hola!", client_id=uuid.uuid4())
    listed = signed_in(User.objects.get(pk=trio[0])).get("/messages/").content.decode()
    assert together.title in listed

    assert round_conversations_open(round_id=round_.pk) == 0  # a second run opens nothing
    assert Conversation.objects.count() == 2


def test_a_coffee_pair_s_conversation_opens_with_their_intro_and_the_email_leads_there(
    smtp_server: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ana = participant(email="ana@example.com", display_name="Ana Arias", language="es")
    ben = participant(email="ben@example.com", display_name="Ben Brown", language="en")
    outsider = member("Carla Cruz")
    smtp_server.messages.clear()
    smtp = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": smtp_server.port,
    }

    with override_settings(**smtp), django_capture_on_commit_callbacks(execute=True):
        round_create(programme=community(), scheduled_for=SLOT)

    body = smtp_server.wait_for("ben@example.com").get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"Write to them in your conversation: \S*(/pairs/meeting/\d+/write/)", body)
    assert link, body
    opened = signed_in(ben).get(link[1])
    together = Conversation.objects.get(direct_key=f"{ana.pk}:{ben.pk}")
    assert (opened.status_code, opened["Location"]) == (302, together.get_absolute_url())
    page = signed_in(ben).get(opened["Location"]).content.decode()
    intro = page[page.index('class="card coffee-intro"') : page.index("</aside>")]
    assert f"We introduced you through {community().name} on" in intro
    assert "Ana Arias" in intro and "You both like: Café" in intro
    assert "A question to start with" in intro and "/pairs/meeting/" in intro
    spanish = signed_in(ana).get(opened["Location"], HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Te presentamos a través de" in spanish and "Ben Brown" in spanish
    # The link is the pair's alone, and an ordinary conversation has no intro.
    assert signed_in(outsider).get(link[1]).status_code == 404
    other = direct_conversation_start(starter=ben, other=outsider)
    assert "coffee-intro" not in signed_in(ben).get(other.get_absolute_url()).content.decode()


def test_the_write_link_opens_the_conversation_when_the_round_s_task_has_not_yet() -> None:
    ana = participant(display_name="Ana Arias")
    ben = participant(display_name="Ben Brown")
    round_, _ = round_create(programme=community(), scheduled_for=SLOT)  # no commit hooks run
    group_id = round_.groups.get().pk
    assert not Conversation.objects.exists()

    opened = signed_in(ben).get(f"/pairs/meeting/{group_id}/write/")

    together = Conversation.objects.get(direct_key=f"{ana.pk}:{ben.pk}")
    assert opened["Location"] == together.get_absolute_url()
    assert sorted(together.participants.values_list("user_id", flat=True)) == [ana.pk, ben.pk]
    signed_in(ana).get(f"/pairs/meeting/{group_id}/write/")  # the other one: the same
    assert Conversation.objects.count() == 1


# Search ----------------------------------------------------------------------------------


def test_members_find_words_in_their_own_conversations_only() -> None:
    ana, beto, carla = member("Ana Arias"), member("Beto Blanco"), member("Carla Cruz")
    with_beto = direct_conversation_start(starter=ana, other=beto)
    with_carla = direct_conversation_start(starter=ana, other=carla)
    private = direct_conversation_start(starter=beto, other=carla)
    for conversation, author, text in (
        (with_beto, beto, "¿Quedamos para el café del jueves?"),
        (with_beto, ana, "Mejor el viernes"),
        (with_carla, carla, "El CAFÉ de la mañana es sagrado"),
        (private, carla, "Cafetería secreta"),
    ):
        message_post(conversation=conversation, author=author, text=text, client_id=uuid.uuid4())
    anas = signed_in(ana)

    found = anas.get("/messages/search/", {"q": "cafe"}).content.decode()
    assert "¿Quedamos para el café del jueves?" in found and "El CAFÉ de la mañana" in found
    assert "secreta" not in found and "viernes" not in found
    assert "Beto Blanco" in found and "Carla Cruz" in found
    both = anas.get("/messages/search/", {"q": "café jueves"}).content.decode()
    assert "jueves" in both and "sagrado" not in both
    BlockFactory.create(blocker=carla, blocked=ana)
    assert "sagrado" not in anas.get("/messages/search/", {"q": "cafe"}).content.decode()
    odd = anas.get("/messages/search/", {"q": "' & ! :* ("})
    assert odd.status_code == 200
    assert "No message of yours holds" not in anas.get("/messages/search/").content.decode()


def test_the_weekly_digest_lists_the_conversations_waiting_for_the_member(
    smtp: Any,
) -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    User.objects.filter(pk=ana.pk).update(
        last_seen_at=DIGEST_MONDAY - timedelta(days=10),
        date_joined=DIGEST_MONDAY - timedelta(days=60),
        time_zone="Europe/Madrid",
    )
    conversation = direct_conversation_start(starter=beto, other=ana)
    for text in ("¿Hablamos?", "¿Sigues por aquí?"):
        message_post(conversation=conversation, author=beto, text=text, client_id=uuid.uuid4())

    with time_machine.travel(DIGEST_MONDAY, tick=False):
        digest_tick()

    [email] = [m for m in smtp.messages if ana.email in str(m["To"])]
    text = email.get_body(preferencelist=("plain",)).get_content()
    assert "Messages waiting for you" in text
    assert "Beto Blanco: 2 unread messages" in text
    assert f"/messages/{conversation.pk}/" in text


def test_wherever_a_member_meets_someone_a_button_starts_their_conversation() -> None:
    """The directory, people I've met, the coffee page and an event's attendees offer
    "Send a message" / "Write"; the button (a POST) opens the conversation."""
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    quiet = member("Quim Quieto")
    Profile.objects.filter(user=quiet).update(messages_from=MessagesFrom.NOBODY)
    AcquaintanceFactory.create(owner=ana, other=beto)
    GroupMemberFactory.create(group=GroupMemberFactory.create(user=ana).group, user=beto)
    event = RsvpFactory.create(user=beto).event
    RsvpFactory.create(event=event, user=ana)
    anas = signed_in(ana)
    start = f'action="/messages/with/{beto.pk}/"'

    for page in ("/members/", "/members/me/met/", "/pairs/", f"/events/{event.pk}/"):
        assert start in anas.get(page).content.decode(), page
    # Someone who takes no new conversations is offered none in the directory.
    assert f'action="/messages/with/{quiet.pk}/"' not in anas.get("/members/").content.decode()

    opened = anas.post(f"/messages/with/{beto.pk}/")
    conversation = Conversation.objects.get(direct_key=f"{ana.pk}:{beto.pk}")
    assert opened["Location"] == conversation.get_absolute_url()


def test_the_team_s_messages_are_marked_and_a_lookalike_name_is_not() -> None:
    """A member named "Moderación" wrote to others as if for the team: nothing told them
    apart. The page and the socket's message mark the team's own."""
    from conversations.live import message_data

    bob = member("Beto Blanco")
    lucia = member("Lucía Equipo", is_staff=True)
    fake = member("Moderación")
    talks = [direct_conversation_start(starter=writer, other=bob) for writer in (lucia, fake)]
    for writer, conversation in zip((lucia, fake), talks, strict=True):
        say(signed_in(writer), conversation, "Tu cuenta será revisada")
    betos = signed_in(bob)

    pages = [betos.get(conversation.get_absolute_url()).content.decode() for conversation in talks]

    assert ['<span class="team-badge">Team</span>' in page for page in pages] == [True, False]
    frames = [message_data(conversation.messages.get()) for conversation in talks]
    assert [frame["author"]["staff"] for frame in frames] == [True, False]

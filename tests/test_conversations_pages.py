"""What the pages around conversations promise and whether it holds: a long message gets
one error, a "Send a message" button only where writing works, and a new group's page
that can succeed or says why not."""

import re
import uuid
from typing import Any

import pytest
from django.test import Client

from conversations.models import Conversation, Message
from conversations.selectors import conversation_openers
from conversations.services import (
    ConversationRefused,
    direct_conversation_start,
    message_edit,
)
from members.models import MessagesFrom, Profile, User
from tests.factories import AcquaintanceFactory, BlockFactory, client_for, onboarded_member

pytestmark = pytest.mark.django_db


def member(name: str, messages_from: str = MessagesFrom.EVERYONE) -> User:
    user = onboarded_member(name, email=name.lower().replace(" ", ".") + "@example.com")
    Profile.objects.filter(user=user).update(messages_from=messages_from)
    return User.objects.select_related("profile").get(pk=user.pk)


def message_button(page: str, other: User) -> bool:
    return f'action="/messages/with/{other.pk}/"' in page


# A long message -------------------------------------------------------------------------


def test_a_too_long_message_gets_one_error_not_also_write_something_first() -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)

    sent = client_for(ana).post(
        conversation.get_absolute_url(), {"text": "x" * 4001, "client_id": str(uuid.uuid4())}
    )

    page = sent.content.decode()
    assert sent.status_code == 400
    assert "at most 4000 characters (it has 4001)" in page
    # The text stays in the box, whose Enter sends: a phone's keyboard shows a "send" key.
    box = r'<textarea name="text"[^>]* enterkeyhint="send"[^>]*>\s*x{4001}</textarea>'
    assert re.search(box, page)
    assert "Write something first." not in page
    assert not Message.objects.exists()


def test_line_breaks_count_as_one_character_as_the_browser_counts_them() -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)
    # What a textarea with maxlength=4000 lets through: 3,999 characters, 150 line breaks
    # among them, posted as CRLF (4,148 on the wire).
    lines = ["y" * 25] * 150
    text = "\n".join(lines) + "z" * (3999 - len("\n".join(lines)))
    assert len(text) == 3999

    sent = client_for(ana).post(
        conversation.get_absolute_url(),
        {"text": text.replace("\n", "\r\n"), "client_id": str(uuid.uuid4())},
    )

    assert sent.status_code == 302
    assert Message.objects.get().text == text


# Who gets a "Send a message" button -------------------------------------------------------


def personas(ana: User) -> dict[str, tuple[User, bool]]:
    """Members as Ana finds them, and whether she may write to each."""
    talks_already = member("Tere Tímida", MessagesFrom.NOBODY)
    direct_conversation_start(starter=talks_already, other=ana)
    Profile.objects.filter(user=talks_already).update(messages_from=MessagesFrom.NOBODY)
    met = member("Mara Conocida", MessagesFrom.MET)
    AcquaintanceFactory.create(owner=met, other=ana)
    blocker = member("Bruno Bloqueo")
    BlockFactory.create(blocker=blocker, blocked=ana)
    return {
        "everyone": (member("Eva Abierta"), True),
        "nobody": (member("Nuria Nadie", MessagesFrom.NOBODY), False),
        "met, not her": (member("Marta Solo", MessagesFrom.MET), False),
        "met, her": (met, True),
        "nobody, but they talk already": (talks_already, True),
        "blocked her": (blocker, False),
        "herself": (ana, False),
    }


def test_the_openers_are_exactly_those_the_service_lets_her_write_to() -> None:
    ana = member("Ana Arias")
    people = personas(ana)
    others = [*User.objects.select_related("profile").exclude(pk=ana.pk), ana]

    openers = conversation_openers(starter=ana, others=others)

    for label, (other, expected) in people.items():
        assert (other.pk in openers) is expected, label
        try:
            direct_conversation_start(starter=ana, other=other)
        except ConversationRefused:
            assert not expected, label
        else:
            assert expected, label


def test_a_profile_offers_a_message_only_when_writing_would_work() -> None:
    ana = member("Ana Arias")
    anas = client_for(ana)

    for label, (other, expected) in personas(ana).items():
        if label == "blocked her":
            continue  # her profile is not there for Ana (a 404)
        page = anas.get(f"/members/{other.pk}/").content.decode()
        assert message_button(page, other) is expected, label
    assert not message_button(Client().get(f"/members/{ana.pk}/").content.decode(), ana)


def test_the_directory_offers_a_message_only_when_writing_would_work(
    django_assert_max_num_queries: Any,
) -> None:
    ana = member("Ana Arias")
    people = personas(ana)
    anas = client_for(ana)
    anas.get("/members/")

    with django_assert_max_num_queries(20) as few:
        page = anas.get("/members/").content.decode()
    for label, (other, expected) in people.items():
        assert message_button(page, other) is expected, label

    for n in range(8):
        AcquaintanceFactory.create(owner=member(f"Otra Persona{n}", MessagesFrom.MET), other=ana)
        member(f"Alguien Callado{n}", MessagesFrom.NOBODY)
    with django_assert_max_num_queries(20) as more:
        page = anas.get("/members/").content.decode()
    assert len(more.captured_queries) == len(few.captured_queries)
    assert len(re.findall(r'action="/messages/with/\d+/"', page)) == 3 + 8


# A new group with too few contacts ---------------------------------------------------------


def test_with_one_contact_the_group_page_explains_and_leads_to_them() -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    AcquaintanceFactory.create(owner=ana, other=beto)
    anas = client_for(ana)

    page = anas.get("/messages/new/").content.decode()

    assert "A group needs at least two people besides you" in page
    assert 'name="title"' not in page  # no form that cannot succeed
    assert message_button(page, beto) and "Write to Beto Blanco" in page
    conversation = direct_conversation_start(starter=ana, other=beto)
    page = anas.get("/messages/new/").content.decode()
    assert f'href="/messages/{conversation.pk}/"' in page and "Write to Beto Blanco" in page


def test_with_one_contact_who_takes_no_conversations_the_page_only_explains() -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco", MessagesFrom.NOBODY)
    AcquaintanceFactory.create(owner=ana, other=beto)

    page = client_for(ana).get("/messages/new/").content.decode()

    assert "A group needs at least two people besides you" in page
    assert not message_button(page, beto) and "Write to Beto" not in page


def test_with_no_contacts_or_two_the_group_page_is_as_before() -> None:
    ana, beto, carla = member("Ana Arias"), member("Beto Blanco"), member("Carla Cruz")
    anas = client_for(ana)
    assert "you have none yet" in anas.get("/messages/new/").content.decode()

    for other in (beto, carla):
        AcquaintanceFactory.create(owner=ana, other=other)
    page = anas.get("/messages/new/").content.decode()
    assert 'name="title"' in page and "Carla Cruz" in page
    made = anas.post("/messages/new/", {"title": "Trío", "members": [beto.pk, carla.pk]})
    assert made.status_code == 302 and Conversation.objects.filter(kind="group").exists()


# A member who left ------------------------------------------------------------------------


def test_a_direct_conversation_with_a_member_who_left_says_so_and_takes_no_more() -> None:
    from members.privacy import account_delete

    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)
    as_ana = client_for(ana)
    as_ana.post(conversation.get_absolute_url(), {"text": "Hola", "client_id": str(uuid.uuid4())})
    account_delete(user=beto)

    page = as_ana.get(conversation.get_absolute_url()).content.decode()
    sent = as_ana.post(
        conversation.get_absolute_url(), {"text": "¿Sigues ahí?", "client_id": str(uuid.uuid4())}
    )

    notice = "This member is no longer in the community: they will not read new messages."
    assert notice in page
    assert 'id="conversation-form" enctype="multipart/form-data" novalidate hidden' in page
    assert "Hola" in page  # what was said stays
    assert sent.status_code == 400 and notice in sent.content.decode()
    assert list(Message.objects.values_list("text", flat=True)) == ["Hola"]
    # Nor is an old message changed for nobody: refused before anything is written.
    with pytest.raises(ConversationRefused):
        message_edit(message=Message.objects.get(), editor=ana, text="Adiós")
    assert list(Message.objects.values_list("text", flat=True)) == ["Hola"]

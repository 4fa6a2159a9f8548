"""Mentions in room chat: who "@Name" reaches, the email they get, and the message object."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone

from coworking.asgi import application
from members.models import User
from notifications.models import Channel, Kind, Notification, Preference
from rooms import broadcast, mentions, selectors, services, tasks
from rooms.models import Mention, Message, Presence, Room, RoomParticipation
from tests.conftest import SmtpSink
from tests.factories import BlockFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db


def entered(room: Room, **user_fields: Any) -> User:
    """A member who has been in `room`."""
    user = UserFactory.create(**user_fields)
    RoomParticipation.objects.create(
        room=room, user=user, first_seen_at=timezone.now(), last_seen_at=timezone.now()
    )
    return user


def post(room: Room, author: User, text: str) -> Message:
    message, _created = services.message_post(
        room=room, author=author, text=text, client_id=uuid.uuid4()
    )
    return message


def names(users: list[User]) -> list[str]:
    return [user.display_name for user in users]


@pytest.fixture(autouse=True)
def _site_url(settings: Any) -> None:
    settings.SITE_URL = "http://testserver"


@pytest.fixture
def room() -> Room:
    return RoomFactory.create(name="Deep work")


@pytest.fixture
def ana(room: Room) -> User:
    return entered(room, display_name="Ana", email="ana@example.com")


def listener(room: Room, name: str, **fields: Any) -> User:
    """A member of `room` who wants mention emails, in English."""
    email = f"{name.split()[0].lower()}@example.com"
    return entered(room, display_name=name, email=email, language="en", **fields)


# who a message mentions -------------------------------------------------------------------


def test_names_match_whatever_the_case_and_accents(room: Room, ana: User) -> None:
    entered(room, display_name="José")
    entered(room, display_name="Ana Arias")
    decomposed = "jose\u0301"  # "josé" typed as "e" and a combining accent

    found = mentions.mentions_find(room=room, author=ana, text=f"hola @{decomposed} y @ANA ARIAS")

    assert names(found) == ["José", "Ana Arias"]
    assert names(mentions.mentions_find(room=room, author=ana, text="@JOSÉ")) == ["José"]


def test_the_longest_name_wins(room: Room, ana: User) -> None:
    entered(room, display_name="Bea")
    entered(room, display_name="Bea Ruiz")

    def find(text: str) -> list[str]:
        return names(mentions.mentions_find(room=room, author=ana, text=text))

    assert find("@Bea Ruiz, ¿vienes?") == ["Bea Ruiz"]
    assert find("@Bea ¿vienes?") == ["Bea"]
    assert find("@bea ruizz") == ["Bea"]  # "Bea Ruiz" is not the whole word


def test_a_name_ends_at_the_end_a_space_or_punctuation(room: Room, ana: User) -> None:
    entered(room, display_name="Bea")

    def find(text: str) -> list[str]:
        return names(mentions.mentions_find(room=room, author=ana, text=text))

    for text in ("@Bea", "hola @Bea!", "@Bea, mira", "(@Bea)", "@Bea's idea", "@Bea.\nok"):
        assert find(text) == ["Bea"], text
    for text in ("@Beatriz", "@Bea_2", "bea@Bea", "write to bea@example.com", "@ Bea"):
        assert find(text) == [], text


def test_members_with_the_same_name_are_all_mentioned_once(room: Room, ana: User) -> None:
    first, second = entered(room, display_name="Bea"), entered(room, display_name="bea")

    found = mentions.mentions_find(room=room, author=ana, text="@Bea @bea @BEA")

    assert found == [first, second]


def test_the_author_is_never_mentioned(room: Room, ana: User) -> None:
    assert mentions.mentions_find(room=room, author=ana, text="note to self @Ana") == []


def test_blocks_keep_mentions_out_both_ways(room: Room, ana: User) -> None:
    blocked_by_ana = entered(room, display_name="Bea")
    blocking_ana = entered(room, display_name="Carla")
    BlockFactory.create(blocker=ana, blocked=blocked_by_ana)
    BlockFactory.create(blocker=blocking_ana, blocked=ana)

    assert mentions.mentions_find(room=room, author=ana, text="@Bea @Carla") == []
    bob = entered(room, display_name="Bob")
    assert names(mentions.mentions_find(room=room, author=bob, text="@Bea @Carla")) == [
        "Bea",
        "Carla",
    ]


def test_only_members_who_may_read_the_room_are_mentioned(ana: User) -> None:
    private = RoomFactory.create(private=True, created_by=ana)
    invited = UserFactory.create(display_name="Invited")
    private.invitees.add(invited)
    was_in = entered(private, display_name="Was In")
    entered(private, display_name="Removed")
    RoomParticipation.objects.filter(room=private, user__display_name="Removed").update(
        removed_at=timezone.now()
    )
    UserFactory.create(display_name="Outsider")
    entered(private, display_name="Gone", is_active=False)
    entered(private, display_name="Deleted", deleted_at=timezone.now())
    text = "@Invited @Was In @Removed @Outsider @Gone @Deleted"

    assert mentions.mentions_find(room=private, author=was_in, text=text + " @Ana") == [
        invited,
        ana,  # the creator
    ]
    assert names(mentions.mentions_find(room=private, author=ana, text=text)) == [
        "Invited",
        "Was In",
    ]
    public = RoomFactory.create()
    entered(public, display_name="Invited")  # another member with the name, who was in
    # In a public room, only those who have come in: not every member of the site.
    assert names(mentions.mentions_find(room=public, author=ana, text=text)) == ["Invited"]


def test_a_message_mentions_at_most_ten_members(room: Room, ana: User) -> None:
    members = [entered(room, display_name=f"Member{number:02}") for number in range(12)]
    text = " ".join(f"@{member.display_name}" for member in members)

    assert mentions.mentions_find(room=room, author=ana, text=text) == members[:10]


def test_finding_mentions_takes_a_fixed_number_of_queries(
    room: Room, ana: User, django_assert_num_queries: Any
) -> None:
    for number in range(30):
        entered(room, display_name=f"Alba {number}")
    with django_assert_num_queries(0):
        assert mentions.mentions_find(room=room, author=ana, text="no mentions here") == []
    # The author's blocks (both ways, one query), then the members the text could spell.
    with django_assert_num_queries(2):
        found = mentions.mentions_find(room=room, author=ana, text="@alba 7 @Alba 12 @Alba")
    assert names(found) == ["Alba 7", "Alba 12"]


# recording them -----------------------------------------------------------------------------


def test_posting_and_editing_keep_the_mentions_in_step_with_the_text(room: Room, ana: User) -> None:
    bea, carla = entered(room, display_name="Bea"), entered(room, display_name="Carla")

    message = post(room, ana, "hola @Bea")
    assert list(message.mentions.all()) == [bea]
    assert broadcast.message_data(message)["mentions"] == [bea.pk]

    edited = services.message_edit(message=message, editor=ana, text="hola @Carla")
    assert broadcast.message_data(edited)["mentions"] == [carla.pk]
    assert list(Mention.objects.filter(message=message).values_list("user_id", flat=True)) == [
        carla.pk
    ]

    services.message_delete(message=message, by=ana)
    assert broadcast.message_data(message)["mentions"] == []


def test_a_message_without_mentions_is_ready_to_broadcast_without_a_query(
    room: Room, ana: User, django_assert_num_queries: Any
) -> None:
    message = post(room, ana, "hola")
    with django_assert_num_queries(0):
        assert broadcast.message_data(message)["mentions"] == []


def test_history_pages_with_mentions_take_a_fixed_number_of_queries(
    room: Room, ana: User, django_assert_max_num_queries: Any
) -> None:
    others = [entered(room, display_name=f"Other {number}") for number in range(5)]
    for number in range(50):
        post(room, ana, f"@Other {number % 5} and @Other {(number + 1) % 5}: {number}")
    BlockFactory.create(blocker=ana, blocked=UserFactory.create())

    with django_assert_max_num_queries(5):
        page = [
            broadcast.message_data(message)
            for message in selectors.history(room=room, viewer=ana, limit=50)
        ]

    assert len(page) == 50
    assert page[0]["mentions"] == sorted([others[4].pk, others[0].pk])


# the email --------------------------------------------------------------------------------


def test_a_mention_reaches_a_real_smtp_server_in_the_members_language(
    room: Room, ana: User, smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ben = listener(room, "Ben Smith")
    text = "@Ben Smith look <b>here</b> & there"

    with django_capture_on_commit_callbacks(execute=True):
        message = post(room, ana, text)

    email = smtp.wait_for("ben@example.com")
    assert len(smtp.messages) == 1
    assert str(email["Subject"]) == "Ana mentioned you in Deep work"
    plain = email.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = email.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    room_link = f"http://testserver/rooms/{room.slug}/"
    settings_link = "http://testserver/notifications/settings/"
    assert "Hello, Ben Smith" in plain
    assert text in plain  # plain text as written, not HTML-escaped
    assert room_link in plain and settings_link in plain
    assert "look &lt;b&gt;here&lt;/b&gt; &amp; there" in html
    assert "<b>here</b>" not in html
    assert f'href="{room_link}"' in html and f'href="{settings_link}"' in html
    assert Mention.objects.get(message=message, user=ben).emailed_at is not None


def test_no_email_for_members_who_did_not_ask_for_them(
    room: Room, ana: User, smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    quiet = entered(room, display_name="Quiet")
    Preference.objects.create(user=quiet, kind=Kind.MENTION, channel=Channel.IN_APP)

    with django_capture_on_commit_callbacks(execute=True):
        message = post(room, ana, "@Quiet hola")

    assert message.mentions.count() == 1
    assert smtp.messages == []
    # Told on the site instead.
    notice = Notification.objects.get(user=quiet)
    assert (notice.kind, notice.in_app, notice.url) == ("mention", True, f"/rooms/{room.slug}/")


def test_no_email_for_members_in_the_room_right_now(
    room: Room, ana: User, smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ben = listener(room, "Ben")
    Presence.objects.create(room=room, user=ben, channel_name="tab-1")
    elsewhere = RoomFactory.create()
    Presence.objects.create(room=elsewhere, user=ben, channel_name="tab-2")

    with django_capture_on_commit_callbacks(execute=True):
        post(room, ana, "@Ben hola")
    assert smtp.messages == []

    # A connection that stopped answering long ago does not count as being here.
    Presence.objects.filter(room=room).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        post(room, ana, "@Ben ¿sigues ahí?")
    smtp.wait_for("ben@example.com")


def test_one_mention_email_per_member_and_room_every_fifteen_minutes(
    room: Room, ana: User, smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ben = listener(room, "Ben")
    other_room = RoomFactory.create(name="Standup")
    RoomParticipation.objects.create(room=other_room, user=ben, first_seen_at=timezone.now())
    RoomParticipation.objects.create(room=other_room, user=ana, first_seen_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        post(room, ana, "@Ben one")
        post(room, ana, "@Ben two")
        post(other_room, ana, "@Ben three")

    smtp.wait_for("ben@example.com")
    assert sorted(str(email["Subject"]) for email in smtp.messages) == [
        "Ana mentioned you in Deep work",
        "Ana mentioned you in Standup",
    ]
    assert Mention.objects.filter(user=ben, emailed_at__isnull=False).count() == 2

    cache.clear()  # the window is over
    with django_capture_on_commit_callbacks(execute=True):
        post(room, ana, "@Ben four")
    assert len(smtp.messages) == 3


def test_a_redelivered_task_sends_one_email(
    room: Room, ana: User, smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ben = listener(room, "Ben")
    with django_capture_on_commit_callbacks(execute=True):
        message = post(room, ana, "@Ben hola")
    smtp.wait_for("ben@example.com")

    tasks.mention_notify(message.pk, ben.pk)
    cache.clear()  # even once the throttle has forgotten it
    tasks.mention_notify(message.pk, ben.pk)

    assert len(smtp.messages) == 1


def test_an_edit_emails_only_the_members_it_newly_mentions(
    room: Room, ana: User, smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    listener(room, "Ben")
    listener(room, "Carla")
    with django_capture_on_commit_callbacks(execute=True):
        message = post(room, ana, "@Ben hola")
    smtp.wait_for("ben@example.com")
    cache.clear()  # so that only the edit's own rule keeps Ben from a second email

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.message_edit(message=message, editor=ana, text="@Ben y @Carla, hola")
    with django_capture_on_commit_callbacks(execute=True) as again:
        services.message_edit(message=message, editor=ana, text="@Ben y @Carla, hola!")

    smtp.wait_for("carla@example.com")
    assert len(smtp.messages) == 2
    # One notification task for the edit (its notice then pushes the header's counters),
    # none for the second.
    tasks = [c for c in callbacks if getattr(c, "func", None) is mentions._notify_later]
    assert len(tasks) == 1 and again == []


def test_a_message_deleted_before_the_email_goes_sends_nothing(
    room: Room, ana: User, smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ben = listener(room, "Ben")
    with django_capture_on_commit_callbacks() as callbacks:
        message = post(room, ana, "@Ben oops")
    services.message_delete(message=message, by=ana)

    for callback in callbacks:
        callback()
    tasks.mention_notify(message.pk, ben.pk)
    tasks.mention_notify(message.pk + 1000, ben.pk)  # a message that never existed

    assert smtp.messages == []


def test_no_email_once_a_block_comes_between_them(
    room: Room, ana: User, smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ben = listener(room, "Ben")
    with django_capture_on_commit_callbacks() as callbacks:
        post(room, ana, "@Ben hola")
    BlockFactory.create(blocker=ben, blocked=ana)

    for callback in callbacks:
        callback()

    assert smtp.messages == []


def test_a_failed_send_is_retried_and_then_sent(
    room: Room, ana: User, smtp_server: SmtpSink
) -> None:
    ben = listener(room, "Ben")
    message = post(room, ana, "@Ben hola")  # outside a commit capture: no task runs
    smtp = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
    }
    smtp_server.messages.clear()

    with override_settings(**smtp, EMAIL_PORT=1):  # nothing listens there
        result = tasks.mention_notify.apply(
            args=[message.pk, ben.pk], retries=tasks.EMAIL_RETRY["max_retries"], throw=False
        )
    assert result.failed()
    assert Mention.objects.get(message=message, user=ben).emailed_at is None

    # The failed attempt claimed the throttle window; its own retry is not kept out by it.
    with override_settings(**smtp, EMAIL_PORT=smtp_server.port):
        tasks.mention_notify(message.pk, ben.pk)
    smtp_server.wait_for("ben@example.com")
    assert Mention.objects.get(message=message, user=ben).emailed_at is not None


# the admin and the socket -----------------------------------------------------------------


def test_staff_see_a_messages_mentions_in_the_admin(room: Room, ana: User) -> None:
    entered(room, display_name="Bea Ruiz")
    message = post(room, ana, "@Bea Ruiz hola")
    admin = UserFactory.create(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)

    response = client.get(f"/admin/rooms/message/{message.pk}/change/")

    assert response.status_code == 200
    assert "Bea Ruiz" in response.content.decode()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_chat_frames_carry_the_mentions() -> None:
    def setup() -> tuple[Room, User, User, str, str]:
        place = RoomFactory.create()
        ana = UserFactory.create(display_name="Ana")
        ben = UserFactory.create(display_name="Ben")
        sessions = []
        for user in (ana, ben):
            client = Client()
            client.force_login(user)
            sessions.append(client.cookies["sessionid"].value)
        return place, ana, ben, sessions[0], sessions[1]

    place, _ana, ben, ana_session, ben_session = await database_sync_to_async(setup)()

    async def join(session: str) -> WebsocketCommunicator:
        communicator = WebsocketCommunicator(
            application,
            f"/ws/rooms/{place.slug}/",
            headers=[
                # A page served at the socket's own address.
                (b"origin", b"http://127.0.0.1:8000"),
                (b"host", b"127.0.0.1:8000"),
                (b"cookie", f"sessionid={session}".encode()),
            ],
        )
        connected, _detail = await communicator.connect(timeout=5)
        assert connected
        return communicator

    async def next_of(communicator: WebsocketCommunicator, kind: str) -> dict[str, Any]:
        while True:
            frame = await communicator.receive_json_from(timeout=5)
            if frame["type"] == kind:
                return frame

    ana_socket = await join(ana_session)
    ben_socket = await join(ben_session)
    await ana_socket.send_json_to(
        {"type": "chat.send", "text": "@Ben hola", "client_id": str(uuid.uuid4())}
    )
    received = await next_of(ben_socket, "chat.message")
    assert received["message"]["mentions"] == [ben.pk]

    await ana_socket.send_json_to(
        {"type": "chat.edit", "id": received["message"]["id"], "text": "hola a todos"}
    )
    edited = await next_of(ben_socket, "chat.edited")
    assert edited["message"]["mentions"] == []
    await ana_socket.disconnect()
    await ben_socket.disconnect()


def test_a_mention_s_notice_quotes_the_message_as_it_is_and_goes_with_it(
    room: Room, ana: User, django_capture_on_commit_callbacks: Any
) -> None:
    ben, carla = listener(room, "Ben Smith"), listener(room, "Carla Cruz")
    for member in (ben, carla):
        Preference.objects.create(user=member, kind=Kind.MENTION, channel=Channel.IN_APP)
    with django_capture_on_commit_callbacks(execute=True):
        slip = post(room, ana, "@Ben Smith @Carla Cruz my phone is 600 123 456")

    with django_capture_on_commit_callbacks(execute=True):
        services.message_edit(message=slip, editor=ana, text="@Ben Smith call me")
    edited = [notice.text for notice in Notification.objects.filter(kind=Kind.MENTION)]
    with django_capture_on_commit_callbacks(execute=True):
        services.message_delete(message=slip, by=ana)

    assert edited == ["Ana mentioned you in “Deep work”: @Ben Smith call me"]  # Carla's went
    assert not Notification.objects.exists()

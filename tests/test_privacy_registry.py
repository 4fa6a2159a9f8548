"""The privacy registry (members/privacy.py): every model that points at a member is covered,
the export has a section per entry, and deleting an account leaves nothing personal behind."""

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.utils import timezone

from events.feeds import calendar_feed_get_or_create
from events.models import CalendarFeed, Rsvp
from matching.apps import COMMUNITY_SLUG
from matching.models import Participation, Programme
from members.models import Profile, User
from members.privacy import EXPORT_SCHEMA_VERSION, account_delete, personal_data_registered
from moderation.models import Report
from newsletter.models import Subscriber
from notifications.models import Kind, Notification
from notifications.services import notify
from rooms.models import Message, Presence, Visit
from rooms.models import Reaction as RoomReaction
from tests.conftest import SmtpSink
from tests.factories import (
    PASSWORD,
    AcquaintanceFactory,
    BlockFactory,
    EventFactory,
    GroupFactory,
    GroupMemberFactory,
    MessageFactory,
    ProfileFactory,
    ReportFactory,
    RoomFactory,
    RsvpFactory,
    SubscriberFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _covered() -> set[str]:
    return {label for entry in personal_data_registered() for label in entry.models}


def test_every_model_that_points_at_a_member_is_in_the_registry() -> None:
    personal = {User, Profile}
    missing = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.is_relation and not field.auto_created and field.related_model in personal:
                missing.add(model._meta.label)
    assert missing - _covered() == set()


def test_the_registry_names_only_real_models() -> None:
    for label in _covered():
        assert apps.get_model(label)


def test_the_export_has_a_section_for_each_entry_and_a_schema_version() -> None:
    member = ProfileFactory.create().user
    client = Client()
    client.force_login(member)

    data = json.loads(client.post("/members/me/export/").content)

    assert data["schema_version"] == EXPORT_SCHEMA_VERSION
    assert {entry.key for entry in personal_data_registered()} <= set(data)


def test_deleting_a_member_with_a_seat_gives_it_to_the_waiting_list(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    event = EventFactory.create(capacity=1, starts_at=timezone.now() + timedelta(days=2))
    leaving = ProfileFactory.create(onboarded_at=timezone.now()).user
    waiting = ProfileFactory.create(onboarded_at=timezone.now()).user
    RsvpFactory.create(event=event, user=leaving, status=Rsvp.Status.GOING)
    RsvpFactory.create(event=event, user=waiting, status=Rsvp.Status.WAITLISTED, position=1)
    calendar_feed_get_or_create(user=leaving)
    client = Client()
    assert client.login(email=leaving.email, password=PASSWORD)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/members/me/delete/", {"password": PASSWORD})
        # The promotion email waits for the deletion to commit.
        assert smtp.messages == []

    assert response.status_code == 302
    assert Rsvp.objects.get(user=waiting).status == Rsvp.Status.GOING
    assert not Rsvp.objects.filter(user=leaving).exists()
    assert not CalendarFeed.objects.filter(user=leaving).exists()
    assert smtp.wait_for(waiting.email)


def test_the_export_carries_every_kind_of_personal_data() -> None:
    alice = ProfileFactory.create(onboarded_at=timezone.now()).user
    bob = ProfileFactory.create(onboarded_at=timezone.now()).user
    room = RoomFactory.create(created_by=alice)
    hello = MessageFactory.create(room=room, author=bob, text="Hola, soy Bob")
    MessageFactory.create(room=room, author=alice, text="Hola, soy Alice", reply_to=hello)
    RoomReaction.objects.create(message=hello, user=alice, emoji="☕")
    Visit.objects.create(room=room, user=alice, started_at=timezone.now(), ended_at=timezone.now())
    RsvpFactory.create(user=alice)
    group = GroupFactory.create()
    GroupMemberFactory.create(group=group, round=group.round, user=alice, answer="met")
    GroupMemberFactory.create(group=group, round=group.round, user=bob)
    ReportFactory.create(reporter=alice, reported=bob, details="Adverts")

    data = Client()
    data.force_login(alice)
    exported = json.loads(data.post("/members/me/export/").content)

    assert [(m["text"], m["reply_to"]) for m in exported["room_messages"]] == [
        ("Hola, soy Alice", hello.pk)
    ]
    assert [(r["message"], r["emoji"]) for r in exported["room_reactions"]] == [(hello.pk, "☕")]
    assert len(exported["rooms"]["visits"]) == 1
    assert exported["rooms"]["created"][0]["room"] == room.title
    assert len(exported["events"]["rsvps"]) == 1
    assert exported["coffee_pairs"]["pairs"][0]["answer"] == "met"
    assert exported["coffee_pairs"]["pairs"][0]["partners"] == [bob.name]
    assert exported["reports_made"][0]["details"] == "Adverts"


def _text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb')"
        )
        return list(cursor.fetchall())


def _where_found(needle: str) -> set[str]:
    found = set()
    with connection.cursor() as cursor:
        for table, column in _text_columns():
            cursor.execute(
                f'SELECT 1 FROM "{table}" WHERE "{column}"::text ILIKE %s LIMIT 1',
                [f"%{needle}%"],
            )
            if cursor.fetchone():
                found.add(f"{table}.{column}")
    return found


def test_after_deletion_no_table_holds_the_members_personal_data() -> None:
    # Names no random factory name can contain: the other members here are named by Faker.
    zoe = UserFactory.create(
        display_name="Zoë Vallquintana", email="zoe.vallquintana@example.com", last_name="Qx"
    )
    ProfileFactory.create(
        user=zoe,
        onboarded_at=timezone.now(),
        headline="Cartógrafa Vallquintana-headline",
        bio="Vallquintana-bio: mapas y café",
        city="Vallquintanaville",
    )
    bob = ProfileFactory.create(onboarded_at=timezone.now()).user
    AcquaintanceFactory.create(owner=zoe, other=bob, note="Vallquintana-note about Bob")
    AcquaintanceFactory.create(owner=bob, other=zoe, note="Bob met Zoë")
    BlockFactory.create(blocker=zoe, blocked=UserFactory.create())
    room = RoomFactory.create()
    MessageFactory.create(room=room, author=zoe, text="Mensaje que se queda")
    Presence.objects.create(room=room, user=zoe, channel_name="x")
    RsvpFactory.create(user=zoe)
    Participation.objects.create(programme=Programme.objects.get(slug=COMMUNITY_SLUG), user=zoe)
    SubscriberFactory.create(user=zoe, email=zoe.email)
    notify(user=zoe, kind=Kind.MENTION, key="k1", text="Vallquintana-notification")
    notify(
        user=bob,
        kind=Kind.MENTION,
        key="k2",
        text="%(name)s mentioned you",
        params={"name": zoe.name},
        about=[zoe],
    )
    ReportFactory.create(reporter=bob, reported=zoe, details="About Zoë")

    account_delete(user=zoe)

    for needle in ["Vallquintana", "zoe.vallquintana@example.com", "Zoë"]:
        assert _where_found(needle) == set(), needle
    # What the docs say stays: their messages, signed by a former member.
    assert Message.objects.get(author=zoe).text == "Mensaje que se queda"
    # In the reader's language (Spanish by default).
    assert Notification.objects.get(user=bob).text == "Antiguo miembro mentioned you"
    assert not Subscriber.objects.filter(user=zoe).exists()
    assert not Report.objects.filter(reported=zoe).exists()


def test_the_privacy_doc_describes_every_entry() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "privacy.md").read_text()

    for entry in personal_data_registered():
        assert f"| `{entry.key}` |" in doc, entry.key

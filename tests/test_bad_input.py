"""Malformed input answers 400 or 404 and loses nothing, never a 500: the cases this
session's audit found (about 144,000 malformed requests to every address, as a visitor, a
member and staff), each through the real stack."""

import base64
import json
from typing import Any

import pytest
from django.test import Client

from members.models import User
from newsletter.models import Subscriber
from tests.factories import SubscriberFactory, UserFactory, client_for, onboarded_member
from tests.test_matching_meetings import pair
from tests.test_members_profile import VALID

pytestmark = pytest.mark.django_db


def test_a_path_with_a_nul_character_is_not_found() -> None:
    assert Client().get("/accounts/oidc/%00/login/").status_code == 404
    assert Client().post("/accounts/oidc/%00/login/").status_code == 404


def test_an_uploaded_file_s_name_too_long_for_the_disk_is_not_found(settings: Any) -> None:
    assert settings.SERVE_MEDIA
    assert Client().get(f"{settings.MEDIA_URL}{'a' * 300}").status_code == 404


def test_a_far_off_day_typed_for_a_coffee_meeting_is_refused_with_a_reason() -> None:
    luis, _ana = pair()
    client = client_for(luis.user)

    answers = [
        client.post(f"/pairs/meeting/{luis.group_id}/{path}/", {"day": day, "time": "23:59"})
        for path in ("propose", "accept")
        for day in ("9999-12-31", "0001-01-01")
    ]

    assert [answer.status_code for answer in answers] == [400, 400, 400, 400]
    assert "Choose a time in the next two months." in answers[0].content.decode()


def test_a_directory_cursor_with_a_nul_character_shows_the_first_page() -> None:
    viewer = onboarded_member("Vera")
    forged = json.dumps(["name", "a\u0000b", 1])
    cursor = base64.urlsafe_b64encode(forged.encode()).decode().rstrip("=")
    client = client_for(viewer)

    for side in ("after", "before"):
        assert client.get("/members/", {"sort": "name", side: cursor}).status_code == 200


def test_a_profile_with_an_interest_id_in_other_digits_keeps_what_was_typed() -> None:
    member = onboarded_member("Lucía")

    answer = client_for(member).post("/members/me/edit/", {**VALID, "interests": ["²", "①"]})

    page = answer.content.decode()
    assert answer.status_code == 200
    assert "is not a valid value." in page and 'value="Ilustradora"' in page


def test_the_bounces_webhook_refuses_nul_characters_and_nesting_beyond_reason(
    settings: Any,
) -> None:
    settings.NEWSLETTER_WEBHOOK_TOKEN = "s3cret-token"
    SubscriberFactory.create(email="lucia@example.org")
    client = Client(HTTP_AUTHORIZATION="Bearer s3cret-token")

    def sent(body: str) -> int:
        return client.post(
            "/newsletter/bounces/", body, content_type="application/json"
        ).status_code

    answers = [
        sent(json.dumps({"email": "a\u0000b@example.org"})),
        sent("[" * 100_000 + "]" * 100_000),
        sent(json.dumps({"email": "lucia@example.org", "detail": "550\u0000 no such user"})),
    ]

    assert answers == [400, 400, 200]
    bounced = Subscriber.objects.get(email="lucia@example.org")
    assert bounced.undeliverable_detail == "550 no such user"


def test_an_admin_action_posted_with_another_script_s_digit_asks_nothing(staff: User) -> None:
    member = UserFactory.create()

    answer = client_for(staff).post(
        "/admin/members/user/",
        {"action": "suspend", "index": "²", "_selected_action": [member.pk]},
    )

    assert answer.status_code == 200
    member.refresh_from_db()
    assert member.is_active


def test_names_and_titles_lose_the_invisible_characters_that_would_disguise_them() -> None:
    """A right-to-left override shows "\u202emoc.live" as "evil.com" in a notice, a push or
    an email's subject: rooms, groups and meetups drop such characters, as names do."""
    from datetime import timedelta

    from django.utils import timezone

    from conversations.services import ConversationRefused, group_create, group_rename
    from events.services import event_create
    from rooms.models import Room

    ana, beto, carla = (onboarded_member(name) for name in ("Ana", "Beto", "Carla"))
    disguised = "Staff\u202e notice\u200b: moc.live"
    shown = "Staff notice: moc.live"

    made = client_for(ana).post("/rooms/new/", {"name": disguised, "access": "public"})
    assert made.status_code == 302
    assert Room.objects.get(created_by=ana).name == shown
    group = group_create(creator=ana, members=[beto, carla], title=disguised)
    assert group.title == shown
    with pytest.raises(ConversationRefused):  # nothing readable left
        group_rename(conversation=group, by=beto, title="\u202e\u200b")
    starts_at = timezone.now() + timedelta(days=2)
    meetup = event_create(
        by=ana,
        kind="meetup",
        title=disguised,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        time_zone="Europe/Madrid",
    )
    assert meetup.title == shown


def test_emoji_made_of_several_and_joined_letters_keep_their_joiners() -> None:
    from core.text import visible_line

    for name in (
        "👨\u200d👩\u200d👧 Familia",
        "🏳\ufe0f\u200d🌈",
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
        "می\u200cخواهم",
    ):
        assert visible_line(name) == name
    assert visible_line("Ana\u200b \u2066López\u2069\u202e") == "Ana López"

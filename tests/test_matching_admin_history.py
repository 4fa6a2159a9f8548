"""What staff may not do to coffee pairs in the admin: delete the history later rounds read
(rounds, pairs, agreed coffees), or the two programmes the site finds by their slug."""

import pytest

from matching.apps import COMMUNITY_SLUG, ON_DEMAND_SLUG
from matching.models import Group, GroupMember, Meeting, Programme, Round
from members.models import User
from tests.factories import (
    GroupMemberFactory,
    InterestFactory,
    ProgrammeFactory,
    SuggestedInterestFactory,
    UserFactory,
    client_for,
)

pytestmark = pytest.mark.django_db


def test_the_built_in_programmes_are_neither_deleted_nor_renamed(staff: User) -> None:
    client = client_for(staff)
    for slug in (COMMUNITY_SLUG, ON_DEMAND_SLUG):
        programme = Programme.objects.get(slug=slug)
        url = f"/admin/matching/programme/{programme.pk}/"

        asked = client.get(f"{url}delete/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        client.post(f"{url}delete/", {"post": "yes"})
        form = client.get(f"{url}change/").content.decode()

        assert "the site relies on this programme" in asked
        assert Programme.objects.filter(pk=programme.pk).exists()
        assert 'name="slug"' not in form


def test_a_programme_that_has_had_rounds_is_stopped_not_deleted(staff: User) -> None:
    used = ProgrammeFactory.create(name="English practice")
    GroupMemberFactory.create(group__round__programme=used, answer="met")
    unused = ProgrammeFactory.create(name="Typo")
    unused.participations.create(user=UserFactory.create())  # a member who joined it
    client = client_for(staff)
    chosen = {"action": "delete_selected", "_selected_action": [used.pk, unused.pk]}

    asked = client.post("/admin/matching/programme/", chosen, HTTP_ACCEPT_LANGUAGE="en")
    client.post("/admin/matching/programme/", {**chosen, "post": "yes"})
    client.post(f"/admin/matching/programme/{unused.pk}/delete/", {"post": "yes"})

    assert "English practice: its rounds are its members" in asked.content.decode()
    assert GroupMember.objects.filter(group__round__programme=used).exists()
    assert list(Programme.objects.filter(pk__in=[used.pk, unused.pk])) == [used]


def test_rounds_pairs_and_agreed_coffees_cannot_be_deleted(staff: User) -> None:
    seat = GroupMemberFactory.create()
    meeting = Meeting.objects.create(group=seat.group)
    client = client_for(staff)

    pages = {
        f"/admin/matching/round/{seat.round_id}/delete/": Round,
        f"/admin/matching/group/{seat.group_id}/delete/": Group,
        f"/admin/matching/groupmember/{seat.pk}/delete/": GroupMember,
        f"/admin/matching/meeting/{meeting.pk}/delete/": Meeting,
    }

    assert [client.post(url, {"post": "yes"}).status_code for url in pages] == [403] * 4
    assert all(model._default_manager.exists() for model in pages.values())


def test_a_programme_is_for_an_approved_interest_not_a_suggestion(staff: User) -> None:
    """A suggestion may be merged away, or go with its member's account."""
    SuggestedInterestFactory.create(label_es="Origami")
    InterestFactory.create(label_es="Fotografía")

    form = client_for(staff).get("/admin/matching/programme/add/").content.decode()

    assert "Fotografía" in form
    assert "Origami" not in form

"""Programmes besides the community one: members join the ones open to them from their
settings (by POST), a programme for speakers of a language pairs only them, with its own
rounds and history."""

from datetime import UTC, datetime

import pytest
from django.test import Client

from matching import services
from matching.models import GroupMember, Participation, Programme
from members.models import Language
from tests.test_matching_rounds import participant

pytestmark = pytest.mark.django_db

SLOT = datetime(2027, 3, 1, 16, 0, tzinfo=UTC)


def english_practice() -> Programme:
    return Programme.objects.create(
        name="English practice",
        slug="english-practice",
        description="Half an hour in English.",
        cadence_days=7,
        language=Language.objects.get(code="en"),
    )


def test_members_join_the_programmes_open_to_them_and_leave_them() -> None:
    programme = english_practice()
    speaker = participant(email="speaker@example.com", languages=("es", "en"))
    other = participant(email="other@example.com", languages=("es",))

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(speaker)
    page = client.get("/pairs/").content.decode()
    assert "English practice" in page and "For members who speak English." in page
    assert client.get("/pairs/programmes/english-practice/").status_code == 405
    client.post("/pairs/programmes/english-practice/", {"join": "1"})
    assert Participation.objects.get(user=speaker, programme=programme).opted_in

    client.force_login(other)
    assert (
        'action="/pairs/programmes/english-practice/"' not in client.get("/pairs/").content.decode()
    )
    client.post("/pairs/programmes/english-practice/", {"join": "1"})
    assert not Participation.objects.filter(user=other, programme=programme).exists()

    client.force_login(speaker)
    client.post("/pairs/programmes/english-practice/", {"join": "0"})
    assert not Participation.objects.get(user=speaker, programme=programme).opted_in


def test_a_language_programme_pairs_only_its_speakers_in_rounds_of_its_own() -> None:
    programme = english_practice()
    speakers = [participant(languages=("es", "en")) for _ in range(4)]
    # Joined, then dropped English from the profile: not paired in English practice.
    former = participant(languages=("es",))
    for member in [*speakers, former]:
        Participation.objects.create(programme=programme, user=member)

    round_, created = services.round_create(programme=programme, scheduled_for=SLOT)

    assert created
    paired = set(GroupMember.objects.filter(round=round_).values_list("user_id", flat=True))
    assert paired == {member.pk for member in speakers}
    # Its history is its own: the community programme's rounds are untouched.
    assert not GroupMember.objects.exclude(round=round_).exists()


def test_a_mentoring_programme_pairs_only_a_mentor_with_a_mentee() -> None:
    programme = Programme.objects.create(name="Mentoring", slug="mentoring", mentoring=True)
    mentors = [participant(email=f"mentor{n}@example.com") for n in range(2)]
    mentees = [participant(email=f"mentee{n}@example.com") for n in range(2)]
    neither = participant(email="neither@example.com")
    for member in mentors:
        member.profile.open_to_mentor = True
        member.profile.save()
    for member in mentees:
        member.profile.open_to_be_mentored = True
        member.profile.save()
    for member in [*mentors, *mentees, neither]:
        Participation.objects.create(programme=programme, user=member)

    round_, _ = services.round_create(programme=programme, scheduled_for=SLOT)

    groups: dict[int, set[str]] = {}
    for group_id, email in GroupMember.objects.filter(round=round_).values_list(
        "group_id", "user__email"
    ):
        groups.setdefault(group_id, set()).add(email)
    assert len(groups) == 2
    for emails in groups.values():
        assert {email[:6] for email in emails} == {"mentor", "mentee"}
    assert neither.pk not in GroupMember.objects.filter(round=round_).values_list(
        "user_id", flat=True
    )

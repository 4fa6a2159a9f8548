"""The bilingual interest taxonomy (docs/interests.md): the migration that merged free-text
interests, members picking and suggesting tags on the profile form, staff approving, renaming
and merging them in the admin, and every reader seeing labels in their own language."""

import io
import re
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client

from matching import services as matching_services
from matching import tasks as matching_tasks
from matching.apps import COMMUNITY_SLUG
from matching.models import Programme
from members import services
from members.models import Interest, User
from members.privacy import account_delete
from members.starter import STARTER_INTERESTS
from notifications.digest import digest_content
from tests.factories import (
    GroupFactory,
    GroupMemberFactory,
    InterestFactory,
    RoundFactory,
    SuggestedInterestFactory,
    client_for,
    onboarded_member,
)

pytestmark = pytest.mark.django_db


PROFILE_FORM = {
    "headline": "Ilustradora",
    "time_zone": "Europe/Madrid",
    "working_hours_start": "09:00",
    "working_hours_end": "17:00",
    "working_days": ["0", "1", "2", "3", "4"],
    "languages": ["es"],
    "language": "es",
    "open_to_chat": "on",
    "visible_in_directory": "on",
}


def photography() -> Interest:
    return InterestFactory.create(label_es="Fotografía", label_en="Photography")


def edit_profile(member: User, client: Client | None = None, **changes: Any) -> Any:
    """The member saves their profile form, their tags ticked as they are unless `changes`
    says otherwise."""
    kept = [str(pk) for pk in member.profile.interests.values_list("pk", flat=True)]
    return (client or client_for(member)).post(
        "/members/me/edit/",
        {**PROFILE_FORM, "display_name": member.name, "interests": kept, **changes},
    )


def ticked(page: str) -> list[str]:
    """The labels of the ticked tags on the profile form, in order."""
    return [
        " ".join(label.split())
        for label in re.findall(r'name="interests" value="\d+"[^>]*checked>([^<]+)<', page)
    ]


def found(client: Client, **query: str) -> list[str]:
    response = client.get("/members/", query)
    assert response.status_code == 200
    return [profile.user.name for profile in response.context["page"]]


# Picking and suggesting on the profile form ------------------------------------------------


def test_a_member_picks_tags_in_either_language_and_suggests_what_is_missing(
    alice: User, bob: User
) -> None:
    photo = photography()
    client = client_for(alice)

    response = edit_profile(
        alice,
        client,
        interests=[str(alice.profile.interests.get(label_es="Python").pk)],
        interest_names="photography, fotografia , Cerámica",
    )

    assert response.status_code == 302
    alice.profile.refresh_from_db()
    assert [tag.label_es for tag in alice.profile.approved_interests] == ["Fotografía", "Python"]
    pottery = Interest.objects.get(label_es="Cerámica")
    assert pottery.status == Interest.Status.SUGGESTED and pottery.suggested_by == alice
    assert [tag.label_es for tag in alice.profile.suggested_interests] == ["Cerámica"]
    # Alice sees her suggestion as waiting (and is told so); Bob does not see it at all.
    own = client.get(response["Location"])
    assert "Our team will review “Cerámica” before it shows to others" in own.content.decode()
    assert "Cerámica (waiting for review)" in own.content.decode()
    others = client_for(bob).get(f"/members/{alice.pk}/", HTTP_ACCEPT_LANGUAGE="es")
    assert "<li>Fotografía</li>" in others.content.decode()
    assert "Cerámica" not in others.content.decode()
    assert found(client_for(bob), q="ceramica") == []
    assert found(client_for(bob), q="photography") == ["Alice Arias"]
    assert photo.profiles.count() == 1


def test_the_form_offers_approved_tags_in_the_readers_language_and_shows_what_is_chosen(
    alice: User,
) -> None:
    photography()
    SuggestedInterestFactory.create(label_es="Origami")
    client = client_for(alice)

    english = client.get("/members/me/edit/").content.decode()
    spanish = client.get("/members/me/edit/", HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert re.search(
        r'<option value="Photography" data-interest="\d+">Fotografía</option>', english
    )
    assert re.search(
        r'<option value="Fotografía" data-interest="\d+">Photography</option>', spanish
    )
    assert "Origami" not in english  # someone else's suggestion
    assert ticked(english) == ["Café", "Python"]
    assert '<label for="id_interest_names">Skills and interests' in english


def test_a_second_member_typing_a_waiting_suggestion_joins_it(alice: User, bob: User) -> None:
    edit_profile(alice, interest_names="Cerámica")
    edit_profile(bob, interest_names="ceramica")

    suggestion = Interest.objects.get(label_es="Cerámica")
    assert Interest.objects.filter(status=Interest.Status.SUGGESTED).count() == 1
    assert set(suggestion.profiles.values_list("user__email", flat=True)) == {
        alice.email,
        bob.email,
    }
    # Bob may keep it ticked, though he did not write it; Carol may not tick it.
    page = client_for(bob).get("/members/me/edit/").content.decode()
    assert "Cerámica (waiting for review)" in ticked(page)


def test_unticking_takes_a_tag_off_and_a_suggestion_nobody_keeps_leaves_the_queue(
    alice: User,
) -> None:
    edit_profile(alice, interest_names="Cerámica")
    keep = alice.profile.interests.get(label_es="Python")

    edit_profile(alice, interests=[str(keep.pk)])

    assert [tag.label_es for tag in alice.profile.interests.all()] == ["Python"]
    assert not Interest.objects.filter(label_es="Cerámica").exists()
    assert Interest.objects.filter(label_es="Café").exists()  # approved tags stay


def test_someone_elses_suggestion_cannot_be_ticked_and_the_form_keeps_what_was_typed(
    alice: User, outsider: User
) -> None:
    theirs = SuggestedInterestFactory.create(label_es="Origami", suggested_by=outsider)
    outsider.profile.interests.add(theirs)
    python = alice.profile.interests.get(label_es="Python")

    response = edit_profile(
        alice,
        interests=[str(python.pk), str(theirs.pk)],
        interest_names="Cerámica",
    )

    assert response.status_code == 200
    assert "interests" in response.context["form"].errors
    page = response.content.decode()
    assert 'value="Cerámica"' in page
    assert ticked(page) == ["Python"]
    assert not theirs.profiles.filter(user=alice).exists()


def test_no_more_than_fifteen_interests_counting_ticked_and_typed(alice: User) -> None:
    tags = services.interests_from_names(names=[f"Tag {n}" for n in range(12)])

    response = edit_profile(
        alice,
        interests=[str(tag.pk) for tag in tags],
        interest_names="Tag 0, New 1, New 2, New 3, New 4",
    )

    assert response.status_code == 200
    assert "up to 15" in " ".join(response.context["form"].errors["interest_names"])
    assert not Interest.objects.filter(label_es="New 1").exists()


def test_trusted_code_gets_approved_tags_and_completes_their_english_labels(
    alice: User,
) -> None:
    waiting = SuggestedInterestFactory.create(label_es="Cerámica")
    alice.profile.interests.add(waiting)

    tags = services.interests_from_names(
        names=[("ceramica", "Pottery"), "Fotografía", ("Fotografía", "Photography"), "Python"]
    )

    assert [tag.label_es for tag in tags] == ["Cerámica", "Fotografía", "Python"]
    assert [tag.label_en for tag in tags] == ["Pottery", "Photography", ""]
    assert all(tag.is_approved for tag in tags)
    assert tags[0].pk == waiting.pk
    alice.profile.refresh_from_db()
    assert "ceramica pottery" in alice.profile.search_text


# Staff: approve, rename, merge ----------------------------------------------------------------


def changelist_action(client: Client, action: str, *interests: Interest, **extra: str) -> Any:
    return client.post(
        "/admin/members/interest/",
        {"action": action, "_selected_action": [str(tag.pk) for tag in interests], **extra},
    )


def test_only_staff_curate_interests(alice: User, outsider: User) -> None:
    suggestion = SuggestedInterestFactory.create(label_es="Origami")

    response = changelist_action(client_for(outsider), "approve", suggestion)

    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    suggestion.refresh_from_db()
    assert suggestion.status == Interest.Status.SUGGESTED


def test_staff_approve_a_suggestion_and_everyone_sees_and_finds_it(
    staff: User, alice: User, bob: User
) -> None:
    edit_profile(alice, interest_names="Cerámica")
    suggestion = Interest.objects.get(label_es="Cerámica")
    admin = client_for(staff)

    # The staff menu counts what waits and leads there.
    menu = admin.get("/staff/").content.decode()
    assert (
        '<a href="/admin/members/interest/?status__exact=suggested">Interests to review '
        '<span class="nav-count" aria-hidden="true">1</span>'
    ) in menu
    assert "Interests to review" not in client_for(bob).get("/").content.decode()
    listing = admin.get("/admin/members/interest/?status__exact=suggested").content.decode()
    assert "Cerámica" in listing and "Alice Arias" in listing

    response = changelist_action(admin, "approve", suggestion)

    assert response.status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.is_approved
    assert "Interests to review" not in admin.get("/staff/").content.decode()
    assert found(client_for(bob), q="ceramica") == ["Alice Arias"]
    assert "<li>Cerámica</li>" in client_for(bob).get(f"/members/{alice.pk}/").content.decode()


def test_staff_rename_a_tag_and_the_directory_finds_the_new_label(
    staff: User, alice: User, bob: User
) -> None:
    edit_profile(alice, interest_names="Cerámica")
    suggestion = Interest.objects.get(label_es="Cerámica")

    response = client_for(staff).post(
        f"/admin/members/interest/{suggestion.pk}/change/",
        {"label_es": "Cerámica", "label_en": "Pottery", "slug": "ceramica", "status": "approved"},
    )

    assert response.status_code == 302
    assert found(client_for(bob), q="pottery") == ["Alice Arias"]
    english = client_for(bob).get(f"/members/{alice.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "<li>Pottery</li>" in english.content.decode()


def test_a_label_already_used_by_another_tag_in_any_language_is_refused(staff: User) -> None:
    photography()

    response = client_for(staff).post(
        "/admin/members/interest/add/",
        {"label_es": "PHOTOGRAPHY ", "label_en": "", "slug": "photo", "status": "approved"},
    )

    assert response.status_code == 200
    assert "is already the interest “Fotografía”: merge them instead." in (
        response.content.decode().replace("&#x27;", "'").replace("&ldquo;", "“")
    )
    assert Interest.objects.count() == 1


def test_staff_merge_tags_into_one_and_no_member_loses_an_interest(
    staff: User, alice: User, bob: User, outsider: User
) -> None:
    photo = photography()
    foto = SuggestedInterestFactory.create(label_es="Foto")
    snaps = SuggestedInterestFactory.create(label_es="Photos")
    alice.profile.interests.add(foto, snaps)  # two variants: one tag afterwards
    bob.profile.interests.add(photo)
    outsider.profile.interests.add(snaps)
    admin = client_for(staff)

    page = changelist_action(admin, "merge", photo, foto, snaps)

    assert page.status_code == 200
    assert "Choose the interest that stays" in page.content.decode()
    assert Interest.objects.count() == 6  # nothing merged before the confirmation

    done = changelist_action(admin, "merge", photo, foto, snaps, into=str(photo.pk), confirm="yes")

    assert done.status_code == 302
    assert set(Interest.objects.values_list("label_es", flat=True)) == {
        "Café",
        "Ciclismo",
        "Fotografía",
        "Python",
    }
    for member in (alice, bob, outsider):
        assert list(member.profile.interests.filter(pk=photo.pk).values_list("pk", flat=True)) == [
            photo.pk
        ], member
    assert sorted(found(client_for(bob), q="fotografia")) == [
        "Alice Arias",
        "Bob Bravo",
        "Carol Cruz",
    ]


def test_a_tag_a_programme_is_for_survives_its_suggester_and_moves_with_a_merge(
    staff: User, alice: User
) -> None:
    """A programme's tag is PROTECTed: dropping or merging it away raised, a 500 on the
    profile form, the member's own account deletion and the admin's merge."""
    origami = SuggestedInterestFactory.create(label_es="Origami", suggested_by=alice)
    papiroflexia = SuggestedInterestFactory.create(label_es="Papiroflexia")
    alice.profile.interests.add(origami)
    # A programme made for it when it was approved; staff have since set it back to review.
    circle = Programme.objects.create(name="Origami circle", slug="origami", interest=origami)
    browser = client_for(alice)

    assert edit_profile(alice, browser, interests=[]).status_code == 302
    account_delete(user=alice)
    origami.refresh_from_db()
    assert origami.suggested_by is None

    merged = changelist_action(
        client_for(staff), "merge", origami, papiroflexia, into=str(papiroflexia.pk), confirm="yes"
    )

    assert merged.status_code == 302
    circle.refresh_from_db()
    assert circle.interest == papiroflexia
    assert not Interest.objects.filter(pk=origami.pk).exists()


# Readers in their own language ---------------------------------------------------------------


def test_the_directory_filter_lists_labels_in_the_readers_language_and_finds_either(
    alice: User, bob: User
) -> None:
    alice.profile.interests.add(photography())
    services.profile_refresh_search_text(profile=alice.profile)
    client = client_for(bob)

    english = client.get("/members/").content.decode()
    spanish = client.get("/members/", HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert '<option value="fotografia">Photography</option>' in english
    assert '<option value="fotografia">Fotografía</option>' in spanish
    assert found(client, interest="fotografia") == ["Alice Arias"]
    assert found(client, q="fotografia") == ["Alice Arias"]
    assert found(client, q="photo") == ["Alice Arias"]


def test_the_intro_names_shared_interests_in_each_recipients_language(
    alice: User, bob: User
) -> None:
    photo = photography()
    bob.language = "en"
    bob.save()
    for member in (alice, bob):
        member.profile.interests.add(photo)
    # A suggestion both happen to have is not something they have in common yet.
    waiting = SuggestedInterestFactory.create(label_es="Origami")
    alice.profile.interests.add(waiting)
    bob.profile.interests.add(waiting)
    group = GroupFactory.create(
        round=RoundFactory.create(programme=Programme.objects.get(slug=COMMUNITY_SLUG))
    )
    seats = [GroupMemberFactory.create(group=group, user=member) for member in (alice, bob)]

    for seat in seats:
        matching_tasks.intro_send(seat.pk)

    to_alice = next(message for message in mail.outbox if message.to == [alice.email])
    to_bob = next(message for message in mail.outbox if message.to == [bob.email])
    assert "Fotografía, Python" in str(to_alice.body)
    assert "Photography, Python" in str(to_bob.body)
    assert "Origami" not in str(to_alice.body) + str(to_bob.body)
    candidate = matching_services.candidate_for(alice, week_of=group.round.scheduled_for)
    assert waiting.pk not in candidate.interests and photo.pk in candidate.interests


def test_the_digest_counts_only_approved_interests_in_common(alice: User) -> None:
    waiting = SuggestedInterestFactory.create(label_es="Origami")
    alice.profile.interests.set([waiting])
    newcomer = onboarded_member("Nora Newcomer")
    newcomer.profile.interests.add(waiting)

    assert digest_content(user=alice).new_members == []

    services.interests_approve(interests=Interest.objects.filter(pk=waiting.pk))

    assert [profile.user for profile in digest_content(user=alice).new_members] == [newcomer]


def test_deleting_an_account_deletes_suggestions_nobody_else_has(alice: User, bob: User) -> None:
    edit_profile(alice, interest_names="Cerámica, Origami")
    edit_profile(bob, interest_names="origami")

    account_delete(user=alice)

    assert list(Interest.objects.filter(status="suggested").values_list("label_es", flat=True)) == [
        "Origami"
    ]
    assert Interest.objects.get(label_es="Origami").suggested_by is None


def test_a_new_community_starts_from_the_starter_list_once(alice: User, bob: User) -> None:
    """Before staff have approved anything, what members type only waits for review: the
    owner adds the starter list, which approves a waiting suggestion of the same tag."""
    edit_profile(alice, interest_names="Fotografía, Cerámica")
    assert found(client_for(bob), q="fotografia") == []
    before = set(Interest.objects.approved().values_list("label_es", flat=True))
    first, again = io.StringIO(), io.StringIO()

    call_command("interests_starter", stdout=first)
    call_command("interests_starter", stdout=again)

    starter = {label_es for label_es, _english in STARTER_INTERESTS}
    approved = set(Interest.objects.approved().values_list("label_es", flat=True))
    assert starter <= approved
    assert first.getvalue().startswith(f"{len(starter - before)} interests added or approved")
    assert again.getvalue().startswith("0 interests added or approved")  # nothing doubles
    photo = Interest.objects.get(label_es="Fotografía")
    assert photo.is_approved and photo.label_en == "Photography"
    assert not Interest.objects.get(label_es="Cerámica").is_approved  # still for staff
    assert found(client_for(bob), q="photography") == ["Alice Arias"]

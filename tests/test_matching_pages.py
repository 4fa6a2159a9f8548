"""Coffee-pair pages, signed links, admin actions and the command, through the real stack."""

import html
import re
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core import signing
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from matching import emails, links, services
from matching.apps import COMMUNITY_SLUG
from matching.models import Answer, GroupMember, Participation, Programme, Round, Unmatched
from members.models import User
from tests.factories import (
    AcquaintanceFactory,
    GroupFactory,
    GroupMemberFactory,
    RoundFactory,
    client_for,
    onboarded_member,
)


def community() -> Programme:
    return Programme.objects.get(slug=COMMUNITY_SLUG)


def pair(*users: User, round_: Round | None = None) -> list[GroupMember]:
    """A group of `users` in `round_` (a new round of the community programme by default)."""
    group = GroupFactory.create(round=round_ or RoundFactory.create(programme=community()))
    return [GroupMemberFactory.create(group=group, user=user) for user in users]


def days_ago(days: int) -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=days)


@pytest.fixture(autouse=True)
def _english(client: Client) -> None:
    # Assertions read the English text, whatever the site's default language.
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def alice(alice: User, client: Client) -> User:
    """Alice (tests/conftest.py), signed in on `client`: the pages under test are hers."""
    client.force_login(alice)
    return alice


# Access rules -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url"),
    [("get", "/pairs/"), ("post", "/pairs/settings/"), ("post", "/pairs/answer/")],
)
def test_member_pages_need_a_login(client: Client, method: str, url: str) -> None:
    response = getattr(client, method)(url, {"seat_id": 1, "answer": "met", "opted_in": "on"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not Participation.objects.exists()


@pytest.mark.django_db
def test_a_member_cannot_answer_for_someone_elses_seat(
    client: Client, alice: User, bob: User, outsider: User
) -> None:
    bob_seat, _ = pair(bob, outsider)

    response = client.post("/pairs/answer/", {"seat_id": bob_seat.pk, "answer": "met"})

    assert response.status_code == 404
    bob_seat.refresh_from_db()
    assert bob_seat.answer == ""


@pytest.mark.django_db
def test_a_member_answers_for_their_own_seat(client: Client, alice: User, bob: User) -> None:
    alice_seat, bob_seat = pair(alice, bob)

    response = client.post("/pairs/answer/", {"seat_id": alice_seat.pk, "answer": "scheduled"})

    assert response.status_code == 302
    assert response["Location"] == "/pairs/"
    alice_seat.refresh_from_db()
    bob_seat.refresh_from_db()
    assert alice_seat.answer == Answer.SCHEDULED and alice_seat.answered_at is not None
    assert bob_seat.answer == ""


@pytest.mark.django_db
def test_an_unknown_answer_is_refused(client: Client, alice: User, bob: User) -> None:
    alice_seat, _ = pair(alice, bob)

    response = client.post("/pairs/answer/", {"seat_id": alice_seat.pk, "answer": "maybe"})

    assert response.status_code == 400
    alice_seat.refresh_from_db()
    assert alice_seat.answer == ""


# "Did you meet?" through signed links ----------------------------------------------------


def checked_answer(page: str) -> list[str]:
    """The values of the checked radio buttons on `page`."""
    return re.findall(r'<input type="radio" name="answer" value="([a-z_]+)"[^>]* checked', page)


@pytest.mark.django_db
def test_opening_the_answer_link_asks_and_records_nothing(
    client: Client, alice: User, bob: User
) -> None:
    alice_seat, _ = pair(alice, bob)
    client.logout()
    body = str(emails.follow_up_email(alice_seat).body)
    [url] = [
        path
        for path in re.findall(r"(/pairs/answer/[^/\s]+/)", body)
        if links.answer_from_token(path.split("/")[-2])[1] == Answer.SCHEDULED
    ]

    # What a mail scanner does with every link in the email: a GET, perhaps several.
    for _visit in range(2):
        response = client.get(url)

    assert response.status_code == 200
    alice_seat.refresh_from_db()
    assert alice_seat.answer == "" and alice_seat.answered_at is None
    page = response.content.decode()
    assert "Did you meet?" in page
    assert '<form method="post"' in page and 'name="csrfmiddlewaretoken"' in page
    assert "<legend>Your answer</legend>" in page
    assert checked_answer(page) == [Answer.SCHEDULED]
    assert '<button type="submit" class="button-large">Save my answer</button>' in page


@pytest.mark.django_db
def test_the_answer_page_signed_out_dates_the_introduction_in_the_member_s_zone(
    alice: User, bob: User
) -> None:
    """Half past midnight in Madrid is still the evening before in Mexico City: the page says
    the day the member's email said, not the community's."""
    alice.time_zone = "America/Mexico_City"
    alice.save(update_fields=["time_zone"])
    madrid_night = datetime(2027, 3, 9, 23, 30, tzinfo=UTC)  # 10 March, 00:30 in Madrid
    alice_seat, _ = pair(
        alice, bob, round_=RoundFactory.create(programme=community(), scheduled_for=madrid_night)
    )
    url = links.answer_url(seat_id=alice_seat.pk, answer=Answer.MET)

    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(url).content.decode()

    assert "introduction of 9 March 2027." in page
    assert "10 March" not in page


@pytest.mark.django_db
def test_the_button_on_the_answer_page_records_the_answer_without_a_login(
    client: Client, alice: User, bob: User
) -> None:
    alice_seat, bob_seat = pair(alice, bob)
    client.logout()
    url = links.answer_url(seat_id=alice_seat.pk, answer=Answer.MET)

    response = client.post(url, {"answer": Answer.MET}, follow=True)

    assert response.status_code == 200
    alice_seat.refresh_from_db()
    assert alice_seat.answer == Answer.MET and alice_seat.answered_at is not None
    page = response.content.decode()
    assert "Thanks, we noted your answer." in page
    assert "Your answer: <strong>We met</strong>" in page
    assert checked_answer(page) == [Answer.MET]
    bob_seat.refresh_from_db()
    assert bob_seat.answer == ""


@pytest.mark.django_db
def test_the_member_can_choose_another_answer_than_the_links(
    client: Client, alice: User, bob: User
) -> None:
    alice_seat, _ = pair(alice, bob)
    url = links.answer_url(seat_id=alice_seat.pk, answer=Answer.MET)
    client.post(url, {"answer": Answer.MET})

    response = client.post(url, {"answer": Answer.NOT_YET}, follow=True)

    alice_seat.refresh_from_db()
    assert alice_seat.answer == Answer.NOT_YET
    assert checked_answer(response.content.decode()) == [Answer.NOT_YET]


@pytest.mark.django_db
def test_the_answer_page_records_nothing_without_the_csrf_token(alice: User, bob: User) -> None:
    alice_seat, _ = pair(alice, bob)
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    url = links.answer_url(seat_id=alice_seat.pk, answer=Answer.MET)

    forged = browser.post(url, {"answer": Answer.MET})

    assert forged.status_code == 403
    alice_seat.refresh_from_db()
    assert alice_seat.answer == ""
    page = browser.get(url).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    sent = browser.post(url, {"answer": Answer.MET, "csrfmiddlewaretoken": token.group(1)})
    assert sent.status_code == 302
    alice_seat.refresh_from_db()
    assert alice_seat.answer == Answer.MET


@pytest.mark.django_db
def test_an_unknown_answer_posted_on_the_answer_page_is_refused(
    client: Client, alice: User, bob: User
) -> None:
    alice_seat, _ = pair(alice, bob)
    url = links.answer_url(seat_id=alice_seat.pk, answer=Answer.MET)

    for data in ({"answer": "maybe"}, {}):
        response = client.post(url, data)
        assert response.status_code == 400
        assert "<legend>Your answer</legend>" in response.content.decode()

    alice_seat.refresh_from_db()
    assert alice_seat.answer == ""


def tampered(token: str) -> str:
    """The same token with one character of its signature changed."""
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


@pytest.mark.django_db
def test_forged_answer_links_are_not_found(client: Client, alice: User, bob: User) -> None:
    alice_seat, bob_seat = pair(alice, bob)
    client.logout()
    good = links.answer_url(seat_id=alice_seat.pk, answer=Answer.MET).split("/")[-2]
    forged = [
        tampered(good),
        "not-a-token",
        # Signed for another purpose (the resume link), or with another key.
        signing.dumps({"seat": alice_seat.pk, "answer": "met"}, salt=links.RESUME_SALT),
        signing.dumps({"seat": bob_seat.pk, "answer": "met"}, salt=links.ANSWER_SALT, key="x" * 50),
    ]

    for token in forged:
        assert client.get(f"/pairs/answer/{token}/").status_code == 404, token
        response = client.post(f"/pairs/answer/{token}/", {"answer": "met"})
        assert response.status_code == 404, token

    alice_seat.refresh_from_db()
    bob_seat.refresh_from_db()
    assert alice_seat.answer == bob_seat.answer == ""


@pytest.mark.django_db
def test_a_link_for_one_seat_cannot_change_another(
    client: Client, alice: User, bob: User, outsider: User
) -> None:
    alice_seat, bob_seat = pair(alice, bob)
    client.logout()
    token = links.answer_url(seat_id=alice_seat.pk, answer=Answer.MET).split("/")[-2]
    # Swap the seat id inside the signed payload, keeping Alice's signature.
    signature = token.rsplit(":", 1)[1]
    forged_payload = signing.dumps(
        {"seat": bob_seat.pk, "answer": "met"}, salt=links.ANSWER_SALT, compress=True
    ).rsplit(":", 1)[0]

    response = client.post(f"/pairs/answer/{forged_payload}:{signature}/", {"answer": "met"})

    assert response.status_code == 404
    assert client.post(f"/pairs/answer/{token}/", {"answer": "met"}).status_code == 302
    alice_seat.refresh_from_db()
    bob_seat.refresh_from_db()
    assert alice_seat.answer == Answer.MET
    assert bob_seat.answer == ""


@pytest.mark.django_db
def test_a_link_for_a_seat_that_is_gone_or_an_unknown_answer_is_not_found(
    client: Client, alice: User, bob: User
) -> None:
    alice_seat, _ = pair(alice, bob)
    gone = links.answer_url(seat_id=alice_seat.pk + 1000, answer=Answer.MET)
    unknown = links.answer_url(seat_id=alice_seat.pk, answer="maybe")

    for url in (gone, unknown):
        assert client.get(url).status_code == 404
        assert client.post(url, {"answer": "met"}).status_code == 404
    alice_seat.refresh_from_db()
    assert alice_seat.answer == ""


@pytest.mark.django_db
def test_the_answer_and_rating_links_of_a_member_suspended_since_record_nothing(
    alice: User, bob: User
) -> None:
    bob_seat, _ = pair(bob, alice)
    User.objects.filter(pk=bob.pk).update(is_active=False)
    answered = links.answer_url(seat_id=bob_seat.pk, answer=Answer.MET)
    rated = links.rating_url(seat_id=bob_seat.pk, rating=5)

    for url, data in ((answered, {"answer": "met"}), (rated, {"rating": 5})):
        assert Client().get(url).status_code == 404
        assert Client().post(url, data).status_code == 404
    bob_seat.refresh_from_db()
    assert (bob_seat.answer, bob_seat.rating) == ("", None)


# Resume after an automatic pause ----------------------------------------------------------


@pytest.mark.django_db
def test_the_resume_link_asks_then_resumes_with_one_click(client: Client) -> None:
    paused = onboarded_member("Pau Paused")
    participation = Participation.objects.create(
        programme=community(), user=paused, opted_in=True, auto_paused=True
    )
    url = links.resume_url(participation_id=participation.pk)

    page = client.get(url)

    assert page.status_code == 200
    assert "Resume my introductions" in page.content.decode()
    participation.refresh_from_db()
    assert participation.auto_paused  # a GET (a mail scanner) changes nothing

    response = client.post(url)

    assert response.status_code == 302 and response["Location"] == url
    participation.refresh_from_db()
    assert not participation.auto_paused and participation.opted_in
    assert participation.paused_until is None
    after = client.get(url).content.decode()
    assert "Resume my introductions" not in after
    assert "You are taking part" in after

    # Opted out since, by choice: the old email's link (it has no age) puts nobody back in.
    Participation.objects.filter(pk=participation.pk).update(opted_in=False)
    later = client.get(url).content.decode()
    assert "Resume my introductions" not in later and "a pause that is over" in later
    client.post(url)
    participation.refresh_from_db()
    assert not participation.opted_in


@pytest.mark.django_db
def test_forged_resume_links_are_not_found(client: Client) -> None:
    participation = Participation.objects.create(
        programme=community(), user=onboarded_member("Pau Paused"), auto_paused=True
    )
    token = links.resume_url(participation_id=participation.pk).split("/")[-2]
    answer_token = signing.dumps(
        {"seat": participation.pk, "answer": "met"}, salt=links.ANSWER_SALT
    )

    for bad in (tampered(token), "nonsense", answer_token):
        assert client.get(f"/pairs/resume/{bad}/").status_code == 404
        assert client.post(f"/pairs/resume/{bad}/").status_code == 404
    gone = links.resume_url(participation_id=participation.pk + 1000)
    assert client.post(gone).status_code == 404
    participation.refresh_from_db()
    assert participation.auto_paused


# Settings -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_settings_are_saved(client: Client, alice: User) -> None:
    until = datetime.now(UTC).date() + timedelta(days=30)

    response = client.post(
        "/pairs/settings/",
        {"opted_in": "on", "skip_next_round": "on", "paused_until": until.isoformat()},
        follow=True,
    )

    assert response.redirect_chain == [("/pairs/", 302)]
    assert "Your coffee pair settings are saved." in response.content.decode()
    participation = Participation.objects.get(programme=community(), user=alice)
    assert participation.opted_in and participation.skip_next_round
    assert participation.paused_until == until


@pytest.mark.django_db
def test_opting_out_and_clearing_an_auto_pause(client: Client, alice: User) -> None:
    Participation.objects.create(programme=community(), user=alice, auto_paused=True)

    client.post("/pairs/settings/", {"paused_until": ""})

    participation = Participation.objects.get(user=alice)
    assert not participation.opted_in and not participation.auto_paused


@pytest.mark.django_db
def test_a_past_pause_date_is_refused_and_the_input_kept(client: Client, alice: User) -> None:
    Participation.objects.create(programme=community(), user=alice, opted_in=False)

    response = client.post(
        "/pairs/settings/",
        {"opted_in": "on", "skip_next_round": "on", "paused_until": "2020-01-01"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose today or a later date" in page
    assert 'value="2020-01-01"' in page
    assert page.count("checked") == 2
    participation = Participation.objects.get(user=alice)
    assert not participation.opted_in and participation.paused_until is None


@pytest.mark.django_db
def test_today_is_the_members_own_date(client: Client) -> None:
    # 23:30 UTC on 2 March: already 3 March in Auckland, still 2 March in Mexico City.
    auckland = onboarded_member("Aroha Auckland", time_zone="Pacific/Auckland")
    mexico = onboarded_member("Mateo Mexico", time_zone="America/Mexico_City")
    with time_machine.travel(datetime(2026, 3, 2, 23, 30, tzinfo=UTC), tick=False):
        client.force_login(auckland)
        refused = client.post("/pairs/settings/", {"opted_in": "on", "paused_until": "2026-03-02"})
        client.force_login(mexico)
        accepted = client.post("/pairs/settings/", {"opted_in": "on", "paused_until": "2026-03-02"})

    assert refused.status_code == 400
    assert accepted.status_code == 302
    assert Participation.objects.get(user=mexico).paused_until == date(2026, 3, 2)
    assert not Participation.objects.filter(user=auckland).exists()


# The member's page ----------------------------------------------------------------------


@pytest.mark.django_db
def test_my_page_shows_the_current_partner(client: Client, alice: User, bob: User) -> None:
    alice_seat, _ = pair(alice, bob)
    AcquaintanceFactory.create(owner=alice, other=bob, note="Loves trains")

    response = client.get("/pairs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Bob Bravo" in page and f'href="/members/{bob.pk}/"' in page
    assert "Data nerd" in page
    assert "You both care about" in page and "Python" in page
    assert "Ciclismo" not in page  # only shared interests
    assert 'name="answer" value="met"' in page and f'value="{alice_seat.pk}"' in page
    assert f'action="/members/me/met/{bob.pk}/note/"' in page and "Loves trains" in page
    assert 'name="opted_in"' in page


@pytest.mark.django_db
def test_the_current_pair_reads_in_the_order_things_happen(
    client: Client, alice: User, bob: User, outsider: User
) -> None:
    """Whom, how to write to them, when, what to ask, whether it happened; what is for
    later (meeting again, a private note) comes last, under each partner's name in a trio."""
    pair(alice, bob, outsider)
    AcquaintanceFactory.create(owner=alice, other=bob)
    AcquaintanceFactory.create(owner=alice, other=outsider, note="Diseña carteles")

    page = client.get("/pairs/").content.decode()

    marks = [
        f'href="/members/{bob.pk}/"',
        f'action="/messages/with/{bob.pk}/"',
        "Choose a time to meet",
        "A question to start with",
        "Did you meet?",
        "After your coffee",
        '<h4 class="pair-after-name">Bob Bravo</h4>',
        f'action="/pairs/again/{bob.pk}/"',
        f'action="/members/me/met/{bob.pk}/note/"',
        f'<h4 class="pair-after-name">{outsider.name}</h4>',
        f'action="/pairs/again/{outsider.pk}/"',
        f'action="/members/me/met/{outsider.pk}/note/"',
    ]
    positions = [page.index(mark) for mark in marks]
    assert positions == sorted(positions)

    # Suspended since: nobody to meet again, and no note about them to keep.
    outsider.is_active = False
    outsider.save(update_fields=["is_active"])
    page = client.get("/pairs/").content.decode()
    assert f'action="/pairs/again/{outsider.pk}/"' not in page
    assert f'action="/members/me/met/{outsider.pk}/note/"' not in page
    assert "pair-after-name" not in page
    assert f'action="/pairs/again/{bob.pk}/"' in page


@pytest.mark.django_db
def test_my_page_and_the_intro_email_give_a_pair_without_shared_interests_a_start(
    client: Client, alice: User, outsider: User
) -> None:
    # Carol has no interests, so she shares none with Alice.
    outsider.profile.open_to_mentor = True
    outsider.profile.save()
    # Her emails in the language of the pages this test reads.
    alice.language = "en"
    alice.save(update_fields=["language"])
    alice_seat, _ = pair(alice, outsider)

    page = client.get("/pairs/").content.decode()
    email = str(emails.intro_email(alice_seat).body)

    assert "You both care about" not in page
    assert "Freelance designer" in page  # what Carol does
    open_to = page[page.index("Open to") :]
    assert "<li>Mentoring someone</li>" in open_to and "<li>Just chatting</li>" in open_to
    starter = re.search(r"<h3>A question to start with</h3>\s*<p>([^<]+)</p>", page)
    assert starter is not None
    assert f"A question to start with: {html.unescape(starter[1])}" in email


@pytest.mark.django_db
def test_my_page_tells_an_unmatched_member(client: Client, alice: User, bob: User) -> None:
    older = RoundFactory.create(programme=community(), scheduled_for=days_ago(20))
    pair(alice, bob, round_=older)
    latest = RoundFactory.create(programme=community(), scheduled_for=days_ago(6))
    Unmatched.objects.create(round=latest, user=alice)
    Participation.objects.create(programme=community(), user=alice, opted_in=True)

    page = client.get("/pairs/").content.decode()

    # Nobody else was in the latest round.
    assert "This round nobody else was taking part" in page
    assert "we try again" in page
    # Bob is a past pair now, not the current one.
    assert "Past pairs" in page and "Bob Bravo" in page
    assert "You both care about" not in page


@pytest.mark.django_db
def test_my_page_without_any_round(client: Client, alice: User) -> None:
    page = client.get("/pairs/").content.decode()

    # Alice never joined: the page says so rather than promising her a pair.
    assert "You are not taking part in coffee pairs" in page
    assert "the person we introduce you to will appear here" not in page
    assert "Your earlier pairs will be listed here." in page


@pytest.mark.django_db
def test_my_page_lists_past_pairs_with_answers_and_notes(
    client: Client, alice: User, bob: User, outsider: User
) -> None:
    old_alice, _ = pair(alice, outsider, round_=RoundFactory.create(scheduled_for=days_ago(30)))
    old_alice.answer = Answer.WONT_HAPPEN
    old_alice.save()
    pair(alice, bob, round_=RoundFactory.create(scheduled_for=days_ago(2)))
    AcquaintanceFactory.create(owner=alice, other=outsider, note="Met at the Sevilla meetup")
    AcquaintanceFactory.create(owner=outsider, other=alice, note="Carol's own secret")

    page = client.get("/pairs/").content.decode()

    past = page.split('id="past-title"')[1]
    assert "Carol Cruz" in past
    assert "You said: It won" in past
    assert "Met at the Sevilla meetup" in past
    assert "Carol's own secret" not in page


@pytest.mark.django_db
def test_my_page_does_not_show_other_programmes_or_other_members_pairs(
    client: Client, alice: User, bob: User, outsider: User
) -> None:
    other = Programme.objects.create(name="Mentoring", slug="mentoring")
    pair(alice, outsider, round_=RoundFactory.create(programme=other))
    pair(bob, outsider)

    page = client.get("/pairs/").content.decode()

    assert "Carol Cruz" not in page and "Bob Bravo" not in page


@pytest.mark.django_db
def test_my_page_queries_do_not_grow_with_past_pairs(
    client: Client, alice: User, django_assert_max_num_queries: Any
) -> None:
    def add_rounds(count: int, start: int) -> None:
        for index in range(count):
            partner = onboarded_member(f"Partner {start + index}", interests=("Python",))
            pair(alice, partner, round_=RoundFactory.create(scheduled_for=days_ago(start + index)))
            AcquaintanceFactory.create(owner=alice, other=partner, note=f"note {index}")

    add_rounds(2, start=1)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/pairs/").status_code == 200
    add_rounds(25, start=10)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/pairs/")

    assert response.content.decode().count("pair-past") == 20  # the 20 latest past pairs


@pytest.mark.django_db
def test_the_dashboard_shows_the_current_partner(client: Client, alice: User, bob: User) -> None:
    empty = client.get("/").content.decode()
    pair(alice, bob)

    page = client.get("/").content.decode()

    assert "You are not taking part in coffee pairs" in empty  # Alice never joined
    assert "Bob Bravo" in page and "Data nerd" in page
    assert 'href="/pairs/"' in page


# Admin ----------------------------------------------------------------------------------


@pytest.fixture
def staff(staff: User, client: Client) -> User:
    """Staff (tests/conftest.py), signed in on `client`."""
    client.force_login(staff)
    return staff


def participants(count: int) -> list[User]:
    users = [onboarded_member(f"Person {index:02d}") for index in range(count)]
    for user in users:
        Participation.objects.create(programme=community(), user=user)
    return users


@pytest.mark.django_db
def test_staff_preview_the_next_round_without_saving(client: Client, staff: User) -> None:
    pytest.importorskip("matching.solver")
    participants(5)

    response = client.post(
        "/admin/matching/programme/",
        {"action": "preview_round", "_selected_action": [community().pk]},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "5 eligible members" in page
    assert sum(f"Person {index:02d}" in page for index in range(5)) == 5
    assert "overlap" in page
    assert not Round.objects.exists()
    assert not GroupMember.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("now", "shown"),
    [
        # Every other Monday at 9 in Madrid (the admin's zone): 23 Nov has run, 7 Dec is next.
        (datetime(2026, 12, 5, 11, 0, tzinfo=UTC), "7 December 2026, 09:00"),
        # Its slot has come but the tick has not started it yet: that one is next.
        (datetime(2026, 12, 7, 8, 30, tzinfo=UTC), "7 December 2026, 09:00"),
    ],
)
def test_the_preview_is_of_the_round_still_to_come(
    client: Client, staff: User, now: datetime, shown: str
) -> None:
    pytest.importorskip("matching.solver")
    participants(2)
    RoundFactory.create(programme=community(), scheduled_for=datetime(2026, 11, 23, 8, tzinfo=UTC))

    with time_machine.travel(now, tick=False), translation.override("en"):
        response = client.post(
            "/admin/matching/programme/",
            {"action": "preview_round", "_selected_action": [community().pk]},
        )

    page = response.content.decode()
    assert f"Coffee pairs, round of {shown}" in page
    assert "23 November" not in page


@pytest.mark.django_db
def test_the_preview_says_an_inactive_programme_has_no_next_round(
    client: Client, staff: User
) -> None:
    coffee_now = Programme.objects.get(slug="on-demand")

    with time_machine.travel(datetime(2026, 12, 5, 11, 0, tzinfo=UTC), tick=False):
        response = client.post(
            "/admin/matching/programme/",
            {"action": "preview_round", "_selected_action": [coffee_now.pk]},
        )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Coffee now" in page and "round of" not in page
    assert "there is no next round to preview" in page


START = datetime(2026, 3, 2, 9, 15, 20, tzinfo=UTC)


def start_round(client: Client, **confirm: str) -> Any:
    data = {"action": "start_round", "_selected_action": [community().pk], **confirm}
    return client.post("/admin/matching/programme/", data, follow=True)


def confirmation(page: str) -> dict[str, str]:
    """The fields of the confirmation form under the preview, as the browser would send them."""
    form = page[page.index('<form method="post">') :]
    form = form[: form.index("</form>")]
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    fields.pop("csrfmiddlewaretoken", None)
    fields.pop("action")
    fields.pop("_selected_action")
    return fields


@pytest.mark.django_db
def test_starting_a_round_shows_the_preview_and_asks_first(client: Client, staff: User) -> None:
    pytest.importorskip("matching.solver")
    participants(4)
    loner = onboarded_member("Zhang Wei", languages=("zh",))
    Participation.objects.create(programme=community(), user=loner)

    with time_machine.travel(START, tick=False):
        asked = start_round(client)

    assert not Round.objects.exists()
    page = asked.content.decode()
    assert "Start the round now?" in page and "Yes, start the round" in page
    assert "5 eligible members" in page
    rows = re.findall(r"<td>(Person \d\d, Person \d\d)</td>", page)
    assert sorted(name for row in rows for name in row.split(", ")) == [
        f"Person {index:02d}" for index in range(4)
    ]
    left_out = page[page.index("Left out") :]
    assert "<li>Zhang Wei</li>" in left_out
    assert confirmation(page) == {"scheduled_for": "2026-03-02T09:15:00+00:00", "confirm": "yes"}

    # Confirmed a minute later, the round is the one previewed, at the previewed minute.
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        started = start_round(client, **confirmation(page))
        again = start_round(client, **confirmation(page))

    round_ = Round.objects.get()
    assert round_.scheduled_for == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    made = sorted(
        ", ".join(sorted(member.user.name for member in group.members.all()))
        for group in round_.groups.all()
    )
    assert made == sorted(rows)
    assert [entry.user for entry in round_.unmatched.all()] == [loner]
    assert "round started with 5 eligible members" in started.content.decode()
    assert "already exists" in again.content.decode()


@pytest.mark.django_db
def test_a_stale_or_forged_confirmation_starts_nothing_and_asks_again(
    client: Client, staff: User
) -> None:
    pytest.importorskip("matching.solver")
    participants(2)

    with time_machine.travel(START, tick=False):
        stale = start_round(client, confirm="yes", scheduled_for="2026-03-02T07:15:00+00:00")
        future = start_round(client, confirm="yes", scheduled_for="2026-03-02T10:00:00+00:00")
        naive = start_round(client, confirm="yes", scheduled_for="2026-03-02T09:15:00")
        garbage = start_round(client, confirm="yes", scheduled_for="soon")

    assert not Round.objects.exists()
    for response in (stale, future, naive, garbage):
        page = response.content.decode()
        assert "This preview is out of date" in page
        assert confirmation(page)["scheduled_for"] == "2026-03-02T09:15:00+00:00"


@pytest.mark.django_db
def test_the_admin_explains_a_groups_score_in_words(client: Client, staff: User) -> None:
    pytest.importorskip("matching.solver")
    # Both work 09:00-17:00 on weekdays, Ana in Madrid and Ben in Mexico City: they share one
    # hour a day. They share Python of their three interests.
    ana = onboarded_member("Ana", interests=("Python", "Café"))
    ben = onboarded_member("Ben", interests=("Python", "Ciclismo"), time_zone="America/Mexico_City")
    for user in (ana, ben):
        Participation.objects.create(programme=community(), user=user)
    round_, _ = services.round_create(
        programme=community(), scheduled_for=datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    )
    group = round_.groups.get()

    round_page = client.get(f"/admin/matching/round/{round_.pk}/change/")
    # The round links to its groups, a page at a time (a round of the whole community's
    # groups inline made its page too heavy, and its form too big to save).
    groups = f"/admin/matching/group/?round__id__exact={round_.pk}"
    assert f'href="{groups}"' in round_page.content.decode()
    listed = client.get(groups)
    assert listed.status_code == 200 and f"/admin/matching/group/{group.pk}/change/" in str(
        listed.content
    )
    responses = [client.get(f"/admin/matching/group/{group.pk}/change/")]

    assert [response.status_code for response in responses] == [200]
    for page in (response.content.decode() for response in responses):
        assert "shared interests: Python (+0.33)" in page
        assert "working hours overlap 5 h a week (+0.12)" in page
        assert "chance (+" in page
        assert "&quot;overlap&quot;" not in page and "&quot;interests&quot;" not in page


def test_a_pair_with_no_common_hour_is_explained_as_such() -> None:
    from matching.selectors import score_explained

    with translation.override("en"):
        lines = score_explained(members=[], breakdown={"apart_penalty": -10.0, "random": 0.1})

    assert lines == ["chance (+0.10)", "no common working hour (\u221210.00)"]


@pytest.mark.django_db
def test_outsiders_cannot_use_the_admin_actions(client: Client, alice: User) -> None:
    response = client.post(
        "/admin/matching/programme/",
        {"action": "start_round", "_selected_action": [community().pk]},
    )

    assert response.status_code == 302
    assert not Round.objects.exists()


@pytest.mark.django_db
def test_admin_lists_render_with_bounded_queries(
    client: Client, staff: User, bob: User, outsider: User, django_assert_max_num_queries: Any
) -> None:
    for days in range(1, 6):
        seats = pair(bob, outsider, round_=RoundFactory.create(scheduled_for=days_ago(days)))
        GroupMember.objects.filter(pk=seats[0].pk).update(
            answer=Answer.MET, intro_sent_at=days_ago(days)
        )
    Participation.objects.create(programme=community(), user=bob)

    # A fixed number, not one per round (the first page of a session also notes when the
    # member was last seen, and the session's activity for "Where you are signed in").
    with django_assert_max_num_queries(17):
        rounds = client.get("/admin/matching/round/")
    pages = [
        rounds,
        client.get(f"/admin/matching/round/{Round.objects.first().pk}/change/"),  # type: ignore[union-attr]
        client.get("/admin/matching/participation/?auto_paused__exact=0&q=example"),
        client.get("/admin/matching/group/?answer=met"),
        client.get("/admin/matching/groupmember/?answer=none"),
        client.get("/admin/matching/programme/"),
        client.get("/admin/matching/unmatched/"),
    ]

    assert [page.status_code for page in pages] == [200] * len(pages)
    assert "50%" in rounds.content.decode()  # met rate: one seat of two said "met"


@pytest.mark.django_db
def test_staff_pause_and_resume_participations(client: Client, staff: User, bob: User) -> None:
    participation = Participation.objects.create(programme=community(), user=bob)
    url = "/admin/matching/participation/"

    client.post(url, {"action": "pause", "_selected_action": [participation.pk]})
    participation.refresh_from_db()
    assert participation.auto_paused

    client.post(url, {"action": "resume", "_selected_action": [participation.pk]})
    participation.refresh_from_db()
    assert not participation.auto_paused and participation.opted_in


# Management command ---------------------------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command("matching_round", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_command_dry_run_saves_nothing() -> None:
    pytest.importorskip("matching.solver")
    participants(3)

    output = run("--dry-run", "--at", "2026-03-02T09:00")

    assert "Nothing was saved" in output
    assert "3 eligible" in output
    assert "Person 00" in output and "score" in output
    assert not Round.objects.exists()


@pytest.mark.django_db
def test_the_command_creates_a_round_once() -> None:
    pytest.importorskip("matching.solver")
    participants(2)

    first = run("--at", "2026-03-02T09:00")
    second = run("--at", "2026-03-02T08:00:00+00:00")  # the same moment, written in UTC

    assert "Created round" in first and "1 groups" in first
    assert "already exists" in second
    round_ = Round.objects.get()
    assert round_.scheduled_for == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--programme", "nope"], "No programme with the slug “nope”"),
        (["--at", "next tuesday"], "is not an ISO 8601 date"),
    ],
)
def test_the_command_explains_bad_input(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not Round.objects.exists()


@pytest.mark.django_db
def test_staff_choose_pairs_or_small_tables_for_a_programme(client: Client, staff: User) -> None:
    programme = community()
    programme.table_size = Programme.TableSize.SMALL_TABLES
    programme.save()

    with translation.override("en"):
        form = client.get(
            f"/admin/matching/programme/{programme.pk}/change/", HTTP_ACCEPT_LANGUAGE="en"
        )
        listing = client.get("/admin/matching/programme/", HTTP_ACCEPT_LANGUAGE="en")

    page = form.content.decode()
    assert '<select name="table_size"' in page
    assert "pairs (a trio when the count is odd)" in page
    assert '<option value="4" selected>small tables of 4 (of 3 where the count needs it)' in page
    assert "small tables of 4" in listing.content.decode()


def test_the_built_in_programmes_read_in_the_members_language_and_a_new_name_as_written(
    staff: User,
) -> None:
    as_staff = client_for(staff)
    spanish = as_staff.get("/staff/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert ">Cafés en pareja</option>" in spanish and ">Café ahora</option>" in spanish
    assert "Coffee pairs" not in spanish

    Programme.objects.filter(slug=COMMUNITY_SLUG).update(name="Cafés de la casa")
    renamed = as_staff.get("/staff/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">Cafés de la casa</option>" in renamed and ">Coffee now</option>" in renamed

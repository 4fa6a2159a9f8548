"""The member directory at /members/: search, filters, sorting, pagination and who is listed."""

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from members.models import Block, Language, Profile, User
from members.search import search_terms
from members.selectors import (
    DirectoryFilters,
    directory_search,
    profiles_matching_text,
    time_zones_between,
)
from members.services import interests_from_names, profile_refresh_search_text, profile_update
from tests.factories import ProfileFactory, UserFactory

URL = "/members/"
WINTER = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
SUMMER = datetime(2025, 7, 15, 12, 0, tzinfo=UTC)


def listed(
    name: str,
    *,
    headline: str = "",
    bio: str = "",
    interests: Iterable[str] = (),
    languages: Iterable[str] = (),
    time_zone: str = "Europe/Madrid",
    joined: datetime | None = None,
    **profile_fields: Any,
) -> Profile:
    """An onboarded member in the directory, with their search text filled in."""
    user = UserFactory.create(display_name=name, time_zone=time_zone)
    profile = ProfileFactory.create(
        user=user,
        headline=headline,
        bio=bio,
        onboarded_at=joined or timezone.now(),
        **profile_fields,
    )
    profile.interests.set(interests_from_names(names=interests))
    profile.languages.set(Language.objects.filter(code__in=languages))
    profile_refresh_search_text(profile=profile)
    return profile


@pytest.fixture
def viewer() -> User:
    return UserFactory.create(display_name="Viewer Without Profile")


@pytest.fixture
def browser(client: Client, viewer: User) -> Client:
    client.force_login(viewer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def names(client: Client, **params: Any) -> list[str]:
    response = client.get(URL, params)
    assert response.status_code == 200
    return [profile.user.display_name for profile in response.context["page"].object_list]


# --- Access and what a card shows -------------------------------------------------------


@pytest.mark.django_db
def test_visitors_are_sent_to_log_in(client: Client) -> None:
    listed("Lucía Pérez")

    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/members/"


@pytest.mark.django_db
def test_a_card_shows_who_someone_is(browser: Client) -> None:
    profile = listed(
        "Lucía Pérez",
        headline="Illustrator for children's books",
        interests=["Illustration", "Watercolour"],
        languages=["es", "en"],
        city="Sevilla",
        country="ES",
        open_to_mentor=True,
        open_to_chat=True,
    )

    response = browser.get(URL)
    page = response.content.decode()

    assert f'<a href="/members/{profile.user_id}/">Lucía Pérez</a>' in page
    assert "Illustrator for children&#x27;s books" in page
    assert "Sevilla, Spain" in page
    assert "<li>Illustration</li>" in page and "<li>Watercolour</li>" in page
    assert "Open to: Mentoring someone, Just chatting" in page
    assert "Speaks English, Spanish" in page
    assert 'class="avatar avatar-md avatar-hue-' in page
    assert "1 member" in page
    assert '<a href="/members/" aria-current="page">Members</a>' in page
    assert 'href="/static/css/directory.css"' in page


@pytest.mark.django_db
def test_the_form_is_labelled_and_styles_stay_out_of_the_page(browser: Client) -> None:
    page = browser.get(URL).content.decode()

    for field in ("q", "interest", "country", "utc_offset_from", "utc_offset_to", "open_to"):
        assert f'<label for="id_{field}"' in page
    assert '<label for="id_language"' in page and '<label for="id_sort"' in page
    assert 'aria-describedby="id_q_helptext"' in page
    assert "<h1>Members</h1>" in page
    assert "style=" not in page and "<style" not in page


@pytest.mark.django_db
def test_the_filter_panel_opens_when_filters_are_in_use(browser: Client) -> None:
    closed = '<details class="directory-filters">'
    opened = '<details class="directory-filters" open>'

    assert closed in browser.get(URL).content.decode()
    assert closed in browser.get(URL, {"q": "ana"}).content.decode()
    assert opened in browser.get(URL, {"country": "ES"}).content.decode()
    assert opened in browser.get(URL, {"utc_offset_to": "nonsense"}).content.decode()


@pytest.mark.django_db
def test_an_empty_directory_says_so(browser: Client) -> None:
    page = browser.get(URL).content.decode()

    assert "0 members" in page
    assert "Nobody is listed in the directory yet." in page


# --- Search -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_finds_people_by_name_with_or_without_accents(browser: Client) -> None:
    listed("Lucía Pérez")
    listed("Lucas Gómez")

    assert names(browser, q="lucia") == ["Lucía Pérez"]
    assert names(browser, q="LUCÍA") == ["Lucía Pérez"]
    assert names(browser, q="perez") == ["Lucía Pérez"]
    assert names(browser, q="Gomez lucas") == ["Lucas Gómez"]
    assert sorted(names(browser, q="luc")) == ["Lucas Gómez", "Lucía Pérez"]


@pytest.mark.django_db
def test_it_finds_people_by_headline_bio_and_interests(browser: Client) -> None:
    listed("Ana", headline="Data engineer", interests=["Diseño UX"])
    listed("Bea", bio="I teach yoga to remote workers.")
    listed("Carmen", interests=["Python", "Django"])

    assert names(browser, q="engineer") == ["Ana"]
    assert names(browser, q="diseno") == ["Ana"]
    assert names(browser, q="Diseño ux") == ["Ana"]
    assert names(browser, q="yoga") == ["Bea"]
    assert names(browser, q="django") == ["Carmen"]
    assert names(browser, q="python django") == ["Carmen"]
    assert names(browser, q="python yoga") == []


def test_a_query_is_split_into_words_on_anything_but_letters_and_digits() -> None:
    assert search_terms("Front-end") == ["front", "end"]
    assert search_terms("C++ & UX/UI, Diseño") == ["c", "ux", "ui", "diseno"]
    assert search_terms("':* & | !") == []
    assert search_terms("a-b-c-d-e-f-g-h-i-j") == ["a", "b", "c", "d", "e", "f", "g", "h"]


@pytest.mark.django_db
def test_a_hyphenated_word_is_found_typed_either_way(browser: Client) -> None:
    listed("Ana", bio="Front-end developer.")
    listed("Bea", bio="Backend developer, front of house on weekends.")
    listed("Carla", headline="C++ programmer")

    assert names(browser, q="front-end") == ["Ana"]
    assert names(browser, q="front end") == ["Ana"]
    assert names(browser, q="end") == ["Ana"]
    assert names(browser, q="c++ programmer") == ["Carla"]


@pytest.mark.django_db
def test_a_profile_edited_through_the_service_is_found_by_its_new_words(browser: Client) -> None:
    profile = listed("Ana", headline="Gardener", interests=["Beekeeping"])
    assert names(browser, q="gardener beekeeping") == ["Ana"]

    profile.headline = "Potter"
    profile_update(profile=profile, interests=interests_from_names(names=["Ceramics"]))

    assert names(browser, q="potter ceramics") == ["Ana"]
    assert names(browser, q="gardener") == []
    assert names(browser, q="beekeeping") == []
    # Saving the same instance again keeps the new vector rather than the one it was read with.
    profile.save()
    assert names(browser, q="potter") == ["Ana"]


@pytest.mark.django_db
def test_the_stored_vector_is_the_search_text_parsed_as_the_migration_does() -> None:
    profile = listed("Lucía Pérez", headline="Front-end developer", interests=["Diseño UX"])

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_vector::text, "
            "search_vector = to_tsvector('simple'::regconfig, COALESCE(search_text, '')) "
            "FROM members_profile WHERE id = %s",
            [profile.pk],
        )
        vector, same_as_backfill = cursor.fetchone()

    assert same_as_backfill
    assert "'front-end'" in vector and "'front'" in vector and "'lucia'" in vector


@pytest.mark.django_db
def test_the_sqlite_fallback_finds_the_same_people() -> None:
    listed("Lucía Pérez", interests=["Diseño UX"])
    listed("Lucas Gómez", headline="Python front-end developer")
    every = Profile.objects.all()

    for terms in (["lucia"], ["luc"], ["diseno", "ux"], ["python"], ["front", "end"], ["nobody"]):
        full_text, rank = profiles_matching_text(every, terms=terms, vendor="postgresql")
        contains, no_rank = profiles_matching_text(every, terms=terms, vendor="sqlite")
        assert rank is not None and no_rank is None
        assert set(full_text) == set(contains), terms


@pytest.mark.django_db
def test_full_text_search_uses_the_gin_index() -> None:
    listed("Lucía Pérez")
    profiles, _rank = profiles_matching_text(
        Profile.objects.all(), terms=["lucia", "perez"], vendor="postgresql"
    )

    with connection.cursor() as cursor:
        # A handful of rows is cheaper to scan; forbid that to see that the stored vector's
        # index (migration 0003) serves the query Django generates.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = profiles.explain()

    assert "Bitmap Index Scan on profile_search_vector" in plan


# --- Filters ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_filters_by_interest(browser: Client) -> None:
    listed("Ana", interests=["Python", "Cooking"])
    listed("Bea", interests=["Cooking"])

    assert names(browser, interest="python") == ["Ana"]
    assert sorted(names(browser, interest="cooking")) == ["Ana", "Bea"]


@pytest.mark.django_db
def test_the_interest_filter_offers_popular_interests_and_keeps_any_known_one(
    browser: Client,
) -> None:
    listed("Ana", interests=["Python", "Cooking"])
    listed("Bea", interests=["Cooking"])
    hidden = listed("Carla", interests=["Beekeeping"], visible_in_directory=False)
    assert hidden.interests.count() == 1

    page = browser.get(URL).content.decode()
    assert '<option value="cooking">Cooking</option>' in page
    assert "Beekeeping" not in page

    page = browser.get(URL, {"interest": "beekeeping"}).content.decode()
    assert '<option value="beekeeping" selected>Beekeeping</option>' in page


@pytest.mark.django_db
def test_it_filters_by_country_language_and_what_people_are_open_to(browser: Client) -> None:
    listed("Ana", country="MX", languages=["es"], open_to_mentor=True, open_to_chat=False)
    listed("Bea", country="ES", languages=["es", "ca"], open_to_clients=True)
    listed("Carla", country="AR", languages=["en"], open_to_be_mentored=True)

    assert names(browser, country="MX") == ["Ana"]
    assert names(browser, language="ca") == ["Bea"]
    assert sorted(names(browser, language="es")) == ["Ana", "Bea"]
    assert names(browser, open_to="mentor") == ["Ana"]
    assert names(browser, open_to="be_mentored") == ["Carla"]
    assert names(browser, open_to="clients") == ["Bea"]
    assert sorted(names(browser, open_to="chat")) == ["Bea", "Carla"]
    assert names(browser, country="ES", language="en") == []
    assert names(browser, country="ES", open_to="clients", q="bea") == ["Bea"]


@pytest.mark.django_db
def test_it_filters_by_utc_offset_as_it_is_today(browser: Client) -> None:
    listed("Madrid", time_zone="Europe/Madrid")
    listed("Mexico", time_zone="America/Mexico_City")
    listed("Bogota", time_zone="America/Bogota")
    listed("Tokyo", time_zone="Asia/Tokyo")

    with time_machine.travel(WINTER, tick=False):
        assert sorted(names(browser, utc_offset_from=-6, utc_offset_to=1)) == [
            "Bogota",
            "Madrid",
            "Mexico",
        ]
        assert sorted(names(browser, utc_offset_from=-5)) == ["Bogota", "Madrid", "Tokyo"]
        assert names(browser, utc_offset_to=-6) == ["Mexico"]
    with time_machine.travel(SUMMER, tick=False):
        # Madrid is on summer time (UTC+2) in July.
        assert sorted(names(browser, utc_offset_from=-6, utc_offset_to=1)) == [
            "Bogota",
            "Mexico",
        ]


@pytest.mark.django_db
def test_the_search_takes_the_moment_that_decides_the_offsets(viewer: User) -> None:
    listed("Madrid", time_zone="Europe/Madrid")
    summer_time = DirectoryFilters(utc_offset_from=2, utc_offset_to=2)

    in_summer = directory_search(viewer=viewer, filters=summer_time, at=SUMMER).profiles
    in_winter = directory_search(viewer=viewer, filters=summer_time, at=WINTER).profiles

    assert [profile.user.display_name for profile in in_summer] == ["Madrid"]
    assert not in_winter.exists()


def test_time_zones_between_includes_half_hour_zones_and_both_bounds() -> None:
    zones = time_zones_between(low=5, high=6, at=WINTER)

    assert "Asia/Kolkata" in zones  # UTC+5:30
    assert "Asia/Karachi" in zones  # UTC+5
    assert "Asia/Dhaka" in zones  # UTC+6
    assert "Asia/Bangkok" not in zones  # UTC+7
    assert zones == sorted(zones)


# --- Sorting and pagination -------------------------------------------------------------


@pytest.mark.django_db
def test_it_sorts_by_relevance_newest_or_name(browser: Client) -> None:
    start = timezone.now() - timedelta(days=30)
    listed("Zoe", headline="Python developer", interests=["Python"], bio="Python.", joined=start)
    listed("Alba", bio="I once wrote a python script.", joined=start + timedelta(days=1))
    listed("Marta", headline="Gardener", joined=start + timedelta(days=2))

    assert names(browser, q="python") == ["Zoe", "Alba"]
    assert names(browser, q="python", sort="relevance") == ["Zoe", "Alba"]
    assert names(browser, q="python", sort="newest") == ["Alba", "Zoe"]
    assert names(browser, q="python", sort="name") == ["Alba", "Zoe"]
    # Without a query there is no relevance: the newest come first.
    assert names(browser) == ["Marta", "Alba", "Zoe"]
    assert names(browser, sort="name") == ["Alba", "Marta", "Zoe"]


@pytest.mark.django_db
def test_it_pages_by_24_and_the_links_keep_the_filters(browser: Client) -> None:
    start = timezone.now() - timedelta(days=100)
    for number in range(30):
        listed(f"Designer {number:02}", country="CO", joined=start + timedelta(days=number))
    listed("Elsewhere", country="PE")

    first = browser.get(URL, {"q": "designer", "country": "CO"})
    second = browser.get(URL, {"q": "designer", "country": "CO", "page": "2"})

    assert len(first.context["page"].object_list) == 24
    assert len(second.context["page"].object_list) == 6
    page = first.content.decode()
    assert "30 members" in page
    assert "Page 1 of 2" in page
    assert '<nav class="pagination" aria-label="Result pages">' in page
    assert re.search(r'href="\?q=designer&amp;country=CO&amp;page=1" aria-current="page"', page)
    assert 'href="?q=designer&amp;country=CO&amp;page=2" rel="next"' in page
    second_page = second.content.decode()
    assert 'href="?q=designer&amp;country=CO&amp;page=1" rel="prev"' in second_page
    assert re.search(r'page=2" aria-current="page"', second_page)
    every = {*names(browser, q="designer", country="CO"), *names(browser, country="CO", page=2)}
    assert len(every) == 30


@pytest.mark.django_db
def test_bogus_pages_show_a_real_page(browser: Client) -> None:
    for number in range(26):
        listed(f"Member {number}")

    assert browser.get(URL, {"page": "abc"}).context["page"].number == 1
    assert browser.get(URL, {"page": "999"}).context["page"].number == 2
    assert browser.get(URL, {"page": "-1"}).context["page"].number == 2
    assert browser.get(URL, {"page": "0"}).status_code == 200


@pytest.mark.django_db
def test_the_number_of_queries_does_not_grow_with_the_page(
    browser: Client, django_assert_max_num_queries: Any
) -> None:
    def add(count: int) -> None:
        for _ in range(count):
            listed(
                "Someone",
                interests=["Python", "Coffee"],
                languages=["es", "en"],
                open_to_mentor=True,
            )

    def page_size() -> int:
        cache.clear()  # Both pages count the popular interests afresh.
        return len(browser.get(URL, {"q": "someone", "interest": "python"}).context["page"])

    # Session, user and allauth's session tracking take 7; the directory itself 8 at most
    # (popular interests, the interest, blocks both ways, count, page, interests, languages);
    # the header's unread notifications one more, who is in focus (members.status) another.
    browser.get(URL)
    add(3)
    with django_assert_max_num_queries(17) as few:
        assert page_size() == 3
    add(40)
    with django_assert_max_num_queries(17) as full:
        assert page_size() == 24

    assert len(full.captured_queries) == len(few.captured_queries)


# --- Who is never listed ----------------------------------------------------------------


@pytest.mark.django_db
def test_only_active_onboarded_listed_members_appear(browser: Client) -> None:
    listed("Visible")
    listed("Hidden", visible_in_directory=False)
    newcomer = listed("Newcomer")
    Profile.objects.filter(pk=newcomer.pk).update(onboarded_at=None)
    inactive = listed("Inactive")
    User.objects.filter(pk=inactive.user_id).update(is_active=False)
    deleted = listed("Deleted")
    User.objects.filter(pk=deleted.user_id).update(deleted_at=timezone.now())

    assert names(browser) == ["Visible"]
    for name in ("hidden", "newcomer", "inactive", "deleted"):
        assert names(browser, q=name) == []


@pytest.mark.django_db
def test_blocks_hide_people_in_both_directions(browser: Client, viewer: User) -> None:
    listed("Friend")
    blocked_by_viewer = listed("Blocked By Me")
    blocking_viewer = listed("Blocks Me")
    Block.objects.create(blocker=viewer, blocked=blocked_by_viewer.user)
    Block.objects.create(blocker=blocking_viewer.user, blocked=viewer)
    unrelated = listed("Unrelated Blocker")
    Block.objects.create(blocker=unrelated.user, blocked=blocked_by_viewer.user)

    assert sorted(names(browser)) == ["Friend", "Unrelated Blocker"]
    assert names(browser, q="blocked") == []
    assert names(browser, q="blocks") == []
    page = browser.get(URL, {"q": "blocks"}).content.decode()
    assert "Blocks Me" not in page


@pytest.mark.django_db
def test_members_find_themselves(client: Client) -> None:
    me = listed("Myself Here")
    client.force_login(me.user)

    assert names(client, q="myself") == ["Myself Here"]


# --- Bad input --------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unknown_interest_is_ignored_with_a_message(browser: Client) -> None:
    listed("Ana", country="ES")
    listed("Bea", country="MX")

    for slug in ("no-such-interest", "<script>", "x" * 500, "a\x00b"):
        response = browser.get(URL, {"interest": slug, "country": "ES"})
        assert response.status_code == 200
        assert [p.user.display_name for p in response.context["page"]] == ["Ana"]
        page = response.content.decode()
        assert "Part of your search was not understood" in page
        assert "We do not know the interest" in page
        assert "<script>" not in page.split("<main", 1)[1]


@pytest.mark.django_db
def test_bogus_offsets_and_choices_are_ignored(browser: Client) -> None:
    listed("Ana", time_zone="America/Bogota")
    listed("Bea", time_zone="Asia/Tokyo")

    bogus: list[dict[str, str]] = [
        {"utc_offset_from": "abc"},
        {"utc_offset_to": "99"},
        {"utc_offset_from": "1e9", "utc_offset_to": "-1e9"},
        {"country": "XX"},
        {"language": "klingon"},
        {"open_to": "everything"},
        {"sort": "'; DROP TABLE members_profile; --"},
    ]
    for params in bogus:
        response = browser.get(URL, params)
        assert response.status_code == 200, params
        assert len(response.context["page"]) == 2, params
        assert "Part of your search was not understood" in response.content.decode()


@pytest.mark.django_db
def test_a_backwards_offset_range_is_ignored(browser: Client) -> None:
    listed("Ana", time_zone="America/Bogota")
    listed("Bea", time_zone="Asia/Tokyo")

    with time_machine.travel(WINTER, tick=False):
        response = browser.get(URL, {"utc_offset_from": 3, "utc_offset_to": -3})

    assert len(response.context["page"]) == 2
    assert "The time-zone range must go from west to east" in response.content.decode()


@pytest.mark.django_db
def test_a_huge_query_is_refused_politely(browser: Client) -> None:
    listed("Ana")

    response = browser.get(URL, {"q": "ana " * 1250})

    assert response.status_code == 200
    assert len(response.context["page"]) == 1
    assert "Please search with at most 200 characters." in response.content.decode()


@pytest.mark.django_db
def test_queries_without_words_list_everyone(browser: Client) -> None:
    listed("Ana")
    listed("Bea")

    for query in ("   ", "!!! ???", "':* & |", "\\"):
        assert len(names(browser, q=query)) == 2, query


@pytest.mark.django_db
def test_html_in_the_query_and_in_profiles_is_escaped(browser: Client) -> None:
    listed("<b>Bold</b> Name", headline="<img src=x onerror=alert(1)>", interests=["<i>x</i>"])

    response = browser.get(URL, {"q": "<script>alert('bold')</script>"})
    page = response.content.decode()
    main = page.split("<main", 1)[1]

    assert response.status_code == 200
    assert "<script>alert(" not in main
    assert "&lt;script&gt;alert(&#x27;bold&#x27;)&lt;/script&gt;" in main
    assert "Nobody matches this search." in main

    main = browser.get(URL, {"q": "bold"}).content.decode().split("<main", 1)[1]
    assert "&lt;b&gt;Bold&lt;/b&gt; Name" in main
    assert "<img src=x" not in main and "&lt;img src=x onerror=alert(1)&gt;" in main
    assert "<i>x</i>" not in main

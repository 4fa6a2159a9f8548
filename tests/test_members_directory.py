"""The member directory at /members/: search, filters, sorting, pagination and who is listed."""

import base64
import html
import json
import re
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.db.models.functions import Lower
from django.test import Client
from django.utils import timezone, translation

from members.models import Block, Language, Profile, User
from members.search import search_terms
from members.selectors import (
    DirectoryFilters,
    DirectoryResults,
    directory_page,
    directory_search,
    profiles_matching_text,
    time_zones_between,
)
from members.services import interests_from_names, profile_refresh_search_text, profile_update
from tests.conftest import clean_env, manage
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
    assert "Speaks English and Spanish" in page
    # Spanish writes languages in lower case inside a sentence.
    spanish = browser.get(URL, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Habla inglés y español" in spanish
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
    # A search sends the form's default order along: that is no filter.
    assert closed in browser.get(URL, {"q": "ana", "sort": "relevance"}).content.decode()
    assert opened in browser.get(URL, {"q": "ana", "sort": "name"}).content.decode()
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
def test_only_the_name_members_see_is_searched(browser: Client) -> None:
    # A sign-in provider gave first and last names; the member chose to be "MJ".
    renamed = listed("MJ")
    User.objects.filter(pk=renamed.user_id).update(first_name="María", last_name="Secretísimo")
    profile_refresh_search_text(profile=Profile.objects.get(pk=renamed.pk))
    # Another kept the provider's names as they came: those are the name shown.
    kept = listed("")
    User.objects.filter(pk=kept.user_id).update(first_name="Rosa", last_name="Vidal")
    profile_refresh_search_text(profile=Profile.objects.get(pk=kept.pk))

    assert names(browser, q="secretisimo") == []
    assert names(browser, q="maria") == []
    assert names(browser, q="mj") == ["MJ"]
    [found] = browser.get(URL, {"q": "vidal"}).context["page"].object_list
    assert found.user.name == "Rosa Vidal"


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


def link(page: str, rel: str) -> str:
    """The query string of the page's link marked `rel`, unescaped."""
    found = re.search(rf'href="\?([^"]*)" rel="{rel}"', page)
    assert found, rel
    return html.unescape(found.group(1))


@pytest.mark.django_db
def test_it_pages_by_24_and_the_links_keep_the_filters(browser: Client) -> None:
    start = timezone.now() - timedelta(days=100)
    for number in range(30):
        listed(f"Designer {number:02}", country="CO", joined=start + timedelta(days=number))
    listed("Elsewhere", country="PE")

    first = browser.get(URL, {"q": "designer", "country": "CO"})
    page = first.content.decode()
    assert len(first.context["page"].object_list) == 24
    assert "30 members" in page
    assert '<nav class="pagination" aria-label="Result pages">' in page
    assert 'rel="prev"' not in page and "First page" not in page
    following = link(page, "next")
    assert following.startswith("q=designer&country=CO&after=")

    second = browser.get(f"{URL}?{following}")
    second_page = second.content.decode()
    assert len(second.context["page"].object_list) == 6
    assert 'rel="next"' not in second_page and "First page" in second_page
    assert "30 members" in second_page
    preceding = link(second_page, "prev")
    assert preceding.startswith("q=designer&country=CO&before=")

    back = browser.get(f"{URL}?{preceding}")
    assert back.context["page"].object_list == first.context["page"].object_list
    seen = [p.pk for p in [*first.context["page"], *second.context["page"]]]
    assert len(seen) == len(set(seen)) == 30


def walk(results: DirectoryResults, *, size: int) -> tuple[list[int], list[int]]:
    """The profile ids of every page, following the next links from the first page, then
    the previous links back from the last one."""
    page = directory_page(results=results, size=size)
    forward = [profile.pk for profile in page]
    pages = 1
    while page.next_cursor:
        page = directory_page(results=results, after=page.next_cursor, size=size)
        forward += [profile.pk for profile in page]
        pages += 1
    backward = [profile.pk for profile in page]
    while page.previous_cursor:
        page = directory_page(results=results, before=page.previous_cursor, size=size)
        assert len(page) == size
        backward = [profile.pk for profile in page] + backward
        pages -= 1
    assert pages == 1
    return forward, backward


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["newest", "name", "relevance"])
def test_pages_follow_each_other_with_no_one_twice_or_missing(viewer: User, sort: str) -> None:
    # Ties on purpose: several members joined at the same moment, share a name or rank
    # equally, so that the cursor needs its tie-breaker.
    start = timezone.now() - timedelta(days=30)
    for number in range(23):
        listed(
            ["Ana Ruiz", "bea soto", "Álvaro Gil", "Zoe Paz"][number % 4],
            headline="Python developer" if number % 3 else "Gardener",
            bio="Python, more python." if number % 5 == 0 else "Python.",
            joined=start + timedelta(days=number // 3),
        )
    hidden = listed("Blocked Python", bio="Python.")
    Block.objects.create(blocker=hidden.user, blocked=viewer)
    results = directory_search(viewer=viewer, filters=DirectoryFilters(query="python", sort=sort))
    assert results.sort == sort and results.count == 23

    every = [profile.pk for profile in directory_page(results=results, size=100)]
    forward, backward = walk(results, size=4)

    assert forward == backward == every
    assert len(set(every)) == 23 and hidden.pk not in every
    profiles = Profile.objects.select_related("user").in_bulk(every)
    in_order = [profiles[pk] for pk in every]
    if sort == "newest":
        assert in_order == sorted(in_order, key=lambda p: (p.onboarded_at, p.pk), reverse=True)
    if sort == "name":
        assert in_order == sorted(in_order, key=lambda p: (p.user.display_name.lower(), p.user_id))
    if sort == "relevance":
        # "Python, more python." ranks above a single "Python."
        assert "more python" in in_order[0].bio
        assert "more python" not in in_order[-1].bio


@pytest.mark.django_db
def test_a_member_who_joins_between_pages_moves_no_one(viewer: User) -> None:
    start = timezone.now() - timedelta(days=30)
    for number in range(6):
        listed(f"Member {number}", joined=start + timedelta(days=number))
    results = directory_search(viewer=viewer, filters=DirectoryFilters())
    first = directory_page(results=results, size=3)
    assert [p.user.display_name for p in first] == ["Member 5", "Member 4", "Member 3"]

    listed("Newcomer")  # With page numbers, "Member 3" would now open page 2 as well.
    second = directory_page(results=results, after=first.next_cursor or "", size=3)

    assert [p.user.display_name for p in second] == ["Member 2", "Member 1", "Member 0"]


@pytest.mark.django_db
def test_a_long_name_with_accents_still_leads_to_the_next_page(viewer: User) -> None:
    long_name = "Ñ" * 80  # the longest display name, two bytes a letter
    for number in range(3):
        listed(f"{long_name[:-1]}{number}")
    results = directory_search(viewer=viewer, filters=DirectoryFilters(sort="name"))

    first = directory_page(results=results, size=2)
    second = directory_page(results=results, after=first.next_cursor or "", size=2)

    assert [p.user.display_name[-1] for p in [*first, *second]] == ["0", "1", "2"]


@pytest.mark.django_db
def test_a_bogus_or_foreign_cursor_shows_the_first_page(browser: Client, viewer: User) -> None:
    start = timezone.now() - timedelta(days=30)
    for number in range(26):
        listed(f"Member {number:02}", joined=start + timedelta(days=number))
    by_name = directory_search(viewer=viewer, filters=DirectoryFilters(sort="name"))
    name_cursor = directory_page(results=by_name).next_cursor
    assert name_cursor
    first = names(browser)
    assert len(first) == 24

    def encoded(data: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()

    for cursor in (
        "abc",
        "!!!",
        "x" * 5000,
        name_cursor,  # from another order
        encoded(["newest", "2025-01-01T00:00:00+00:00"]),
        encoded(["newest", "2025-01-01T00:00:00", 5]),  # no time zone
        encoded(["newest", "yesterday", 5]),
        encoded(["newest", "2025-01-01T00:00:00+00:00", "5; DROP TABLE"]),
        encoded(["newest", "2025-01-01T00:00:00+00:00", True]),
        encoded({"newest": 1}),
        encoded("newest"),
    ):
        for param in ("after", "before"):
            assert names(browser, **{param: cursor}) == first, (param, cursor)
    # A cursor past the end (its members left) starts again rather than showing nobody.
    assert names(browser, after=encoded(["newest", "2000-01-01T00:00:00+00:00", 1])) == first
    # Page numbers are no more.
    assert names(browser, page="2") == first


@pytest.mark.django_db
def test_beyond_the_count_limit_it_says_more_than(
    browser: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("members.selectors.DIRECTORY_COUNT_LIMIT", 5)
    for number in range(5):
        listed(f"Designer {number}")
    assert "5 members" in browser.get(URL).content.decode()

    listed("Designer 5")
    listed("Designer 6")
    response = browser.get(URL)
    page = response.content.decode()

    assert "More than 5 members" in page and "7 members" not in page
    assert response.context["results"].count == 6  # counting stopped there
    assert len(response.context["page"]) == 7


@pytest.mark.django_db
def test_a_search_too_broad_to_rank_is_listed_newest_first_and_says_so(
    browser: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = timezone.now() - timedelta(days=30)
    listed("Zoe", headline="Python developer", bio="Python, python.", joined=start)
    listed("Alba", bio="I once wrote a python script.", joined=start + timedelta(days=1))
    listed("Marta", bio="Python now and then.", joined=start + timedelta(days=2))
    notice = "So many members match that they are listed newest first."

    response = browser.get(URL, {"q": "python"})
    assert names(browser, q="python")[0] == "Zoe"
    assert response.context["results"].sort == "relevance"
    assert notice not in response.content.decode()

    monkeypatch.setattr("members.selectors.DIRECTORY_COUNT_LIMIT", 2)
    response = browser.get(URL, {"q": "python"})
    assert names(browser, q="python") == ["Marta", "Alba", "Zoe"]
    assert response.context["results"].sort == "newest"
    assert notice in response.content.decode()
    # Asking for the newest, or by name, is no fallback: nothing to say then.
    assert notice not in browser.get(URL, {"q": "python", "sort": "newest"}).content.decode()
    assert names(browser, q="python", sort="name") == ["Alba", "Marta", "Zoe"]


@pytest.mark.django_db
def test_the_directory_orders_are_served_by_their_indexes(viewer: User) -> None:
    listed("Lucía Pérez")
    newest = directory_search(viewer=viewer, filters=DirectoryFilters())
    by_name = directory_search(viewer=viewer, filters=DirectoryFilters(sort="name"))

    with connection.cursor() as cursor:
        # A handful of rows is cheaper to sort; forbid that to see that the indexes of
        # migration 0013 serve the orders Django generates for a page.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        newest_plan = newest.profiles.order_by("-onboarded_at", "-pk")[:25].explain()
        name_plan = by_name.profiles.order_by(Lower("user__display_name"), "user_id")[:25].explain()

    assert "profile_directory_newest" in newest_plan
    assert "user_directory_name" in name_plan


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
def test_a_search_without_letters_or_numbers_says_it_was_ignored(browser: Client) -> None:
    listed("Ana", country="ES")
    listed("Bea 😀", country="MX")

    for query in ("😀", "%", "☕ !!", "¿?"):
        response = browser.get(URL, {"q": query, "country": "ES"})
        assert response.status_code == 200
        assert [p.user.display_name for p in response.context["page"]] == ["Ana"], query
        assert "Search with letters or numbers; this search was ignored." in (
            response.content.decode()
        )


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


# --- The embedded default (SQLite) ------------------------------------------------------

SQLITE_SCRIPT = """
import json
from datetime import timedelta
from django.utils import timezone
from members.models import Profile
from members.selectors import DirectoryFilters, directory_page, directory_search
from members.services import block_create
from tests.factories import onboarded_member

viewer = onboarded_member("Viewer", email="viewer@example.com")
start = timezone.now() - timedelta(days=10)
for number, name in enumerate(["Lucía Pérez", "lucas Gómez", "Ana Ruiz", "Bea Soto", "Álvaro"]):
    member = onboarded_member(name, email=f"m{number}@example.com")
    # Two members joined at the same moment: the cursor needs its tie-breaker.
    joined = start + timedelta(days=min(number, 3))
    Profile.objects.filter(user=member).update(onboarded_at=joined)
blocker = onboarded_member("Blocker Lucio", email="blocker@example.com")
block_create(blocker=blocker, blocked=viewer)

def walk(**filters):
    results = directory_search(viewer=viewer, filters=DirectoryFilters(**filters))
    page = directory_page(results=results, size=2)
    seen = [profile.user.display_name for profile in page]
    while page.next_cursor:
        page = directory_page(results=results, after=page.next_cursor, size=2)
        seen += [profile.user.display_name for profile in page]
    back = []
    if page.previous_cursor:
        back = directory_page(results=results, before=page.previous_cursor, size=2)
    return {"sort": results.sort, "count": results.count, "pages": seen,
            "back": [profile.user.display_name for profile in back]}

print(json.dumps({
    "newest": walk(),
    "name": walk(sort="name"),
    "luc": walk(query="luc"),
}))
"""


def test_the_directory_pages_without_postgresql(tmp_path: Path, embedded_database: Path) -> None:
    copy = tmp_path / "embedded.sqlite3"
    shutil.copyfile(embedded_database, copy)
    env = clean_env(DATABASE_URL=f"sqlite:///{copy}")

    found = json.loads(manage(env, "shell", "-c", SQLITE_SCRIPT).splitlines()[-1])

    newest = ["Viewer", "Álvaro", "Bea Soto", "Ana Ruiz", "lucas Gómez", "Lucía Pérez"]
    assert found["newest"] == {
        "sort": "newest",
        "count": 6,
        "pages": newest,
        "back": newest[2:4],
    }
    # SQLite's lower() leaves "Á" as it is, so it sorts after the ASCII letters there.
    by_name = ["Ana Ruiz", "Bea Soto", "lucas Gómez", "Lucía Pérez", "Viewer", "Álvaro"]
    assert found["name"] == {"sort": "name", "count": 6, "pages": by_name, "back": by_name[2:4]}
    # No ranking without PostgreSQL: the newest first.
    assert found["luc"] == {
        "sort": "newest",
        "count": 2,
        "pages": ["lucas Gómez", "Lucía Pérez"],
        "back": [],
    }


@pytest.mark.django_db
def test_a_country_is_found_by_its_name_in_either_language(browser: Client) -> None:
    with translation.override("en"):  # saved by a member who uses the site in English
        listed("Ana", country="ES")
        listed("Bea", country="IE")

    assert names(browser, q="España") == ["Ana"]
    assert names(browser, q="spain") == ["Ana"]
    assert names(browser, q="irlanda") == ["Bea"]

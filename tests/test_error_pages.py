"""Error pages through the HTTP client with DEBUG off (pytest-django's default): 400, 403,
the CSRF failure, 404, 429 and 500 answer in the visitor's language with a way back (home, and
back), never with Django's or allauth's bare English pages.

Personas (tests/conftest.py): Alice is a member, not staff."""

from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

from coworking.urls import urlpatterns as site_urlpatterns
from members.models import Profile, User

# Django's own pages, which ours replace.
DJANGO_DEFAULTS = ["Forbidden", "CSRF", "Not Found", "Server Error", "Bad Request", "Too Many"]


def fails(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a view")


# A URLconf for this module's tests only (`pytest.mark.urls`): the site's own plus a view
# that fails, so that the real URLconf never carries a test view.
urlpatterns = [path("test-only/fails/", fails), *site_urlpatterns]


def signed_in(user: User, language: str, *, enforce_csrf_checks: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf_checks, HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def assert_our_page(response: Any, *, status: int, language: str, heading: str) -> str:
    assert response.status_code == status
    page = response.content.decode()
    assert f'<html lang="{language}">' in page
    assert f"<h1>{heading}</h1>" in page
    assert "site.css" in page
    for default in DJANGO_DEFAULTS:
        assert default not in page
    # The way back: the home page always, the previous page where the browser has one.
    home = "Ir a la página de inicio" if language == "es" else "Go to the home page"
    assert f'<a class="button" href="/">{home}</a>' in page
    assert "data-go-back" in page and "js/go-back.js" in page
    return page


@pytest.mark.parametrize(
    ("language", "heading"),
    [("es", "No encontramos esta página"), ("en", "We could not find this page")],
)
@pytest.mark.django_db
def test_a_missing_page_answers_in_the_members_language_inside_the_layout(
    alice: User, language: str, heading: str
) -> None:
    response = signed_in(alice, language).get("/members/999999/")

    page = assert_our_page(response, status=404, language=language, heading=heading)
    assert alice.name in page  # the site's layout, with her account menu


@pytest.mark.django_db
def test_a_visitor_on_a_missing_page_gets_it_in_spanish_by_default(client: Client) -> None:
    response = client.get("/no-such-page/")

    assert_our_page(response, status=404, language="es", heading="No encontramos esta página")


@pytest.mark.parametrize(
    ("language", "heading"),
    [("es", "Esto no está disponible para ti"), ("en", "This is not available to you")],
)
@pytest.mark.django_db
def test_a_member_on_a_staff_page_is_refused_in_their_language(
    alice: User, language: str, heading: str
) -> None:
    response = signed_in(alice, language).get("/staff/")

    page = assert_our_page(response, status=403, language=language, heading=heading)
    assert alice.name in page


@pytest.mark.parametrize(
    ("language", "heading"),
    [("es", "No hemos podido enviar ese formulario"), ("en", "We could not send that form")],
)
@pytest.mark.django_db
def test_a_form_without_its_csrf_token_gets_our_page_and_changes_nothing(
    alice: User, language: str, heading: str
) -> None:
    client = signed_in(alice, language, enforce_csrf_checks=True)

    response = client.post("/members/me/edit/", {"headline": "Changed by another site"})

    page = assert_our_page(response, status=403, language=language, heading=heading)
    assert alice.name in page
    assert Profile.objects.get(user=alice).headline != "Changed by another site"


@pytest.mark.django_db
def test_a_visitor_whose_browser_sent_no_csrf_cookie_is_told_about_cookies() -> None:
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="es")

    response = client.post("/accounts/login/", {"login": "alice@example.com", "password": "x"})

    page = assert_our_page(
        response, status=403, language="es", heading="No hemos podido enviar ese formulario"
    )
    assert "acepta cookies de este sitio" in page
    # The page sets a fresh token, so the next try from a reloaded form works.
    assert "csrftoken" in response.cookies


@pytest.mark.django_db
def test_a_login_form_left_in_another_tab_after_signing_in_says_so_and_leads_home(
    alice: User,
) -> None:
    """Signing in gives the browser a new CSRF token: the login form of a second tab, sent
    after, carries the old one. Blaming time or cookies would not fit."""
    client = signed_in(alice, "es", enforce_csrf_checks=True)

    response = client.post("/accounts/login/", {"login": alice.email, "password": "x"})

    page = assert_our_page(
        response, status=403, language="es", heading="No hemos podido enviar ese formulario"
    )
    assert "Ya has iniciado sesión, quizá en otra pestaña" in page
    assert "acepta cookies de este sitio" not in page


@pytest.mark.urls("tests.test_error_pages")
def test_a_failing_view_gets_our_500_page_without_the_database() -> None:
    # No `db` fixture: any query while answering would fail this test.
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="es")

    response = client.get("/test-only/fails/")

    assert_our_page(response, status=500, language="es", heading="Algo ha fallado de nuestro lado")


@pytest.mark.urls("tests.test_error_pages")
def test_the_500_page_follows_the_language_asked_for() -> None:
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")

    response = client.get("/test-only/fails/")

    assert_our_page(response, status=500, language="en", heading="Something went wrong on our side")


@pytest.mark.parametrize(
    ("language", "heading"),
    [("es", "No hemos podido procesar esa solicitud"), ("en", "We could not handle that request")],
)
def test_a_bad_request_gets_our_400_page_in_the_language_asked_for(
    client: Client, language: str, heading: str
) -> None:
    # A Host header the site does not serve is refused before any view runs.
    response = client.get("/", HTTP_HOST="elsewhere.example", HTTP_ACCEPT_LANGUAGE=language)

    assert_our_page(response, status=400, language=language, heading=heading)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "heading"), [("es", "Aquí no hay nada que ver"), ("en", "Nothing to show here")]
)
def test_a_form_s_address_opened_as_a_page_gets_our_page(
    alice: User, language: str, heading: str
) -> None:
    # As after a reload of the settings form re-shown with its errors, or a bookmark.
    response = signed_in(alice, language).get("/pairs/settings/")

    assert_our_page(response, status=405, language=language, heading=heading)
    assert response["Allow"] == "POST"


@pytest.mark.django_db
def test_an_account_action_stopped_by_a_rate_limit_gets_our_page(client: Client) -> None:
    # Sign-ups are limited per address (ACCOUNT_RATE_LIMITS): allauth answers 429.
    for attempt in range(20):
        client.post("/accounts/signup/", {"email": f"bot{attempt}@example.com"})

    response = client.post(
        "/accounts/signup/", {"email": "one-more@example.com"}, HTTP_ACCEPT_LANGUAGE="es"
    )

    assert_our_page(
        response, status=429, language="es", heading="Demasiados intentos en poco tiempo"
    )


def _routes_with_ids(patterns: list[Any], prefix: str = "") -> list[str]:
    from django.urls import URLPattern, URLResolver

    routes = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            routes += _routes_with_ids(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and "<id:" in str(pattern.pattern):
            routes.append(prefix + str(pattern.pattern))
    return routes


def test_an_id_too_long_for_the_database_is_a_missing_page_on_every_route() -> None:
    """SQLite refuses to bind a 20-digit number (a server error before the converter): such an
    id is no page at all, and the longest id a 64-bit column holds still is one."""
    import re

    from django.urls import Resolver404, get_resolver, resolve

    # The admin's own catch-all takes any object id there and answers for it itself.
    routes = [
        route
        for route in _routes_with_ids(get_resolver().url_patterns)
        if not route.startswith("admin/")
    ]
    assert len(routes) >= 30
    for route in routes:
        other_parts = re.sub(r"<(?!id:)[^>]+>", "x", route)
        too_long = "/" + re.sub(r"<id:\w+>", "9" * 20, other_parts)
        with pytest.raises(Resolver404):
            resolve(too_long)
        longest = "/" + re.sub(r"<id:\w+>", "9" * 18, other_parts)
        assert set(resolve(longest).kwargs.values()) - {"x"} == {10**18 - 1}, route

"""The community guidelines and the privacy notice: public, in both languages, linked from
every page's footer, from the sign-up page and from a warning."""

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "guidelines", "privacy"),
    [
        ("es", "Normas de la comunidad", "Qué guardamos"),
        ("en", "Community guidelines", "What we keep"),
    ],
)
def test_the_guidelines_and_the_privacy_notice_are_public_and_linked_from_every_page(
    client: Client, language: str, guidelines: str, privacy: str
) -> None:
    home = client.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert 'href="/guidelines/"' in home and 'href="/privacy/"' in home

    rules = client.get("/guidelines/", HTTP_ACCEPT_LANGUAGE=language)
    notice = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE=language)

    assert rules.status_code == notice.status_code == 200
    assert f"<h1>{guidelines}</h1>" in rules.content.decode()
    assert privacy in notice.content.decode()
    # Each says where to write, in its own words (the footer's address is on every page).
    for page in (rules, notice):
        main = page.content.decode().split('<main id="main"')[1].split("</main>")[0]
        assert f'href="mailto:{settings.CONTACT_EMAIL}"' in main


def test_joining_says_what_a_newcomer_accepts(client: Client) -> None:
    page = client.get("/accounts/signup/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert (
        'By joining you accept the <a href="/guidelines/">community guidelines</a> and know '
        '<a href="/privacy/">what we keep about you</a>.'
    ) in page
    login = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "By joining you accept" not in login

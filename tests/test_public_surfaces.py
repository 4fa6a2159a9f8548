"""What a visitor, a monitor, a crawler or a link preview gets from the site's addresses."""

import re
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from core.templatetags.core_tags import absolute_url
from members.models import Profile
from newsletter.models import Issue
from notifications.models import Kind, Notification
from tests.factories import EventFactory, IssueFactory, onboarded_member

pytestmark = pytest.mark.django_db


def test_every_page_answers_head_as_it_answers_get_without_a_body(client: Client) -> None:
    """Uptime monitors and link checkers ask with HEAD; a page must not refuse it, nor a
    form's page do its POST's work (the data export)."""
    event = EventFactory.create()
    for path in ("/", "/healthz", "/manifest.webmanifest", "/offline/", "/newsletter/"):
        response = client.head(path)
        assert response.status_code == 200, path
        assert response.content == b"", path

    ana = onboarded_member("Ana Arias")
    client.force_login(ana)
    for path in ("/", f"/events/{event.pk}/", "/pairs/", "/rooms/cafeteria/", "/members/"):
        assert client.head(path).status_code == 200, path
    export = client.head("/members/me/export/")
    assert export.status_code == 200
    assert "Content-Disposition" not in export
    # Following a notice marks it read; a link checker's HEAD does not.
    notice = Notification.objects.create(user=ana, kind=Kind.MENTION, key="m", text="Hola", url="/")
    assert client.head(f"/notifications/{notice.pk}/").status_code == 302
    notice.refresh_from_db()
    assert notice.read_at is None
    client.get(f"/notifications/{notice.pk}/")
    notice.refresh_from_db()
    assert notice.read_at is not None


def meta(page: str, key: str) -> str | None:
    """The content of the page's <meta> named (or with the property) `key`."""
    found = re.search(rf'<meta (?:name|property)="{re.escape(key)}" content="([^"]*)"', page)
    return found.group(1) if found else None


def test_search_engines_may_list_the_public_pages_and_nothing_else(client: Client) -> None:
    robots = client.get("/robots.txt")
    assert robots.status_code == 200
    assert robots["Content-Type"] == "text/plain; charset=utf-8"
    rules = robots.content.decode().splitlines()
    assert rules[0] == "User-agent: *" and rules[-1] == "Disallow: /"
    assert "Allow: /$" in rules and "Disallow: /newsletter/confirm/" in rules

    listed = ("/", "/guidelines/", "/privacy/", "/newsletter/")
    for path in listed:
        assert meta(client.get(path).content.decode(), "robots") is None, path
    # Pages that hold a token or are for members say so too, for a crawler that was sent
    # there by a link rather than by the site.
    alice = onboarded_member("Alice Arias")
    Profile.objects.filter(user=alice).update(public=True)
    for path in ("/accounts/login/", "/accounts/signup/", f"/members/{alice.pk}/"):
        assert meta(client.get(path).content.decode(), "robots") == "noindex", path


def test_a_shared_link_shows_a_card_with_the_site_an_image_and_what_it_is(
    client: Client,
) -> None:
    landing = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert meta(landing, "og:site_name") == settings.SITE_NAME
    assert meta(landing, "og:url") == f"{settings.SITE_URL}/"
    image = meta(landing, "og:image")
    assert image and image.startswith(f"{settings.SITE_URL}/static/img/share")
    assert meta(landing, "twitter:card") == "summary_large_image"
    assert "remote professionals in Spain and Latin America" in (meta(landing, "description") or "")
    spanish = client.get("/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "profesionales en remoto" in (meta(spanish, "description") or "")

    issue = IssueFactory.create(
        subject='Novedades de "diciembre"', status=Issue.Status.SENT, sent_at=timezone.now()
    )
    page = client.get(f"/newsletter/{issue.pk}/").content.decode()
    assert meta(page, "og:title") == "Novedades de &quot;diciembre&quot;"
    # A members' page, asked by a preview bot, is the login page's card: nothing of it.
    event = EventFactory.create(title="Quedada secreta")
    login = client.get(f"/events/{event.pk}/", follow=True).content.decode()
    assert "Quedada secreta" not in login
    assert meta(login, "og:title") == settings.SITE_NAME


def test_a_page_s_address_on_the_card_stays_on_the_site() -> None:
    # A request for `//other.example/x/` is a 404 page of this site, and its card says so.
    assert absolute_url("//other.example/x/") == f"{settings.SITE_URL}/other.example/x/"
    assert absolute_url("/events/") == f"{settings.SITE_URL}/events/"
    assert absolute_url("https://cdn.example/s.png") == "https://cdn.example/s.png"


def test_the_addresses_machines_ask_for_by_name_answer(client: Client) -> None:
    security = client.get("/.well-known/security.txt")
    assert security.status_code == 200
    fields = dict(line.split(": ", 1) for line in security.content.decode().splitlines())
    assert fields["Contact"] == f"mailto:{settings.CONTACT_EMAIL}"
    expires = datetime.fromisoformat(fields["Expires"])
    assert timezone.now() + timedelta(days=30) < expires < timezone.now() + timedelta(days=365)

    assert client.get("/.well-known/change-password")["Location"] == "/accounts/password/change/"
    for path in ("/favicon.ico", "/apple-touch-icon.png", "/apple-touch-icon-precomposed.png"):
        icon = client.get(path)
        assert icon.status_code == 302 and icon["Location"].endswith(".png"), path


@pytest.mark.parametrize(
    ("show", "title"), [("", "Upcoming events"), ("past", "Past events"), ("mine", "My events")]
)
def test_each_events_tab_has_a_title_of_its_own(client: Client, show: str, title: str) -> None:
    client.force_login(onboarded_member("Ana Arias"))

    page = client.get(f"/events/?show={show}", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert f"<title>{title} · {settings.SITE_NAME}</title>" in page

"""The installable app over HTTP: the manifest a browser installs from, the service worker
and the offline page it keeps (coworking/webapp.py, docs/webapp.md)."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import translation
from PIL import Image

from coworking import webapp
from members.models import User
from tests.factories import client_for


@pytest.mark.django_db
def test_the_manifest_names_the_app_its_icons_and_shortcuts_that_open(alice: User) -> None:
    response = Client().get("/manifest.webmanifest", HTTP_ACCEPT_LANGUAGE="es")
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["name"] and manifest["short_name"]
    assert manifest["lang"] == "es"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    # Each icon is a real PNG of the size it claims; browsers want 192 and 512 at least.
    sizes = set()
    for icon in manifest["icons"]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        assert path, icon["src"]
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert f"{image.width}x{image.height}" == icon["sizes"]
        sizes.add((icon["sizes"], icon["purpose"]))
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    names = {shortcut["name"]: shortcut["url"] for shortcut in manifest["shortcuts"]}
    assert set(names) == {"Cafetería", "Mensajes"}
    member = client_for(alice)
    for url in names.values():
        assert member.get(url).status_code == 200, url


@pytest.mark.django_db
def test_every_page_links_the_manifest_and_names_the_worker(alice: User) -> None:
    for client in (Client(), client_for(alice)):
        page = client.get("/").content.decode()
        assert '<link rel="manifest" href="/manifest.webmanifest">' in page
        assert 'data-service-worker="/service-worker.js"' in page


def _precached(worker: str) -> list[str]:
    """The offline page's copies, one per language, then the static files."""
    offline = re.search(r'const OFFLINE_URL = "([^"]+)";', worker)
    languages = re.search(r"const LANGUAGES = \[(.*?)\];", worker)
    assets = re.search(r"const PRECACHE = \[\.\.\.LANGUAGES\.map\(offlineCopy\),(.*?)\];", worker)
    assert offline and languages and assets
    codes = re.findall(r'"(\w+)"', languages.group(1))
    copies = [f"{offline.group(1)}?lang={code}" for code in codes]
    return [*copies, *re.findall(r'"([^"]+)"', assets.group(1))]


@pytest.mark.django_db
def test_the_worker_keeps_the_offline_page_and_what_it_shows(alice: User) -> None:
    response = Client().get("/service-worker.js")
    assert response["Content-Type"].startswith("text/javascript")
    assert "no-cache" in response["Cache-Control"]
    worker = response.content.decode()
    assert f'const VERSION = "{webapp.assets_version()}";' in worker
    # The tests' static files keep their names (as in development): network first.
    assert "const HASHED = false;" in worker
    precached = _precached(worker)
    # The offline page in each language, whatever the language of the page that fetched it.
    assert precached[:2] == ["/offline/?lang=es", "/offline/?lang=en"]
    for url, heading in zip(precached[:2], ["No tienes conexión", "You are offline"], strict=True):
        page = client_for(alice).get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
        assert f"<h1>{heading}</h1>" in page, url
    for url in precached[2:]:  # static files, which the ASGI server serves
        assert finders.find(url.removeprefix("/static/")), url
    # The same worker, byte for byte, on the next look (and in every web process).
    assert Client().get("/service-worker.js").content == response.content


@pytest.mark.django_db
def test_the_offline_page_shows_nobody_s_data(alice: User) -> None:
    with translation.override("en"):
        page = client_for(alice).get("/offline/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You are offline" in page
    assert alice.name not in page and alice.email not in page
    assert "csrfmiddlewaretoken" not in page


def test_the_version_follows_the_collected_files(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.contrib.staticfiles.storage import staticfiles_storage

    staticfiles_storage.url("css/site.css")  # the lazy storage set up, to patch the real one
    versions: list[str] = []
    for hashed in (
        {"css/site.css": "css/site.0123.css"},
        {"css/site.css": "css/site.0123.css"},
        {"css/site.css": "css/site.4567.css"},
    ):
        storage = staticfiles_storage._wrapped  # type: ignore[attr-defined]
        monkeypatch.setattr(storage, "hashed_files", hashed, raising=False)
        webapp.assets_version.cache_clear()
        versions.append(webapp.assets_version())
    webapp.assets_version.cache_clear()
    assert versions[0] == versions[1] != versions[2]

"""Spanish and English catalogues are complete, compiled, and cover every source string: the
templates' and Python's (django.po) and the scripts' (djangojs.po, served at /jsi18n/)."""

import html
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import polib
import pytest
from django.test import Client
from django.utils import translation

from core.catalogue import catalogue_version
from tests.conftest import ROOT
from tests.factories import EventFactory, UserFactory, client_for

if TYPE_CHECKING:
    from members.models import User

LANGUAGES = ["es", "en"]
DOMAINS = ["django", "djangojs"]
MAKEMESSAGES = ["manage.py", "makemessages", "--locale", "es", "--no-obsolete", "-v0"]

SOURCE_IGNORE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "staticfiles",
    "media",
    "*.sqlite3",
    "__pycache__",
    ".*_cache",
    ".hypothesis",  # written by the solver's tests while this one copies the tree
    "private-media",
    "tests",
    "bench",
)


def catalogue(language: str, domain: str = "django") -> polib.POFile:
    return polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / f"{domain}.po"))


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated(language: str, domain: str) -> None:
    po = catalogue(language, domain)

    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]

    assert untranslated == [], f"{language} {domain}: untranslated strings"
    assert fuzzy == [], f"{language} {domain}: fuzzy translations need a review"


# One word for one thing in Spanish: the word the product uses, and the others it once used.
SPANISH_TERMS = {
    "encuentro (a member's meetup)": re.compile(r"\bquedadas?\b", re.IGNORECASE),
    "sesión de concentración (a focus session)": re.compile(r"\bsesi(ón|ones) de foco\b"),
    "correo (an email)": re.compile(r"^Emails?$|(?<![(\w:])emails?\b(?!\))"),
    "video (Spain's vídeo is not Latin America's)": re.compile(r"vídeo", re.IGNORECASE),
    "reporte (a member's report, not a denuncia)": re.compile(r"\bdenunci", re.IGNORECASE),
}


# Words and forms of Spain alone, where Latin America says it otherwise: vosotros ("os",
# "vuestro", "-áis", "-éis"; "seis" is a number), a few everyday words and expressions, and
# the keys' names on Spain's keyboards; and a word of Latin America alone ("computadora").
SPAIN_ONLY = re.compile(
    r"\b(os|vuestr[oa]s?|ordenador(es)?|m[óo]vil(es)?|coger|apetec\w*|computadoras?)\b"
    r"|\b(?!(veinti)?s[eé]is\b)\w+[áé]is\b|\bhaga ilusión\b|\b(Intro|Mayús)\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize("domain", DOMAINS)
def test_spanish_reads_as_well_in_latin_america_as_in_spain(domain: str) -> None:
    found = [
        entry.msgstr or entry.msgstr_plural
        for entry in catalogue("es", domain)
        if not entry.obsolete
        and any(SPAIN_ONLY.search(text) for text in [entry.msgstr, *entry.msgstr_plural.values()])
    ]

    assert found == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_spanish_calls_each_thing_by_one_name(domain: str) -> None:
    found = [
        (term, text)
        for entry in catalogue("es", domain)
        if not entry.obsolete
        for text in [entry.msgstr, *entry.msgstr_plural.values()]
        for term, other in SPANISH_TERMS.items()
        if other.search(text)
    ]

    assert found == []


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_matches_the_source(language: str, domain: str) -> None:
    po = catalogue(language, domain)
    mo = polib.mofile(str(ROOT / "locale" / language / "LC_MESSAGES" / f"{domain}.mo"))

    def pairs(entries: list[polib.POEntry] | list[polib.MOEntry]) -> set[tuple[str, str]]:
        return {(entry.msgid, entry.msgstr) for entry in entries if entry.msgid}

    assert pairs(po.translated_entries()) == pairs(list(mo)), "run `make messages`"


def test_the_catalogues_cover_every_string_in_the_code(tmp_path: Path) -> None:
    # makemessages writes into ./locale, so it runs on a copy of the source tree.
    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=SOURCE_IGNORE)
    for domain in DOMAINS:
        subprocess.run(
            [sys.executable, *MAKEMESSAGES, "--domain", domain],
            cwd=copy,
            check=True,
            env={**os.environ, "PYTHONPATH": str(copy)},
        )

    for domain in DOMAINS:
        extracted = {
            entry.msgid
            for entry in polib.pofile(str(copy / "locale" / "es" / "LC_MESSAGES" / f"{domain}.po"))
        }
        committed = {entry.msgid for entry in catalogue("es", domain)}

        new, stale = extracted - committed, committed - extracted
        assert new == set(), f"new {domain} strings: run `make messages` and translate them"
        assert stale == set(), f"stale {domain} strings: run `make messages`"


def test_spanish_is_the_default_and_english_is_one_click_away(client: Client) -> None:
    spanish = client.get("/", HTTP_ACCEPT_LANGUAGE="")
    assert spanish["Content-Language"] == "es"
    assert "Únete a la comunidad" in spanish.content.decode()

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    english = client.get("/")

    assert english["Content-Language"] == "en"
    assert "Join the community" in english.content.decode()


def test_the_language_switch_is_saved_to_a_member_s_account_for_their_emails(
    alice: "User",
) -> None:
    device = client_for(alice)
    assert alice.language == "es"

    device.post("/i18n/setlang/", {"language": "en", "next": "/"})

    alice.refresh_from_db()
    assert alice.language == "en"
    assert device.get("/", HTTP_ACCEPT_LANGUAGE="es")["Content-Language"] == "en"


def test_the_translation_machinery_finds_the_catalogue() -> None:
    with translation.override("es"):
        assert translation.gettext("Coffee pairs") == "Cafés en pareja"


def test_the_scripts_get_their_strings_in_the_visitors_language(client: Client) -> None:
    spanish = client.get("/jsi18n/?language=es", HTTP_ACCEPT_LANGUAGE="es")
    assert "Conectado." in spanish.content.decode()

    english = client.get("/jsi18n/?language=en", HTTP_ACCEPT_LANGUAGE="en")
    assert "Connected." in english.content.decode()
    assert "Conectado." not in english.content.decode()


def test_the_catalogue_an_address_names_is_the_one_served_whatever_the_headers(
    client: Client,
) -> None:
    """A kept address is shared by every browser and proxy that asks for it: a Spanish
    browser asking for the English one must not leave Spanish strings under its name."""
    address = f"/jsi18n/?language=en&v={catalogue_version()}"
    english = client.get(address, HTTP_ACCEPT_LANGUAGE="es", HTTP_COOKIE="django_language=es")
    spanish = client.get("/jsi18n/?language=es", HTTP_ACCEPT_LANGUAGE="en")

    assert "Connected." in english.content.decode()
    assert "Conectado." not in english.content.decode()
    assert "Conectado." in spanish.content.decode()
    assert english["Content-Language"] == "en"
    # An address that names no language (or one the site has not) is not kept.
    for unnamed in (
        f"/jsi18n/?v={catalogue_version()}",
        f"/jsi18n/?language=fr&v={catalogue_version()}",
    ):
        assert client.get(unnamed)["Cache-Control"] == "no-cache", unnamed


@pytest.mark.django_db
def test_browsers_keep_the_script_catalogue_until_its_strings_change() -> None:
    """Pages name the catalogue's version: kept for a year, with no check on each page (a
    round trip on a slow connection). An address without it, or an old one, is checked."""
    client = client_for(UserFactory.create(language="es"))
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    address = re.search(r'src="(/jsi18n/\?language=es&amp;v=(\w+))"', page)
    assert address is not None and address[2] == catalogue_version()

    current = client.get(html.unescape(address[1]), HTTP_ACCEPT_LANGUAGE="es")
    old = client.get("/jsi18n/?language=es&v=0ld0ld0ld0ld", HTTP_ACCEPT_LANGUAGE="es")
    again = client.get("/jsi18n/?language=es", HTTP_IF_MODIFIED_SINCE=old["Last-Modified"])

    assert current.status_code == old.status_code == 200
    assert "Conectado." in current.content.decode()
    assert current["Cache-Control"] == "public, max-age=31536000, immutable"
    assert old["Cache-Control"] == "no-cache"
    assert again.status_code == 304


# Django's and allauth's own Spanish speaks formally ("Introduzca", "Asegúrese", "su
# contraseña"); core/third_party_strings.py puts the community's "tú" in our catalogue.
FORMAL = re.compile(
    r"Introduzca|Asegúrese|Escoja|Por favor|\bsu contraseña\b|\bdesea\b|\busted\b|Ya ha iniciado"
    r"|Se dispone|\buse una\b",
    re.IGNORECASE,
)


def test_errors_from_django_and_allauth_speak_to_a_spanish_member_informally(
    alice: "User",
) -> None:
    client = client_for(alice)

    meetup = client.post(
        "/events/new/meetup/",
        {"title": "x" * 100, "when": "now", "duration": "45"},
        HTTP_ACCEPT_LANGUAGE="es",
    ).content.decode()
    reset = client.get(
        "/accounts/password/reset/key/1-bad/", HTTP_ACCEPT_LANGUAGE="es", follow=True
    )

    assert "Escribe como máximo 80 caracteres (ahora hay 100)." in meetup
    assert "Elige una opción válida: 45 no está entre las opciones." in meetup
    html = reset.content.decode()
    assert "El enlace para restablecer la contraseña no es válido" in html
    for page in (meetup, html):
        assert not FORMAL.search(page), FORMAL.search(page)


def test_allauth_s_own_pages_speak_to_a_spanish_member_informally(alice: "User") -> None:
    member, visitor = client_for(alice), Client()
    pages = {
        path: member.get(path, HTTP_ACCEPT_LANGUAGE="es", follow=True).content.decode()
        for path in (
            "/accounts/email/",
            "/accounts/password/change/",
            "/accounts/sessions/",
            "/accounts/reauthenticate/",
            "/accounts/logout/",
            "/accounts/password/reset/",  # "you are already logged in as ..."
        )
    }
    for path in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"):
        pages[path] = visitor.get(path, HTTP_ACCEPT_LANGUAGE="es").content.decode()

    for path, page in pages.items():
        assert not FORMAL.search(page), (path, FORMAL.search(page))


def test_dates_read_as_each_language_writes_them(alice: "User") -> None:
    from events.models import Event

    start = datetime(2030, 1, 15, 17, 0, tzinfo=UTC)  # 18:00 in Madrid, Alice's zone
    event = EventFactory.create(starts_at=start, ends_at=start + timedelta(hours=1))
    client = client_for(alice)
    Event.objects.exclude(pk=event.pk).delete()

    spanish = client.get(f"/events/{event.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    english = client.get(f"/events/{event.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "martes 15 de enero de 2030, 18:00" in spanish
    assert "mar 15 ene, 18:00" in home
    assert "Tuesday 15 January 2030, 18:00" in english

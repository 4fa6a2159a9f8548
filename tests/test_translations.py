"""Spanish and English catalogues are complete, compiled, and cover every source string."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.test import Client
from django.utils import translation

from tests.conftest import ROOT

LANGUAGES = ["es", "en"]

SOURCE_IGNORE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "staticfiles",
    "media",
    "*.sqlite3",
    "__pycache__",
    ".*_cache",
    "tests",
    "bench",
)


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated(language: str) -> None:
    po = catalogue(language)

    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]

    assert untranslated == [], f"{language}: untranslated strings"
    assert fuzzy == [], f"{language}: fuzzy translations need a review"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_matches_the_source(language: str) -> None:
    po = catalogue(language)
    mo = polib.mofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.mo"))

    def pairs(entries: list[polib.POEntry] | list[polib.MOEntry]) -> set[tuple[str, str]]:
        return {(entry.msgid, entry.msgstr) for entry in entries if entry.msgid}

    assert pairs(po.translated_entries()) == pairs(list(mo)), "run `make messages`"


def test_the_catalogues_cover_every_string_in_the_code(tmp_path: Path) -> None:
    # makemessages writes into ./locale, so it runs on a copy of the source tree.
    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=SOURCE_IGNORE)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "es", "--no-obsolete", "-v0"],
        cwd=copy,
        check=True,
        env={**os.environ, "PYTHONPATH": str(copy)},
    )

    extracted = {
        entry.msgid
        for entry in polib.pofile(str(copy / "locale" / "es" / "LC_MESSAGES" / "django.po"))
    }
    committed = {entry.msgid for entry in catalogue("es")}

    assert extracted - committed == set(), "new strings: run `make messages` and translate them"
    assert committed - extracted == set(), "stale strings: run `make messages`"


def test_spanish_is_the_default_and_english_is_one_click_away(client: Client) -> None:
    spanish = client.get("/", HTTP_ACCEPT_LANGUAGE="")
    assert spanish["Content-Language"] == "es"
    assert "Únete a la comunidad" in spanish.content.decode()

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    english = client.get("/")

    assert english["Content-Language"] == "en"
    assert "Join the community" in english.content.decode()


def test_the_translation_machinery_finds_the_catalogue() -> None:
    with translation.override("es"):
        assert translation.gettext("Coffee pairs") == "Cafés en pareja"

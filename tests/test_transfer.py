"""What a page costs to download on a slow connection: pages compressed, photos kept by
the browser."""

import gzip
from pathlib import Path
from uuid import uuid4

import pytest
from django.http import Http404
from django.http.response import HttpResponseBase
from django.test import RequestFactory

from conversations.services import direct_conversation_start, message_post
from core.views import media_serve
from members.models import User
from tests.factories import client_for, onboarded_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def member() -> User:
    return onboarded_member("Ana Arias", email="ana@example.com")


def test_pages_and_the_translations_script_come_compressed_to_a_browser_that_accepts_it(
    member: User,
) -> None:
    client = client_for(member)
    other = onboarded_member("Beto Blanco", email="beto@example.com")
    conversation = direct_conversation_start(starter=other, other=member)
    for n in range(20):
        message_post(
            conversation=conversation, author=other, text=f"Hola, ¿qué tal? {n}", client_id=uuid4()
        )
    for path in ("/", f"/messages/{conversation.pk}/", "/jsi18n/?language=es"):
        plain = client.get(path)
        packed = client.get(path, HTTP_ACCEPT_ENCODING="gzip, deflate, br")

        assert plain.status_code == packed.status_code == 200, path
        assert "Content-Encoding" not in plain
        assert packed["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in packed["Vary"]
        # The same page, a good deal smaller (the random padding aside).
        page = gzip.decompress(packed.content)
        assert len(packed.content) < len(page) / 3
        assert page.replace(b" ", b"")[:40] == plain.content.replace(b" ", b"")[:40]


def test_a_profile_photo_is_kept_by_the_browser_and_other_media_asked_again(
    tmp_path: Path,
) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "0f1e2d.webp").write_bytes(b"RIFF" + bytes(300))
    (tmp_path / "team.png").write_bytes(b"\x89PNG" + bytes(300))

    def get(path: str) -> HttpResponseBase:
        request = RequestFactory().get(f"/media/{path}", HTTP_ACCEPT_ENCODING="gzip")
        return media_serve(request, path, document_root=str(tmp_path))

    photo, other = get("photos/0f1e2d.webp"), get("team.png")

    assert photo.status_code == other.status_code == 200
    assert photo["Cache-Control"] == "private, max-age=31536000, immutable"
    assert "immutable" not in other.get("Cache-Control", "")
    with pytest.raises(Http404):
        get("photos/missing.webp")

"""What a visitor, a monitor, a crawler or a link preview gets from the site's addresses."""

import pytest
from django.test import Client

from tests.factories import EventFactory, onboarded_member

pytestmark = pytest.mark.django_db


def test_every_page_answers_head_as_it_answers_get_without_a_body(client: Client) -> None:
    """Uptime monitors and link checkers ask with HEAD; a page must not refuse it, nor a
    form's page do its POST's work (the data export)."""
    event = EventFactory.create()
    for path in ("/", "/healthz", "/manifest.webmanifest", "/offline/", "/newsletter/"):
        response = client.head(path)
        assert response.status_code == 200, path
        assert response.content == b"", path

    client.force_login(onboarded_member("Ana Arias"))
    for path in ("/", f"/events/{event.pk}/", "/pairs/", "/rooms/cafeteria/", "/members/"):
        assert client.head(path).status_code == 200, path
    export = client.head("/members/me/export/")
    assert export.status_code == 200
    assert "Content-Disposition" not in export

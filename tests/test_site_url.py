"""Emails name and link to the site where it runs (SITE_URL), never Django's example.com."""

import pytest
from django.contrib.sites.models import Site
from django.core import mail
from django.core.management import call_command
from django.test import Client

from tests.factories import onboarded_member


@pytest.mark.django_db
def test_allauth_emails_name_the_site_at_site_url(settings, client: Client) -> None:
    lucia = onboarded_member("Lucía Pérez", email="lucia@cowork.test")
    settings.SITE_URL = "http://127.0.0.1:8001"
    settings.SITE_NAME = "Cowork Prueba"
    call_command("migrate", verbosity=0)  # as `make run` does before serving

    response = client.post(
        "/accounts/password/reset/", {"email": lucia.email}, HTTP_HOST="127.0.0.1:8001"
    )

    assert response.status_code == 302
    (email,) = mail.outbox
    text = f"{email.subject}\n{email.body}"
    assert "http://127.0.0.1:8001/accounts/password/reset/key/" in text
    assert "Cowork Prueba" in text
    assert "example.com" not in text


@pytest.mark.django_db
def test_the_site_row_follows_site_url_on_every_migrate(settings) -> None:
    settings.SITE_URL = "https://cowork.example.org"
    call_command("migrate", verbosity=0)
    settings.SITE_URL = "http://localhost:8123"
    settings.SITE_NAME = "Otro Cowork"

    call_command("migrate", verbosity=0)

    site = Site.objects.get_current()
    assert (site.domain, site.name) == ("localhost:8123", "Otro Cowork")
    assert Site.objects.count() == 1

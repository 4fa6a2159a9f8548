"""Whose address counts: the connection's, or the client's as named by a trusted proxy.

The per-address login limit (allauth's `login_failed`, ten a minute) counts the address the
server hands Django. uvicorn takes it from X-Forwarded-For only on connections from the
addresses in FORWARDED_ALLOW_IPS (the Dockerfile and docker-compose.yml set it, never "*").
Here the server runs with the Dockerfile's command and trusts 127.0.0.1 as its proxy; the
attacker connects from 127.0.0.2, another loopback address that is not a proxy.
"""

import http.client
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.conftest import production_server

PROXY = "127.0.0.1"
NOT_A_PROXY = "127.0.0.2"
TOO_MANY = "Too many failed login attempts"
LIMIT = 10  # ACCOUNT_RATE_LIMITS["login_failed"]: 10/m/ip


@pytest.fixture(scope="module")
def server(
    django_db_setup: None,
    django_db_blocker: Any,
    collected_static: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[int]:
    """The production server (DEBUG off) on the test database; returns its port."""
    with production_server(
        name="proxies",
        collected_static=collected_static,
        tmp_path_factory=tmp_path_factory,
        django_db_blocker=django_db_blocker,
        FORWARDED_ALLOW_IPS=PROXY,
    ) as port:
        yield port


def failed_login(port: int, *, peer: str, forwarded_for: str, email: str) -> str:
    """A wrong password for `email`, sent over a connection from `peer`; the page's HTML."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(peer, 0))
    try:
        headers = {"Host": "127.0.0.1", "Accept-Language": "en", "X-Forwarded-For": forwarded_for}
        connection.request("GET", "/accounts/login/", headers=headers)
        response = connection.getresponse()
        page = response.read().decode()
        cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert cookie and token, page
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token[1], "login": email, "password": "wrong"}
        )
        connection.request(
            "POST",
            "/accounts/login/",
            body=body,
            headers={
                **headers,
                "Cookie": f"csrftoken={cookie[1]}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        response = connection.getresponse()
        assert response.status == 200
        return response.read().decode()
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_client_cannot_name_its_own_address_to_escape_the_login_limit(server: int) -> None:
    for attempt in range(LIMIT):
        page = failed_login(
            server,
            peer=NOT_A_PROXY,
            forwarded_for=f"198.51.100.{attempt}",
            email=f"nobody{attempt}@example.com",
        )
        assert TOO_MANY not in page

    page = failed_login(
        server, peer=NOT_A_PROXY, forwarded_for="198.51.100.99", email="someone@example.com"
    )
    assert TOO_MANY in page


@pytest.mark.django_db(transaction=True)
def test_the_proxy_names_the_client_and_each_client_has_its_own_limit(server: int) -> None:
    # The client writes whatever it likes in the header; the proxy appends the address it
    # sees, and that last untrusted entry is the client's.
    for attempt in range(LIMIT):
        page = failed_login(
            server,
            peer=PROXY,
            forwarded_for=f"198.51.100.{attempt}, 203.0.113.7",
            email=f"nobody{attempt}@example.com",
        )
        assert TOO_MANY not in page

    guesser = failed_login(
        server, peer=PROXY, forwarded_for="203.0.113.7", email="someone@example.com"
    )
    neighbour = failed_login(
        server, peer=PROXY, forwarded_for="203.0.113.8", email="someone@example.com"
    )
    assert TOO_MANY in guesser
    assert TOO_MANY not in neighbour


@pytest.mark.django_db
def test_the_site_itself_counts_the_connection_address_not_the_header() -> None:
    """Django never reads X-Forwarded-For (allauth's TRUSTED_PROXY_COUNT stays 0): the
    server in front of it is the one place that decides whom to believe."""

    def attempt(n: int) -> str:
        response = Client(REMOTE_ADDR="192.0.2.50").post(
            "/accounts/login/",
            {"login": f"nobody{n}@example.com", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
            HTTP_ACCEPT_LANGUAGE="en",
        )
        return response.content.decode()

    assert all(TOO_MANY not in attempt(n) for n in range(LIMIT))
    assert TOO_MANY in attempt(LIMIT)

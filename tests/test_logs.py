"""The server's logs keep the paths people asked for, not the secrets some links carry: a
password reset's key, the one-click answers of coffee-pair emails, the calendar feed's token
(core/logs.py)."""

import time
from collections.abc import Iterator

import pytest
import requests
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.logs import MASK, without_secrets
from tests.conftest import server_log

SECRET = "S3cretValue0123456789"
SECRET_NAMES = {"token", "key"}


def _patterns(
    resolver: URLResolver, namespace: str = ""
) -> Iterator[tuple[str, URLPattern, set[str]]]:
    """Every named URL pattern, with its namespaced name and its parameters' names (those of
    the resolvers it is included under as well)."""
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry, inner)
        elif entry.name:
            names = set(entry.pattern.regex.groupindex)
            yield f"{namespace}{entry.name}", entry, names


def test_every_link_that_carries_a_secret_is_logged_without_it() -> None:
    secret_links = []
    for name, _pattern, params in _patterns(get_resolver()):
        if params & SECRET_NAMES:
            kwargs = {param: SECRET if param in SECRET_NAMES else "1" for param in params}
            secret_links.append(reverse(name, kwargs=kwargs))

    assert len(secret_links) >= 10  # allauth's two, the emails' one-click links, the feed
    for path in secret_links:
        logged = without_secrets(f'127.0.0.1:5000 - "GET {path}?next=/ HTTP/1.1" 200')
        assert SECRET not in logged, path
        assert MASK in logged and "?next=/" in logged


def test_the_server_logs_requests_and_refusals_but_not_the_secrets_of_links(
    asgi_server: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    log = server_log(tmp_path_factory, "live-server")
    logged_before = log.stat().st_size
    reset = f"/accounts/password/reset/key/1-{SECRET}/"
    answer = f"/pairs/answer/{SECRET}/"

    for path in (reset, answer):
        requests.get(f"{asgi_server}{path}", allow_redirects=False, timeout=10)
    # Refused for its missing CSRF token: Django's own warning names the path too.
    requests.post(f"{asgi_server}{answer}", allow_redirects=False, timeout=10)

    deadline = time.monotonic() + 5
    while True:
        with log.open() as output:
            output.seek(logged_before)
            logged = output.read()
        if "Forbidden (CSRF" in logged or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert f'"GET /accounts/password/reset/key/{MASK}/ HTTP/1.1"' in logged
    assert f'"GET /pairs/answer/{MASK}/ HTTP/1.1"' in logged
    assert f"Forbidden (CSRF cookie not set.): /pairs/answer/{MASK}/" in logged
    assert SECRET not in logged

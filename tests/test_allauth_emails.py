"""allauth's emails (sign-up confirmation, password reset, unknown address, email change,
already registered) go out in our layout and voice, as text and HTML, over real SMTP."""

import re
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.conf import settings
from django.test import Client
from django.utils import timezone

from coworking.celery import app
from members.models import User
from tests.conftest import SmtpSink, free_port
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Received:
    subject: str
    text: str
    html: str


def received(message: EmailMessage) -> Received:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None, "a text part and an HTML alternative"
    return Received(
        subject=str(message["Subject"]),
        text=text.get_content(),  # type: ignore[attr-defined]
        html=html.get_content(),  # type: ignore[attr-defined]
    )


def link(part: str, path: str) -> str:
    """The site-relative link starting with `path` in an email part."""
    match = re.search(rf"https?://[^/\s\"]+({re.escape(path)}[^\s\"<]*)", part)
    assert match, part
    return match.group(1)


# The triggers: what a visitor or member does in the browser to get each email, in the
# language of their browser (allauth writes in the language of the request). Each returns
# the address the email goes to. tests/test_rendered_text.py uses them too.


def sign_up(language: str, email: str = "nueva@example.com") -> str:
    Client(HTTP_ACCEPT_LANGUAGE=language).post(
        "/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )
    return email


def sign_up_again(language: str, member: User) -> str:
    return sign_up(language, email=member.email)


def reset_password(language: str, member: User) -> str:
    Client(HTTP_ACCEPT_LANGUAGE=language).post("/accounts/password/reset/", {"email": member.email})
    return member.email


def reset_unknown(language: str, email: str = "nadie@example.com") -> str:
    Client(HTTP_ACCEPT_LANGUAGE=language).post("/accounts/password/reset/", {"email": email})
    return email


def change_email(language: str, member: User, new: str = "nueva-direccion@example.com") -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.post("/accounts/login/", {"login": member.email, "password": PASSWORD})
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    response = client.post("/accounts/email/", {"action_add": "", "email": new})
    assert response.status_code == 302, "the new address was added"
    return new


def subject(text: str) -> str:
    return f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{text}"


def assert_in_our_layout(email: Received) -> None:
    assert f">{settings.SITE_NAME}</td>" in email.html, "the layout's header with the site name"
    assert email.html.lstrip().startswith("<!DOCTYPE html>")
    assert f"{settings.SITE_NAME} · {settings.SITE_URL}" in email.text


def test_signing_up_sends_a_welcome_with_a_working_confirmation_link(smtp: SmtpSink) -> None:
    email = received(smtp.wait_for(sign_up("en")))

    assert email.subject == subject("Confirm your email address")
    assert_in_our_layout(email)
    welcome = f"Welcome to {settings.SITE_NAME}! You are one step away from joining the community"
    assert welcome in email.text and welcome in email.html
    assert ">Confirm my email address</a>" in email.html
    confirm = link(email.html, "/accounts/confirm-email/")
    assert confirm == link(email.text, "/accounts/confirm-email/")
    assert Client().post(confirm).status_code == 302
    assert EmailAddress.objects.get(email="nueva@example.com").verified


# Committed as the web process commits, for the worker to read the new member.
@pytest.mark.django_db(transaction=True)
def test_with_the_mail_server_down_the_sign_up_goes_through_and_a_worker_sends_the_welcome(
    smtp: SmtpSink, settings: Any, request: pytest.FixtureRequest
) -> None:
    settings.EMAIL_PORT = free_port()  # nobody listens there: down, for this (web) process
    app.conf.task_always_eager = False  # queued in Redis, as in production
    try:
        response = Client(HTTP_ACCEPT_LANGUAGE="es").post(
            "/accounts/signup/",
            {"email": "nueva@example.com", "password1": PASSWORD, "password2": PASSWORD},
        )
        assert response.status_code == 302
        assert response["Location"] == "/accounts/confirm-email/"
    finally:
        app.conf.task_always_eager = True
    assert smtp.messages == []

    request.getfixturevalue("celery_worker")  # a worker, with a mail server that answers

    email = received(smtp.wait_for("nueva@example.com"))
    assert email.subject == subject("Confirma tu dirección de correo")
    assert Client().post(link(email.html, "/accounts/confirm-email/")).status_code == 302
    assert EmailAddress.objects.get(email="nueva@example.com").verified


def test_with_tasks_inline_and_the_mail_server_down_the_sign_up_goes_through(
    smtp: SmtpSink, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The embedded default (no REDIS_URL) runs tasks inline, as this test session does."""
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nobody listens there: down
    client = Client(HTTP_ACCEPT_LANGUAGE="es", raise_request_exception=False)
    response = client.post(
        "/accounts/signup/",
        {"email": "nueva@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert "Email not sent" in caplog.text

    # The way back: with the server up again, logging in sends a new confirmation.
    settings.EMAIL_PORT = port
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):  # allauth's pause
        client.post("/accounts/login/", {"login": "nueva@example.com", "password": PASSWORD})
    email = received(smtp.wait_for("nueva@example.com"))
    assert Client().post(link(email.html, "/accounts/confirm-email/")).status_code == 302
    assert EmailAddress.objects.get(email="nueva@example.com").verified


def test_a_password_reset_greets_the_member_and_links_to_a_new_password(smtp: SmtpSink) -> None:
    ana = UserFactory.create(display_name="Ana O'Neill", email="ana@example.com", language="en")

    email = received(smtp.wait_for(reset_password("en", ana)))

    assert email.subject == subject("Choose a new password")
    assert_in_our_layout(email)
    assert "Hello, Ana O'Neill" in email.text, "plain text is not HTML-escaped"
    assert "Hello, Ana O&#x27;Neill" in email.html
    reset = link(email.html, "/accounts/password/reset/key/")
    assert reset == link(email.text, "/accounts/password/reset/key/")
    assert ">Choose a new password</a>" in email.html
    page = Client().get(reset, follow=True)
    assert page.status_code == 200 and "password1" in page.content.decode()


def test_a_reset_for_an_unknown_address_says_so_and_offers_to_join(smtp: SmtpSink) -> None:
    email = received(smtp.wait_for(reset_unknown("en")))

    assert email.subject == subject("There is no account with this address")
    assert_in_our_layout(email)
    assert "with nadie@example.com, but there is no account with this address" in email.text
    assert link(email.text, "/accounts/signup/") == "/accounts/signup/"
    assert f">Join {settings.SITE_NAME}</a>" in email.html


def test_a_new_address_is_confirmed_before_it_counts(smtp: SmtpSink) -> None:
    ana = UserFactory.create(display_name="Ana Ortega", email="ana@example.com", language="en")

    email = received(smtp.wait_for(change_email("en", ana)))

    assert email.subject == subject("Confirm your email address")
    assert_in_our_layout(email)
    assert "Hello, Ana Ortega" in email.html
    assert (
        f"Confirm that nueva-direccion@example.com is yours, and we will use it for your "
        f"{settings.SITE_NAME} account." in email.text
    )
    assert link(email.html, "/accounts/confirm-email/") == link(
        email.text, "/accounts/confirm-email/"
    )


def test_signing_up_with_a_taken_address_tells_its_owner_how_to_get_in(smtp: SmtpSink) -> None:
    ana = UserFactory.create(display_name="Ana Ortega", email="ana@example.com", language="en")

    email = received(smtp.wait_for(sign_up_again("en", ana)))

    assert email.subject == subject("You already have an account")
    assert_in_our_layout(email)
    assert "with ana@example.com, but you already have an account" in email.text
    assert link(email.text, "/accounts/login/") == "/accounts/login/"
    assert link(email.html, "/accounts/password/reset/") == "/accounts/password/reset/"
    assert "Ana Ortega" not in email.text, "nothing about the account to whoever typed it"


def test_account_emails_are_in_the_account_s_language_whoever_asks(smtp: SmtpSink) -> None:
    # Someone with a Spanish browser asks for a reset of an English-speaking member's
    # password, or signs up with their address: the member reads what arrives.
    ana = UserFactory.create(email="ana@example.com", language="en")
    berta = UserFactory.create(email="berta@example.com", language="en")

    reset = received(smtp.wait_for(reset_password("es", ana)))
    taken = received(smtp.wait_for(sign_up_again("es", berta)))

    assert reset.subject == subject("Choose a new password")
    assert taken.subject == subject("You already have an account")
    assert '<html lang="en">' in reset.html and '<html lang="en">' in taken.html


# allauth's own Spanish says "usted" ("¿Ha olvidado su contraseña?") and "vete a" (its
# confirmation email); ours says "tú".
FORMAL = re.compile(
    r"\b(usted|vete a|le hemos|por favor|ha olvidado|su (contraseña|cuenta|correo|dirección))\b",
    re.IGNORECASE,
)


def test_account_emails_to_a_spanish_browser_are_in_spanish_and_never_formal(
    smtp: SmtpSink,
) -> None:
    ana = UserFactory.create(display_name="Ana Ortega", email="ana@example.com")
    sent = [
        sign_up("es"),
        reset_password("es", UserFactory.create(email="berta@example.com")),
        reset_unknown("es"),
        change_email("es", ana),
        sign_up_again("es", UserFactory.create(email="carla@example.com")),
    ]

    for to in sent:
        email = received(smtp.wait_for(to))
        assert '<html lang="es">' in email.html, to
        for part in (email.subject, email.text, email.html):
            assert not FORMAL.search(part), (to, FORMAL.search(part))


def test_the_old_address_hears_the_account_moved_and_every_new_password_is_told(
    smtp: SmtpSink,
) -> None:
    ana = UserFactory.create(
        display_name="Ana Ortega",
        email="ana@example.com",
        language="es",
        time_zone="America/Bogota",
    )
    confirm = received(smtp.wait_for(change_email("en", ana)))
    smtp.messages.clear()

    # Confirmed from another browser, in English: Ana reads it in her language all the same.
    assert (
        Client(HTTP_ACCEPT_LANGUAGE="en")
        .post(link(confirm.text, "/accounts/confirm-email/"))
        .status_code
        == 302
    )
    moved = received(smtp.wait_for("ana@example.com"))
    smtp.messages.clear()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.post("/accounts/login/", {"login": "nueva-direccion@example.com", "password": PASSWORD})
    changed = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "otra-clave-2026", "password2": "otra-clave-2026"},
    )
    assert changed.status_code == 302
    told = received(smtp.wait_for("nueva-direccion@example.com"))

    assert moved.subject == "Cambió la dirección de correo de tu cuenta"
    assert_in_our_layout(moved)
    assert "Hola, Ana Ortega" in moved.text
    assert "de ana@example.com a nueva-direccion@example.com" in moved.text
    assert "(America/Bogota)" in moved.text and "Navegador:" in moved.html
    assert told.subject == "Tu contraseña cambió"
    for part in (moved.subject, moved.text, told.subject, told.text):
        assert not FORMAL.search(part), part


def test_an_address_another_account_only_asked_to_move_to_resets_nothing_of_it(
    smtp: SmtpSink,
) -> None:
    ana = UserFactory.create(display_name="Ana Ortega", email="ana@example.com", language="en")
    change_email("en", ana, new="carla@example.com")  # a typo, or not: never confirmed
    smtp.wait_for("carla@example.com")
    smtp.messages.clear()

    # Carla asks for a password: no link that would set Ana's reaches her.
    reset_password("en", User(email="carla@example.com"))
    reset = received(smtp.wait_for("carla@example.com"))

    assert reset.subject == subject("There is no account with this address")
    assert "/password/reset/key/" not in reset.text and "Ana" not in reset.text
    assert EmailAddress.objects.filter(user=ana, email="carla@example.com").exists()


def test_a_suspended_member_asking_for_a_password_hears_why_they_cannot_log_in(
    smtp: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    suspended = UserFactory.create(email="susp@example.com", language="en", is_active=False)
    User.objects.filter(pk=suspended.pk).update(suspended_at=suspended.date_joined)

    with django_capture_on_commit_callbacks(execute=True):
        reset_password("en", suspended)

    told = smtp.wait_for("susp@example.com")
    text = told.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "has suspended your" in text and "no account" not in text.lower()

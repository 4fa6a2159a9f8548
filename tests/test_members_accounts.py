"""Accounts through allauth: sign-up with a verified email, onboarding, throttled logins."""

import http.client
import io
import re
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from django.core import mail
from django.core.management import call_command
from django.test import Client, RequestFactory, override_settings

from members.adapters import AccountAdapter
from members.models import User
from tests.conftest import production_server
from tests.factories import PASSWORD, UserFactory, onboarded_member


def confirmation_link(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", str(message.body))
    assert match, message.body
    return match.group(1)


def signed_up_from(client: Client, page: str) -> str:
    """nueva@example.com signs up from a link to `page`: the emailed confirmation link,
    with its query."""
    client.post(
        f"/accounts/signup/?next={page}",
        {"email": "nueva@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", str(mail.outbox[0].body))
    assert match
    return match.group(1)


# The welcome form as a newcomer fills it in.
WELCOME = {
    "display_name": "Nueva Persona",
    "headline": "Diseñadora",
    "time_zone": "America/Lima",
    "working_hours_start": "08:00",
    "working_hours_end": "16:00",
    "working_days": ["0", "2"],
    "languages": ["es"],
    "language": "es",
    "interest_names": "Diseño",
    "visible_in_directory": "on",
}


@pytest.mark.django_db
def test_a_visitor_signs_up_confirms_the_email_and_is_onboarded(client: Client) -> None:
    response = client.post(
        "/accounts/signup/",
        {
            "email": "nueva@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert not client.get("/").context["user"].is_authenticated

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nueva@example.com"]
    link = confirmation_link(message)

    page = client.get(link, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Confirm that nueva@example.com is your email address." in page
    assert "New member" not in page
    response = client.post(link)
    assert EmailAddress.objects.get(email="nueva@example.com").verified
    # In the browser that signed up, confirming is signing in: on to the welcome form.
    assert response["Location"] == "/members/welcome/"
    assert client.get("/").context["user"].is_authenticated
    response = client.post(
        "/members/welcome/", {**WELCOME, "interest_names": "Diseño, Café", "open_to_chat": "on"}
    )
    assert response.status_code == 302
    user = User.objects.get(email="nueva@example.com")
    profile = client.get(f"/members/{user.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert profile.status_code == 200
    page = profile.content.decode()
    assert "Nueva Persona" in page and "Diseñadora" in page and "Café" in page
    assert "08:00–16:00 in Lima" in page

    client.logout()
    again = client.post("/accounts/login/", {"login": "nueva@example.com", "password": PASSWORD})
    assert again["Location"] == "/"


@pytest.mark.django_db
def test_an_unverified_member_cannot_log_in(client: Client) -> None:
    UserFactory.create(email="sin-verificar@example.com", verified=False)

    response = client.post(
        "/accounts/login/", {"login": "sin-verificar@example.com", "password": PASSWORD}
    )

    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_signing_up_twice_with_one_email_does_not_reveal_the_account(client: Client) -> None:
    UserFactory.create(email="existe@example.com")

    response = client.post(
        "/accounts/signup/",
        {
            "email": "EXISTE@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    # Prevent-enumeration: the page looks like a normal sign-up; the owner gets an email.
    assert response.status_code == 302
    assert User.objects.filter(email__iexact="existe@example.com").count() == 1
    assert [message.to for message in mail.outbox] == [["existe@example.com"]]


@pytest.mark.django_db
def test_a_weak_or_mismatched_password_re_renders_with_errors(client: Client) -> None:
    response = client.post(
        "/accounts/signup/",
        {
            "email": "debil@example.com",
            "password1": "123",
            "password2": "124",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors
    assert 'value="debil@example.com"' in response.content.decode()
    assert not User.objects.filter(email="debil@example.com").exists()


TOO_MANY = "Too many failed login attempts"


def login(client: Client, email: str, password: str) -> str:
    response = client.post(
        "/accounts/login/?next=/admin/",
        {"login": email, "password": password},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    return response.content.decode() if response.status_code == 200 else response["Location"]


@pytest.mark.django_db
def test_an_account_under_attack_refuses_even_the_right_password(client: Client) -> None:
    UserFactory.create(email="victima@example.com")

    for attempt in range(5):
        assert TOO_MANY not in login(client, "victima@example.com", f"wrong-{attempt}")

    assert TOO_MANY in login(client, "victima@example.com", PASSWORD)
    # In the community's Spanish, with "tú" (allauth's own says "Inténtelo").
    spanish = client.post(
        "/accounts/login/", {"login": "victima@example.com", "password": PASSWORD}
    ).content.decode()
    assert "Demasiados intentos fallidos. Vuelve a intentarlo más tarde." in spanish


@pytest.mark.django_db
def test_ten_failed_logins_from_one_address_lock_that_address_out(client: Client) -> None:
    staff = UserFactory.create(email="jefa@example.com", is_staff=True)
    for attempt in range(10):
        login(client, f"nobody{attempt}@example.com", "wrong")

    assert TOO_MANY in login(client, staff.email, PASSWORD)
    assert TOO_MANY not in login(Client(REMOTE_ADDR="10.1.2.3"), staff.email, PASSWORD)


@pytest.mark.django_db
def test_the_admin_login_goes_through_the_throttled_login(client: Client) -> None:
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_members_who_are_not_staff_cannot_enter_the_admin(client: Client) -> None:
    client.force_login(UserFactory.create())

    assert client.get("/admin/").status_code in (302, 403)
    assert client.get("/admin/login/").status_code == 403


@pytest.mark.django_db
def test_no_social_provider_is_shown_unless_configured(client: Client) -> None:
    page = client.get("/accounts/login/").content.decode()

    assert "GitHub" not in page and "Google" not in page and "LinkedIn" not in page


@pytest.mark.django_db
def test_a_configured_provider_appears_on_the_login_page(client: Client) -> None:
    providers = {"github": {"APPS": [{"client_id": "abc", "secret": "def"}]}}
    with override_settings(SOCIALACCOUNT_PROVIDERS=providers):
        page = client.get("/accounts/login/").content.decode()

    assert "GitHub" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("github_name", "display_name", "first_name", "last_name"),
    [
        # A right-to-left override, a zero-width space and a line break: the name as it shows.
        ("\u202eAna\u200b  Arias\n", "Ana Arias", "Ana", "Arias"),
        # Nothing readable: left for onboarding to ask, as the profile form would refuse it.
        ("\u3164\u200b", "", "", ""),
    ],
)
def test_a_provider_s_name_is_cleaned_as_the_profile_form_cleans_one(
    rf: RequestFactory, github_name: str, display_name: str, first_name: str, last_name: str
) -> None:
    providers = {"github": {"APPS": [{"client_id": "abc", "secret": "def"}]}}
    with override_settings(SOCIALACCOUNT_PROVIDERS=providers):
        request = rf.get("/accounts/github/login/callback/")
        github = get_social_adapter().get_provider(request, "github")
        # GitHub's answer about its user, as allauth's GitHub provider reads it.
        answer = {"id": 7, "login": "ana", "name": github_name, "email": "ana@example.com"}
        user = github.sociallogin_from_response(request, answer).user

    assert (user.display_name, user.first_name, user.last_name) == (
        display_name,
        first_name,
        last_name,
    )


def test_a_provider_s_sign_in_form_is_allowed_to_lead_to_the_provider(
    transactional_db: None,
    django_db_blocker: Any,
    collected_static: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """allauth answers a provider's sign-in form with a redirect to the provider, and a
    browser follows a form's redirect only to where the page's CSP `form-action` allows."""
    with production_server(
        name="providers",
        collected_static=collected_static,
        tmp_path_factory=tmp_path_factory,
        django_db_blocker=django_db_blocker,
        GITHUB_CLIENT_ID="abc",
        GITHUB_CLIENT_SECRET="def",
        GOOGLE_CLIENT_ID="ghi",
        GOOGLE_CLIENT_SECRET="jkl",
    ) as port:
        for provider in ("github", "google"):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", f"/accounts/{provider}/login/?process=login")
            response = connection.getresponse()
            page = response.read().decode()
            policy = response.getheader("Content-Security-Policy") or ""
            cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            assert cookie and token, page
            connection.request(
                "POST",
                f"/accounts/{provider}/login/?process=login",
                body=urllib.parse.urlencode({"csrfmiddlewaretoken": token[1]}),
                headers={
                    "Cookie": f"csrftoken={cookie[1]}",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
            response = connection.getresponse()
            response.read()
            connection.close()
            assert response.status == 302
            leads_to = urllib.parse.urlsplit(response.getheader("Location") or "")
            assert leads_to.hostname and leads_to.hostname.endswith(f"{provider}.com")
            form_action = re.search(r"form-action ([^;]+)", policy)
            assert form_action, policy
            allowed = form_action[1].split()
            assert f"{leads_to.scheme}://{leads_to.netloc}" in allowed, (provider, allowed)


@pytest.mark.django_db
def test_changing_the_email_asks_for_the_password_again(client: Client) -> None:
    member = UserFactory.create()
    client.post("/accounts/login/", {"login": member.email, "password": PASSWORD})

    response = client.post("/accounts/email/", {"action_add": "", "email": "otra@example.com"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")


@pytest.mark.django_db
def test_the_email_page_says_what_the_new_address_field_is_for_and_keeps_a_change_waiting(
    client: Client,
) -> None:
    member = UserFactory.create(email="ana@example.com")
    EmailAddress.objects.create(user=member, email="nueva@example.com", verified=False)
    client.force_login(member)

    page = client.get("/accounts/email/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # A phone offers to fill it in (WCAG 1.3.5).
    assert re.search(r'<input[^>]*name="email"[^>]*autocomplete="email"', page)
    assert 'value="ana@example.com"' in page and 'value="nueva@example.com"' in page
    assert "Re-send Verification" in page and "Cancel Change" in page
    # The form behind those buttons is hidden without an inline style, which the site's
    # Content-Security-Policy would refuse.
    hidden_form = re.search(r'<form id="pending-email"[^>]*>', page)
    assert hidden_form and " hidden" in hidden_form[0]
    assert 'style="' not in page


@override_settings(CONTACT_EMAIL="ayuda@cowork.example")
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "told"),
    [("es", "si en unos minutos no ha llegado, escríbenos"), ("en", "contact us")],
)
def test_a_page_that_says_write_to_us_gives_the_address(language: str, told: str) -> None:
    page = Client(HTTP_ACCEPT_LANGUAGE=language).get("/accounts/password/reset/done/")
    text = page.content.decode()
    assert told in text
    assert '<a href="mailto:ayuda@cowork.example">ayuda@cowork.example</a>' in text


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "es"])
def test_a_new_member_gets_emails_in_the_language_they_signed_up_in(language: str) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.post(
        "/accounts/signup/",
        {"email": "nueva@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert User.objects.get(email="nueva@example.com").language == language
    welcome = Client(HTTP_ACCEPT_LANGUAGE="es")
    welcome.force_login(User.objects.get(email="nueva@example.com"))
    page = welcome.get("/members/welcome/").content.decode()
    assert f'<option value="{language}" selected>' in page


@pytest.mark.django_db
def test_a_sign_up_that_signs_in_at_once_goes_to_the_welcome_form() -> None:
    """As a GitHub or Google sign-up does (their address comes verified): allauth asks the
    adapter where a sign-up goes, not where a login goes."""
    request = RequestFactory().get("/accounts/github/login/callback/")
    request.user = UserFactory.create()

    assert AccountAdapter(request).get_signup_redirect_url(request) == "/members/welcome/"
    request.user = onboarded_member("Ya Está", email="ya@example.com")
    assert AccountAdapter(request).get_signup_redirect_url(request) == "/"


@pytest.mark.django_db
def test_a_login_asked_for_by_a_page_goes_through_the_welcome_form_first(client: Client) -> None:
    newcomer = UserFactory.create(email="nuevo@example.com")

    response = client.post(
        "/accounts/login/?next=/events/", {"login": newcomer.email, "password": PASSWORD}
    )
    assert response["Location"] == "/members/welcome/?next=%2Fevents%2F"
    done = client.post(response["Location"], WELCOME)
    assert done["Location"] == "/events/"
    # Once welcomed, a login goes straight where it was asked to.
    client.logout()
    again = client.post(
        "/accounts/login/?next=/events/", {"login": newcomer.email, "password": PASSWORD}
    )
    assert again["Location"] == "/events/"


@pytest.mark.django_db
def test_the_welcome_form_never_sends_a_member_off_the_site(client: Client) -> None:
    newcomer = UserFactory.create()
    client.force_login(newcomer)

    done = client.post("/members/welcome/?next=https://evil.example/", WELCOME)
    assert done["Location"] == "/"


@pytest.mark.django_db
def test_a_provider_without_credentials_has_no_pages() -> None:
    """allauth installs every provider's addresses; one this site has no credentials for
    answers 404, not a 500 on the missing credentials."""
    client = Client()

    answers = [
        client.get("/accounts/github/login/").status_code,
        client.post("/accounts/github/login/").status_code,
        client.get("/accounts/google/login/token/").status_code,
    ]

    assert answers == [404, 404, 404]


@pytest.mark.django_db
def test_a_confirmation_link_opened_in_another_browser_confirms_but_signs_nobody_in(
    client: Client,
) -> None:
    client.post(
        "/accounts/signup/",
        {"email": "nueva@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    elsewhere = Client()  # a leaked link, or the address opened on another device

    response = elsewhere.post(confirmation_link(mail.outbox[0]))

    assert EmailAddress.objects.get(email="nueva@example.com").verified
    assert response["Location"] == "/accounts/login/"
    assert not elsewhere.get("/").context["user"].is_authenticated


@pytest.mark.django_db
def test_a_sign_up_asked_for_by_a_page_leads_there_from_a_link_opened_in_another_browser(
    client: Client,
) -> None:
    # A link to a members' page, shared in a chat, opened in the chat app's browser.
    asked = client.get("/pairs/")
    assert asked["Location"] == "/accounts/login/?next=/pairs/"
    link = signed_up_from(client, "/pairs/")
    assert link.endswith("/?next=%2Fpairs%2F")
    elsewhere = Client()  # the email, opened in the mail app

    page = elsewhere.get(link).content.decode()
    assert 'name="next" value="/pairs/"' in page
    confirmed = elsewhere.post(link, {"next": "/pairs/"})
    assert confirmed["Location"] == "/pairs/"
    login = elsewhere.get("/pairs/")["Location"]
    assert login == "/accounts/login/?next=/pairs/"
    signed_in = elsewhere.post(login, {"login": "nueva@example.com", "password": PASSWORD})
    assert signed_in["Location"] == "/members/welcome/?next=%2Fpairs%2F"


@pytest.mark.django_db
def test_a_confirmation_link_opened_again_says_the_address_is_confirmed(client: Client) -> None:
    link = signed_up_from(client, "/pairs/")
    client.post(link, {"next": "/pairs/"})
    elsewhere = Client(HTTP_ACCEPT_LANGUAGE="en")  # the email opened again, on the phone

    for again in (elsewhere.get(link), elsewhere.post(link, {"next": "/pairs/"})):
        page = again.content.decode()
        assert again.status_code == 200
        assert "This address is confirmed already" in page
        assert 'href="/accounts/login/?next=/pairs/"' in page
        assert "expired" not in page
    # In the browser that confirmed (signed in), the way on is home.
    assert (
        'href="/">Go to your home page'
        in client.get(link, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
    # A link that never was one is still called broken.
    forged = elsewhere.get("/accounts/confirm-email/Mg:1vXq:forged/").content.decode()
    assert "expired or is not valid" in forged


@pytest.mark.django_db
def test_a_confirmation_link_never_carries_a_page_of_another_site() -> None:
    for address, asked in (("nueva@example.com", "//evil.example/"), ("otra@example.com", "/")):
        Client().post(
            f"/accounts/signup/?next={asked}",
            {"email": address, "password1": PASSWORD, "password2": PASSWORD},
        )

    refused, allowed = (str(message.body) for message in mail.outbox)
    assert "evil" not in refused and "next" not in refused
    assert "?next=%2F" in allowed


@pytest.mark.django_db
def test_password_resets_for_one_address_are_emailed_ten_an_hour_at_most() -> None:
    UserFactory.create(email="ana@example.com")
    start = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    answers = []
    for minute in range(0, 24, 2):  # twelve, each from another browser, two minutes apart
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            response = Client().post("/accounts/password/reset/", {"email": "ana@example.com"})
            answers.append(response.status_code)

    assert len(mail.outbox) == 10
    assert answers[-2:] == [429, 429]


@pytest.mark.django_db
def test_an_account_made_with_capitals_signs_in_and_resets_its_password_however_typed(
    client: Client,
) -> None:
    boss = User.objects.create_superuser("Jefa@Example.com", PASSWORD)

    signed_in = client.post("/accounts/login/", {"login": "JEFA@example.com", "password": PASSWORD})
    Client().post("/accounts/password/reset/", {"email": "Jefa@Example.com"})

    assert boss.email == "jefa@example.com"
    assert signed_in.status_code == 302
    [reset] = mail.outbox
    assert reset.to == ["jefa@example.com"] and "/accounts/password/reset/key/" in reset.body


@pytest.mark.django_db
def test_a_reset_link_that_no_longer_works_is_titled_so(client: Client, settings: Any) -> None:
    UserFactory.create(email="ana@example.com")

    page = client.get(
        "/accounts/password/reset/key/1-forged/", follow=True, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    assert f"<title>Bad Token · {settings.SITE_NAME}</title>" in page
    assert "The password reset link was invalid" in page
    spanish = client.get("/accounts/password/reset/key/1-forged/", follow=True).content.decode()
    assert f"<title>El enlace no funciona · {settings.SITE_NAME}</title>" in spanish


@pytest.mark.django_db
def test_the_owner_s_first_account_signs_in_without_waiting_for_an_email(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`createsuperuser` on a new site, whose mail may not be set up yet."""
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command(
        "createsuperuser", "--noinput", "--email", "Owner@Example.org", stdout=io.StringIO()
    )

    signed_in = client.post(
        "/accounts/login/", {"login": "owner@example.org", "password": PASSWORD}
    )

    # Straight to the welcome form, not to "confirm your address".
    assert signed_in.status_code == 302 and signed_in["Location"] == "/members/welcome/"
    assert not mail.outbox
    assert client.get("/admin/").status_code == 200
    owner = User.objects.get()
    assert owner.is_superuser and owner.email == "owner@example.org"
    assert EmailAddress.objects.get(user=owner).verified


@pytest.mark.django_db
def test_staff_adding_an_account_in_the_admin_store_its_address_in_lower_case(
    client: Client,
) -> None:
    client.force_login(User.objects.create_superuser("boss@example.com", PASSWORD))

    added = client.post(
        "/admin/members/user/add/",
        {
            # The page's inline profile, empty.
            "profile-TOTAL_FORMS": "0",
            "profile-INITIAL_FORMS": "0",
            "email": "Nuevo.Socio@Example.com",
            "password1": "una-clave-2026",
            "password2": "una-clave-2026",
        },
    )

    assert added.status_code == 302
    assert User.objects.filter(email="nuevo.socio@example.com").exists()


@pytest.mark.django_db
def test_a_request_still_holding_the_key_a_sign_in_replaced_leaves_the_browser_signed_in(
    client: Client,
) -> None:
    """The service worker's update check (browsers send one on navigations) or another tab,
    in flight with the session key a sign-in just replaced: answered after the sign-in, a
    deletion of the cookie signed the member out on their next page."""
    member = onboarded_member("Valeria Soto")
    session = client.session  # the visitor's session before signing in
    session["seen"] = True
    session.save()
    old_key = session.session_key
    assert old_key is not None

    assert login(client, member.email, PASSWORD) == "/admin/"
    assert client.cookies["sessionid"].value != old_key

    in_flight = Client()
    in_flight.cookies["sessionid"] = old_key
    response = in_flight.get("/service-worker.js")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert "Cookie" in response["Vary"]
    assert client.get("/").context["user"] == member

    # Signing out still takes the cookie away.
    client.post("/accounts/logout/")
    assert client.cookies["sessionid"].value == ""


@pytest.mark.django_db
def test_a_suspended_member_s_pending_address_change_link_changes_nothing(staff: Any) -> None:
    """Confirmed, the new address would replace the old one and free it for a new sign-up."""
    from allauth.account.models import EmailConfirmationHMAC

    from members.services import member_reinstate, member_suspend

    ana = onboarded_member("Ana Arias", email="ana@example.com")
    new = EmailAddress.objects.create(user=ana, email="ana.new@example.com", verified=False)
    link = f"/accounts/confirm-email/{EmailConfirmationHMAC(new).key}/"
    member_suspend(user=ana, by=staff)

    page = Client().get(link)
    Client().post(link)

    assert f'action="{link}"' not in page.content.decode()  # no button to confirm
    ana.refresh_from_db()
    new.refresh_from_db()
    assert (ana.email, new.verified) == ("ana@example.com", False)
    member_reinstate(user=ana)
    assert Client().post(link).status_code == 302  # the same link works again
    new.refresh_from_db()
    assert new.verified

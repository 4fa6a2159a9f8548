"""The member's settings (the profile form's account part), through the HTTP client: the ways
to change email and password, and the time-zone picker grouped by region.

Personas (tests/conftest.py): Alice is an onboarded member; newcomers come from factories."""

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client

from members.models import User
from tests.factories import client_for
from tests.test_members_profile import VALID

pytestmark = pytest.mark.django_db

# Madrid in winter (UTC+1) and in summer (UTC+2); Bogotá keeps UTC-5 all year.
WINTER = datetime(2027, 1, 18, 12, 0, tzinfo=UTC)
SUMMER = datetime(2027, 7, 19, 12, 0, tzinfo=UTC)


def time_zone_groups(page: str) -> dict[str, list[tuple[str, str]]]:
    """The time-zone select as drawn: each group's label and its (value, label) options."""
    select = re.search(r'<select name="time_zone".*?</select>', page, re.S)
    assert select, "no time-zone select on the page"
    outside = re.sub(r"<optgroup.*?</optgroup>", "", select[0], flags=re.S)
    assert "<option" not in outside, "a time zone outside any region"
    return {
        label: re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', options)
        for label, options in re.findall(
            r'<optgroup label="([^"]+)">(.*?)</optgroup>', select[0], re.S
        )
    }


def selected_zone(page: str) -> str:
    selected = [
        value
        for zones in time_zone_groups(page).values()
        for value, _label in zones
        if re.search(rf'<option value="{re.escape(value)}"[^>]*\bselected\b', page)
    ]
    assert len(selected) == 1, selected
    return selected[0]


def test_the_settings_link_to_changing_email_and_password(alice: User) -> None:
    client = client_for(alice)

    page = client.get("/members/me/edit/").content.decode()

    section = re.search(
        r'<section class="card" aria-labelledby="sign-in-title">.*?</section>', page, re.S
    )
    assert section, "no sign-in section on the settings page"
    assert "Your email address: alice@example.com" in section[0]
    links = dict(re.findall(r'<a href="([^"]+)">([^<]+)</a>', section[0]))
    assert links == {
        "/accounts/email/": "Change your email address",
        "/accounts/password/change/": "Change your password",
    }
    for url in links:
        assert client.get(url).status_code == 200, url


def test_with_social_sign_in_on_the_linked_accounts_are_a_click_away(
    alice: User, settings: Any
) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {"github": {"APPS": []}}

    page = client_for(alice).get("/members/me/edit/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<a href="/accounts/3rdparty/">Accounts you sign in with</a>' in page


def test_a_member_without_a_password_is_offered_to_set_one(alice: User) -> None:
    alice.set_unusable_password()
    alice.save()

    page = client_for(alice).get("/members/me/edit/").content.decode()

    assert '<a href="/accounts/password/set/">Set a password</a>' in page
    assert "Change your password" not in page


@time_machine.travel(WINTER, tick=False)
def test_time_zones_are_grouped_by_region_with_their_offset_today(alice: User) -> None:
    groups = time_zone_groups(client_for(alice).get("/members/me/edit/").content.decode())

    assert list(groups)[:2] == ["Europe", "America"]  # the community's regions first
    assert {"Africa", "Asia", "Atlantic Ocean", "Pacific Ocean"} <= set(groups)
    assert ("Europe/Madrid", "Madrid (UTC+1)") in groups["Europe"]
    assert ("Atlantic/Canary", "Canaries (UTC+0)") in groups["Atlantic Ocean"]
    assert ("America/Bogota", "Bogotá (UTC-5)") in groups["America"]
    assert ("America/Argentina/Buenos_Aires", "Buenos Aires (UTC-3)") in groups["America"]
    assert ("Asia/Kolkata", "Kolkata (UTC+5:30)") in groups["Asia"]
    # Each place once: not its older names ("America/Buenos_Aires", "Mexico/General").
    values = [value for zones in groups.values() for value, _ in zones]
    assert len(values) == len(set(values)) > 400
    assert "America/Buenos_Aires" not in values and "Asia/Calcutta" not in values
    assert all("/" in value and not value.startswith(("Etc/", "US/")) for value in values)
    america = [label for _, label in groups["America"]]
    assert america.index("Bogotá (UTC-5)") < america.index("Boise (UTC-7)")


@time_machine.travel(SUMMER, tick=False)
def test_the_offsets_follow_summer_time(alice: User) -> None:
    groups = time_zone_groups(client_for(alice).get("/members/me/edit/").content.decode())

    assert ("Europe/Madrid", "Madrid (UTC+2)") in groups["Europe"]
    assert ("America/Bogota", "Bogotá (UTC-5)") in groups["America"]


@time_machine.travel(WINTER, tick=False)
def test_the_regions_and_places_are_named_in_the_members_language(alice: User) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(alice)

    groups = time_zone_groups(client.get("/members/me/edit/").content.decode())

    assert list(groups)[:2] == ["Europa", "América"]
    assert ("America/Mexico_City", "Ciudad de México (UTC-6)") in groups["América"]
    assert ("America/New_York", "Nueva York (UTC-5)") in groups["América"]
    assert ("Europe/London", "Londres (UTC+0)") in groups["Europa"]
    assert ("Atlantic/Canary", "Canarias (UTC+0)") in groups["Océano Atlántico"]
    # In the order of the names as read: "Ciudad de México" among the C's.
    america = [label for _, label in groups["América"]]
    assert america.index("Chihuahua (UTC-6)") < america.index("Ciudad de México (UTC-6)")
    assert america.index("Ciudad de México (UTC-6)") < america.index("Costa Rica (UTC-6)")


def test_a_saved_zone_is_shown_chosen_and_kept_on_saving(alice: User) -> None:
    alice.time_zone = "America/Bogota"
    alice.save()
    client = client_for(alice)

    assert selected_zone(client.get("/members/me/edit/").content.decode()) == "America/Bogota"
    response = client.post("/members/me/edit/", {**VALID, "time_zone": "America/Bogota"})

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.time_zone == "America/Bogota"


def test_a_zone_saved_under_an_older_name_is_shown_and_kept_as_its_zone(alice: User) -> None:
    alice.time_zone = "Mexico/General"
    alice.save()
    client = client_for(alice)

    page = client.get("/members/me/edit/").content.decode()
    assert selected_zone(page) == "America/Mexico_City"
    response = client.post("/members/me/edit/", {**VALID, "time_zone": "America/Mexico_City"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.time_zone == "America/Mexico_City"
    # A form sent with the older name (a page open since before) is kept as the same zone.
    response = client.post("/members/me/edit/", {**VALID, "time_zone": "Mexico/General"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.time_zone == "America/Mexico_City"


def test_the_account_pages_lead_to_each_other(alice: User, settings: Any) -> None:
    """From "Account settings" (the email page) to the password and the signed-in devices,
    and back, each page marking itself."""
    alices = client_for(alice)
    pages = {
        "/accounts/email/": "Email address",
        "/accounts/password/change/": "Password",
        "/accounts/sessions/": "Where you are signed in",
    }
    for url, name in pages.items():
        html = alices.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        nav = html.split('aria-label="Your account"')[1].split("</nav>")[0]
        assert dict(re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)) == pages, url
        assert f'<a href="{url}" aria-current="page">{name}</a>' in nav
    assert 'aria-label="Your account"' not in Client().get("/accounts/login/").content.decode()

    alice.set_unusable_password()
    alice.save()
    settings.SOCIALACCOUNT_PROVIDERS = {"github": {"APPS": [{"client_id": "c", "secret": "s"}]}}
    nav = client_for(alice).get("/accounts/email/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<a href="/accounts/password/set/">Password</a>' in nav
    assert '<a href="/accounts/3rdparty/">Accounts you sign in with</a>' in nav

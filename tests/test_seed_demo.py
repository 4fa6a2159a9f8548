from collections import Counter

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from demo import data as demo
from members.models import Profile, User
from rooms.models import Room


@pytest.mark.django_db
def test_it_creates_a_believable_community_once() -> None:
    call_command("seed_demo")
    call_command("seed_demo")

    assert User.objects.count() == demo.MEMBER_COUNT + 1
    assert User.objects.filter(is_staff=True).get().email == demo.STAFF_EMAIL
    assert Profile.objects.filter(onboarded_at__isnull=False).count() == demo.MEMBER_COUNT + 1
    assert Profile.objects.exclude(bio="").count() == demo.MEMBER_COUNT + 1
    assert all(profile.languages.exists() for profile in Profile.objects.all())
    member = User.objects.get(email=demo.MEMBER_EMAIL)
    assert member.acquaintances.count() >= 3
    assert EmailAddress.objects.filter(verified=True).count() == demo.MEMBER_COUNT + 1
    zones = Counter(User.objects.values_list("time_zone", flat=True))
    assert len(zones) >= 10
    assert {"Europe/Madrid", "America/Mexico_City", "America/Bogota"} <= set(zones)
    assert all(profile.interests.count() >= 3 for profile in Profile.objects.all())
    cafeteria = Room.objects.get(kind=Room.Kind.CAFETERIA)
    assert cafeteria.messages.count() == len(demo.CAFETERIA_CHAT)
    assert Room.objects.filter(kind=Room.Kind.PERMANENT).count() == 1
    assert Room.objects.filter(kind=Room.Kind.MEMBER).count() == 1


@pytest.mark.django_db
def test_the_printed_demo_accounts_can_log_in(client) -> None:
    call_command("seed_demo")

    for email, password in [
        (demo.STAFF_EMAIL, demo.STAFF_PASSWORD),
        (demo.MEMBER_EMAIL, demo.MEMBER_PASSWORD),
    ]:
        response = client.post("/accounts/login/", {"login": email, "password": password})
        assert response.status_code == 302, email
        assert response["Location"] == "/"  # onboarded already, so no welcome page
        client.logout()

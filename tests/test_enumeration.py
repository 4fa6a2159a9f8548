"""Nothing tells a visitor or a member whether an email address has an account.

Two places could: a private room's invitations by email (an address without an account is
left out without a word) and sign-up (an address that has an account gets the same answer,
after the same work, and an email saying so instead of a confirmation).

Personas (tests/conftest.py): Alice opens a private room and invites by email; Carla is a
member she reaches by address; nobody@example.com has no account.
"""

import re
from typing import Any, ClassVar

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.test import Client

from members.models import User
from rooms.models import Room
from tests.factories import PASSWORD, RoomFactory, UserFactory, client_for, onboarded_member

MEMBER = "carla@example.com"
NOBODY = "nobody@example.com"


@pytest.fixture
def carla(db: None) -> User:
    return onboarded_member("Carla Cano", email=MEMBER)


def same_page(html: str, *, address: str = "") -> str:
    """The page without what differs on every response (CSRF tokens, CSP nonces, the
    moment a room page was drawn) or names the address itself."""
    html = re.sub(r'(name="csrfmiddlewaretoken" value=)"[^"]+"', r"\1", html)
    html = re.sub(r'nonce="[^"]+"', "", html)
    html = re.sub(r'data-synced-at="\d+"', "", html)
    html = re.sub(r'data-now="[^"]+"', "", html)  # the server's clock (static/js/clock.js)
    return html.replace(address, "ADDRESS") if address else html


# a private room's invitations ---------------------------------------------------------------


@pytest.mark.django_db
def test_inviting_an_address_without_an_account_looks_like_inviting_a_member(
    alice: User, carla: User
) -> None:
    room = RoomFactory.create(created_by=alice, private=True)
    creator = client_for(alice)

    answers = [
        creator.post(f"/rooms/{room.slug}/invite/", {"emails": address}, follow=True)
        for address in (MEMBER, NOBODY)
    ]

    assert [response.redirect_chain for response in answers] == 2 * [
        [(f"/rooms/{room.slug}/", 302)]
    ]
    member_page, nobody_page = (same_page(response.content.decode()) for response in answers)
    assert "anyone with an account at the addresses you wrote, may come in now" in nobody_page
    assert member_page == nobody_page
    assert list(room.invitees.all()) == [carla]


@pytest.mark.django_db
def test_a_former_members_address_is_left_out_like_any_other(alice: User) -> None:
    onboarded_member("Gone Member", email="gone@example.com", is_active=False)
    room = RoomFactory.create(created_by=alice, private=True)

    response = client_for(alice).post(f"/rooms/{room.slug}/invite/", {"emails": "gone@example.com"})

    assert response.status_code == 302 and response["Location"] == f"/rooms/{room.slug}/"
    assert not room.invitees.exists()


@pytest.mark.django_db
def test_a_public_room_refuses_invitations_to_any_address_alike(alice: User, carla: User) -> None:
    creator = client_for(alice)
    form = {"name": "Logo feedback", "description": "", "access": "public"}

    answers = [
        creator.post("/rooms/new/", {**form, "emails": address}) for address in (MEMBER, NOBODY)
    ]

    assert [response.status_code for response in answers] == [400, 400]
    member_page, nobody_page = (
        same_page(response.content.decode(), address=address)
        for response, address in zip(answers, (MEMBER, NOBODY), strict=True)
    )
    assert "Invitations are for private rooms" in nobody_page
    assert member_page == nobody_page
    assert not Room.objects.filter(name="Logo feedback").exists()


# sign-up --------------------------------------------------------------------------------------


class CountingHasher(MD5PasswordHasher):
    """The test suite's fast hasher, counting the passwords it hashes."""

    algorithm = "counting_md5"
    hashed: ClassVar[int] = 0

    def encode(self, password: str, salt: str) -> str:
        CountingHasher.hashed += 1
        return super().encode(password, salt)


@pytest.fixture
def counting_hasher(settings: Any) -> type[CountingHasher]:
    settings.PASSWORD_HASHERS = ["tests.test_enumeration.CountingHasher"]
    CountingHasher.hashed = 0
    return CountingHasher


def sign_up(email: str) -> Any:
    return Client(HTTP_ACCEPT_LANGUAGE="en").post(
        "/accounts/signup/",
        {"email": email, "password1": PASSWORD, "password2": PASSWORD},
        follow=True,
    )


@pytest.mark.django_db
def test_signing_up_with_an_address_that_has_an_account_looks_like_signing_up() -> None:
    UserFactory.create(email="taken@example.com")

    new, taken = sign_up("new@example.com"), sign_up("taken@example.com")

    assert new.redirect_chain == taken.redirect_chain == [("/accounts/confirm-email/", 302)]
    assert same_page(new.content.decode(), address="new@example.com") == same_page(
        taken.content.decode(), address="taken@example.com"
    )
    # Each address hears what is true of it: a link to confirm, or "you already have one".
    assert [message.to for message in mail.outbox] == [["new@example.com"], ["taken@example.com"]]
    assert "/accounts/confirm-email/" in str(mail.outbox[0].body)
    assert "/accounts/confirm-email/" not in str(mail.outbox[1].body)
    assert User.objects.filter(email__in=["new@example.com", "taken@example.com"]).count() == 2


@pytest.mark.django_db
def test_both_sign_ups_hash_a_password_once(counting_hasher: type[CountingHasher]) -> None:
    """The hash is the slow part of a sign-up (by design): an address that has an account
    must cost it too, or the response time tells which addresses have one."""
    existing = User.objects.create(email="taken@example.com")  # no password hashed here
    assert counting_hasher.hashed == 0

    sign_up("new@example.com")
    new = counting_hasher.hashed
    sign_up(existing.email)
    taken = counting_hasher.hashed - new

    assert new == taken == 1

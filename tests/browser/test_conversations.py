"""A conversation in the browser: started from a profile, answered by the other member,
with no serious accessibility problem on its pages."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, onboarded_member

pytestmark = pytest.mark.browser

NewPage = Callable[..., Page]
Login = Callable[[Page, str, str, str], None]
AxeCheck = Callable[[Page], None]


def test_two_members_write_to_each_other_from_a_profile(
    new_page: NewPage, asgi_server: str, login: Login, axe_check: AxeCheck
) -> None:
    ana = onboarded_member("Ana Arias", email="ana@example.com")
    beto = onboarded_member("Beto Blanco", email="beto@example.com")
    anas, betos = new_page(), new_page(locale="es-ES", color_scheme="dark")
    login(anas, asgi_server, ana.email, PASSWORD)
    login(betos, asgi_server, beto.email, PASSWORD)

    anas.goto(f"/members/{beto.pk}/")
    anas.get_by_role("button", name="Send a message").click()
    expect(anas.get_by_role("heading", level=1)).to_have_text("Beto Blanco")
    axe_check(anas)
    anas.get_by_role("textbox", name="Message").fill("¿Un café virtual el jueves?")
    anas.get_by_role("button", name="Send").click()
    expect(anas.locator("#latest")).to_contain_text("¿Un café virtual el jueves?")

    betos.goto("/messages/")
    entry = betos.locator(".conversation-entry", has_text="Ana Arias")
    expect(entry).to_contain_text("1 mensaje sin leer")
    axe_check(betos)
    entry.get_by_role("link", name="Ana Arias").click()
    expect(betos.locator("#latest")).to_contain_text("¿Un café virtual el jueves?")
    betos.get_by_role("textbox", name="Mensaje").fill("¡Claro! A las 10.")
    betos.get_by_role("button", name="Enviar").click()
    expect(betos.locator("#latest")).to_contain_text("¡Claro! A las 10.")
    axe_check(betos)

    anas.goto("/messages/")
    expect(anas.locator(".conversation-entry")).to_contain_text("1 unread message")

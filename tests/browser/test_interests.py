"""The interest picker on the profile form as a person uses it (docs/interests.md): typing a
tag in either language ticks it at once, what matches no tag is suggested on saving, and the
form passes axe before and after."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from members.models import User
from tests.factories import PASSWORD, InterestFactory

pytestmark = pytest.mark.browser

Login = Callable[[Page, str, str, str], None]
AxeCheck = Callable[[Page], None]

# What Chrome does when a member picks an option of the datalist: the whole text is replaced
# by the option's value, announced by a plain "input" event.
PICK_FROM_LIST = """(input, value) => {
    input.value = value;
    input.dispatchEvent(new Event("input", { bubbles: true }));
}"""


def test_typing_ticks_tags_in_either_language_and_suggests_the_rest(
    page: Page, asgi_server: str, alice: User, login: Login, axe_check: AxeCheck
) -> None:
    InterestFactory.create(label_es="Fotografía", label_en="Photography")
    InterestFactory.create(label_es="Escritura", label_en="Writing")
    login(page, asgi_server, alice.email, PASSWORD)
    page.goto("/members/me/edit/")
    typed = page.get_by_label("Skills and interests")
    chosen = page.get_by_role("group", name="Chosen")
    status = page.locator("[data-interest-status]")
    expect(chosen.get_by_role("checkbox", checked=True)).to_have_count(2)  # Café, Python
    axe_check(page)

    typed.press_sequentially("fotografia")  # Spanish without its accent, on an English page
    typed.press("Enter")

    assert page.url.endswith("/members/me/edit/")  # Enter took the tag, it sent nothing
    expect(chosen.get_by_role("checkbox", name="Photography")).to_be_checked()
    expect(typed).to_have_value("")
    expect(status).to_have_text("Added to your list: Photography.")

    typed.press_sequentially("Cerámica, ")
    typed.evaluate(PICK_FROM_LIST, "Writing")

    expect(chosen.get_by_role("checkbox", name="Writing")).to_be_checked()
    expect(typed).to_have_value("Cerámica, ")  # the pick did not swallow what came before
    typed.press("Enter")
    expect(status).to_have_text(
        "“Cerámica” is not in the list yet: save to suggest it to our team."
    )
    chosen.get_by_role("checkbox", name="Café").uncheck()
    axe_check(page)

    page.get_by_role("button", name="Save profile").click()

    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    expect(
        page.get_by_text("Our team will review “Cerámica” before it shows to others")
    ).to_be_visible()
    tags = page.get_by_role("region", name="Skills and interests").get_by_role("listitem")
    expect(tags).to_have_text(["Photography", "Python", "Writing", "Cerámica (waiting for review)"])
    assert sorted(tag.label_es for tag in alice.profile.interests.all()) == [
        "Cerámica",
        "Escritura",
        "Fotografía",
        "Python",
    ]
    axe_check(page)

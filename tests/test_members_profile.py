"""Onboarding, profile pages and "people I've met", through the HTTP client."""

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from members import services
from members.models import Acquaintance, MessagesFrom, Profile, User
from tests.factories import (
    InterestFactory,
    ProfileFactory,
    UserFactory,
    client_for,
    onboarded_member,
)

VALID = {
    "display_name": "Lucía Pérez",
    "headline": "Ilustradora",
    "bio": "Dibujo cosas.",
    "city": "Sevilla",
    "country": "ES",
    "time_zone": "Europe/Madrid",
    "working_hours_start": "09:00",
    "working_hours_end": "17:00",
    "working_days": ["0", "1", "2", "3", "4"],
    "languages": ["es", "en"],
    "language": "es",
    "interest_names": "Ilustración, Café",
    "open_to_chat": "on",
    "visible_in_directory": "on",
}


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (300, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def sideways_jpeg(size: tuple[int, int], top: int) -> bytes:
    """A portrait photo as a camera stores it: on its side, blue with its top (`top` pixels,
    red) on the left, and an EXIF Orientation saying to turn it 90° clockwise."""
    sideways = Image.new("RGB", size, (0, 0, 255))
    sideways.paste((255, 0, 0), (0, 0, top, size[1]))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    sideways.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def mpo_bytes() -> bytes:
    """A red photo followed by a small blue second image, with the Multi-Picture index that
    tells them apart: a JPEG as many cameras and phones write it (Pillow calls it "MPO")."""
    buffer = io.BytesIO()
    second = Image.new("RGB", (160, 120), (30, 30, 200))
    Image.new("RGB", (800, 600), (200, 30, 30)).save(
        buffer, format="MPO", save_all=True, append_images=[second]
    )
    return buffer.getvalue()


def too_many_pixels_png() -> bytes:
    """8000 × 6000 pixels in black and white: the pixel count is what is refused, and
    compressing a colour picture that size took a second of every worker's collection."""
    buffer = io.BytesIO()
    Image.new("1", (8000, 6000), 1).save(buffer, format="PNG")
    return buffer.getvalue()


def onboard(client: Client, **changes: Any) -> Any:
    return client.post("/members/welcome/", {**VALID, **changes}, HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def newcomer(client: Client) -> User:
    """A newcomer signed in on `client` who has not onboarded yet (no profile)."""
    user = UserFactory.create()
    client.force_login(user)
    return user


@pytest.mark.django_db
def test_onboarding_needs_a_login(client: Client) -> None:
    response = client.get("/members/welcome/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_the_welcome_form_says_what_each_personal_field_is_and_links_its_help(
    client: Client, newcomer: User
) -> None:
    form = client.get("/members/welcome/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # Browsers and assistive tools can fill these in and mark them (WCAG 1.3.5).
    for name, purpose in [
        ("display_name", "name"),
        ("city", "address-level2"),
        ("country", "country"),
        ("website", "url"),
        ("language", "language"),
    ]:
        [tag] = re.findall(rf'<(?:input|select)[^>]*name="{name}"[^>]*>', form)
        assert f'autocomplete="{purpose}"' in tag, name
    # The coffee pairs' help is the one the box names as its description.
    assert 'aria-describedby="id_coffee_pairs_helptext"' in form
    assert 'id="id_coffee_pairs_helptext"' in form


@pytest.mark.django_db
def test_onboarding_saves_the_whole_profile(client: Client, newcomer: User) -> None:
    InterestFactory.create(label_es="Café", label_en="Coffee")

    response = onboard(client)

    assert response.status_code == 302
    profile = Profile.objects.get(user=newcomer)
    newcomer.refresh_from_db()
    assert newcomer.display_name == "Lucía Pérez"
    assert profile.onboarded_at is not None
    assert profile.working_days == [0, 1, 2, 3, 4]
    assert sorted(language.code for language in profile.languages.all()) == ["en", "es"]
    # Café was a tag already; Ilustración waits for staff, so nobody finds it yet.
    assert sorted(interest.label_es for interest in profile.interests.all()) == [
        "Café",
        "Ilustración",
    ]
    assert [str(interest) for interest in profile.suggested_interests] == ["Ilustración"]
    assert "lucia perez" in profile.search_text and "cafe coffee" in profile.search_text
    assert "ilustracion" not in profile.search_text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Select a valid choice"),
        ({"working_hours_end": "09:00"}, "working_hours_end", "must last some time"),
        ({"bio": "x" * 10_000}, "bio", "at most 2000 characters"),
        ({"headline": ""}, "headline", "This field is required"),
        ({"languages": []}, "languages", "Choose at least one language"),
        ({"website": "javascript:alert(1)"}, "website", "Enter a valid URL"),
        ({"interest_names": ", ".join(f"tag{n}" for n in range(20))}, "interest_names", "up to 15"),
    ],
)
@pytest.mark.django_db
def test_bad_input_re_renders_with_the_error_and_keeps_what_was_typed(
    client: Client, newcomer: User, changes: dict[str, Any], field: str, message: str
) -> None:
    response = onboard(client, **changes)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    page = response.content.decode()
    assert 'value="Lucía Pérez"' in page
    assert Profile.objects.get(user=newcomer).onboarded_at is None
    # The field (or its group of choices) is described by its error, for screen readers.
    assert f'id="id_{field}_error"' in page
    assert re.search(rf'aria-describedby="[^"]*\bid_{field}_error\b', page)


@pytest.mark.django_db
def test_html_in_every_text_field_is_shown_as_text(client: Client, newcomer: User) -> None:
    script = "<script>alert('x')</script>"
    onboard(
        client,
        display_name=script,
        headline=script,
        bio=script,
        city=script,
        interest_names="<b>bold</b>",
    )

    page = client.get(f"/members/{newcomer.pk}/").content.decode()

    assert script not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;" in page


@pytest.mark.django_db
def test_a_photo_is_re_encoded_with_a_generated_name_and_a_thumbnail(
    client: Client, newcomer: User
) -> None:
    upload = SimpleUploadedFile("../../etc/passwd.png", image_bytes(), content_type="image/png")

    assert onboard(client, photo_upload=upload).status_code == 302

    profile = Profile.objects.get(user=newcomer)
    name = profile.photo.name or ""
    assert name.startswith("photos/") and name.endswith(".webp")
    assert "passwd" not in name
    with Image.open(profile.photo.path) as photo, Image.open(profile.photo_thumbnail.path) as thumb:
        assert photo.format == "WEBP" and photo.size == (512, 512)
        assert thumb.size == (96, 96)
    assert profile.photo.url in client.get(f"/members/{newcomer.pk}/").content.decode()


@pytest.mark.django_db
def test_a_camera_jpeg_with_a_second_image_is_taken_as_the_photo_it_shows(
    client: Client, newcomer: User
) -> None:
    onboard(client)
    upload = SimpleUploadedFile("DSC01234.JPG", mpo_bytes(), content_type="image/jpeg")

    response = client.post(
        "/members/me/edit/", {**VALID, "photo_upload": upload}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 302
    with Image.open(Profile.objects.get(user=newcomer).photo.path) as photo:
        red, _green, blue = photo.convert("RGB").getpixel((256, 256))  # type: ignore[misc]
    assert red > 180 and blue < 60  # the first image, not the second


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"GIF89a" + b"\x00" * 100, "fake.png", "not an image we can read"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "x.svg", "not an image we can read"),
        (image_bytes("GIF"), "anim.gif", "Upload a JPEG, PNG or WebP image"),
        (too_many_pixels_png(), "huge.png", "too many pixels"),
    ],
)
@pytest.mark.django_db
def test_fake_and_dangerous_images_are_refused(
    client: Client, newcomer: User, content: bytes, name: str, message: str
) -> None:
    response = onboard(client, photo_upload=SimpleUploadedFile(name, content))

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["photo_upload"])
    assert not Profile.objects.get(user=newcomer).photo


@pytest.mark.django_db
def test_a_good_photo_is_kept_when_another_field_is_refused(client: Client, newcomer: User) -> None:
    upload = SimpleUploadedFile("me.png", image_bytes(), content_type="image/png")

    response = onboard(client, photo_upload=upload, working_hours_end="09:00")

    assert response.status_code == 200
    assert "must last some time" in " ".join(response.context["form"].errors["working_hours_end"])
    assert "Your new photo is saved. Fix what is marked below to save the rest." in (
        response.content.decode()
    )
    profile = Profile.objects.get(user=newcomer)
    assert (profile.photo.name or "").endswith(".webp") and profile.photo_thumbnail
    assert profile.onboarded_at is None and profile.headline == ""  # the rest waits
    # The page shows it, so that nobody chooses it again.
    assert profile.photo.url in response.content.decode()


@pytest.mark.django_db
def test_an_oversized_file_is_refused(client: Client, newcomer: User) -> None:
    response = onboard(client, photo_upload=SimpleUploadedFile("big.jpg", b"0" * (5 * 2**20 + 1)))

    assert "too large" in " ".join(response.context["form"].errors["photo_upload"])


@pytest.mark.django_db
def test_removing_the_photo_falls_back_to_initials(client: Client, newcomer: User) -> None:
    onboard(client, photo_upload=SimpleUploadedFile("me.jpg", image_bytes("JPEG")))
    client.post("/members/me/edit/", {**VALID, "remove_photo": "on"}, HTTP_ACCEPT_LANGUAGE="en")

    profile = Profile.objects.get(user=newcomer)
    assert not profile.photo and not profile.photo_thumbnail
    assert 'class="avatar avatar-lg' in client.get(f"/members/{newcomer.pk}/").content.decode()
    assert "<img" not in header_menu(client)


def header_menu(client: Client) -> str:
    """The account menu's button in the header, on the home page."""
    page = client.get("/").content.decode()
    return page.split('<details class="menu">', 1)[1].split("</summary>", 1)[0]


@pytest.mark.django_db
def test_the_header_shows_the_member_s_photo_and_staff_can_take_it_down(
    client: Client, newcomer: User, staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    onboard(client, photo_upload=SimpleUploadedFile("me.jpg", image_bytes("JPEG")))
    thumbnail = Profile.objects.get(user=newcomer).photo_thumbnail
    assert f'src="{thumbnail.url}"' in header_menu(client)
    files = [Profile.objects.get(user=newcomer).photo.path, thumbnail.path]

    # An unsuitable photo: staff take it down from the member list.
    admin = Client()
    admin.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):  # the files go once it commits
        admin.post(
            "/admin/members/user/",
            {"action": "photo_remove", "_selected_action": [newcomer.pk]},
        )

    profile = Profile.objects.get(user=newcomer)
    assert not profile.photo and not profile.photo_thumbnail
    assert not any(Path(path).exists() for path in files)
    assert "<img" not in header_menu(client)
    profile_page = client.get(f"/members/{newcomer.pk}/").content.decode()
    assert "<img" not in profile_page.split("<main", 1)[1]


@pytest.mark.django_db
def test_a_deletion_that_fails_half_way_keeps_the_photo_it_had_not_finished_with(
    client: Client, newcomer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The account's deletion is one transaction: rolled back, the profile still shows its
    photo, so its files must still be there."""
    from members import privacy

    onboard(client, photo_upload=SimpleUploadedFile("me.jpg", image_bytes("JPEG")))
    profile = Profile.objects.get(user=newcomer)
    files = [Path(profile.photo.path), Path(profile.photo_thumbnail.path)]

    def failing(user: User) -> None:
        raise RuntimeError("the database went away")

    # After the profile's entry, before the account's (which goes last).
    broken = privacy.PersonalData("broken", (), lambda user: None, failing, privacy.Deletion.ERASE)
    monkeypatch.setitem(privacy._registry, "broken", broken)
    with pytest.raises(RuntimeError):
        privacy.account_delete(user=newcomer)

    assert Profile.objects.get(user=newcomer).photo.name == profile.photo.name
    assert all(path.exists() for path in files)


@pytest.mark.django_db
def test_the_welcome_form_comes_first_and_only_once(client: Client, newcomer: User) -> None:
    # The edit page would mark a newcomer welcomed without joining the coffee pairs; the
    # welcome form again would join them back after they left.
    answer = client.get("/members/me/edit/?next=/events/")
    assert answer["Location"] == "/members/welcome/?next=%2Fevents%2F"
    onboard(client)
    assert client.get("/members/welcome/")["Location"] == "/members/me/edit/"


@pytest.mark.django_db
def test_editing_the_profile_shows_what_is_saved(client: Client, newcomer: User) -> None:
    InterestFactory.create(label_es="Café", label_en="Coffee")
    onboard(client)

    response = client.get("/members/me/edit/", HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    ticked = re.findall(
        r'name="interests" value="\d+" id="id_interests_\d+" checked>\s*([^<]+)<', page
    )
    assert ticked == ["Coffee", "Ilustración (waiting for review)"]
    assert 'value="09:00"' in page


@pytest.mark.django_db
def test_profiles_are_for_members_unless_made_public(
    client: Client, alice: User, bob: User
) -> None:
    Profile.objects.filter(user=bob).update(public=True)

    # A visitor may be a member signed out on this device, who followed a link in an
    # email: the login leads back. A profile that does not exist answers the same.
    for member_id in (alice.pk, 999_999):
        response = client.get(f"/members/{member_id}/")
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next=/members/{member_id}/"
    assert client.get(f"/members/{bob.pk}/").status_code == 200
    client.force_login(UserFactory.create())
    assert client.get(f"/members/{alice.pk}/").status_code == 200
    assert client.get("/members/999999/").status_code == 404


@pytest.mark.django_db
def test_unfinished_inactive_and_blocked_profiles_are_not_found(
    client: Client, newcomer: User, alice: User, bob: User
) -> None:
    unfinished = ProfileFactory.create().user
    inactive = onboarded_member("Ines Inactive", is_active=False)
    services.block_create(blocker=alice, blocked=newcomer)
    services.block_create(blocker=newcomer, blocked=bob)

    for user in (unfinished, inactive, alice, bob):
        assert client.get(f"/members/{user.pk}/").status_code == 404


@pytest.mark.django_db
def test_a_working_day_that_ends_after_midnight_is_saved_and_shown_so(
    client: Client, newcomer: User
) -> None:
    form = client.get("/members/welcome/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert re.search(r'aria-describedby="id_working_hours_end_helptext"[^>]*id="id_working', form)
    assert "Past midnight? Give the time you finish, as in 22:00 to 02:00." in form

    response = onboard(client, working_hours_start="22:00", working_hours_end="02:00")

    assert response.status_code == 302
    viewer = UserFactory.create(time_zone="America/Bogota")
    client.force_login(viewer)
    with time_machine.travel(datetime(2027, 1, 15, 12, tzinfo=UTC)):  # Madrid on UTC+1
        page = client.get(f"/members/{newcomer.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "22:00–02:00 in Madrid, Monday to Friday" in page.content.decode()
    assert "That is 16:00–20:00 your time." in page.content.decode()


@pytest.mark.django_db
def test_working_hours_are_shown_in_both_zones(client: Client, alice: User) -> None:
    viewer = UserFactory.create(time_zone="America/Mexico_City")
    client.force_login(viewer)

    page = client.get(f"/members/{alice.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "09:00–17:00 in Madrid, Monday to Friday" in page
    assert "That is 02:00–10:00 your time." in page


@pytest.mark.django_db
def test_people_met_are_listed_with_a_private_note(
    client: Client, newcomer: User, bob: User
) -> None:
    other = bob.profile
    services.acquaintance_record(
        members=[newcomer, other.user], how=Acquaintance.How.PAIR, context="Ronda de marzo"
    )

    page = client.get("/members/me/met/").content.decode()
    assert other.user.name in page and "Ronda de marzo" in page

    response = client.post(
        f"/members/me/met/{other.user_id}/note/",
        {f"note-{other.user_id}-note": "Trabaja en tipografía"},
    )
    assert response.status_code == 302
    assert "Trabaja en tipografía" in client.get("/members/me/met/").content.decode()

    client.force_login(other.user)
    assert "Trabaja en tipografía" not in client.get("/members/me/met/").content.decode()
    assert "Trabaja en tipografía" not in client.get(f"/members/{newcomer.pk}/").content.decode()


@pytest.mark.django_db
def test_people_met_leaves_out_blocks_and_offers_a_message_only_where_it_is_taken(
    client: Client, newcomer: User, bob: User, outsider: User
) -> None:
    onboard(client)  # writing to someone needs one's own profile
    quiet = onboarded_member("Quim Quieto", email="quim@example.com")
    Profile.objects.filter(user=quiet).update(messages_from=MessagesFrom.NOBODY)
    services.acquaintance_record(
        members=[newcomer, bob, outsider, quiet], how=Acquaintance.How.EVENT, context="Charla"
    )
    services.block_create(blocker=outsider, blocked=newcomer)

    page = client.get("/members/me/met/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert bob.name in page and quiet.name in page and outsider.name not in page
    assert f'action="/messages/with/{bob.pk}/"' in page
    assert f'action="/messages/with/{quiet.pk}/"' not in page
    # Each note says whose it is, to a screen reader's list of fields too.
    assert f"Private note about {bob.name}" in page and f"Private note about {quiet.name}" in page
    assert f'<span class="visually-hidden"> about {bob.name}</span>' in page
    client.force_login(outsider)
    assert newcomer.name not in client.get("/members/me/met/").content.decode()


@pytest.mark.django_db
def test_a_too_long_note_keeps_the_text_and_says_why(
    client: Client, newcomer: User, bob: User
) -> None:
    other = bob.profile
    services.acquaintance_record(members=[newcomer, other.user], how=Acquaintance.How.EVENT)

    response = client.post(
        f"/members/me/met/{other.user_id}/note/",
        {f"note-{other.user_id}-note": "y" * 2500},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert "y" * 2500 in response.content.decode()
    assert "at most 2000 characters" in response.content.decode()


@pytest.mark.django_db
def test_people_met_come_fifty_a_page_and_a_note_brings_its_page_back(
    client: Client, newcomer: User
) -> None:
    """Years of coffee pairs and tables: the list is paged, newest first, and a note saved
    or refused on a later page comes back to that page."""
    now = timezone.now()
    people = UserFactory.create_batch(52)
    Acquaintance.objects.bulk_create(
        Acquaintance(
            owner=newcomer,
            other=person,
            how=Acquaintance.How.PAIR,
            first_met_at=now - timedelta(days=n),
            last_met_at=now - timedelta(days=n),
        )
        for n, person in enumerate(people)
    )
    latest, earliest = people[0], people[-1]

    first = client.get("/members/me/met/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert first.count('class="card met-entry"') == 50
    assert latest.name in first and earliest.name not in first
    assert "Page 1 of 2" in first and 'href="?page=2"' in first
    second = client.get("/members/me/met/?page=2").content.decode()
    assert second.count('class="card met-entry"') == 2 and earliest.name in second

    note = f"/members/me/met/{earliest.pk}/note/"
    refused = client.post(note, {"page": "2", f"note-{earliest.pk}-note": "y" * 2500})
    assert refused.status_code == 400 and "y" * 2500 in refused.content.decode()
    saved = client.post(note, {"page": "2", f"note-{earliest.pk}-note": "Diseña fuentes"})
    assert saved.headers["Location"] == "/members/me/met/?page=2"
    assert "Diseña fuentes" in client.get(saved.headers["Location"]).content.decode()


@pytest.mark.django_db
def test_nobody_can_write_a_note_about_someone_they_have_not_met(
    client: Client, newcomer: User, outsider: User
) -> None:
    response = client.post(f"/members/me/met/{outsider.pk}/note/", {"note": "hola"})

    assert response.status_code == 404


@pytest.mark.django_db
def test_meeting_again_updates_the_last_meeting() -> None:
    first, second, third = UserFactory.create(), UserFactory.create(), UserFactory.create()
    services.acquaintance_record(members=[first, second, third], how=Acquaintance.How.PAIR)

    assert Acquaintance.objects.count() == 6
    services.acquaintance_record(
        members=[first, second], how=Acquaintance.How.EVENT, context="Charla"
    )
    entry = Acquaintance.objects.get(owner=first, other=second)
    assert entry.how == "event" and entry.last_met_at > entry.first_met_at


@pytest.mark.django_db
def test_a_built_in_programme_where_people_met_reads_in_the_members_language(
    client: Client, newcomer: User, bob: User
) -> None:
    services.acquaintance_record(
        members=[newcomer, bob], how=Acquaintance.How.PAIR, context="Coffee pairs"
    )

    spanish = client.get("/members/me/met/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    english = client.get("/members/me/met/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Café en pareja: Cafés en pareja" in spanish and "Coffee pairs" not in spanish
    assert "Coffee pair: Coffee pairs" in english


@pytest.mark.django_db
def test_the_country_list_reads_as_spanish_speakers_name_countries(
    client: Client, newcomer: User
) -> None:
    page = client.get("/members/welcome/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    countries = re.findall(r'<option value="([A-Z]{2})"[^>]*>([^<]+)</option>', page)
    names = [name for _code, name in countries]

    assert '<option value="" selected>Elige tu país (opcional)</option>' in page
    assert "---------" not in page
    assert ("TT", "Trinidad y Tobago") in countries and ("CY", "Chipre") in countries
    # "Andorra" among the A's, not "Principado de Andorra" among the P's.
    assert names.index("Andorra") < names.index("Angola")


@pytest.mark.django_db
def test_the_language_chosen_in_the_profile_is_the_site_s_from_then_on(
    client: Client, newcomer: User
) -> None:
    response = client.post(
        "/members/welcome/", {**VALID, "language": "en"}, HTTP_ACCEPT_LANGUAGE="es"
    )

    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="es")
    assert home["Content-Language"] == "en"
    assert "Welcome aboard! Your profile is ready." in home.content.decode()


@pytest.mark.django_db
def test_a_logo_on_a_transparent_background_is_shown_on_white(
    client: Client, newcomer: User
) -> None:
    logo = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    logo.paste((20, 40, 160, 255), (100, 100, 200, 200))
    buffer = io.BytesIO()
    logo.save(buffer, format="PNG")

    onboard(client, photo_upload=SimpleUploadedFile("logo.png", buffer.getvalue()))

    with Image.open(Profile.objects.get(user=newcomer).photo.path) as photo:
        rgb = photo.convert("RGB")
        corner, centre = rgb.getpixel((5, 5)), rgb.getpixel((256, 256))
    assert isinstance(corner, tuple) and isinstance(centre, tuple)
    assert min(corner) > 240  # white, not black
    assert centre[2] > 120 and centre[0] < 60


@pytest.mark.parametrize("name", ["\u200b", "\u3164", "\u2800 \u200b"])
@pytest.mark.django_db
def test_a_name_of_invisible_characters_is_refused(
    client: Client, newcomer: User, name: str
) -> None:
    response = onboard(client, display_name=name)

    assert response.status_code == 200
    assert "Write a name others can read." in response.content.decode()


@pytest.mark.django_db
def test_a_16_bit_grey_photo_stays_grey(client: Client, newcomer: User) -> None:
    buffer = io.BytesIO()
    Image.new("I;16", (300, 300), 32768).save(buffer, format="PNG")  # mid-grey, 16 bits

    onboard(client, photo_upload=SimpleUploadedFile("grey.png", buffer.getvalue()))

    with Image.open(Profile.objects.get(user=newcomer).photo.path) as photo:
        pixel = photo.convert("RGB").getpixel((256, 256))
    assert isinstance(pixel, tuple)
    red, green, blue = pixel
    assert 100 < red < 160 and red == green == blue


def test_the_team_is_marked_on_its_profiles_and_directory_cards_and_a_chosen_name_is_not(
    db: None,
) -> None:
    team = onboarded_member("Marta Ruiz", is_staff=True)
    lookalike = onboarded_member("Moderación")
    viewer = client_for(onboarded_member("Lucía Pérez"))

    badge = '<span class="team-badge">Team</span>'
    assert badge in viewer.get(f"/members/{team.pk}/").content.decode()
    assert badge not in viewer.get(f"/members/{lookalike.pk}/").content.decode()

    cards = viewer.get("/members/").content.decode().split('class="card directory-card"')[1:]
    marked = {("Marta Ruiz" in card, "Moderación" in card): badge in card for card in cards}
    assert marked == {(True, False): True, (False, True): False, (False, False): False}

"""Photo uploads and request sizes: what a member sends is bounded before it costs memory.

Through the HTTP client and the profile form. The memory bound runs each kind of photo in
bench/bench_photos.py through the form's validation in a process of its own and reads its
peak resident size; the bench reports the same figures, before and after."""

import io
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from bench.bench_photos import GOAL_MB, PHOTOS, measure, photo_bytes, photo_files, png_bytes
from members.models import Profile, User
from tests.factories import onboarded_member
from tests.test_members_profile import sideways_jpeg


@pytest.fixture
def member(client: Client) -> User:
    user = onboarded_member("Lucía Pérez", headline="Ilustradora")
    client.force_login(user)
    return user


def edit_profile(client: Client, member: User, **changes: Any) -> Any:
    profile = Profile.objects.get(user=member)
    form = {
        "display_name": member.display_name,
        "headline": profile.headline,
        "time_zone": member.time_zone,
        "language": "en",
        "languages": ["es"],
        "working_hours_start": "09:00",
        "working_hours_end": "17:00",
        **changes,
    }
    return client.post("/members/me/edit/", form, HTTP_ACCEPT_LANGUAGE="en")


def photo_errors(response: Any) -> str:
    assert response.status_code == 200
    return " ".join(response.context["form"].errors["photo_upload"])


@pytest.mark.django_db
def test_a_png_too_costly_to_decode_is_refused_with_its_limit_and_nothing_is_stored(
    client: Client, member: User
) -> None:
    huge = png_bytes(7700, 5190)  # 40 megapixels: 160 MB once decoded

    response = edit_profile(client, member, photo_upload=io.BytesIO(huge), headline="Changed")

    assert "too many pixels to process (7700 × 5190)" in photo_errors(response)
    assert "the limit is 16 megapixels" in photo_errors(response)
    profile = Profile.objects.get(user=member)
    assert not profile.photo and not profile.photo_thumbnail
    assert profile.headline == "Ilustradora"


@pytest.mark.django_db
def test_a_photo_over_40_megapixels_is_refused_from_its_header(
    client: Client, member: User
) -> None:
    with pytest.warns(Image.DecompressionBombWarning):  # Pillow's own alarm, below its refusal
        response = edit_profile(client, member, photo_upload=io.BytesIO(png_bytes(8000, 6000)))

    assert "too many pixels: the limit is 40 megapixels" in photo_errors(response)
    assert not Profile.objects.get(user=member).photo


@pytest.mark.django_db
def test_an_ordinary_phone_photo_is_still_accepted(client: Client, member: User) -> None:
    photo = io.BytesIO(photo_bytes("JPEG", (4000, 3000), quality=85))
    photo.name = "IMG_0001.jpg"

    response = edit_profile(client, member, photo_upload=photo)

    assert response.status_code == 302, response.context["form"].errors
    profile = Profile.objects.get(user=member)
    with Image.open(profile.photo.path) as saved, Image.open(profile.photo_thumbnail.path) as thumb:
        assert (saved.format, saved.size, thumb.size) == ("WEBP", (512, 512), (96, 96))


@pytest.mark.django_db
def test_an_upright_photo_keeps_its_orientation(client: Client, member: User) -> None:
    """A camera stores a portrait photo sideways with an EXIF Orientation; the square is
    rotated after it has been reduced, so its top must still be the photo's top."""
    buffer = io.BytesIO(sideways_jpeg((2400, 2000), top=400))

    assert edit_profile(client, member, photo_upload=buffer).status_code == 302

    with Image.open(Profile.objects.get(user=member).photo.path) as saved:
        red, _green, blue = saved.convert("RGB").getpixel((256, 5))  # type: ignore[misc]
        assert red > 200 and blue < 60


@pytest.mark.django_db
def test_the_photo_file_size_limit_comes_from_the_configuration(
    client: Client, member: User, settings: Any
) -> None:
    settings.PHOTO_UPLOAD_MAX_MB = 1
    photo = io.BytesIO(b"\xff\xd8" + b"0" * (2**20))

    response = edit_profile(client, member, photo_upload=photo)

    assert "The photo is too large: the limit is 1 MB." in photo_errors(response)
    assert "up to 1 MB" in response.content.decode()
    assert not Profile.objects.get(user=member).photo


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    paths = photo_files(tmp_path_factory.mktemp("photos"))
    return dict(zip(PHOTOS, measure(paths), strict=True))


@pytest.mark.parametrize("kind", PHOTOS)
def test_judging_and_decoding_any_photo_stays_within_100_mb(
    kind: str, measured: dict[str, dict[str, Any]]
) -> None:
    result = measured[kind]

    assert result["outcome"] == PHOTOS[kind][1]
    assert result["growth_mb"] <= GOAL_MB, f"{kind}: +{result['growth_mb']:.0f} MB"


@pytest.mark.django_db
def test_an_oversized_form_gets_the_400_page_and_changes_nothing(member: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    client.get("/members/me/edit/")  # the CSRF cookie, as a browser would have it
    token = client.cookies["csrftoken"].value

    response = client.post(
        "/members/me/edit/",
        {"csrfmiddlewaretoken": token, "headline": "Changed", "bio": "x" * 3 * 2**20},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "We could not handle that request" in page and "site.css" in page
    assert Profile.objects.get(user=member).headline == "Ilustradora"


@pytest.mark.django_db
def test_a_form_with_too_many_fields_gets_the_400_page(client: Client, member: User) -> None:
    fields = {f"field{number}": "x" for number in range(2000)}

    response = client.post("/members/me/edit/", fields, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert "We could not handle that request" in response.content.decode()

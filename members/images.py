"""Profile photos: accept only real JPEG, PNG or WebP images of sane size, re-encode them.

Re-encoding drops whatever else the file carried (metadata, scripts in polyglot files) and
the generated name means an upload never chooses where it lands.

Memory is bounded before a pixel is decoded. The header gives the dimensions; an image over
MAX_PIXELS, or one whose decoding would allocate more than DECODE_BUDGET, is refused. What
decoding costs depends on the file (docs/deploy.md, "Request and upload limits"):

- a JPEG in one sequential scan is scaled down by libjpeg while it decodes (`draft`), to no
  less than PHOTO_SIZE a side: a 40-megapixel photo costs a few MB;
- a progressive or multi-scan JPEG makes libjpeg keep every DCT coefficient of the whole
  image, 2 bytes a sample;
- a PNG is decoded whole, at up to 4 bytes a pixel in Pillow;
- a WebP is decoded whole by libwebp into two canvases, handed to Python and copied into
  Pillow: about 16 bytes a pixel.

The centre square (for a picture in a conversation, the whole image) is then reduced a strip
at a time, so no second full-size copy is made.
"""

import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from PIL import ExifTags, Image, ImageOps, PngImagePlugin, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # a 40-megapixel photo is fine; a decompression bomb is not
DECODE_BUDGET = 64 * 2**20  # bytes decoding one photo may allocate
WEBP_BYTES_PER_PIXEL = 16
STRIP_PIXELS = 2**20  # source pixels converted and reduced at a time
# Pillow calls a JPEG that carries a Multi-Picture index "MPO": what many cameras and phones
# write, a second image (a preview, a depth map, an HDR gain map) after the photo. It is a
# JPEG all the same, and only its first image, the photo, is ever read.
JPEG_FORMATS = {"JPEG", "MPO"}
ACCEPTED_FORMATS = {*JPEG_FORMATS, "PNG", "WEBP"}
ACCEPTED_OPENERS = ("JPEG", "PNG", "WEBP")  # Pillow's for them: its JPEG one opens MPO too
PHOTO_SIZE = 512
THUMBNAIL_SIZE = 96
JPEG_FRAME_MARKERS = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # SOF0 to SOF15
JPEG_PROGRESSIVE_MARKERS = {0xC2, 0xC6, 0xCA, 0xCE}

# Pillow warns above MAX_IMAGE_PIXELS and refuses above twice it when a file is opened,
# before any decoder allocates (a WebP decoder sets up its canvas on opening).
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# Text chunks are thrown away when we re-encode, but Pillow keeps up to 64 MB of them
# (decompressed from a few KB) by default.
PngImagePlugin.MAX_TEXT_MEMORY = 2**20

# The Orientation tag's values, as ImageOps.exif_transpose reads them: the photo is rotated
# after it has been reduced, which is cheaper and gives the same square.
ORIENTATIONS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class ProcessedPhoto:
    photo: ContentFile
    thumbnail: ContentFile


@dataclass(frozen=True)
class JpegFrame:
    buffered: bool  # libjpeg keeps the whole image's coefficients (progressive, multi-scan)
    samples_per_pixel: float  # 1.5 for colour with 4:2:0 subsampling, 3 without, 4 for CMYK


def photo_validate_and_process(upload: UploadedFile) -> ProcessedPhoto:
    """Raise ValidationError with a message for the member, or return re-encoded images."""
    if upload.size is None or upload.size > settings.PHOTO_UPLOAD_MAX_MB * 2**20:
        raise ValidationError(
            _("The photo is too large: the limit is %(limit)s MB."),
            code="too_large",
            params={"limit": settings.PHOTO_UPLOAD_MAX_MB},
        )
    with _decoding():
        _check_header(upload)
        square = _decode_square(upload, PHOTO_SIZE)
    stem = uuid.uuid4().hex
    return ProcessedPhoto(
        photo=_encode(square, PHOTO_SIZE, f"{stem}.webp"),
        thumbnail=_encode(square, THUMBNAIL_SIZE, f"{stem}-thumb.webp"),
    )


def picture_validate_and_process(
    upload: UploadedFile, *, side: int, thumbnail_side: int
) -> ProcessedPhoto:
    """A picture shared in a conversation: the same checks as a profile photo (real JPEG,
    PNG or WebP, pixels and decoding memory bounded), kept whole rather than cropped, and
    re-encoded as WebP within `side` (and `thumbnail_side`) pixels a side. The caller checks
    the file's size. Raises ValidationError with a message for the member."""
    with _decoding():
        _check_header(upload, side)
        reduced, method = _decode_reduced(upload, side)
    size = _within(reduced.size, side)
    picture = reduced if size == reduced.size else reduced.resize(size, Image.Resampling.LANCZOS)
    del reduced  # up to four times the picture's pixels: gone before the encoder allocates
    if method is not None:
        picture = picture.transpose(method)
    stem = uuid.uuid4().hex
    return ProcessedPhoto(
        photo=_encode_within(picture, side, f"{stem}.webp"),
        thumbnail=_encode_within(picture, thumbnail_side, f"{stem}-thumb.webp"),
    )


def _within(size: tuple[int, int], side: int) -> tuple[int, int]:
    """`size` scaled to fit within `side` pixels a side, never enlarged."""
    width, height = size
    scale = min(1, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _encode_within(image: Image.Image, side: int, name: str) -> ContentFile:
    size = _within(image.size, side)
    fitted = image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    fitted.save(buffer, format="WEBP", quality=85, method=4)
    return ContentFile(buffer.getvalue(), name=name)


@contextmanager
def _decoding() -> Iterator[None]:
    """Pillow's failures while reading an upload, as the messages the member reads."""
    try:
        yield
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ValidationError(
            _("This file is not an image we can read. Upload a JPEG, PNG or WebP photo."),
            code="invalid",
        ) from None


def _decode_cost(image: Image.Image, *, source_size: tuple[int, int], file: IO[bytes]) -> int:
    """Bytes that decoding `image` will allocate, from its header alone. `image` is opened
    and drafted (its size is what will be decoded); `source_size` is the size in the file."""
    width, height = source_size
    if image.format == "WEBP":
        return width * height * WEBP_BYTES_PER_PIXEL
    decoded = image.size[0] * image.size[1] * 4
    if image.format in JPEG_FORMATS:
        frame = _jpeg_frame(file)
        if frame is None:  # not understood: assume the worst libjpeg could need
            frame = JpegFrame(buffered=True, samples_per_pixel=4)
        if frame.buffered:
            return decoded + int(width * height * frame.samples_per_pixel * 2)
    return decoded


def _too_many_pixels() -> ValidationError:
    # The message names MAX_PIXELS.
    return ValidationError(
        _("The photo has too many pixels: the limit is 40 megapixels."), code="too_many_pixels"
    )


def _check_header(upload: UploadedFile, size: int = PHOTO_SIZE) -> None:
    upload.seek(0)
    with Image.open(upload) as probe:
        if probe.format not in ACCEPTED_FORMATS:
            raise ValidationError(_("Upload a JPEG, PNG or WebP image."), code="format")
        width, height = probe.size
        if width * height > MAX_PIXELS:
            raise _too_many_pixels()
        probe.draft(probe.mode, (size, size))
        cost = _decode_cost(probe, source_size=(width, height), file=upload)
        if cost > DECODE_BUDGET:
            limit = min(MAX_PIXELS, DECODE_BUDGET * width * height // cost)
            raise ValidationError(
                _(
                    "The photo has too many pixels to process (%(width)s × %(height)s): for "
                    "this image the limit is %(limit)s megapixels. Scale it down and try again."
                ),
                code="too_many_pixels",
                params={"width": width, "height": height, "limit": limit // 1_000_000},
            )
        probe.verify()


def _decode_square(upload: UploadedFile, size: int) -> Image.Image:
    upload.seek(0)
    with Image.open(upload) as image:
        image.draft(image.mode, (size, size))
        image.load()
        square = _centre_square(image, size)
        method = ORIENTATIONS.get(image.getexif().get(ExifTags.Base.Orientation, 1))
    return square.transpose(method) if method is not None else square


def _decode_reduced(upload: UploadedFile, side: int) -> tuple[Image.Image, Image.Transpose | None]:
    """The whole of `upload` in RGB, at least the size it fits within `side` pixels a side
    and less than twice it (a JPEG scaled while it decodes, then reduced by a whole factor a
    strip at a time; left as it is when smaller), and how to turn it upright. Anything larger
    than what it returns is released on return, before it is resized."""
    upload.seek(0)
    with Image.open(upload) as image:
        size = _within(image.size, side)
        image.draft(image.mode, size)
        image.load()
        width, height = image.size
        factor = max(1, min(width // size[0], height // size[1]))
        method = ORIENTATIONS.get(image.getexif().get(ExifTags.Base.Orientation, 1))
        if factor == 1 and image.mode == "RGB" and "transparency" not in image.info:
            return image, method  # already as a page shows it: a copy would double the cost
        return _reduced_rgb(image, (0, 0, width, height), factor), method


def _centre_square(image: Image.Image, size: int) -> Image.Image:
    """The centre square of `image` in RGB, reduced by a whole factor to between `size` and
    twice it (or left as it is when smaller), converted a strip at a time."""
    width, height = image.size
    factor = max(1, min(width, height) // size)
    side = min(width, height) // factor
    left, top = (width - side * factor) // 2, (height - side * factor) // 2
    return _reduced_rgb(image, (left, top, left + side * factor, top + side * factor), factor)


def _reduced_rgb(image: Image.Image, box: tuple[int, int, int, int], factor: int) -> Image.Image:
    """The `box` of `image` in RGB, reduced by a whole `factor` (a pixel for each `factor` ×
    `factor` square, or what is left of one at the right and bottom edges), converted a
    strip at a time."""
    left, top, right, bottom = box
    reduced = Image.new(
        "RGB", ((right - left + factor - 1) // factor, (bottom - top + factor - 1) // factor)
    )
    rows = max(1, STRIP_PIXELS // ((right - left) * factor))
    for row in range(0, reduced.height, rows):
        strip = (left, top + row * factor, right, min(bottom, top + (row + rows) * factor))
        reduced.paste(_rgb(image.crop(strip)).reduce(factor), (0, row))
    return reduced


def _rgb(image: Image.Image) -> Image.Image:
    """`image` in RGB as a page shows it: what was transparent on white (a logo on nothing
    came out on black), and 16-bit grey brought down to 8 bits (it came out white)."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        with_alpha = image.convert("RGBA")
        flat = Image.new("RGB", with_alpha.size, (255, 255, 255))
        flat.paste(with_alpha, mask=with_alpha.getchannel("A"))
        return flat
    return image.convert("RGB")


def _jpeg_frame(file: IO[bytes]) -> JpegFrame | None:
    """Read a JPEG's markers up to its first scan: whether libjpeg will have to buffer the
    whole image, and how many samples a pixel has. None when the markers make no sense.
    Leaves the file where it was."""
    position = file.tell()
    try:
        file.seek(2)  # past the start-of-image marker
        return _jpeg_markers(file)
    finally:
        file.seek(position)


def _jpeg_markers(file: IO[bytes]) -> JpegFrame | None:
    progressive = False
    sampling: list[tuple[int, int]] = []
    for _marker in range(1000):
        if file.read(1) != b"\xff":
            return None
        code = file.read(1)
        while code == b"\xff":  # fill bytes
            code = file.read(1)
        if not code:
            return None
        if code[0] == 0x01 or 0xD0 <= code[0] <= 0xD7:  # standalone markers
            continue
        length = int.from_bytes(file.read(2), "big")
        segment = file.read(length - 2) if length >= 2 else b""
        if len(segment) != length - 2:
            return None
        if code[0] in JPEG_FRAME_MARKERS:
            progressive = code[0] in JPEG_PROGRESSIVE_MARKERS
            components = segment[5] if len(segment) > 5 else 0
            if not components or len(segment) < 6 + 3 * components:
                return None
            sampling = [
                (segment[7 + 3 * i] >> 4, segment[7 + 3 * i] & 15) for i in range(components)
            ]
        elif code[0] == 0xDA:  # start of scan
            if not sampling or not segment or min(min(pair) for pair in sampling) == 0:
                return None
            largest = max(h for h, _v in sampling) * max(v for _h, v in sampling)
            return JpegFrame(
                buffered=progressive or segment[0] < len(sampling),
                samples_per_pixel=sum(h * v for h, v in sampling) / largest,
            )
    return None


def _encode(image: Image.Image, size: int, name: str) -> ContentFile:
    square = ImageOps.fit(image, (size, size), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    square.save(buffer, format="WEBP", quality=85, method=4)
    return ContentFile(buffer.getvalue(), name=name)

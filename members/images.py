"""Profile photos: accept only real JPEG, PNG or WebP images of sane size, re-encode them.

Re-encoding drops whatever else the file carried (metadata, scripts in polyglot files) and
the generated name means an upload never chooses where it lands.
"""

import io
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel photo is fine; a decompression bomb is not
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
PHOTO_SIZE = 512
THUMBNAIL_SIZE = 96


@dataclass(frozen=True)
class ProcessedPhoto:
    photo: ContentFile
    thumbnail: ContentFile


def _encode(image: Image.Image, size: int, name: str) -> ContentFile:
    square = ImageOps.fit(image, (size, size), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    square.save(buffer, format="WEBP", quality=85, method=4)
    return ContentFile(buffer.getvalue(), name=name)


def photo_validate_and_process(upload: UploadedFile) -> ProcessedPhoto:
    """Raise ValidationError with a message for the member, or return re-encoded images."""
    if upload.size is None or upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(_("The photo is too large: the limit is 5 MB."), code="too_large")
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise ValidationError(_("Upload a JPEG, PNG or WebP image."), code="format")
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise ValidationError(
                    _("The photo has too many pixels: the limit is 40 megapixels."),
                    code="too_many_pixels",
                )
            probe.verify()
        upload.seek(0)
        with Image.open(upload) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            _("This file is not an image we can read. Upload a JPEG, PNG or WebP photo."),
            code="invalid",
        ) from None
    stem = uuid.uuid4().hex
    return ProcessedPhoto(
        photo=_encode(image, PHOTO_SIZE, f"{stem}.webp"),
        thumbnail=_encode(image, THUMBNAIL_SIZE, f"{stem}-thumb.webp"),
    )

"""Files and pictures shared in a conversation: what is accepted, and how it is kept.

A picture (a real JPEG, PNG or WebP, checked as profile photos are) is re-encoded as WebP
within PICTURE_SIDE pixels, with a thumbnail: whatever else the file carried (metadata, a
script in a polyglot) is gone, and it is shown inline. Any other file is kept as it came and
only ever served as a download (`Content-Disposition: attachment`, `application/octet-stream`,
`nosniff`), so an SVG with a script or an HTML page never runs in the site's origin. Files
live in PRIVATE_MEDIA_ROOT, under generated names, served only to the conversation's members
(conversations.views.attachment).
"""

import os
import uuid
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import get_valid_filename
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from members.images import ACCEPTED_FORMATS, ACCEPTED_OPENERS, picture_validate_and_process

PICTURE_SIDE = 1600
THUMBNAIL_SIDE = 320
NAME_MAX_LENGTH = 120


# Names that promise a picture.
PICTURE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".tif", ".tiff", ".heic", ".avif"}
)


class PrivateStorage(FileSystemStorage):
    """Files in PRIVATE_MEDIA_ROOT, read when used as FileSystemStorage reads MEDIA_ROOT: a
    location given once would hold the setting of the moment the models loaded (the test
    suite's own folder never took, and its files landed in the checkout)."""

    @property  # type: ignore[override]
    def base_location(self) -> str:
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property  # type: ignore[override]
    def location(self) -> str:
        return os.path.abspath(self.base_location)


def private_storage() -> FileSystemStorage:
    return PrivateStorage(base_url=None)


@dataclass(frozen=True)
class Prepared:
    kind: str  # "image" or "file"
    file: File[bytes]
    thumbnail: File[bytes] | None
    name: str
    size: int

    @property
    def not_shown(self) -> bool:
        """A file whose name promises a picture we do not show (an SVG, a GIF, a text file
        called .png): it goes as a download, and its sender is told why."""
        return self.kind == "file" and PurePath(self.name).suffix.lower() in PICTURE_SUFFIXES


def _is_picture(upload: UploadedFile) -> bool:
    """Does the file say it is one of the pictures we re-encode? (Its name and declared
    type are not asked: the bytes decide.)"""
    upload.seek(0)
    try:
        # Only the pictures we show are tried: a file in any other format (a scanned plan
        # in TIFF, 90 megapixels in a few KB) is a file, not a picture with too many pixels.
        with Image.open(upload, formats=ACCEPTED_OPENERS) as probe:
            return probe.format in ACCEPTED_FORMATS
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        return False
    except Image.DecompressionBombError:
        return True  # a picture, and one the checks below refuse with their own message
    finally:
        upload.seek(0)


def _download_name(upload: UploadedFile) -> str:
    """The name the file had on the sender's computer, made safe: what a download is saved
    as. When nothing is left of it before the extension ("🎉", "!!!.pdf"), "file" is."""
    try:
        name = get_valid_filename(PurePath(upload.name or "").name)
    except SuspiciousFileOperation:  # nothing was left at all
        name = ""
    stem, dot, extension = name.partition(".")
    if not any(character.isalnum() for character in stem):
        name = f"file{dot}{extension}"
    return name[-NAME_MAX_LENGTH:]


def attachment_prepare(upload: UploadedFile) -> Prepared:
    """What to store for `upload`, or ValidationError saying why not."""
    limit = settings.ATTACHMENT_MAX_MB
    if upload.size is None or upload.size > limit * 2**20:
        raise ValidationError(
            _("The file is too large: the limit is %(limit)s MB."),
            code="too_large",
            params={"limit": limit},
        )
    if upload.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    name = _download_name(upload)
    if _is_picture(upload):
        processed = picture_validate_and_process(
            upload, side=PICTURE_SIDE, thumbnail_side=THUMBNAIL_SIDE
        )
        stem = PurePath(name).stem or "picture"
        return Prepared(
            kind="image",
            file=processed.photo,
            thumbnail=processed.thumbnail,
            name=f"{stem}.webp"[-NAME_MAX_LENGTH:],
            size=processed.photo.size,
        )
    upload.name = f"{uuid.uuid4().hex}.bin"
    return Prepared(kind="file", file=upload, thumbnail=None, name=name, size=upload.size)

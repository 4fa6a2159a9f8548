"""Memory of judging and decoding a profile photo (`members/images.py`), per kind of image,
and of the same images shared as pictures in a conversation.

Each photo goes through `photo_validate_and_process` (a picture through
`picture_validate_and_process`, as `conversations.attachments` calls it) in a child forked
from a warmed-up interpreter (settings read, Pillow's plugins loaded, one small photo
processed): the child's peak resident size (`ru_maxrss`) minus its size at the fork is what
that photo cost. The goal is at most 100 MB for any photo, accepted or refused. "Before"
runs the same photos through `members/images.py` as it was before decoding was bounded (read
with `git show`), and the pictures as they were before they were reduced like the photos.
`tests/test_uploads.py` holds the current code to the goal with the same photos.
"""

import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

TITLE = "Profile photo memory"
ROOT = Path(__file__).resolve().parent.parent
BEFORE_COMMIT = "5a76d59"  # members/images.py decoded whole photos, then copied them
PICTURES_BEFORE_COMMIT = "c249d4e"  # it decoded pictures at full size, then copied them
GOAL_MB = 100


def png_bytes(width: int, height: int, *, alpha: bool = False, text_mb: int = 0) -> bytes:
    """A solid-colour PNG compressed row by row, so even a huge one costs no memory to make
    (8000 × 6000 pixels fit in 150 KB). `text_mb` adds that many 1 MB zTXt chunks, each
    compressed to about 1 KB."""
    pixel = bytes([200, 30, 30, 255][: 4 if alpha else 3])
    row = b"\x00" + pixel * width
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _row in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    text = zlib.compress(b"a" * (2**20 - 16), 9)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            *(chunk(b"zTXt", b"note%d\x00\x00" % n + text) for n in range(text_mb)),
            chunk(b"IDAT", data),
            chunk(b"IEND", b""),
        ]
    )


def photo_bytes(fmt: str, size: tuple[int, int], **options: Any) -> bytes:
    """A photo-like colour gradient (so the encoder and decoder do real work), by Pillow."""
    gradient = Image.linear_gradient("L").resize(size)
    flipped = gradient.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    buffer = io.BytesIO()
    Image.merge("RGB", (gradient, flipped, gradient)).save(buffer, format=fmt, **options)
    return buffer.getvalue()


# What the current code answers for each: the largest photos of each kind it accepts, and
# those it refuses because they would cost too much (or are bombs).
PHOTOS: dict[str, tuple[Callable[[], bytes], str]] = {
    "JPEG, 12 MP (4000 × 3000)": (
        lambda: photo_bytes("JPEG", (4000, 3000), quality=85),
        "accepted",
    ),
    "JPEG, 40 MP (7700 × 5190)": (
        lambda: photo_bytes("JPEG", (7700, 5190), quality=70),
        "accepted",
    ),
    "progressive JPEG, 19 MP (5400 × 3600)": (
        lambda: photo_bytes("JPEG", (5400, 3600), quality=70, progressive=True),
        "accepted",
    ),
    "progressive JPEG without subsampling, 12 MP": (
        lambda: photo_bytes("JPEG", (4000, 3000), quality=70, progressive=True, subsampling=0),
        "too_many_pixels",
    ),
    "JPEG panorama, 24 MP (24000 × 1000)": (
        lambda: photo_bytes("JPEG", (24000, 1000), quality=70),
        "too_many_pixels",
    ),
    "PNG with alpha, 16.7 MP (4096 × 4096)": (
        lambda: png_bytes(4096, 4096, alpha=True),
        "accepted",
    ),
    "PNG, 40 MP (7700 × 5190)": (lambda: png_bytes(7700, 5190), "too_many_pixels"),
    "PNG, 100 MP (10000 × 10000)": (lambda: png_bytes(10000, 10000), "too_many_pixels"),
    "PNG with 60 MB of text in 60 KB": (lambda: png_bytes(600, 600, text_mb=60), "invalid"),
    "WebP, 4.2 MP (2048 × 2048)": (
        lambda: photo_bytes("WEBP", (2048, 2048), quality=70),
        "accepted",
    ),
    "WebP, 16 MP (4900 × 3265)": (
        lambda: photo_bytes("WEBP", (4900, 3265), quality=70),
        "too_many_pixels",
    ),
}

MEASURE = """
import importlib.util, io, json, os, resource, sys
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

implementation, kind, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
if implementation:
    spec = importlib.util.spec_from_file_location("images_measured", implementation)
    images = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(images)
else:
    from members import images
if kind == "picture":
    import django
    django.setup()
    from conversations.attachments import PICTURE_SIDE, THUMBNAIL_SIDE

def process(data):
    upload = SimpleUploadedFile("photo", data)
    try:
        if kind == "picture":
            images.picture_validate_and_process(
                upload, side=PICTURE_SIDE, thumbnail_side=THUMBNAIL_SIDE
            )
        else:
            images.photo_validate_and_process(upload)
        return "accepted"
    except ValidationError as error:
        return error.code

warm_up = io.BytesIO()
Image.new("RGB", (600, 600)).save(warm_up, format="PNG")
process(warm_up.getvalue())
for path in paths:
    with open(path, "rb") as file:
        data = file.read()
    sys.stdout.flush()
    if os.fork() == 0:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        outcome = process(data)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"outcome": outcome, "growth_mb": (after - before) / 1024}))
        sys.stdout.flush()
        os._exit(0)
    os.wait()
"""


def measure(
    paths: list[Path], *, implementation: Path | None = None, picture: bool = False
) -> list[dict[str, Any]]:
    """Outcome and peak memory growth (MB) of each photo file, in order: as a profile photo,
    or as a picture in a conversation (`picture`)."""
    kind = "picture" if picture else "photo"
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(implementation or ""), kind, *map(str, paths)],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "coworking.settings"},
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def photo_files(directory: Path) -> list[Path]:
    paths = []
    for number, (make, _outcome) in enumerate(PHOTOS.values()):
        path = directory / f"photo-{number}"
        path.write_bytes(make())
        paths.append(path)
    return paths


def _figure(result: dict[str, Any] | None) -> str:
    if result is None:
        return "–"
    return f"{result['outcome'].replace('_', ' ')}, +{result['growth_mb']:.0f} MB"


def _measure_at(commit: str, paths: list[Path], *, picture: bool) -> list[dict[str, Any] | None]:
    """`measure` with `members/images.py` as it was at `commit` (nothing when git cannot
    show it)."""
    shown = subprocess.run(
        ["git", "show", f"{commit}:members/images.py"], cwd=ROOT, capture_output=True, text=True
    )
    if shown.returncode != 0:
        return [None] * len(paths)
    with tempfile.TemporaryDirectory() as directory:
        old = Path(directory) / "images_before.py"
        old.write_text(shown.stdout)
        return list(measure(paths, implementation=old, picture=picture))


def _rows(
    sizes: list[int], before: list[dict[str, Any] | None], after: list[dict[str, Any]]
) -> list[str]:
    return [
        f"| {name} | {size / 1024:,.0f} KB | {_figure(then)} | {_figure(now)} |"
        for name, size, then, now in zip(PHOTOS, sizes, before, after, strict=True)
    ]


def run() -> str:
    with tempfile.TemporaryDirectory() as directory:
        paths = photo_files(Path(directory))
        after = measure(paths)
        before = _measure_at(BEFORE_COMMIT, paths, picture=False)
        pictures = measure(paths, picture=True)
        pictures_before = _measure_at(PICTURES_BEFORE_COMMIT, paths, picture=True)
        sizes = [path.stat().st_size for path in paths]
    worst = max(result["growth_mb"] for result in after)
    worst_picture = max(result["growth_mb"] for result in pictures)
    return "\n".join(
        [
            "Peak resident memory added by judging and decoding one uploaded photo "
            "(`photo_validate_and_process`, in a child forked from a warmed-up process: "
            "`ru_maxrss` after minus at the fork). Goal: at most "
            f"{GOAL_MB} MB for any photo, accepted or refused; four uploads at once "
            "then stay under 400 MB. Before: `members/images.py` at "
            f"{BEFORE_COMMIT}, which decoded every photo whole and then copied it "
            "(transposed, converted, cropped). After: the header is judged first "
            "(40 megapixels at most, and at most 64 MB to decode), JPEGs are scaled while "
            "decoding and the square is reduced a strip at a time.",
            "",
            "Command: `make bench BENCH=photos`.",
            "",
            "| photo | file | before | after |",
            "|---|---|---|---|",
            *_rows(sizes, before, after),
            "",
            f"Worst after: +{worst:.0f} MB.",
            "",
            "The same images shared as pictures in a conversation "
            "(`picture_validate_and_process`, as `conversations.attachments` calls it: kept "
            "whole, re-encoded within 1600 pixels a side with a thumbnail of 320), with the "
            "same goal. Before: `members/images.py` at "
            f"{PICTURES_BEFORE_COMMIT}, which decoded a picture at full size (a JPEG was "
            "scaled only when both its sides held twice 1600 pixels), then copied it "
            "(converted, rotated, fitted twice). After: a JPEG is scaled while decoding to no "
            "less than the picture's size, the picture is converted and reduced by a whole "
            "factor a strip at a time (an RGB one that needs no reducing is used as it is), "
            "and what was decoded is released before it is fitted and turned.",
            "",
            "| picture | file | before | after |",
            "|---|---|---|---|",
            *_rows(sizes, pictures_before, pictures),
            "",
            f"Worst after: +{worst_picture:.0f} MB.",
        ]
    )

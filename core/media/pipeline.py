"""The one Pillow pipeline every uploaded photo goes through.

:func:`process_image` is pure CPU work on bytes: call it off the event loop
(``anyio.to_thread.run_sync``). It refuses what is not a still JPEG, PNG or WebP image of
reasonable size, and answers a clean re-encoding plus a thumbnail:

- size: more than ``max_bytes`` answers 413 before anything is parsed;
- format, judged by content only: bytes Pillow cannot identify answer 422, an image in
  another format (TIFF, GIF, BMP…) 415. A JPEG carrying further pictures (MPO: stereo pairs,
  the gain map of an "Ultra HDR" photo) counts as JPEG and keeps its primary picture;
- pixels: the header's ``width * height`` is checked against ``max_pixels`` before any pixel
  is decoded, whatever ``Image.MAX_IMAGE_PIXELS`` says; Pillow's own decompression-bomb
  error and warning answer the same 422;
- animation (more than one frame) answers 422;
- integrity: ``verify()`` on one opened copy, then a full decode of a fresh copy, so
  truncated or corrupt data answers 422 instead of a half-grey picture;
- then the EXIF orientation is applied, colours are converted to sRGB when the image carries
  an ICC profile, and every piece of metadata is dropped (EXIF with GPS, XMP, ICC, comments,
  text chunks): the output holds pixels only. A location is kept only as the explicit field
  the user chose to send, never from the file;
- re-encoded in its own format (JPEG at quality 85, PNG, WebP at quality 85) with a
  thumbnail whose longest side is 320 px.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from core.errors import FieldError, Invalid, PayloadTooLarge
from core.http import UnsupportedMediaType
from core.settings import UPLOAD_LIMIT

log = logging.getLogger("minori.media")

MAX_PIXELS = 40_000_000
"""API.md: above 40 megapixels an upload answers 422."""
THUMBNAIL_SIZE = 320
"""Longest side of a thumbnail, in pixels."""
JPEG_QUALITY = 85
WEBP_QUALITY = 85
THUMBNAIL_QUALITY = 80
FILE_POINTER = "/file"
"""The multipart field that carries the photo (API.md ``POST /mobile/v1/media``)."""


@dataclass(frozen=True, slots=True)
class ImageFormat:
    name: str
    """Pillow's name for the format, as written."""
    label: str
    """The name people know."""
    content_type: str
    suffix: str


JPEG = ImageFormat("JPEG", "JPEG", "image/jpeg", ".jpg")
PNG = ImageFormat("PNG", "PNG", "image/png", ".png")
WEBP = ImageFormat("WEBP", "WebP", "image/webp", ".webp")
ACCEPTED = (JPEG, PNG, WEBP)
_BY_PILLOW_NAME = {"JPEG": JPEG, "MPO": JPEG, "PNG": PNG, "WEBP": WEBP}
"""What Pillow identifies, and the format we keep it in. Pillow names a JPEG with extra
pictures in its Multi-Picture Format segment ``MPO``; its primary picture is a plain JPEG."""
ACCEPTED_CONTENT_TYPES = tuple(f.content_type for f in ACCEPTED)


class ImageRejected(Invalid):
    """422: the upload is not an image the service accepts; ``errors`` points at the file."""

    slug = "image-rejected"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, errors=[FieldError(detail=detail, pointer=FILE_POINTER)])


class ImageUndecodable(ImageRejected):
    slug = "image-undecodable"


class ImageAnimated(ImageRejected):
    slug = "image-animated"


class ImageTooManyPixels(ImageRejected):
    slug = "image-too-many-pixels"


class ImageFormatUnsupported(UnsupportedMediaType):
    """415: an image, but not JPEG, PNG or WebP. Same ``type`` as every other 415."""

    def __init__(self, found: str) -> None:
        super().__init__(
            f"Only JPEG, PNG and WebP images are accepted; this image is {found}.",
            extra={"accepted": list(ACCEPTED_CONTENT_TYPES)},
        )


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    """What the pipeline answers: pixels only, re-encoded, plus the facts to store."""

    format: ImageFormat
    data: bytes
    width: int
    height: int
    thumbnail: bytes
    thumbnail_width: int
    thumbnail_height: int

    @property
    def content_type(self) -> str:
        return self.format.content_type

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def thumbnail_sha256(self) -> str:
        return hashlib.sha256(self.thumbnail).hexdigest()


_CORRUPT = "The image is truncated or corrupt and cannot be decoded."

_OPEN_LOCK = threading.Lock()
"""``warnings.catch_warnings`` changes process-wide state and is not thread-safe before
Python 3.14: uploads processed in parallel threads take turns while the header is read
(which is quick; decoding happens outside the lock)."""


def process_image(
    data: bytes, *, max_bytes: int = UPLOAD_LIMIT, max_pixels: int = MAX_PIXELS
) -> ProcessedImage:
    """Check, clean and re-encode one uploaded image; raise a Problem when it is refused."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"The image is {len(data)} bytes; the limit is {max_bytes} bytes "
            f"({max_bytes / (1024 * 1024):g} MiB)."
        )
    with _identify(data) as header:
        pillow_format = header.format or ""
        fmt = _BY_PILLOW_NAME.get(pillow_format)
        if fmt is None:
            raise ImageFormatUnsupported(pillow_format or "of an unknown format")
        width, height = header.size
        if width < 1 or height < 1:
            raise ImageUndecodable("The file is not a decodable image: it has no pixels.")
        if width * height > max_pixels:
            raise ImageTooManyPixels(
                f"The image is {width}x{height} pixels; at most {max_pixels / 1e6:g} "
                "megapixels are accepted."
            )
        if pillow_format != "MPO" and getattr(header, "n_frames", 1) > 1:
            raise ImageAnimated("Animated images are not accepted; send a still photo.")

    image = _decode(data, fmt.name)  # an MPO file is read by the JPEG plugin
    image = _upright(image)
    image = _to_srgb(image)
    image = _normalise_mode(image, fmt)
    image.info = {}  # nothing of the original file's metadata survives, only pixels
    encoded = _encode(image, fmt, thumbnail=False)

    thumbnail = image.copy()
    thumbnail.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    thumbnail.info = {}
    return ProcessedImage(
        format=fmt,
        data=encoded,
        width=image.width,
        height=image.height,
        thumbnail=_encode(thumbnail, fmt, thumbnail=True),
        thumbnail_width=thumbnail.width,
        thumbnail_height=thumbnail.height,
    )


def _identify(data: bytes) -> Image.Image:
    """Read the header only (every format Pillow knows, to tell 415 from 422)."""
    try:
        with _OPEN_LOCK, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooManyPixels(
            "The image claims more pixels than accepted (a decompression bomb?)."
        ) from None
    except UnidentifiedImageError:
        raise ImageUndecodable(
            "The file is not a decodable image; send a JPEG, PNG or WebP photo."
        ) from None
    except Exception as exc:  # hostile input can make a parser fail in any way
        log.debug("image header unreadable: %r", exc)
        raise ImageUndecodable(_CORRUPT) from None


def _decode(data: bytes, pillow_format: str) -> Image.Image:
    """``verify()`` one copy, then decode every pixel of a fresh one, with only the plugin of
    the format identified."""
    try:
        with Image.open(io.BytesIO(data), formats=[pillow_format]) as checked:
            checked.verify()
        image = Image.open(io.BytesIO(data), formats=[pillow_format])
        image.load()
    except Exception as exc:  # truncated or corrupt data: OSError, SyntaxError, ValueError…
        log.debug("image data undecodable: %r", exc)
        raise ImageUndecodable(_CORRUPT) from None
    return image


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation. A broken EXIF block is dropped, not a reason to refuse."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception as exc:
        log.debug("EXIF orientation unreadable, image kept as stored: %r", exc)
        return image


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert colours described by an embedded ICC profile to sRGB, so the profile can be
    dropped without changing how the photo looks (the output carries no profile and viewers
    assume sRGB). A profile that cannot be used is ignored."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(
            image,
            source,
            ImageCms.createProfile("sRGB"),
            outputMode="RGBA" if image.mode == "RGBA" else "RGB",
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        log.debug("ICC profile unusable, colours kept as stored: %r", exc)
        return image
    assert converted is not None
    return converted


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _normalise_mode(image: Image.Image, fmt: ImageFormat) -> Image.Image:
    """A pixel mode the output format writes, keeping transparency where it can be kept."""
    if image.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        # 16-bit or float greyscale (PNG): scale to 8 bits instead of clipping.
        image = image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if fmt is JPEG:
        keep: tuple[str, ...] = ("L", "RGB")
    elif fmt is PNG:
        keep = ("L", "LA", "RGB", "RGBA")
    else:
        keep = ("RGB", "RGBA")
    if image.mode in keep and "transparency" not in image.info:
        return image
    if fmt is not JPEG and _has_alpha(image):
        return image.convert("RGBA")
    if image.mode == "1" and "L" in keep:
        return image.convert("L")
    return image.convert("RGB")


def _encode(image: Image.Image, fmt: ImageFormat, *, thumbnail: bool) -> bytes:
    options: dict[str, Any]
    if fmt is JPEG:
        options = {
            "quality": THUMBNAIL_QUALITY if thumbnail else JPEG_QUALITY,
            "optimize": True,
            "progressive": not thumbnail,
        }
    elif fmt is WEBP:
        options = {"quality": THUMBNAIL_QUALITY if thumbnail else WEBP_QUALITY, "method": 4}
    else:
        options = {"optimize": thumbnail}
    buffer = io.BytesIO()
    # Explicitly empty metadata, in case a Pillow version falls back to the image's own.
    image.save(buffer, fmt.name, exif=b"", **options)
    return buffer.getvalue()
